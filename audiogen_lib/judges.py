"""Two judges of different kinds, one interface: what each hears in a set of sounds.

- ``"cnn"``: the digit classifier of :mod:`audiogen_lib.classifier`, a CNN that reads the same
  normalised log-spectrogram images the generators produce;
- ``"mfcc"``: the judge of :mod:`audiogen_lib.audio_judge`, which reads the waveform at the
  recordings' own 8 kHz through MFCC statistics, features no generator produces.

A generator scored by a judge that shares its representation can pass by producing what
that judge likes; a goal about generated or reconstructed sound holds only when it holds
by both (:func:`both_hold`).

Public names
------------
Judge            a judge: ``name``, ``probabilities(y)``, ``embedding(y)`` for waveforms at the config's rate
load_judges      the shipped judges for a config, by name
judge_sounds     accuracy (if digits were asked for), histogram, inception score and KID to real audio, per judge
kid              the KID of two embeddings as a dict with its interval
both_hold        a goal holds only when it holds by every judge
worse_rank_order candidates ranked by each judge, ordered by their worse rank (the two-judge choice rules)

Notebook: notebooks/08_judges.ipynb, notebooks/12_latent_diffusion.ipynb
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .errors import AudiogenError

N_DIGITS = 10


@dataclass
class Judge:
    """A judge of sounds at ``sr`` Hz: ``probabilities(y) -> (N, 10)`` and ``embedding(y) -> (N, D)``."""

    name: str
    kind: str
    sr: int
    probabilities: Callable[[np.ndarray], np.ndarray]
    embedding: Callable[[np.ndarray], np.ndarray]
    weights_sha256: str


def load_judges(config: str = "paper", names=("cnn", "mfcc")) -> dict[str, Judge]:
    """The shipped judges for ``config`` (``"cnn"``: the CNN on spectrogram images; ``"mfcc"``: MFCC statistics)."""
    from .config import get_config

    config = get_config(config)
    judges = {}
    for name in names:
        if name == "cnn":
            from .classifier import audio_to_probabilities
            from .generation import classifier_embedding
            from .pretrained import load_pretrained

            model = load_pretrained("classifier", config.name)
            judges[name] = Judge("cnn", "CNN on the normalised log-spectrogram image", config.sr,
                                 lambda y, m=model: audio_to_probabilities(m, y),
                                 lambda y, m=model: classifier_embedding(m, y), model.weights_sha256)
        elif name == "mfcc":
            from .audio_judge import audio_embedding, audio_probabilities, load_audio_judge

            judge = load_audio_judge("digit", config=config.name)
            judges[name] = Judge("mfcc", "linear model on MFCC statistics of the 8 kHz waveform", config.sr,
                                 lambda y, j=judge: audio_probabilities(j, y, sr=config.sr),
                                 lambda y, j=judge: audio_embedding(j, y, sr=config.sr), judge.card["npz_sha256"])
        else:
            raise AudiogenError(f"unknown judge {name!r}; use 'cnn' or 'mfcc'")
    return judges


def judge_sounds(judges: dict[str, Judge], y: np.ndarray, *, asked=None, real: np.ndarray | None = None,
                 real_embeddings: dict | None = None, n_boot: int = 1000, seed: int = 0) -> dict:
    """What every judge hears in waveforms ``y``: per judge a dict of

    - ``accuracy`` (when ``asked`` gives the digit asked for each sound): the share heard as asked, 95% interval;
    - ``histogram``: how many sounds it hears as each digit, and ``rarest_share``;
    - ``inception_score`` with a bootstrap interval over the sounds;
    - ``kid`` to the real sounds ``real`` (or their embeddings by judge, ``real_embeddings``): unbiased, with interval.
    """
    from .metrics import inception_score
    from .stats import bootstrap_mean, bootstrap_statistic

    out = {}
    for name, judge in judges.items():
        probs = judge.probabilities(y)
        heard = probs.argmax(-1)
        row = {"judge": judge.kind, "histogram": np.bincount(heard, minlength=N_DIGITS).tolist()}
        row["rarest_share"] = float(min(row["histogram"]) / len(heard))
        if asked is not None:
            hits = (heard == np.broadcast_to(asked, heard.shape)).astype(float)
            row["accuracy"] = bootstrap_mean(hits, n_boot=n_boot, seed=seed).to_dict()
            row["per_digit"] = [float(np.mean(heard[np.asarray(asked) == d] == d)) if np.any(np.asarray(asked) == d)
                                else None for d in range(N_DIGITS)]
        row["inception_score"] = bootstrap_statistic(probs, statistic=inception_score, n_boot=n_boot, seed=seed,
                                                     what="sounds").to_dict()
        ref = None if real_embeddings is None else real_embeddings.get(name)
        if ref is None and real is not None:
            ref = judge.embedding(real)
        if ref is not None:
            emb = judge.embedding(y)
            keep = np.isfinite(emb).all(1)
            row["kid"] = kid(emb[keep], ref[np.isfinite(ref).all(1)], seed=seed)
        out[name] = row
    return out


def kid(emb_a: np.ndarray, emb_b: np.ndarray, *, seed: int = 0) -> dict:
    """:func:`audiogen_lib.distances.kernel_inception_distance` as a dict with ``estimate``, ``low``, ``high``."""
    from .distances import kernel_inception_distance

    k = kernel_inception_distance(emb_a, emb_b, seed=seed)
    return {"estimate": float(k.kid), **k.to_dict()}


def both_hold(statuses: dict[str, str]) -> str:
    """``"met"`` only if every judge says met; ``"missed"`` if any says missed; else ``"undecided"``."""
    values = set(statuses.values())
    if values == {"met"}:
        return "met"
    return "missed" if "missed" in values else "undecided"


def worse_rank_order(scores: dict, *, tie_break=None) -> tuple[list, dict]:
    """Candidates ordered by their worse rank over the judges, and each one's ranks.

    ``scores``: ``{candidate: {judge: value}}``, lower is better (a KID); each judge ranks the
    candidates 1, 2, ... from its lowest value. A candidate is as good as the judge that likes it
    least, so the order is by the worse of its ranks; ``tie_break(candidate, ranks)`` orders equal
    worse ranks (default: the better rank). Returns ``(order, {candidate: {judge: rank}})``.
    """
    if not scores:
        raise AudiogenError("no candidates to rank")
    names = sorted(next(iter(scores.values())))
    ranks = {c: {} for c in scores}
    for name in names:
        for r, c in enumerate(sorted(scores, key=lambda c: scores[c][name]), start=1):
            ranks[c][name] = r
    second = tie_break or (lambda c, r: min(r.values()))
    order = sorted(scores, key=lambda c: (max(ranks[c].values()), second(c, ranks[c])))
    return order, ranks
