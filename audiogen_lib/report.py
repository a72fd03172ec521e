"""The results of :func:`audiogen_lib.experiments.reproduce` as Markdown tables and figures.

Public names
------------
verdict_table          the study's claims with their verdicts and numbers (Markdown)
reconstruction_table   every metric per condition, references included (Markdown)
robustness_table       how far the outputs move under the two readings of +-10 dB (Markdown)
convergence_table      epochs and seconds to the plateau (Markdown)
generation_table       inception score and digit histogram of generated sounds (Markdown)
markdown_report        all of the above as one document (``results/results.md``)
write_figures          spectrogram grid, training curves, robustness and class histogram (PNG)

Notebook: notebooks/08_listening_experiments.ipynb
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

CONDITIONS = ("original", "ceiling", "vae", "unet", "unet_noskip", "pca", "zero_phase")


def _label(name: str) -> str:
    from .experiments import LABELS

    return LABELS.get(name, name)


def _fmt(value, spec=".3f") -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    return format(value, spec)


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def verdict_table(results: dict) -> str:
    return _table(["claim", "verdict", "the numbers"],
                  [[v["claim"], f"**{v['verdict']}**", v["evidence"]] for v in results["verdicts"]])


def reconstruction_table(results: dict) -> str:
    rows = []
    for name in CONDITIONS:
        if name not in results["reconstruction"]:
            continue
        r = results["reconstruction"][name]
        pesq = f"{_fmt(r['pesq'], '.2f')} ({r['pesq_scored']}/{r['pesq_scored'] + r['pesq_failed']})"
        rows.append([_label(name), _fmt(r["rmse"]), _fmt(r["lsd_db"], ".1f"), _fmt(r["spectral_convergence"]),
                     pesq, _fmt(r["stoi_concatenated"], ".2f"), _fmt(r.get("digit_accuracy"), ".1%")])
    return _table(["condition", "RMSE (image)", "LSD 0-4 kHz (dB)", "spectral convergence",
                   "PESQ-NB (clips scored)", "STOI (all clips joined)", "digit accuracy"], rows)


def robustness_table(results: dict) -> str:
    rows = []
    readings = {"clip": "one offset per clip", "bin": "independent per bin"}
    for mode, label in readings.items():
        r = results["robustness"][mode]
        for name in ("vae", "unet", "unet_noskip"):
            m = r[name]
            rows.append([label, _label(name), _fmt(m["input_change"]), _fmt(m["output_change"]),
                         _fmt(m["error_to_clean_target"]), _fmt(m["clean_error"])])
    return _table(["+-10 dB reading", "model", "input moved (RMSE)", "output moved", "error to clean target",
                   "error without perturbation"], rows)


def convergence_table(results: dict) -> str:
    rows = [[_label(k), str(v["epochs_to_plateau"]), _fmt(v["seconds_to_plateau"], ".0f"),
             str(v.get("epochs_to_vae_best") or "never"), str(v["epochs_run"]), _fmt(v["seconds_per_epoch"], ".1f"),
             _fmt(v["best_val_rmse"])]
            for k, v in results["convergence"].items()]
    return _table(["model", "epochs to plateau (within 2% of best)", "seconds to plateau",
                   "epochs to match the VAE's best", "epochs run", "s per epoch", "best validation RMSE"], rows)


def generation_table(results: dict) -> str:
    rows = [[name, _fmt(r["inception_score"], ".2f"), _fmt(r["mean_confidence"], ".2f"),
             " ".join(str(c) for c in r["histogram"])] for name, r in results["generation"]["rows"].items()]
    return _table(["sounds", "inception score (max 10)", "mean confidence", "digits 0-9 recognised (count)"], rows)


def markdown_report(results: dict) -> str:
    lat = results["generation"]["latents"]
    cfg = results["config"]
    parts = [
        f"# The study, measured ({results['profile']} profile, {cfg['name']} config)\n",
        f"Official FSDD test split, {results['n_test']} clips; Griffin-Lim {results['n_iter']} iterations "
        f"with momentum 0.99; total time {results['seconds']:.0f} s.\n",
        "## Verdicts\n", verdict_table(results),
        "## Reconstruction\n", reconstruction_table(results),
        "PESQ narrow-band at 8 kHz per clip (clips it could not score are counted, not averaged); STOI on the "
        "concatenation of all clips (per-clip STOI is meaningless below about 0.4 s); LSD over the 0-4 kHz band.\n",
        "## Robustness to +-10 dB\n", robustness_table(results),
        "## Convergence\n", convergence_table(results),
        "## Generation\n", generation_table(results),
        f"Encoder posteriors over the training split: mean |E[mu]| {lat['mu_mean_abs']:.2f}, spread of mu "
        f"{lat['mu_std']:.2f} per dimension, mean sigma {lat['sigma_mean']:.3f} (the prior has 0, 1 and 1).\n",
        "## Models\n",
        _table(["model", "how it was made", "epochs", "training time (s)", "parameters"],
               [[k, f"`{m['command']}`", str(m["epochs_run"]), _fmt(m["wall_time_s"], ".0f"), f"{m['parameters']:,}"]
                for k, m in results["models"].items()]),
    ]
    return "\n".join(parts)


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
    fig.savefig(paths[-1])
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=80, layout="constrained")
    for name in results["convergence"]:
        h = models[name].card["history"]
        ax.plot(h["wall_time"], h.get("val_reconstruction") or h["val_loss"], marker=".", label=_label(name))
    ax.set(title="validation RMSE against training time", xlabel="training time (s)", ylabel="validation RMSE",
           yscale="log")
    ax.legend()
    paths.append(out_dir / "convergence.png")
    fig.savefig(paths[-1])
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=80, layout="constrained")
    gen = results["generation"]["rows"]
    width = 0.8 / len(gen)
    for k, (name, r) in enumerate(gen.items()):
        ax.bar(np.arange(10) + k * width, r["histogram"], width=width, label=f"{name} (IS {r['inception_score']:.2f})")
    ax.set(xlabel="digit recognised by the classifier", ylabel="sounds", xticks=np.arange(10) + 0.4,
           xticklabels=range(10))
    ax.legend(fontsize="small")
    paths.append(out_dir / "generation_histogram.png")
    fig.savefig(paths[-1])
    plt.close(fig)
    return paths

