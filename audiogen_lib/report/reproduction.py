"""Every experiment run under a profile and written to ``results/``: json, Markdown, wav and figures.

Each file is written all or nothing (:func:`audiogen_lib.files.atomic_write`); results.json
and results.md come last.

Public names
------------
reproduce, Reproduction    every experiment under a profile (``seeds``: several trained seeds), written to ``results/``
write_figures              spectrogram grid, training curves and class histogram (PNG)

Notebook: notebooks/09_listening_experiments.ipynb
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .formatting import _label
from .tables import markdown_report


def _savefig(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    from ..files import atomic_path

    with atomic_path(path) as tmp:  # the name ends in .png: matplotlib writes PNG
        fig.savefig(tmp)
    plt.close(fig)


def write_figures(results: dict, rec: dict, test, models: dict, out_dir: Path, *, examples) -> list[Path]:
    """Save the figures of a reproduction as PNG files; return their paths."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from ..display import specshow

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
    from .. import experiments as ex
    from ..config import Profile, get_config, get_profile
    from ..errors import AudiogenError
    from ..features import load_features
    from ..generation import provenance
    from ..runtime import progress

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

    from ..files import atomic_path, atomic_write

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
