"""One set of sounds as each judge hears it, beside real sound measured the same way.

A judge is any object with ``name``, ``kind``, ``weights_sha256``, ``probabilities(y) -> (N, 10)``
and ``embedding(y) -> (N, D)`` for waveforms at the config's rate:
:func:`audiogen_lib.judges.load_judges` gives the two this project uses, ``"cnn"`` (the CNN on
log-spectrogram images, the generators' own representation) and ``"mfcc"`` (MFCC statistics
of the 8 kHz waveform). This module takes them as arguments, so it needs no layer above
:mod:`audiogen_lib.generation`.

Every distance here is the kernel inception distance (KID,
:func:`audiogen_lib.distances.kernel_inception_distance`, over all pairs, with a jackknife 95%
interval) and the Fréchet distance in the top 8 principal components of the training
clips' embeddings (:func:`audiogen_lib.distances.frechet_distance_lowdim`). A floor is the
same estimator applied to two sets of real clips of the same size as a generated set.

Public names
------------
LOWDIM_COMPONENTS  principal components of the low-dimensional Fréchet distance
real_embeddings    per judge: the embeddings of the real test audio and of the training clips
judge_set          one generated set as one judge hears it (the first set in full, later sets in brief)
summarise_sets     a sampler's sets for one judge: the first set in full, every set's numbers, their spread
real_reference     the real test audio as one judge hears it: histogram, inception score, accuracy
floors             the distances of real clips to the real test audio, by the same estimators and sizes
differences        each pair of samplers, set by set (one seed per set), with a Student-t interval

Notebook: notebooks/10_generation.ipynb
"""

from __future__ import annotations

import numpy as np

from ..distances import frechet_distance_lowdim, kernel_inception_distance
from .densities import N_DIGITS

LOWDIM_COMPONENTS = 8
PAIRS = (("gmm", "gaussian"), ("gmm", "prior"), ("gaussian", "prior"))


def _finite(emb: np.ndarray) -> np.ndarray:
    """The rows a judge could embed (the CNN cannot normalise a silent clip: NaN)."""
    return emb[np.isfinite(emb).all(1)]


def _kid(emb: np.ndarray, real: np.ndarray) -> dict:
    k = kernel_inception_distance(_finite(emb), _finite(real))
    return {"estimate": float(k.kid), **k.to_dict()}


def _projector(train: np.ndarray):
    """Rows -> their coordinates in the top :data:`LOWDIM_COMPONENTS` principal components of ``train``.

    :func:`frechet_distance_lowdim` of projected sets, with the projected training clips as
    reference, equals it on the raw embeddings (the components span the same space, and a
    Fréchet distance does not change under a rotation of it), without one SVD of the training
    embedding per call.
    """
    train = _finite(train).astype(np.float64)
    centre = train.mean(axis=0)
    basis = np.linalg.svd(train - centre, full_matrices=False)[2][:LOWDIM_COMPONENTS].T
    return lambda emb: (np.asarray(emb, np.float64) - centre) @ basis


def _lowdim(emb: np.ndarray, real: dict) -> float:
    """The Fréchet distance of ``emb`` to the real test audio in the training clips' top principal components."""
    project = real["project"]
    return frechet_distance_lowdim(project(_finite(emb)), project(_finite(real["test"])),
                                   reference=project(_finite(real["train"])), n_components=LOWDIM_COMPONENTS)


def _spread(values, what: str) -> dict:
    """Mean of independent repeats with a Student-t interval, named for ``what``."""
    from dataclasses import replace

    from ..stats import seed_spread

    ci = seed_spread(values)
    return replace(ci, method=f"Student-t interval over {ci.n} {what}").to_dict()


def real_embeddings(judges: dict, test, train) -> dict:
    """``{judge: {"test": (N, D), "train": (M, D), "project": ...}}``: the real test audio and every training
    clip, embedded, and the projection onto the training clips' top principal components."""
    out = {}
    for name, j in judges.items():
        emb_train = j.embedding(train.waveforms)
        out[name] = {"test": j.embedding(test.waveforms), "train": emb_train, "project": _projector(emb_train)}
    return out


def _heard(probs: np.ndarray, digits, *, n_boot: int, seed: int) -> dict:
    """The share of sounds heard as ``digits`` (asked for, or spoken), a bootstrap interval, and per digit."""
    from ..stats import bootstrap_mean

    heard, digits = probs.argmax(-1), np.asarray(digits)
    return {**bootstrap_mean((heard == digits).astype(float), n_boot=n_boot, seed=seed).to_dict(),
            "per_digit": [float(np.mean(heard[digits == d] == d)) if np.any(digits == d) else None
                          for d in range(N_DIGITS)]}


def _heard_in_full(probs: np.ndarray, *, n_boot: int, seed: int) -> dict:
    from ..metrics import inception_score
    from ..stats import bootstrap_statistic

    return {"n": len(probs), "histogram": np.bincount(probs.argmax(-1), minlength=N_DIGITS).tolist(),
            "inception_score": bootstrap_statistic(probs, statistic=inception_score, n_boot=n_boot, seed=seed,
                                                   what="sounds").to_dict()}


