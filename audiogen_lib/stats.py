"""Uncertainty and verdicts: bootstrap intervals over clips, and the rule that turns one into a verdict.

Public names
------------
Interval           a point estimate with its 95% interval, and how it was made
bootstrap_mean     the mean of per-clip scores with a percentile bootstrap interval over clips
paired_bootstrap   the mean of ``a - b`` over the same clips, with a paired bootstrap interval
seed_spread        mean and a t interval over training seeds (training is part of the claim)
verdict            "holds" / "does not hold" / "inconclusive" from an interval and the claimed side

The rule (chapter 8): a claim *holds* when the 95% interval of its paired difference
lies entirely on the claimed side of zero, *does not hold* when it lies entirely on the
other side, and is *inconclusive* otherwise.

Notebook: notebooks/08_listening_experiments.ipynb
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .errors import AudiogenError

N_BOOT = 2000
LEVEL = 0.95
VERDICTS = ("holds", "does not hold", "inconclusive")


@dataclass(frozen=True)
class Interval:
    """``estimate`` with its ``level`` interval ``[low, high]`` from ``n`` clips (or seeds)."""

    estimate: float
    low: float
    high: float
    n: int
    method: str
    level: float = LEVEL

    def to_dict(self) -> dict:
        return asdict(self)

    def format(self, spec: str = ".3f") -> str:
        """``"0.123 [0.101, 0.145]"``."""
        return f"{self.estimate:{spec}} [{self.low:{spec}}, {self.high:{spec}}]"

    def __str__(self) -> str:
        return self.format()


def _paired_values(a, b=None) -> np.ndarray:
    a = np.asarray(a, np.float64).ravel()
    if b is not None:
        b = np.asarray(b, np.float64).ravel()
        if a.shape != b.shape:
            raise AudiogenError(f"paired scores must cover the same clips: got {a.size} and {b.size} values")
        a = a - b
    a = a[np.isfinite(a)]  # clips a metric could not score (NaN) drop out of both sides
    if a.size < 2:
        raise AudiogenError(f"a bootstrap needs at least 2 scored clips, got {a.size}")
    return a


def _percentile_bootstrap(values: np.ndarray, *, n_boot: int, seed: int, level: float, method: str) -> Interval:
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, values.size, size=(n_boot, values.size))
    means = values[idx].mean(axis=1)
    tail = (1 - level) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return Interval(float(values.mean()), float(low), float(high), int(values.size), method, level)


def bootstrap_mean(values, *, n_boot: int = N_BOOT, seed: int = 0, level: float = LEVEL) -> Interval:
    """Mean of per-clip ``values`` (NaN = not scored, left out) with a percentile bootstrap interval."""
    return _percentile_bootstrap(_paired_values(values), n_boot=n_boot, seed=seed, level=level,
                                 method=f"percentile bootstrap over clips ({n_boot} resamples)")


def paired_bootstrap(a, b, *, n_boot: int = N_BOOT, seed: int = 0, level: float = LEVEL) -> Interval:
    """Mean of ``a - b`` over the same clips, with a paired percentile bootstrap interval.

    ``a`` and ``b`` are per-clip scores of two conditions on the same clips (same order,
    same Griffin-Lim seed); a clip either one could not score is left out of both.
    Resampling the clips, not the two conditions separately, keeps their correlation.
    """
    return _percentile_bootstrap(_paired_values(a, b), n_boot=n_boot, seed=seed, level=level,
                                 method=f"paired percentile bootstrap over clips ({n_boot} resamples)")


def seed_spread(values, *, level: float = LEVEL) -> Interval:
    """Mean over training seeds with a Student-t interval (few seeds: a bootstrap would be too narrow)."""
    from scipy import stats

    v = np.asarray(values, np.float64).ravel()
    if v.size < 2 or not np.all(np.isfinite(v)):
        raise AudiogenError(f"a spread over seeds needs at least 2 finite values, got {v.tolist()}")
    half = stats.t.ppf(0.5 + level / 2, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size)
    return Interval(float(v.mean()), float(v.mean() - half), float(v.mean() + half), int(v.size),
                    f"Student-t interval over {v.size} training seeds", level)


def verdict(interval: Interval, *, claimed: str) -> str:
    """The written rule: ``claimed`` is ``"positive"`` (the difference should be > 0) or ``"negative"``.

    >>> verdict(Interval(0.3, 0.1, 0.5, 300, "test"), claimed="positive")
    'holds'
    >>> verdict(Interval(0.3, -0.1, 0.5, 300, "test"), claimed="positive")
    'inconclusive'
    """
    if claimed not in ("positive", "negative"):
        raise AudiogenError(f"claimed must be 'positive' or 'negative', got {claimed!r}")
    sign = 1.0 if claimed == "positive" else -1.0
    low, high = sorted((sign * interval.low, sign * interval.high))
    if low > 0:
        return "holds"
    if high < 0:
        return "does not hold"
    return "inconclusive"
