"""The experiments' results as Markdown tables, text, figures and files; ``reproduce`` runs them all.

Every number with an interval is printed ``estimate [low, high]``, the 95% interval of
:mod:`audiogen_lib.stats`.

Public names
------------
LABELS                 what each condition of the experiments is called in tables and figures
READING_LABELS         what each reading of the study's "+-10 dB" is called in the robustness table
markdown_table         a Markdown table from a header and rows of cell texts
interval_text          ``"0.123 [0.101, 0.145]"`` from an interval (its dict or an Interval)
direction              one of three words for where an interval of a difference lies: above zero, below, across
verdict_table          the study's claims: the difference that tests each, its interval, the verdict (Markdown)
verdict_rule           the rule that turns an interval into a verdict, in words
held_up                "what held up, what did not, what is open", built from the verdicts (Markdown)
reconstruction_table   every metric per condition with intervals, references included (Markdown)
comparison_table       paired differences between conditions on the same clips (Markdown)
robustness_table       each model's degradation under the three readings of +-10 dB (Markdown)
convergence_table      plateau epoch (the 2% rule), seconds, and whether the cap ended each run (Markdown)
generation_table       inception score, confidence and digit histogram of generated sounds (Markdown)
GOALS, goal_status     the goals of a VAE that generates; met / missed / undecided by where an interval lies (stats.goal_status)
generation_goals, goals_table   each goal measured (``audiogen generate --evaluate`` JSONs, VAEs against PCA)
claims_table           claim, estimate, interval, verdict and the verdict with speakers resampled (Markdown)
rejudge, rejudge_file  a results file judged again by today's rules from its own numbers, the change recorded
seeds_table            each training seed's estimate of each claim (Markdown), when several were trained
markdown_report        all of the above as one document (``results/results.md``)
write_figures          spectrogram grid, training curves and class histogram (PNG)
reproduce, Reproduction    every experiment under a profile (``seeds``: several trained seeds), written to ``results/``
                       (each file all or nothing, :func:`audiogen_lib.files.atomic_write`)

Notebook: notebooks/08_listening_experiments.ipynb
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .experiments import PCA_COMPONENTS, summary_key
from .stats import goal_status

CONDITIONS = ("original", "ceiling", "griffinlim", "vae", "unet", "unet_noskip", "pca", "zero_phase")
LABELS = {"original": "original audio", "ceiling": "phase reconstruction of the true magnitude (ceiling)",
          "griffinlim": "Griffin-Lim of the true magnitude (the study's reference)",
          "zero_phase": "zero-phase inverse STFT (the study's code; floor)", "vae": "VAE",
          "unet": "U-Net", "unet_noskip": "U-Net without skip connections",
          "pca": f"PCA, {PCA_COMPONENTS} components (a linear autoencoder)"}
# experiments.READINGS in words: decibels added to the spectrogram before the pipeline's floor
# and normalisation, or +-10 in the preprocessed image's own units.
READING_LABELS = {"clip": "one offset per clip (dB)", "bin": "independent per bin (dB)",
                  "units": "independent per bin, in the image's units, clipped to [0, 1]"}


def _label(name: str) -> str:
    return LABELS.get(name, name)


def _fmt(value, spec=".3f") -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    return format(value, spec)


def interval_text(d, spec=".3f") -> str:
    """``"0.123 [0.101, 0.145]"`` from an interval (its dict or a :class:`~audiogen_lib.stats.Interval`), ``"–"`` for none."""
    if d is None:
        return "–"
    if not isinstance(d, dict):
        d = d.to_dict()
    return f"{d['estimate']:{spec}} [{d['low']:{spec}}, {d['high']:{spec}}]"


_ci = interval_text


def direction(d, *, above: str, below: str, across: str) -> str:
    """``above`` when the whole interval of a difference lies above zero, ``below`` when below, else ``across``.

    The words a sentence about a comparison needs, chosen by the same rule as a verdict:
    ``direction(ci, above="better", below="worse", across="level with")``.
    """
    if d is None:
        return across
    if not isinstance(d, dict):
        d = d.to_dict()
    return above if d["low"] > 0 else below if d["high"] < 0 else across


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table: one header row, then ``rows`` (lists of cell texts)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


_table = markdown_table


def verdict_rule() -> str:
    """The verdict rule in a few sentences (the same words as :func:`audiogen_lib.stats.verdict`,
    :func:`audiogen_lib.stats.equivalence` and :func:`audiogen_lib.experiments.convergence_verdict`)."""
    from .experiments import EQUIVALENCE_MARGIN_PESQ

    return ("A claim of a difference **holds** when the 95% interval of the difference that tests it lies "
            "entirely on the side the claim puts it, **does not hold** when it lies entirely on the other side, and "
            "is **inconclusive** when it contains zero. A claim of *no* difference holds when the 90% interval lies "
            f"within the margin (+-{EQUIVALENCE_MARGIN_PESQ:g} PESQ: two one-sided tests) and does not hold when it "
            "lies entirely outside it. The convergence claim is read from the validation curves; where an epoch cap "
            "ended a run and its bound does not decide, it **cannot be reached**. The intervals cover new recordings "
            "by the same six speakers.")


def verdict_table(results: dict) -> str:
    rows = []
    for v in results["verdicts"]:
        side = {"positive": "> 0", "negative": "< 0", "equivalent": "within the margin"}.get(v["claimed"], "numbers")
        interval = (f"{_ci(v['interval'], '+.3f')} ({v['interval'].get('level', 0.95):.0%}, {v['basis']})"
                    if v["interval"] else f"– ({v['basis']})")
        rows.append([v["claim"], f"{v['measure']} (claimed {side})", interval,
                     f"**{v['verdict']}**", v["evidence"]])
    return _table(["claim", "the difference that tests it", "interval", "verdict", "the numbers"], rows)


def held_up(results: dict) -> str:
    """Three short paragraphs, what held up, what did not and what is open, from ``results["verdicts"]``."""
    from .stats import CENSORED

    groups = {"holds": [], "does not hold": [], "inconclusive": [], CENSORED: []}
    for v in results["verdicts"]:
        groups[v["verdict"]].append(v)
    titles = {"holds": "What held up", "does not hold": "What did not",
              "inconclusive": "What the numbers cannot decide", CENSORED: "What the runs cannot reach (epoch caps)"}
    parts = []
    for verdict, items in groups.items():
        if not items and verdict == CENSORED:
            continue
        if not items:
            parts.append(f"**{titles[verdict]}.** Nothing.")
            continue
        lines = "; ".join(f"{v['claim'].rstrip('.')} ("
                          + (f"interval {_ci(v['interval'], '+.3f')}, " if v["interval"] else "")
                          + f"{v['basis']})" for v in items)
        parts.append(f"**{titles[verdict]}.** {lines}.")
    return "\n\n".join(parts) + "\n"


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


GOALS = {"unconditional_is": 8.0, "digit_share": 0.05, "conditional_asked": 0.95, "conditional_is": 9.0}


def _share_interval(k: int, n: int, seed: int = 0) -> dict:
    """A proportion ``k / n`` with its bootstrap interval over the ``n`` sounds."""
    from .stats import bootstrap_mean

    return bootstrap_mean(np.r_[np.ones(k), np.zeros(n - k)], seed=seed).to_dict()


def generation_goals(sampling: dict, reconstruction: dict | None = None) -> list[dict]:
    """The goals of a VAE that generates, each measured on the test split with its interval and status.

    ``sampling``: model name -> the JSON of ``audiogen generate --evaluate`` (each model's sampler
    is the one its validation codes chose); ``reconstruction``: the result of
    :func:`audiogen_lib.experiments.experiment_vae_reconstruction`. Rows: ``goal``, ``model``,
    ``measured`` (text), ``status`` (:func:`goal_status`).
    """
    rows = []
    for name, res in sampling.items():
        best = res["validation"]["best"]
        row = res["test"][best]
        hist = np.asarray(row["histogram"])
        label = f"{name} ({best} sampler)"
        conditional = res.get("conditional", False)
        # A conditional VAE asked for each digit equally often is also an unconditional generator
        # (the digit drawn uniformly, then the code): its sounds answer both goals.
        is_goals = ([("unconditional: the digit drawn uniformly, then the code", GOALS["unconditional_is"]),
                     ("each digit asked for equally often", GOALS["conditional_is"])] if conditional
                    else [("unconditional", GOALS["unconditional_is"])])
        for what, is_goal in is_goals:
            rows.append({"goal": f"inception score >= {is_goal:g} ({what})", "model": label,
                         "measured": interval_text(row["inception_score"], ".2f"),
                         "status": goal_status(row["inception_score"], is_goal)})
        low = int(hist.argmin())
        share = _share_interval(int(hist[low]), int(hist.sum()))
        rows.append({"goal": f"every digit heard in >= {GOALS['digit_share']:.0%} of the sounds", "model": label,
                     "measured": f"rarest, {low}: {interval_text(share, '.1%')}",
                     "status": goal_status(share, GOALS["digit_share"])})
        if conditional:
            k = int(round(row["heard_as_asked"] * row["n"]))
            asked = _share_interval(k, row["n"])
            rows.append({"goal": f"the digit asked for is heard in >= {GOALS['conditional_asked']:.0%}",
                         "model": label, "measured": interval_text(asked, ".1%"),
                         "status": goal_status(asked, GOALS["conditional_asked"])})
        floor = res["frechet_floors"]["train_subsets"]
        fd = row.get("frechet_to_test")
        rows.append({"goal": "Fréchet distance to real test audio, near the real-vs-real floor", "model": label,
                     "measured": f"{interval_text(fd, ',.0f')} (floor {interval_text(floor, ',.0f')})",
                     "status": "reported"})
    if reconstruction is not None:
        goals = reconstruction["goal_values"]
        for name, diffs in reconstruction["differences"].items():
            r = reconstruction["rows"][name]
            for metric, what, spec in (("pesq", "PESQ-NB", ".2f"), ("digit_correct", "digit accuracy", ".1%")):
                key = summary_key(metric)
                rows.append({"goal": f"reconstruction {what} >= {goals[metric]:{spec}}",
                             "model": name, "measured": interval_text(r[f"{key}_ci"], spec),
                             "status": goal_status(r[f"{key}_ci"], goals[metric])})
                d = diffs[metric]
                rows.append({"goal": f"reconstruction {what} better than PCA-{PCA_COMPONENTS}",
                             "model": name, "measured": interval_text(d, "+" + spec),
                             "status": {"holds": "met", "does not hold": "missed"}.get(d["verdict"], "undecided")})
    return rows


def goals_table(rows: list[dict]) -> str:
    """:func:`generation_goals` as Markdown."""
    return _table(["goal", "model", "measured on test, 95% interval", "status"],
                  [[r["goal"], r["model"], r["measured"], f"**{r['status']}**"] for r in rows])


def claims_table(results: dict, check: dict | None = None) -> str:
    """Claim, estimate, interval, verdict, and the verdict when speakers are resampled (Markdown).

    ``check`` is :func:`audiogen_lib.experiments.speaker_check` of the same results (computed
    here when the results cover every test clip, else that column says why it is missing).
    """
    from . import experiments as ex
    from .errors import AudiogenError

    if check is None:
        try:
            check = ex.speaker_check(results)
        except AudiogenError:
            check = {}
    rows = []
    for v in results["verdicts"]:
        s = check.get(v["id"])
        iv = v["interval"]
        rows.append([v["claim"], _fmt(iv["estimate"], "+.3f") if iv else
                     ", ".join(f"{k} {_fmt(r['epochs_to_plateau'], 'd')}" for k, r in results["convergence"].items()
                               if k in ("unet", "vae")),
                     f"{_ci(iv, '+.3f')} ({iv.get('level', 0.95):.0%}, {v['basis']})" if iv else f"– ({v['basis']})",
                     f"**{v['verdict']}**",
                     (f"{_ci(s['interval'], '+.3f')}: **{s['verdict']}** (over clips: {s['clips_verdict']})"
                      if s else "not applicable" if v["id"] in check else "needs every test clip")])
    return _table(["claim", "estimate", "interval", "verdict", "speakers resampled (seed 0)"], rows)


def rejudge(results: dict, *, command: str) -> dict:
    """``results`` judged again by today's rules, from its own per-clip numbers; the change is recorded.

    Where seed 0's models are the shipped ones (the weights' sha256 in ``results["models"]``
    match the shipped cards), the convergence rows are read again from those cards, so that
    they carry the censoring the rule needs. The verdicts and the speaker check are recomputed;
    ``results["rejudged"]`` records the command, date, commit and what was recomputed. Nothing
    measured (scores, intervals over clips, seed estimates) is changed.
    """
    from . import experiments as ex
    from .generation import provenance
    from .pretrained import available, card

    out = json.loads(json.dumps(results))
    cfg = out["config"]["name"]
    shipped = all(f"{n}_{cfg}" in available() and card(n, cfg).get("weights_sha256") ==
                  out["models"].get(n, {}).get("weights_sha256") for n in ex.MODEL_NAMES)
    redone = ["verdicts", "speaker_check"]
    if shipped:
        cards = {n: card(n, cfg) for n in ex.MODEL_NAMES}
        vae_best = min(ex.convergence._val_rmse(cards["vae"]["history"]))
        out["convergence"] = {n: ex.convergence_row(c, vae_best=vae_best) for n, c in cards.items()}
        redone.insert(0, "convergence (from the shipped cards: the same weights, sha256 checked)")
    out["verdicts"] = ex.verdicts(out)
    out["speaker_check"] = ex.speaker_check(out)
    out["rejudged"] = {**provenance(command), "recomputed": redone,
                       "note": "the measurements are those of the run in 'provenance'; only what is listed in "
                               "'recomputed' was computed again, from them, by the command above"}
    return out


def rejudge_file(path: str | Path) -> Path:
    """:func:`rejudge` a results file in place (written whole or not at all), recording this very call."""
    from .files import atomic_write

    path = Path(path)
    out = rejudge(json.loads(path.read_text()),
                  command=f"python -c 'from audiogen_lib import report; report.rejudge_file(\"{path}\")'")
    with atomic_write(path) as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    return path


def seeds_table(results: dict) -> str:
    seeds = results.get("seeds") or []
    if not seeds:
        return ""
    claims = list(seeds[0]["estimates"])
    rows = [[str(s["seed"])] + [_fmt(s["estimates"][c], "+.3f") for c in claims] +
            [" / ".join(_fmt(s["training_wall_time_s"][k], ".0f") for k in ("vae", "unet", "unet_noskip"))]
            for s in seeds]
    return _table(["seed"] + claims + ["training wall time, s (VAE / U-Net / no skips), measured"], rows)


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


def _savefig(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    from .files import atomic_path

    with atomic_path(path) as tmp:  # the name ends in .png: matplotlib writes PNG
        fig.savefig(tmp)
    plt.close(fig)


def write_figures(results: dict, rec: dict, test, models: dict, out_dir: Path, *, examples) -> list[Path]:
    """Save the figures of a reproduction as PNG files; return their paths."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from .display import specshow

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    shown = ("original", "vae", "unet", "unet_noskip")
    fig, axes = plt.subplots(len(examples), len(shown), figsize=(3.2 * len(shown), 2.6 * len(examples)), dpi=80,
                             squeeze=False, layout="constrained")
    for r, i in enumerate(examples):
        for c, name in enumerate(shown):
            specshow(rec["images"][name][i], config=test.config, ax=axes[r, c], colorbar=False, fmax=4000,
                     title=f"{test.recordings[i].name}: {name}")
    paths.append(out_dir / "spectrograms.png")
    _savefig(fig, paths[-1])

    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=80, layout="constrained")
    for name in results["convergence"]:
        h = models[name].card["history"]
        ax.plot(h["wall_time"], h.get("val_reconstruction") or h["val_loss"], marker=".", label=_label(name))
    ax.set(title="validation RMSE against training time", xlabel="training time (s)", ylabel="validation RMSE",
           yscale="log")
    ax.legend()
    paths.append(out_dir / "convergence.png")
    _savefig(fig, paths[-1])

    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=80, layout="constrained")
    gen = results["generation"]["rows"]
    width = 0.8 / len(gen)
    for k, (name, r) in enumerate(gen.items()):
        ax.bar(np.arange(10) + k * width, r["histogram"], width=width, label=f"{name} (IS {r['inception_score']:.2f})")
    ax.set(xlabel="digit recognised by the classifier", ylabel="sounds", xticks=np.arange(10) + 0.4,
           xticklabels=range(10))
    ax.legend(fontsize="small")
    paths.append(out_dir / "generation_histogram.png")
    _savefig(fig, paths[-1])
    return paths


