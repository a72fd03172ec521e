"""Choosing the sampler on validation: the GMM's settings, then prior, Gaussian or GMM; cached per model.

Public names
------------
choose_sampler        the samplers' held-out log-likelihoods, the GMM's settings and the best sampler; cached per model
sampler_for           a sampler fitted to a split's codes with the settings choose_sampler chose

Notebook: notebooks/10_generation.ipynb
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ..files import atomic_write
from .decoding import _n_classes, encode_means
from .densities import (GMM_GRID, GMM_REG_COVAR, N_DIGITS, SAMPLERS, LatentSampler, choose_gmm, fit_sampler,
                        n_parameters)


# Bump when the meaning of a cached sampler choice changes.
_CHOICE_VERSION = 2


def _codes(vae, fs) -> tuple[np.ndarray, np.ndarray | None]:
    digits = fs.digits if _n_classes(vae) else None
    return encode_means(vae, fs.x, digits), digits


def _cache_root() -> Path:
    """Where sampler choices are cached: beside the feature caches (``$AUDIOGEN_CACHE/../sampling``)."""
    from ..features import cache_dir

    return cache_dir().parent / "sampling"


def _choice_path(vae, train, validation, grid, seed) -> Path:
    from ..models import weights_sha256

    key = hashlib.sha256(json.dumps([_CHOICE_VERSION, getattr(vae, "weights_sha256", None) or weights_sha256(vae),
                                     train.clips_hash(), validation.clips_hash(), train.config.fingerprint(),
                                     sorted((k, list(v)) for k, v in (grid or GMM_GRID).items()), GMM_REG_COVAR,
                                     seed]).encode()).hexdigest()[:16]
    return _cache_root() / f"{vae.name}-{key}.json"


def choose_sampler(vae, train, validation, *, grid: dict | None = None, seed: int = 0, cache: bool = True) -> dict:
    """Choose on ``validation`` (a FeatureSet): the GMM's settings (:func:`choose_gmm`), then one of :data:`SAMPLERS`.

    Each sampler is fitted to the codes of ``train`` and scored by the mean log-likelihood
    of the validation codes; by the rule of :func:`choose_gmm`, the one with the fewest
    parameters among those not reliably worse than the best becomes the default of
    ``audiogen generate``. The answer (not the densities) is cached per model weights,
    clips, grid and seed, so a later call refits only the chosen mixture. Returns ``{"gmm":
    choose_gmm's result, "log_likelihood": {sampler: nats per code}, "best": sampler,
    "n_train", "n_validation"}``.
    """
    from ..stats import paired_bootstrap

    path = _choice_path(vae, train, validation, grid, seed) if cache else None
    if path is not None and path.is_file():
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            pass  # recompute
    (tr, tr_d), (va, va_d) = _codes(vae, train), _codes(vae, validation)
    gmm = choose_gmm(tr, va, tr_d, va_d, grid=grid, seed=seed)
    per_code = {kind: fit_sampler(kind, tr, tr_d, seed=seed, **gmm["chosen"]).log_likelihood(va, va_d)
                for kind in SAMPLERS}
    ll = {kind: float(np.mean(v)) for kind, v in per_code.items()}
    dim, copies = tr.shape[1], (N_DIGITS if tr_d is not None else 1)
    parameters = {"prior": 0, "gaussian": n_parameters("full", 1, dim) * copies,
                  "gmm": n_parameters(gmm["chosen"]["covariance_type"], gmm["chosen"]["n_components"], dim) * copies}
    top = max(ll, key=ll.get)
    kept = [k for k in SAMPLERS
            if k == top or len(va) < 2 or paired_bootstrap(per_code[k], per_code[top], seed=seed).high >= 0]
    best = min(kept, key=lambda k: (parameters[k], -ll[k]))
    result = {"gmm": gmm, "log_likelihood": ll, "parameters": parameters, "not_reliably_worse": kept, "best": best,
              "rule": "the sampler with the fewest parameters among those whose validation log-likelihood is not "
                      "reliably worse than the highest (paired 95% bootstrap over the validation codes)",
              "n_train": len(train), "n_validation": len(validation), "seed": seed}
    if path is not None:
        try:
            with atomic_write(path) as f:
                f.write(json.dumps(result, indent=1))
        except OSError:
            pass  # a read-only cache only costs time
    return result


def sampler_for(vae, kind: str, train, choice: dict, *, seed: int = 0) -> LatentSampler:
    """The sampler ``kind`` fitted to ``train``'s codes with the settings of ``choice`` (:func:`choose_sampler`)."""
    codes, digits = _codes(vae, train)
    return fit_sampler(kind, codes, digits, seed=seed, **choice["gmm"]["chosen"])