def judge_set(judge, y: np.ndarray, real: dict, *, asked=None, full: bool = False, n_boot: int = 2000,
              seed: int = 0) -> dict:
    """Waveforms ``y`` as ``judge`` hears them, against ``real`` (its :func:`real_embeddings` entry).

    Always: ``inception_score_value``, ``kid`` (to the real test audio, jackknife interval) and
    ``frechet_lowdim``. With ``full``: also ``n``, ``histogram``, ``inception_score`` (with a
    bootstrap interval over the sounds) and, where ``asked`` gives each sound's digit,
    ``heard_as_asked`` (the share heard as asked, with interval, and per digit).
    """
    from ..metrics import inception_score

    probs, emb = judge.probabilities(y), judge.embedding(y)
    out = {"inception_score_value": float(inception_score(probs)), "kid": _kid(emb, real["test"]),
           "frechet_lowdim": _lowdim(emb, real)}
    if full:
        out.update(_heard_in_full(probs, n_boot=n_boot, seed=seed))
        if asked is not None:
            out["heard_as_asked"] = _heard(probs, asked, n_boot=n_boot, seed=seed)
    return out


def summarise_sets(sets: list[dict], what: str) -> dict:
    """A sampler's :func:`judge_set` results, first set first: that set in full, then per set and over sets."""
    first = {k: v for k, v in sets[0].items() if k != "inception_score_value"}
    row = {**first, "inception_score_per_set": [s["inception_score_value"] for s in sets],
           "kid_per_set": [s["kid"]["estimate"] for s in sets],
           "frechet_lowdim_per_set": [s["frechet_lowdim"] for s in sets]}
    if len(sets) >= 2:
        for key in ("inception_score", "kid", "frechet_lowdim"):
            row[f"{key}_over_sets"] = _spread(row[f"{key}_per_set"], what)
    return row


def real_reference(judge, test, *, n_boot: int = 2000, seed: int = 0) -> dict:
    """The real test audio as ``judge`` hears it: ``n``, ``histogram``, ``inception_score`` and
    ``heard_as_spoken`` (its accuracy on the digits the speakers said)."""
    probs = judge.probabilities(test.waveforms)
    return {**_heard_in_full(probs, n_boot=n_boot, seed=seed),
            "heard_as_spoken": _heard(probs, test.digits, n_boot=n_boot, seed=seed)}


def floors(judge, real: dict, *, validation: np.ndarray, subsets: list[np.ndarray], phase_only: np.ndarray,
           size: int) -> dict:
    """Real clips against the real test audio, by the estimators and set size of a generated set.

    ``validation``: waveforms of the validation split (at most ``size`` of them); ``subsets``:
    index arrays of disjoint sets of ``size`` training clips (rows of ``real["train"]``);
    ``phase_only``: the test clips rebuilt from their own magnitudes by the phase
    reconstruction (the same clips as the reference: the phase's share alone, not a floor of
    independent sets). ``train_subsets`` gives the first subset's KID (with its jackknife
    interval, as a sampler's first set), every subset's, and their spread.
    """
    emb_val = judge.embedding(validation)
    rows = {"validation": {"what": f"{len(validation)} real validation clips (other takes of the same speakers)",
                           "kid": _kid(emb_val, real["test"]),
                           "frechet_lowdim": _lowdim(emb_val, real)}}
    if subsets:
        kids = [_kid(real["train"][idx], real["test"]) for idx in subsets]
        fds = [_lowdim(real["train"][idx], real) for idx in subsets]
        train = {"what": f"{len(subsets)} disjoint sets of {size} real training clips, every digit equally "
                         f"represented", "kid": kids[0], "frechet_lowdim": fds[0],
                 "kid_per_set": [k["estimate"] for k in kids], "frechet_lowdim_per_set": fds}
        if len(subsets) >= 2:
            what = f"disjoint sets of {size} real training clips"
            train.update(kid_over_sets=_spread(train["kid_per_set"], what),
                         frechet_lowdim_over_sets=_spread(fds, what))
        rows["train_subsets"] = train
    emb_phase = judge.embedding(phase_only)
    rows["phase_only"] = {"what": "the test clips' own magnitudes through the same phase reconstruction (the same "
                                  "clips as the reference: what the phase reconstruction alone moves)",
                          "kid": _kid(emb_phase, real["test"]),
                          "frechet_lowdim": _lowdim(emb_phase, real)}
    return rows


def differences(rows: dict, what: str, metrics=("inception_score", "kid", "frechet_lowdim")) -> dict:
    """``{"a minus b": {metric: interval}}`` for each pair of samplers, from their per-set numbers
    ``rows[sampler][f"{metric}_per_set"]`` (set k of every sampler has seed ``seed + k``: the
    differences of the sets of one seed are independent)."""
    return {f"{a} minus {b}": {metric: _spread(np.subtract(rows[a][f"{metric}_per_set"], rows[b][f"{metric}_per_set"]),
                                               what)
                               for metric in metrics}
            for a, b in PAIRS if a in rows and b in rows}