# --- the whole run ------------------------------------------------------------------------------

@dataclass
class Reproduction:
    results: dict
    out_dir: Path
    seconds: float


def reproduce(profile=None, *, config: str = "paper", out_dir: str | Path = "results", n_examples: int = 3,
              seeds: int | None = None, reuse: bool = True, command: str | None = None) -> Reproduction:
    """Run every experiment under ``profile`` and write ``out_dir``: results.json, results.md, wav/, figures/.

    ``seeds``: train the three generative models ``seeds`` times (seeds 0, 1, ...) under
    the profile, whatever the profile would otherwise load, and judge each claim about
    training by its spread over the seeds (:func:`audiogen_lib.experiments.verdicts`); the
    tables, sounds and figures are seed 0's. Training is budgeted in epochs and stopped on
    the validation split, so a seed gives the same models on any run of the same software;
    the wall times in the results are measurements. ``reuse``: load a model the same code,
    data, profile and seed trained before instead of training it again. ``command``: what
    results.json records as the command that wrote it (with the date, commit and machine).
    """
    from . import experiments as ex
    from .config import Profile, get_config, get_profile
    from .errors import AudiogenError
    from .features import load_features
    from .generation import provenance
    from .runtime import progress

    start = time.perf_counter()
    started = provenance(command or f"audiogen_lib.report.reproduce(profile={getattr(profile, 'name', profile)!r}, "
                                    f"config={config!r}, seeds={seeds!r})")
    profile = profile if isinstance(profile, Profile) else get_profile(profile)
    config = get_config(config)
    if seeds is not None and seeds < 1:
        raise AudiogenError(f"seeds must be at least 1, got {seeds}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    n_seeds = seeds or 1
    steps = progress(total=5 + 2 * (n_seeds - 1), desc=f"reproduce ({profile.name}, {config.name})", unit="step")

    train = load_features("train", config=config).subset(profile.n_train)
    test = load_features("test", config=config).subset(profile.n_test)
    steps.update()
    trained = bool(seeds) or not profile.use_pretrained
    models = ex.get_models(config, profile=profile, seed=0, train=trained, reuse=reuse)
    steps.update()
    rec = ex.experiment_reconstruction(test, models, n_iter=profile.n_iter, train=train)
    rob = ex.experiment_robustness(test, models)
    steps.update()
    gen = ex.experiment_generation(models["vae"], models["classifier"], train, test, n_samples=len(test),
                                   n_iter=profile.n_iter)
    steps.update()
    results = ex.measure(train, test, models, n_iter=profile.n_iter, reconstruction=rec, robustness=rob,
                         generation=gen)
    results["profile"] = profile.name
    if seeds:
        per_seed = [ex.seed_summary(0, results, models)]
        for s in range(1, seeds):
            m = ex.get_models(config, profile=profile, seed=s, train=True, reuse=reuse)
            steps.update()
            per_seed.append(ex.seed_summary(s, ex.measure(train, test, m, n_iter=profile.n_iter), m))
            steps.update()
        results["seeds"] = per_seed
        results["verdicts"] = ex.verdicts(results)
    results["provenance"] = started
    results["trained_now"] = trained
    results["seconds"] = round(time.perf_counter() - start, 1)
    _write_outputs(results, rec, gen, test, models, out_dir, n_examples=n_examples)
    steps.update()
    steps.close()
    return Reproduction(results, out_dir, time.perf_counter() - start)


def _write_outputs(results, rec, gen, test, models, out_dir: Path, *, n_examples: int) -> None:
    """Every file of a reproduction, each written whole or not at all; results.json and results.md last."""
    import soundfile as sf

    from .files import atomic_path, atomic_write

    def wav_file(path, y):
        with atomic_path(path) as tmp:
            sf.write(tmp, y, test.config.sr, subtype="PCM_16")

    wav = out_dir / "wav"
    examples = np.linspace(0, len(test) - 1, n_examples).astype(int)
    for i in examples:
        stem = test.recordings[i].name.removesuffix(".wav")
        for name, y in rec["audio"].items():
            wav_file(wav / f"{stem}_{name}.wav", y[i])
    for name, y in gen["audio"].items():
        tag = "prior" if name.startswith("prior") else "fitted"
        for j in range(min(n_examples, len(y))):
            wav_file(wav / f"generated_{tag}_{j}.wav", np.clip(y[j], -1, 1))
    write_figures(results, rec, test, models, out_dir / "figures", examples=examples)
    with atomic_write(out_dir / "results.json") as f:
        json.dump(results, f, indent=1, default=float)
    with atomic_write(out_dir / "results.md") as f:
        f.write(markdown_report(results))
