"""Scores of a set of generated sounds: how clear and varied they are, and how far they lie from real audio.

Public names
------------
inception_score        exp E[KL(p(y|x) || p(y))] of classifier probabilities: 1 (useless) to 10 (ten clear digits)
frechet_distance       the Fréchet distance between two sets of embeddings (exact also when there are fewer rows than dimensions)

Notebook: notebooks/10_generation.ipynb
"""

from __future__ import annotations

import numpy as np

from ..errors import AudiogenError


def inception_score(probs: np.ndarray, *, eps: float = 1e-12) -> float:
    """``exp(mean_x KL(p(y|x) || p(y)))`` for classifier probabilities ``(N, n_classes)``.

    Between 1 (every sound gets the same distribution) and ``n_classes`` (each sound is
    one clear class and all classes are equally frequent). Salimans et al. (2016).
    """
    p = np.clip(np.asarray(probs, np.float64), eps, 1.0)
    p /= p.sum(axis=1, keepdims=True)
    marginal = p.mean(axis=0, keepdims=True)
    return float(np.exp(np.mean(np.sum(p * (np.log(p) - np.log(marginal)), axis=1))))


def _moments(emb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and a factor ``F`` with ``F.T @ F`` = the sample covariance (ddof 1), ``F`` of at most min(N, D) rows."""
    emb = np.asarray(emb, np.float64)
    if emb.ndim != 2 or len(emb) < 2:
        raise AudiogenError(f"a Fréchet distance needs at least 2 embeddings (N, D), got shape {emb.shape}")
    mean = emb.mean(0)
    centred = emb - mean
    if len(emb) - 1 <= emb.shape[1]:
        return mean, centred / np.sqrt(len(emb) - 1)
    cov = centred.T @ centred / (len(emb) - 1)
    w, v = np.linalg.eigh(cov)
    return mean, (v * np.sqrt(np.clip(w, 0.0, None))).T


def frechet_distance(emb_a: np.ndarray, emb_b: np.ndarray) -> float:
    """``|m_a - m_b|^2 + Tr(C_a + C_b - 2 (C_a C_b)^(1/2))``: the Fréchet distance of Gaussians fitted to two sets.

    Heusel et al. (2017) use it on Inception features (FID); here on the digit classifier's
    (:func:`audiogen_lib.generation.classifier_embedding`). ``Tr (C_a C_b)^(1/2)`` is the nuclear norm of ``F_a F_b^T``
    for any factors with ``C = F^T F``, so it is computed exactly from the centred data when
    there are fewer clips than dimensions (300 sounds, 4,096 features), without a D x D square
    root. The estimate is biased upwards at small N: compare sets of equal size only.

    >>> x = np.random.default_rng(0).standard_normal((50, 3))
    >>> round(frechet_distance(x, x), 9), round(frechet_distance(x, x + [1.0, 2.0, 2.0]), 9)
    (0.0, 9.0)
    """
    ma, fa = _moments(emb_a)
    mb, fb = _moments(emb_b)
    if ma.shape != mb.shape:
        raise AudiogenError(f"embeddings of different widths: {ma.shape[0]} and {mb.shape[0]}")
    cross = np.linalg.svd(fa @ fb.T, compute_uv=False).sum()
    value = float(np.sum((ma - mb) ** 2) + np.sum(fa * fa) + np.sum(fb * fb) - 2.0 * cross)
    return max(value, 0.0)
