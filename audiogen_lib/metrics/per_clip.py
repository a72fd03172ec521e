"""Scores that can fail clip by clip, and the check of a pair of waveform batches every per-clip measure makes.

Public names
------------
MetricResult           per-clip scores with the clips not scored and why; mean, counts, summary

Notebook: notebooks/09_listening_experiments.ipynb
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from ..errors import AudiogenError


@dataclass(frozen=True)
class MetricResult:
    """Scores of one measure over a set of clips, with the clips it could not score and why.

    ``values`` holds one score per clip (NaN where the clip was not scored) and
    ``reasons`` says why for each clip (``""`` where it was scored). A measure taken
    once over all clips joined end to end (:func:`stoi_concatenated`) has one value
    and ``pooled_clips`` set to the number of clips joined.

    ``float(result)`` is the mean over the scored clips; ``str(result)`` a table cell.

    Notebook: notebooks/09_listening_experiments.ipynb
    """

    name: str
    values: np.ndarray
    reasons: tuple[str, ...]
    higher_is_better: bool = True
    pooled_clips: int | None = None

    @classmethod
    def from_values(cls, name: str, values, *, higher_is_better: bool = True) -> "MetricResult":
        """Wrap per-clip scores (e.g. :func:`log_spectral_distance`'s); non-finite ones count as failed."""
        values = np.asarray(values, dtype=np.float64).ravel()
        reasons = tuple("" if np.isfinite(v) else "not finite" for v in values)
        return cls(name, np.where(np.isfinite(values), values, np.nan), reasons, higher_is_better)

    @property
    def scored(self) -> np.ndarray:
        """Boolean mask of the clips that got a score."""
        return np.array([not r for r in self.reasons], dtype=bool)

    @property
    def n_scored(self) -> int:
        return int(self.scored.sum())

    @property
    def n_failed(self) -> int:
        return len(self.reasons) - self.n_scored

    @property
    def mean(self) -> float:
        """Mean over the scored clips (NaN if none was scored)."""
        return float(np.mean(self.values[self.scored])) if self.n_scored else float("nan")

    @property
    def failures(self) -> dict[str, int]:
        """How many clips failed for each reason, most frequent first."""
        return dict(Counter(r for r in self.reasons if r).most_common())

    def __float__(self) -> float:
        return self.mean

    def to_dict(self) -> dict:
        """``{"metric", "mean", "n_scored", "n_failed", "failures"}`` for a table row."""
        return {"metric": self.name, "mean": self.mean, "n_scored": self.n_scored, "n_failed": self.n_failed,
                "failures": self.failures}

    def summary(self, digits: int = 2) -> str:
        """One line: ``PESQ-NB 3.52 (291 of 300 clips; failed: no utterances detected 9)``."""
        if self.pooled_clips is not None:
            what = f"one score on {self.pooled_clips} clips joined end to end"
        else:
            what = f"mean of {self.n_scored} of {len(self.reasons)} clips"
        text = f"{self.name} {self.mean:.{digits}f} ({what}"
        if self.n_failed:
            text += "; not scored: " + ", ".join(f"{reason} {n}" for reason, n in self.failures.items())
        return text + ")"

    __str__ = summary

    def __repr__(self) -> str:
        return f"MetricResult({self.summary(4)})"


def _clips(y_ref, y_est, *, sr: int, lengths=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check a pair of waveform batches; return them as 2-D float64 and each clip's length in samples."""
    y_ref = np.asarray(y_ref, dtype=np.float64)
    y_est = np.asarray(y_est, dtype=np.float64)
    if y_ref.shape != y_est.shape or y_ref.ndim not in (1, 2) or y_ref.shape[-1] == 0:
        raise AudiogenError(
            f"reference and estimate must be waveforms of the same shape, (n_samples,) or (N, n_samples); "
            f"got {y_ref.shape} and {y_est.shape}; pad or trim the estimate to the reference's length"
        )
    if not (np.all(np.isfinite(y_ref)) and np.all(np.isfinite(y_est))):
        raise AudiogenError("waveforms hold NaN or Inf; check the model output or the reconstruction")
    if sr <= 0:
        raise AudiogenError(f"sample rate sr must be positive, got {sr}")
    y_ref, y_est = np.atleast_2d(y_ref), np.atleast_2d(y_est)
    n, n_samples = y_ref.shape
    if lengths is None:
        return y_ref, y_est, np.full(n, n_samples)
    lengths = np.asarray(lengths).ravel()
    if lengths.shape != (n,) or not np.issubdtype(lengths.dtype, np.integer) or (lengths < 1).any():
        raise AudiogenError(
            f"lengths must be {n} positive integers (each clip's true length in samples at sr={sr}), "
            f"got {lengths.shape} of dtype {lengths.dtype}; use FeatureSet.lengths"
        )
    return y_ref, y_est, np.minimum(lengths, n_samples)
