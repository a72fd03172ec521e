"""The generator ``audiogen generate`` uses when neither a model nor a digit is named: the one validation prefers.

Each shipped candidate (:data:`CANDIDATES`) makes ``n`` sounds as ``audiogen generate --model K``
makes them without a digit: the VAEs from the density their validation codes chose (the
conditional VAE drawing each sound's digit uniformly), the latent diffusion model without a
digit. Both judges (:mod:`audiogen_lib.judges`) embed them and the real validation audio
(takes 5-9), and the kernel inception distance between the two, with its 95% interval, is
computed per judge. The written rule (:data:`RULE`): rank the candidates by each judge's KID;
the choice is the candidate whose worse rank of the two is best; a tie goes to the smaller sum of
its two KIDs, each divided by the smallest KID that judge gave any candidate.

``audiogen choose-generator --out FILE.json [--ship]`` runs :func:`choose_generator` and writes the
record; ``--ship`` also puts it into the package (``pretrained/generator_choice_<config>.json``), where
:func:`audiogen_lib.generation.default_model` reads it.

Public names
------------
CANDIDATES, RULE     what is compared, and how the choice is made
candidate_sounds     one candidate's sounds, as ``audiogen generate`` makes them without a digit
choose_generator     every shipped candidate judged on validation, and the choice by :data:`RULE`
apply_rule           the rule alone, on KIDs by candidate and judge
run_choose_generator the command: the record with provenance, written atomically

Notebook: notebooks/12_latent_diffusion.ipynb
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .errors import AudiogenError

CANDIDATES = ("cvae", "vae_gen", "vae", "ldm")
RULE = ("rank the shipped generators by the KID of their sounds (made as `audiogen generate` makes them "
        "without a digit) to the real validation audio, by each judge; choose the generator whose worse rank "
        "over the two judges is best; a tie goes to the smaller sum of its two KIDs, each divided by the "
        "smallest KID that judge gave any generator")


def candidate_sounds(kind: str, n: int, *, train, validation, seed: int = 0, config: str = "paper") -> np.ndarray:
    """``n`` waveforms from shipped generator ``kind`` with no digit asked, as ``audiogen generate`` makes them."""
    if kind == "ldm":
        from .diffusion import generate_ldm, load_ldm

        autoencoder, denoiser = load_ldm(config)
        return generate_ldm(autoencoder, denoiser, n, digit=None, seed=seed).waveforms
    from .generation import choose_sampler, db_range, generate, gmm_grid_for, load_generator, sampler_for

    vae = load_generator(kind, config)
    choice = choose_sampler(vae, train, validation, grid=gmm_grid_for(train), seed=seed)
    density = sampler_for(vae, choice["best"], train, choice, seed=seed)
    return generate(vae, density, n, seed=seed, lo_hi=db_range(vae, config=config, train=train)).waveforms


def apply_rule(kids: dict[str, dict[str, float]]) -> dict:
    """:data:`RULE` on ``{candidate: {judge: KID estimate}}``: the choice, each candidate's ranks and tie-break value."""
    if not kids:
        raise AudiogenError("no generator to choose from: ship one (audiogen train cvae ... --ship)")
    from .judges import worse_rank_order

    judges = sorted(next(iter(kids.values())))
    best = {j: min(kids[k][j] for k in kids) for j in judges}
    ratio = {k: float(sum(kids[k][j] / best[j] if best[j] > 0 else kids[k][j] for j in judges)) for k in kids}
    order, ranks = worse_rank_order(kids, tie_break=lambda k, _: ratio[k])
    return {"model": order[0], "order": order, "ranks": ranks, "kid_ratio_sum": ratio}


def choose_generator(*, config: str = "paper", n: int = 300, seed: int = 0, n_clips=None, progress=print) -> dict:
    """Every shipped candidate's sounds judged against the real validation audio by both judges; the choice."""
    from .config import get_config
    from .features import load_features
    from .generation import shipped_generators
    from .judges import kid, load_judges

    config = get_config(config).name
    kinds = [k for k in CANDIDATES if k in shipped_generators(config)]
    judges = load_judges(config)
    train = load_features("train", config=config).subset(n_clips and max(n_clips, 64), seed=seed)
    validation = load_features("validation", config=config).subset(n_clips, seed=seed)
    real = {name: j.embedding(validation.waveforms) for name, j in judges.items()}
    scores = {}
    for kind in kinds:
        y = candidate_sounds(kind, n, train=train, validation=validation, seed=seed, config=config)
        scores[kind] = {}
        for name, judge in judges.items():
            emb = judge.embedding(y)
            scores[kind][name] = kid(emb[np.isfinite(emb).all(1)], real[name], seed=seed)
        progress(f"validation: {kind} judged")
    choice = apply_rule({k: {j: s["estimate"] for j, s in v.items()} for k, v in scores.items()})
    return {**choice, "rule": RULE, "kid_to_real_validation": scores, "candidates": kinds, "n": n, "seed": seed,
            "splits": {"train": len(train), "validation": len(validation)},
            "judges": {name: j.weights_sha256 for name, j in judges.items()}}


def run_choose_generator(out, *, ship: bool = False, config: str = "paper", n: int = 300, seed: int = 0,
                         profile=None, command: str = "", progress=print) -> dict:
    """``audiogen choose-generator``: :func:`choose_generator` with provenance, to ``out`` (and into the package)."""
    from .config import get_profile
    from .files import atomic_write
    from .generation import provenance
    from .pretrained import HERE

    profile = get_profile(profile)
    if ship and profile.name != "paper" and profile.n_test is not None:
        raise AudiogenError(f"--ship records the choice the package uses: run it on the whole validation split "
                            f"(--profile book or paper), not {profile.name!r}")
    if not (isinstance(n, (int, np.integer)) and n >= 20):
        raise AudiogenError(f"--n must be a whole number of at least 20 sounds, got {n!r}")
    result = choose_generator(config=config, n=n, seed=seed, n_clips=profile.n_test, progress=progress)
    result = {**result, "config": config, "profile": profile.name, "provenance": provenance(command)}
    targets = [Path(out)] + ([HERE / f"generator_choice_{config}.json"] if ship else [])
    for path in targets:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path) as f:
            json.dump(result, f, indent=1)
    return result


__all__ = ["CANDIDATES", "RULE", "candidate_sounds", "choose_generator", "apply_rule", "run_choose_generator"]
