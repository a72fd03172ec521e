"""The rate-distortion trade-off of a VAE: one model per KL weight, each scored on the validation split.

The study's VAE weighs its reconstruction by alpha = 10^6; a VAE that generates needs
its KL term to matter. :func:`rate_distortion` trains the generative VAE
(:mod:`audiogen_lib.models.generative`, sigma-VAE objective) once per ``beta``, the weight of the KL
against the Gaussian log-likelihood, and measures on the **validation split** (takes 5-9):

- distortion: the RMSE of the reconstructions (decoded from mu), as the model cards report it;
- rate: the KL of the posteriors from the prior, in nats per clip;
- generation: ``n_samples`` sounds from the prior N(0, I) and from one Gaussian fitted to the
  training codes, heard by both judges (:mod:`audiogen_lib.judges`): inception score, digits
  heard, and the kernel inception distance (KID, with its interval) and low-dimensional
  Fréchet distance to the real validation audio in each judge's embedding
  (:func:`audiogen_lib.generation.judged_scores.judge_set`);
- ``alpha_equivalent``: the alpha of the study's ``alpha * RMSE + KL`` whose balance with the KL
  is the same at the model's own error (the sigma-VAE's ``D log RMSE`` has slope ``D / RMSE``,
  so ``alpha = D / (beta * RMSE)``, D pixels), so the study's VAE can sit on the same axis.

Beside them, as the floor of every distance, as many real training clips as there are samples,
measured by the same estimators. The study's shipped VAE is measured the same way as one more
point. The choice follows :data:`CHOICE_RULE` (:func:`choose`), on validation only;
``audiogen train vae_gen --beta ...`` then trains the shipped model with it.

Public names
------------
DEFAULT_BETAS, CHOICE_RULE
kl_nats             the mean KL of a VAE's posteriors from N(0, I), nats per clip
measure_point       one VAE's distortion, rate and samples on a split, by every judge
choose              the choice of beta by :data:`CHOICE_RULE`
rate_distortion     the sweep: train (or reuse) one model per beta, measure each, choose
run_sweep           ``audiogen sweep``: the sweep with provenance, to JSON

``audiogen sweep --config paper --profile paper --out results/sweep_paper.json`` wrote the
shipped ``results/sweep_paper.json``; chapter 11 plots it without training.

Notebook: notebooks/11_generative_vae.ipynb
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import numpy as np

from .config import Profile, get_config, get_profile
from .errors import AudiogenError

DEFAULT_BETAS = (0.5, 2.0, 8.0, 32.0, 128.0, 512.0)
CHOICE_RULE = ("each setting (a beta and a sampler, the prior or one Gaussian) is ranked by its KID to the real "
               "validation audio under each judge, 1 for the lowest; its score is the worse of its ranks (a setting "
               "is as good as the judge that likes it least), ties broken by the better rank; the beta of the "
               "setting with the best score is the choice")
SWEEP_SAMPLERS = ("prior", "gaussian")


def kl_nats(vae, x: np.ndarray, digits: np.ndarray | None = None, *, batch_size: int = 256) -> float:
    """Mean over clips of KL(q(z|x) || N(0, I)), summed over the latent dimensions, in nats."""
    from .generation import _n_classes, _onehot

    inputs = [x, _onehot(digits, len(x))] if _n_classes(vae) else x
    mu, log_var = vae.encoder.predict(inputs, batch_size=batch_size, verbose=0)
    return float(np.mean(np.sum(-0.5 * (1.0 + log_var - mu ** 2 - np.exp(log_var)), axis=-1)))


def measure_point(vae, judges: dict, train, split, *, real: dict, n_samples: int = 300, seed: int = 0,
                  n_boot: int = 1000) -> dict:
    """Distortion (RMSE), rate (KL nats) and each of :data:`SWEEP_SAMPLERS`' samples for one VAE on ``split``.

    ``real``: :func:`audiogen_lib.generation.judged_scores.real_embeddings` of ``judges`` with ``split`` as the
    reference set; each sampler's sounds are judged by every judge against it.
    """
    from .generation import _codes, _draw, db_range, fit_sampler
    from .generation.judged_scores import judge_set
    from .training import reconstruction_rmse

    digits = split.digits if getattr(vae, "n_classes", 0) else None
    rmse = reconstruction_rmse(vae, split.x, digits=digits)
    row = {"rmse": rmse, "kl_nats": kl_nats(vae, split.x, digits), "samplers": {}}
    lo_hi = db_range(vae, config=vae.feature_config, train=train)
    codes, code_digits = _codes(vae, train)
    for kind in SWEEP_SAMPLERS:
        sampler = fit_sampler(kind, codes, code_digits, seed=seed)
        y, _, _ = _draw(vae, sampler, n_samples, seed=seed, classifier=None, lo_hi=lo_hi)
        row["samplers"][kind] = {name: judge_set(judge, y, real[name], full=True, n_boot=n_boot, seed=seed)
                                 for name, judge in judges.items()}
    return row


def choose(points: list[dict]) -> dict:
    """The setting :data:`CHOICE_RULE` picks among ``points`` (each with ``beta`` and ``samplers`` as
    :func:`measure_point` gives them): its beta, sampler, and every setting's ranks by judge."""
    from .judges import worse_rank_order

    settings = [(p["beta"], kind, judged) for p in points for kind, judged in p["samplers"].items()]
    judges = sorted(settings[0][2])
    order, ranks = worse_rank_order({i: {name: judged[name]["kid"]["estimate"] for name in judges}
                                     for i, (_, _, judged) in enumerate(settings)})
    best = order[0]
    return {"rule": CHOICE_RULE, "beta": settings[best][0], "sampler": settings[best][1], "split": "validation",
            "ranks": [{"beta": b, "sampler": kind, **{f"rank_{name}": ranks[i][name] for name in judges}}
                      for i, (b, kind, _) in enumerate(settings)]}


