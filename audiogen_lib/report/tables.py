"""The measurements as Markdown tables, and the whole report as one document (``results/results.md``).

Public names
------------
reconstruction_table   every metric per condition with intervals, references included (Markdown)
comparison_table       paired differences between conditions on the same clips (Markdown)
robustness_table       each model's degradation under the three readings of +-10 dB (Markdown)
convergence_table      plateau epoch (the 2% rule), seconds, and whether the cap ended each run (Markdown)
generation_table       inception score, confidence and digit histogram of generated sounds (Markdown)
markdown_report        all of the report's tables, verdicts first, as one document (``results/results.md``)

Notebook: notebooks/09_listening_experiments.ipynb
"""

from __future__ import annotations

from .formatting import CONDITIONS, READING_LABELS, _ci, _fmt, _label, _table
from .verdicts import seeds_table, verdict_rule, verdict_table


def reconstruction_table(results: dict) -> str:
    rows = []
    for name in CONDITIONS:
        if name not in results["reconstruction"]:
            continue
        r = results["reconstruction"][name]
        pesq = f"{_ci(r.get('pesq_ci'), '.2f')} ({r['pesq_scored']}/{r['pesq_scored'] + r['pesq_failed']})"
        rows.append([_label(name), _ci(r.get("rmse_ci")) if r.get("rmse_ci") else _fmt(r["rmse"]),
                     _ci(r.get("lsd_db_ci"), ".1f"), _ci(r.get("spectral_convergence_ci")), pesq,
                     _fmt(r["stoi_concatenated"], ".2f"), _ci(r.get("digit_accuracy_ci"), ".3f")])
    return _table(["condition", "RMSE (image)", "LSD 0-4 kHz (dB)", "spectral convergence",
                   "PESQ-NB (clips scored)", "STOI (all clips joined)", "digit accuracy"], rows)


def comparison_table(results: dict) -> str:
    names = {"pesq": "PESQ-NB", "lsd_db": "LSD (dB)", "rmse": "RMSE (image)"}
    specs = {"pesq": "+.2f", "lsd_db": "+.1f", "rmse": "+.4f"}
    rows = [[f"{_label(c['a'])} minus {_label(c['b'])}", names[c["metric"]], _ci(c["interval"], specs[c["metric"]]),
             str(c["interval"]["n"])] for c in results["comparisons"]]
    return _table(["difference (same test clips)", "metric", "mean difference [95% interval]", "clips"], rows)


def robustness_table(results: dict) -> str:
    rows = []
    rob = results["robustness"]
    for mode, label in READING_LABELS.items():
        if mode not in rob:
            continue
        r = rob[mode]
        for name in ("vae", "unet", "unet_noskip"):
            m = r[name]
            rows.append([label, _label(name), _ci(r["input"]["input_change"]), _ci(m["output_change"]),
                         _ci(m["error_clean"]), _ci(m["error_perturbed"]), _ci(m["degradation"])])
        for key, d in r["paired"].items():
            other = key.removesuffix("_minus_vae")
            rows.append([label, f"*{_label(other)} minus VAE*", "", "", "", "", _ci(d, "+.3f")])
    return _table(["+-10 dB reading", "model", "input moved", "output moved", "error without perturbation",
                   "error with it", "degradation (with minus without)"], rows)


def convergence_table(results: dict) -> str:
    def ended(v):
        if "censored" not in v:
            return "not recorded"
        how = "its cap (censored)" if v["censored"] else "early stopping"
        return f"{how}: best {v['best_epoch']}, cap {v['cap']}, patience {v['patience']}"

    rows = [[_label(k), ("at least " if v.get("censored", True) else "") + str(v["epochs_to_plateau"]),
             _fmt(v["seconds_to_plateau"], ".0f"), str(v.get("epochs_to_vae_best") or "never"), str(v["epochs_run"]),
             ended(v), _fmt(v["best_val_rmse"], ".4f")]
            for k, v in results["convergence"].items()]
    return _table(["model", "plateau epoch (2% rule)", "seconds to plateau", "epochs to the VAE's best",
                   "epochs run", "run ended by", "best validation RMSE"], rows)


def generation_table(results: dict) -> str:
    rows = [[name, _ci(r.get("inception_score_ci"), ".2f"), _ci(r.get("mean_confidence_ci"), ".2f"),
             " ".join(str(c) for c in r["histogram"])] for name, r in results["generation"]["rows"].items()]
    return _table(["sounds", "inception score (max 10)", "mean confidence", "digits 0-9 recognised (count)"], rows)


def markdown_report(results: dict) -> str:
    lat = results["generation"]["latents"]
    norm = results["generation"].get("normalisation", {})
    cfg = results["config"]
    seeds = results.get("seeds") or []
    ran = (f"{len(seeds)} training seeds of each generative model were trained" if seeds else
           "the three generative models were trained now (seed 0)" if results.get("trained_now") else
           "the shipped models were used (one training seed each)")
    parts = [
        f"# The study, measured ({results.get('profile', '?')} profile, {cfg['name']} config)\n",
        f"FSDD test split (takes 0-4), {results['n_test']} clips; phase reconstruction "
        f"`{results.get('phase_method', 'griffinlim')}` (Griffin-Lim of the study's reference: {results['n_iter']} "
        f"iterations, momentum 0.99); {ran}; total time {results.get('seconds', float('nan')):.0f} s (measured). "
        "Every interval is 95%: a bootstrap over the test clips (generated sounds for the inception score) "
        "for one set of models, Student-t over training seeds where several were trained.\n",
        "## Verdicts\n", verdict_rule() + "\n", verdict_table(results),
        "## Reconstruction\n", reconstruction_table(results),
        "PESQ narrow-band at 8 kHz per clip (clips it could not score are counted, not averaged); STOI on the "
        "concatenation of all clips (one pooled score: no interval); LSD over the 0-4 kHz band; RMSE over all "
        "pixels of the images.\n",
        "### Paired differences\n", comparison_table(results),
        "## Robustness to +-10 dB\n", robustness_table(results),
        "Means over clips of each clip's RMSE on the normalised images; for the dB readings the pipeline's "
        "floor (top_db below the new peak) is re-applied before normalising.\n",
        "## Convergence\n", convergence_table(results),
        "## Generation\n", generation_table(results),
        f"Generated images are read in {norm.get('db_range')} dB ({norm.get('width_db')} dB wide, from "
        f"{norm.get('source')}). Encoder posteriors over the training split: mean |E[mu]| {lat['mu_mean_abs']:.2f}, "
        f"spread of mu {lat['mu_std']:.2f} per dimension, mean sigma {lat['sigma_mean']:.3f} (the prior has 0, 1 and 1).\n",
    ]
    if seeds:
        parts += ["## Training seeds\n", seeds_table(results)]
    parts += [
        "## Models\n",
        _table(["model", "how it was made", "epochs (best)", "training time, s (measured)", "parameters",
                "chosen on", "weights sha256"],
               [[k, f"`{m['command']}`", f"{m['epochs_run']} ({m.get('best_epoch')})", _fmt(m["wall_time_s"], ".0f"),
                 f"{m['parameters']:,}", m.get("chosen_on", "?"), (m.get("weights_sha256") or "")[:12]]
                for k, m in results["models"].items()]),
    ]
    return "\n".join(parts)
