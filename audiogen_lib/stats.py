"""Uncertainty and verdicts: bootstrap intervals over clips, and the rule that turns one into a verdict.

Public names
------------
Interval           a point estimate with its 95% interval, and how it was made
bootstrap_mean     the mean of per-clip scores with a percentile bootstrap interval over clips
paired_bootstrap   the mean of ``a - b`` over the same clips, with a paired bootstrap interval
bootstrap_statistic  any statistic of per-clip (or per-sample) rows, with a percentile bootstrap over the rows
speaker_bootstrap  the mean of per-clip values (or of ``a - b``) resampling speakers, then clips within each
seed_spread        mean and a t interval over training seeds (training is part of the claim)
verdict            "holds" / "does not hold" / "inconclusive" from an interval and the claimed side
goal_status        "met" / "missed" / "undecided": where a 95% interval lies against a goal
equivalence        the same three words for a claim of *no difference*: two one-sided tests with a margin
binomial_floor     the lowest accuracy on ``n`` new clips that a classifier of accuracy ``p`` reaches but rarely

The rule (chapter 9): a claim *holds* when the 95% interval of its paired difference
lies entirely on the claimed side of zero, *does not hold* when it lies entirely on the
other side, and is *inconclusive* otherwise. A claim that two conditions do *as well as*
each other is tested as an equivalence (:func:`equivalence`): it holds when the 90%
interval of the difference lies inside ``[-margin, +margin]`` (two one-sided tests at 5%
each), does not hold when it lies entirely outside, and is inconclusive otherwise.

What an interval covers: the bootstrap over clips resamples the test clips, so its
interval is about *new recordings of these ten digits by these six speakers*; it says
nothing about new speakers. The spread over training seeds covers new trainings of the
same models on the same data. :func:`speaker_bootstrap` is a sensitivity check toward
new speakers: it resamples the six speakers, then clips within each; six speakers make
it rough (its interval is wide and itself uncertain), so it is reported beside the
verdict, not instead of it.

Notebook: notebooks/09_listening_experiments.ipynb
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .errors import AudiogenError

N_BOOT = 2000
LEVEL = 0.95
# Where a training run stopped at its epoch cap, a number read from its curve is only a
# bound and some claims cannot be decided (experiments.convergence): this word says so.
CENSORED = "cannot be reached"
VERDICTS = ("holds", "does not hold", "inconclusive", CENSORED)


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

    @classmethod
    def from_dict(cls, d: dict) -> "Interval":
        """The inverse of :meth:`to_dict` (results read back from JSON)."""
        return cls(**d)

    def shifted(self, by: float) -> "Interval":
        """The same interval minus ``by``: a score against a threshold (``score - threshold``)."""
        return Interval(self.estimate - by, self.low - by, self.high - by, self.n, self.method, self.level)

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


def bootstrap_statistic(*arrays, statistic, n_boot: int = N_BOOT, seed: int = 0, level: float = LEVEL,
                        what: str = "clips") -> Interval:
    """``statistic(*arrays)`` with a bias-corrected percentile bootstrap resampling the rows of all ``arrays`` together.

    For numbers that are not a plain mean of per-clip values: the RMSE over all pixels
    (``sqrt`` of the mean per-clip MSE), the inception score of a set of generated sounds
    (rows are the classifier's probabilities), a paired difference of two such numbers
    (pass both arrays: the same rows are drawn for both). A row with a non-finite value in
    any array is left out of all of them.

    >>> bootstrap_statistic(np.array([1.0, 2.0, 3.0]), statistic=np.mean, n_boot=50).estimate
    2.0
    """
    arrays = [np.asarray(a, np.float64) for a in arrays]
    if not arrays or any(len(a) != len(arrays[0]) for a in arrays):
        raise AudiogenError(f"bootstrap_statistic needs arrays with the same number of rows, got "
                            f"{[len(a) for a in arrays]}")
    keep = np.ones(len(arrays[0]), bool)
    for a in arrays:
        keep &= np.isfinite(a.reshape(len(a), -1)).all(axis=1)
    arrays = [a[keep] for a in arrays]
    n = int(keep.sum())
    if n < 2:
        raise AudiogenError(f"a bootstrap needs at least 2 rows with finite values, got {n}")
    from scipy.stats import norm

    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    values = np.array([statistic(*(a[i] for a in arrays)) for i in idx], np.float64)
    estimate = float(statistic(*arrays))
    # Bias-corrected percentiles (Efron 1982): a statistic such as the inception score is biased
    # under resampling (repeated rows make the set look less varied), which moves every
    # resampled value one way; the correction re-centres the percentiles on the estimate.
    below = (np.sum(values < estimate) + 0.5 * np.sum(values == estimate)) / n_boot
    z0 = norm.ppf(np.clip(below, 1 / n_boot, 1 - 1 / n_boot))
    z = norm.ppf(0.5 + level / 2)
    low, high = np.quantile(values, norm.cdf([2 * z0 - z, 2 * z0 + z]))
    return Interval(estimate, float(low), float(high), n,
                    f"bias-corrected percentile bootstrap over {what} ({n_boot} resamples)", level)


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


def goal_status(interval: dict | None, goal: float) -> str:
    """``"met"`` when the whole 95% interval lies at or above ``goal``, ``"missed"`` when it lies below, else
    ``"undecided"``: the verdict rule applied to a goal (a goal to stay below: pass the negated interval)."""
    if interval is None:
        return "undecided"
    return "met" if interval["low"] >= goal else "missed" if interval["high"] < goal else "undecided"


def equivalence(interval: Interval, *, margin: float) -> str:
    """Two one-sided tests (TOST) read from ``interval``, a ``1 - 2 alpha`` interval of a difference.

    ``"holds"`` (the conditions are equivalent within ``margin``) when the interval lies
    inside ``(-margin, +margin)``; ``"does not hold"`` when it lies entirely outside
    (the difference is larger than the margin, one way or the other); ``"inconclusive"``
    otherwise. With a 90% interval this is TOST at the 5% level: each one-sided test
    rejects "the difference is at least ``margin``" on its side.

    >>> equivalence(Interval(0.02, -0.05, 0.08, 300, "test", 0.90), margin=0.1)
    'holds'
    >>> equivalence(Interval(-1.5, -1.54, -1.47, 300, "test", 0.90), margin=0.1)
    'does not hold'
    >>> equivalence(Interval(0.05, -0.02, 0.12, 300, "test", 0.90), margin=0.1)
    'inconclusive'
    """
    if not margin > 0:
        raise AudiogenError(f"an equivalence margin must be positive, got {margin!r}")
    if -margin < interval.low and interval.high < margin:
        return "holds"
    if interval.low >= margin or interval.high <= -margin:
        return "does not hold"
    return "inconclusive"


def tost_level(alpha: float = 1 - LEVEL) -> float:
    """The level of the interval that two one-sided tests at ``alpha`` each read: ``1 - 2 alpha`` (0.90 for 5%)."""
    return 1 - 2 * alpha


def speaker_bootstrap(a, speakers, b=None, *, n_boot: int = N_BOOT, seed: int = 0, level: float = LEVEL) -> Interval:
    """Mean of per-clip ``a`` (or of ``a - b``) with a two-stage (cluster) bootstrap over speakers.

    Each resample draws as many speakers as there are, with replacement, and then, within
    each drawn speaker, as many of that speaker's clips as it has, with replacement; the
    statistic is the mean over all drawn clips. The variation between speakers enters the
    interval, so it is wider than the bootstrap over clips when speakers differ: a check of
    how far a verdict depends on these particular six voices. A clip either condition could
    not score (NaN) is left out before resampling.

    >>> speaker_bootstrap([1.0, 2.0, 3.0, 4.0], ["a", "a", "b", "b"], n_boot=50).estimate
    2.5
    """
    a = np.asarray(a, np.float64).ravel()
    speakers = np.asarray(speakers).ravel()
    if speakers.shape != a.shape:
        raise AudiogenError(f"one speaker per clip is needed: {a.size} values, {speakers.size} speakers")
    if b is not None:
        b = np.asarray(b, np.float64).ravel()
        if a.shape != b.shape:
            raise AudiogenError(f"paired scores must cover the same clips: got {a.size} and {b.size} values")
        a = a - b
    keep = np.isfinite(a)
    a, speakers = a[keep], speakers[keep]
    groups = [a[speakers == s] for s in np.unique(speakers)]
    if len(groups) < 2:
        raise AudiogenError(f"a bootstrap over speakers needs at least 2 speakers, got {len(groups)}")
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    for i in range(n_boot):
        drawn = [groups[j] for j in rng.integers(0, len(groups), len(groups))]
        means[i] = np.concatenate([g[rng.integers(0, g.size, g.size)] for g in drawn]).mean()
    tail = (1 - level) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return Interval(float(a.mean()), float(low), float(high), int(a.size),
                    f"two-stage bootstrap over {len(groups)} speakers, then clips ({n_boot} resamples)", level)


def binomial_floor(p: float, n: int, *, alpha: float = 0.001) -> float:
    """The accuracy on ``n`` new clips below which a classifier of true accuracy ``p`` falls with probability < ``alpha``.

    The ``alpha`` quantile of Binomial(``n``, ``p``) / ``n``: a test that compares a shipped
    classifier's test accuracy with this floor, ``p`` read from its card's validation
    accuracy, fails by chance at most once in ``1 / alpha`` runs, and fails surely when the
    model is much worse than its card says.

    >>> round(binomial_floor(0.98, 300), 3)
    0.95
    """
    from scipy.stats import binom

    if not (0 <= p <= 1) or n < 1:
        raise AudiogenError(f"binomial_floor needs 0 <= p <= 1 and n >= 1, got p={p!r}, n={n!r}")
    return float(binom.ppf(alpha, n, p) / n)