def _point_dir(work: Path, config, profile: Profile, beta: float, epochs: int, seed: int) -> Path:
    """A model's folder, keyed by its settings and the code that trains it (a change retrains)."""
    from .experiments import _source_hash

    code = _source_hash(["training", "models/generative", "models/vae"])[:10]
    return work / f"vae_gen-{config.name}-{profile.name}-beta{beta:g}-epochs{epochs}-seed{seed}-{code}"


def rate_distortion(betas=DEFAULT_BETAS, *, config: str = "paper", profile: str | Profile | None = None,
                    epochs: int | None = None, warmup_epochs: int | None = None, n_samples: int | None = None,
                    seed: int = 0, work_dir: str | os.PathLike | None = None, progress=print) -> dict:
    """Train (or reuse, from ``work_dir``) one ``vae_gen`` per ``beta`` and measure each on validation.

    ``epochs`` default: a fifth of the profile's VAE epochs (at least 1); ``warmup_epochs``:
    a third of those. The shipped study VAE is measured as the reference point
    (``"study VAE"``), except in the smoke profile, whose models are not the shipped ones.
    """
    from .features import cache_dir, load_features
    from .generation import _disjoint_subsets
    from .generation.judged_scores import judge_set, real_embeddings
    from .judges import load_judges
    from .models import load_model
    from .pretrained import load_pretrained
    from .training import train as train_model

    betas = [float(b) for b in betas]
    if not betas or any(not b > 0 for b in betas):
        raise AudiogenError(f"every beta must be a positive number, got {betas}")
    config = get_config(config)
    profile = profile if isinstance(profile, Profile) else get_profile(profile)
    epochs = epochs or max(1, profile.vae_epochs // 5)
    warmup_epochs = warmup_epochs if warmup_epochs is not None else epochs // 3
    n_samples = n_samples or (profile.n_test or 300)
    work = Path(work_dir) if work_dir else cache_dir().parent / "sweep"
    train = load_features("train", config=config).subset(profile.n_train, seed=seed)
    validation = load_features("validation", config=config).subset(profile.n_test, seed=seed)
    judges = load_judges(config.name)
    real = real_embeddings(judges, validation, train)
    n_pixels = math.prod(config.shape)

    def measure(vae):
        return measure_point(vae, judges, train, validation, real=real, n_samples=n_samples, seed=seed)

    points = []
    for beta in betas:
        out = _point_dir(work, config, profile, beta, epochs, seed)
        t0 = time.perf_counter()
        if (out / "card.json").is_file() and (out / "model.keras").is_file():
            vae = load_model(out / "model.keras")
            card = json.loads((out / "card.json").read_text())
        else:
            run = train_model("vae_gen", config=config, profile=profile, epochs=epochs, beta=beta,
                              warmup_epochs=warmup_epochs, seed=seed, out_dir=out, verbose=0)
            vae, card = run.model, run.card
            vae.feature_config = config
        vae.card = card
        row = measure(vae)
        row.update({"beta": beta, "alpha_equivalent": n_pixels / (beta * row["rmse"]),
                    "epochs_run": card["epochs_run"], "best_epoch": card["best_epoch"],
                    "training_seconds": card["wall_time_s"], "weights_sha256": card["weights_sha256"]})
        points.append(row)
        kids = ", ".join(f"{kind} {name} {judged[name]['kid']['estimate']:.3g}"
                         for kind, judged in row["samplers"].items() for name in judged)
        progress(f"beta {beta:g}: RMSE {row['rmse']:.4f}, KL {row['kl_nats']:.1f} nats, "
                 f"alpha-equivalent {row['alpha_equivalent']:.3g}; KID {kids} ({time.perf_counter() - t0:.0f} s)")

    # the floor: as many real training clips as samples, every digit equally, by the same estimators
    floor_clips = train.take(_disjoint_subsets(train.digits, min(n_samples, len(train)), seed=seed)[0])
    reference = {"real validation audio": {
        "judges": {name: {**judge_set(judge, validation.waveforms, real[name], full=True, seed=seed),
                          "real_training_clips": judge_set(judge, floor_clips.waveforms, real[name], full=True,
                                                           seed=seed)}
                   for name, judge in judges.items()},
        "what": "per judge: the real validation clips as that judge hears them (their distances to themselves are "
                "not a floor: same clips); under real_training_clips, as many real training clips as a point has "
                "samples, against the validation clips: the floor every distance is measured against"}}
    if profile.name != "smoke":
        study = load_pretrained("vae", config.name)
        row = measure(study)
        alpha = study.card["hyperparameters"]["alpha"]
        row.update({"alpha": alpha, "beta_equivalent": n_pixels / (alpha * row["rmse"]),
                    "weights_sha256": study.card["weights_sha256"], "command": study.card["command"]})
        reference["study VAE"] = row
    return {"points": points, "reference": reference, "choice": choose(points),
            "judges": {name: {"what": j.kind, "weights_sha256": j.weights_sha256} for name, j in judges.items()},
            "settings": {"config": config.name, "profile": profile.name, "epochs": epochs,
                         "warmup_epochs": warmup_epochs, "n_samples": n_samples, "seed": seed,
                         "objective": "sigma-VAE (decoder variance at its optimum) + beta * KL",
                         "splits": {"train": len(train), "validation": len(validation)}}}


def run_sweep(path: str | os.PathLike, *, betas=DEFAULT_BETAS, config: str = "paper", profile=None,
              epochs: int | None = None, seed: int = 0, work_dir: str | os.PathLike | None = None,
              command: str = "", progress=print) -> dict:
    """``audiogen sweep``: :func:`rate_distortion` with provenance, written to ``path`` (JSON) all or nothing."""
    from .files import atomic_write
    from .generation import provenance

    path = Path(path)
    if path.suffix != ".json":
        raise AudiogenError(f"the sweep writes a JSON file; give a path ending in .json, got {path}")
    if not path.parent.exists():
        raise AudiogenError(f"the folder {path.parent} does not exist; create it or choose another --out")
    result = {"provenance": provenance(command)}
    result.update(rate_distortion(betas, config=config, profile=profile, epochs=epochs, seed=seed, work_dir=work_dir,
                                  progress=progress))
    with atomic_write(path) as f:
        f.write(json.dumps(result, indent=1, default=float) + "\n")
    return result
