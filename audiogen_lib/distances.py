"""Distances between two sets of sounds, in a judge's embedding: estimators that 300 clips can carry.

A Fréchet distance in a 4,096-dimensional embedding from 300 samples measures mostly its own
estimation bias. This module gives three estimators that do not:

- the kernel inception distance (KID, Bińkowski et al., "Demystifying MMD GANs", ICLR 2018): the
  unbiased estimate of the squared maximum mean discrepancy with the cubic polynomial kernel
  ``k(x, y) = (x·y / d + 1)^3``. Its expectation is zero when both sets come from one distribution,
  whatever the sample sizes, so a real-versus-real value near zero is the floor to compare with;
- the Fréchet distance after projecting both sets onto the top principal components of a fixed
  reference set (e.g. the training clips' embeddings): a few dimensions, whose means and
  covariances 300 samples do estimate;
- each sample's distance to its nearest neighbour in a reference set, for the "not copies" check.

Pure numpy. Embeddings come from :func:`audiogen_lib.audio_judge.audio_embedding` (or any other).

Public names
------------
KID                         the estimate with its 95% interval, standard error, method and sample sizes
kernel_inception_distance   two embeddings ``(n, d)``, ``(m, d)`` -> :class:`KID`
frechet_distance_lowdim     two embeddings and a reference -> the Fréchet distance in the reference's top components
nearest_neighbour_distances samples and reference -> each sample's Euclidean distance to its nearest reference row

Notebook: notebooks/10_generation.ipynb
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .errors import AudiogenError

Z95 = 1.959963984540054  # the standard normal's 97.5% quantile


@dataclass(frozen=True)
class KID:
    """An unbiased MMD² estimate and its interval (``low``, ``high``) at ``level``."""

    kid: float
    low: float
    high: float
    se: float
    method: str
    n_a: int
    n_b: int
    level: float = 0.95

    def to_dict(self) -> dict:
        return asdict(self)


def _check(emb, name: str, *, min_rows: int = 2) -> np.ndarray:
    emb = np.asarray(emb, dtype=np.float64)
    if emb.ndim != 2 or emb.shape[0] < min_rows or emb.shape[1] < 1:
        raise AudiogenError(f"{name} has shape {emb.shape}: pass an embedding (n, d) with at least {min_rows} rows")
    if not np.isfinite(emb).all():
        raise AudiogenError(f"{name} holds NaN or infinite values; embed finite audio")
    return emb


def _same_width(a: np.ndarray, b: np.ndarray, names: str) -> None:
    if a.shape[1] != b.shape[1]:
        raise AudiogenError(f"{names} have {a.shape[1]} and {b.shape[1]} dimensions: embed both with the same judge")


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """KID's kernel ``(x·y / d + 1)^3`` between the rows of ``x`` and ``y``."""
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def _mmd2_and_jackknife(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """The unbiased MMD² of ``a`` and ``b`` and its two-sample delete-one jackknife standard error.

    Every leave-one-out estimate comes from the kernel's row sums, so the whole costs one O(n²) kernel.
    """
    n, m = len(a), len(b)
    kaa, kbb, kab = polynomial_kernel(a, a), polynomial_kernel(b, b), polynomial_kernel(a, b)
    np.fill_diagonal(kaa, 0.0)
    np.fill_diagonal(kbb, 0.0)
    saa, sbb, sab = kaa.sum(), kbb.sum(), kab.sum()
    mmd2 = saa / (n * (n - 1)) + sbb / (m * (m - 1)) - 2 * sab / (n * m)
    # delete a_i: its row (twice, symmetric) leaves the a-a sum, its row of k(a, b) leaves the cross sum
    loo_a = ((saa - 2 * kaa.sum(1)) / ((n - 1) * (n - 2)) + sbb / (m * (m - 1))
             - 2 * (sab - kab.sum(1)) / ((n - 1) * m))
    loo_b = (saa / (n * (n - 1)) + (sbb - 2 * kbb.sum(1)) / ((m - 1) * (m - 2))
             - 2 * (sab - kab.sum(0)) / (n * (m - 1)))
    var = (n - 1) / n * np.sum((loo_a - loo_a.mean()) ** 2) + (m - 1) / m * np.sum((loo_b - loo_b.mean()) ** 2)
    return float(mmd2), float(np.sqrt(var))


def kernel_inception_distance(emb_a: np.ndarray, emb_b: np.ndarray, *, n_subsets: int = 100,
                              subset_size: int | None = None, seed: int = 0) -> KID:
    """The KID of two embeddings ``(n, d)`` and ``(m, d)``: the unbiased MMD² with ``(x·y / d + 1)^3``.

    - ``subset_size=None`` (the default, right for this project's few hundred clips): the estimate
      over all pairs, and a 95% interval ``estimate ± 1.96 SE`` with the two-sample delete-one
      **jackknife** SE. Why the jackknife: it needs no resampling with replacement (a bootstrap
      sample repeats clips, and a repeated clip's ``k(x, x)`` enters the within-set sums as if it
      were a pair of distinct clips, which biases the unbiased estimator upward), it costs one
      kernel, and by the Efron-Stein inequality its variance errs on the large side, so the
      interval is conservative rather than optimistic.
    - ``subset_size=s`` smaller than a set (for sets too big for one kernel): Bińkowski et al.'s
      recipe, the mean over ``n_subsets`` random subsets of ``s`` clips of each set (seeded), and
      as interval the 2.5-97.5% **spread** of the subset estimates: the variability of an estimate
      from ``s`` clips, wider than that of the mean, so again conservative.

    KID may be negative: it is an unbiased estimate of a quantity that is zero for equal distributions.
    """
    a, b = _check(emb_a, "emb_a", min_rows=3), _check(emb_b, "emb_b", min_rows=3)
    _same_width(a, b, "emb_a and emb_b")
    n, m = len(a), len(b)
    if subset_size is None or subset_size >= min(n, m):
        est, se = _mmd2_and_jackknife(a, b)
        return KID(est, est - Z95 * se, est + Z95 * se, se, "jackknife", n, m)
    if subset_size < 3 or n_subsets < 2:
        raise AudiogenError(f"subset_size={subset_size}, n_subsets={n_subsets}: use subsets of at least 3 clips "
                            f"and at least 2 of them, or subset_size=None for the estimate over all pairs")
    rng = np.random.default_rng(seed)
    values = np.array([_mmd2_and_jackknife(a[rng.choice(n, subset_size, replace=False)],
                                           b[rng.choice(m, subset_size, replace=False)])[0]
                       for _ in range(n_subsets)])
    low, high = np.percentile(values, [2.5, 97.5])
    return KID(float(values.mean()), float(low), float(high), float(values.std(ddof=1) / np.sqrt(n_subsets)),
               f"subsets ({n_subsets} of {subset_size} clips)", n, m)


def _frechet_of_moments(mu_a, cov_a, mu_b, cov_b) -> float:
    """``|mu_a - mu_b|² + tr(cov_a + cov_b - 2 (cov_a^½ cov_b cov_a^½)^½)``, by symmetric eigendecompositions."""
    w, v = np.linalg.eigh(cov_a)
    root_a = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    middle = root_a @ cov_b @ root_a
    cross = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0.0, None)).sum()
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * cross)


def frechet_distance_lowdim(emb_a: np.ndarray, emb_b: np.ndarray, *, reference: np.ndarray,
                            n_components: int = 8) -> float:
    """The Fréchet distance of two embeddings after projecting both onto the top ``n_components``
    principal components of ``reference`` (centred on its mean; e.g. the training clips' embeddings).

    Fixing the projection by a reference, not by the sets compared, puts every comparison in one
    space. With ``n_components`` of a few, a few hundred clips estimate the means and covariances
    well enough for the distance not to be dominated by estimation bias (which grows with the square
    of the dimension over the sample size); compare it with the real-versus-real value from as many
    clips. Both ``emb_a`` and ``emb_b`` need more rows than ``n_components``.
    """
    a, b, ref = _check(emb_a, "emb_a"), _check(emb_b, "emb_b"), _check(reference, "reference")
    _same_width(a, b, "emb_a and emb_b")
    _same_width(a, ref, "emb_a and reference")
    if not 1 <= n_components <= min(ref.shape[1], len(ref) - 1) or n_components >= min(len(a), len(b)):
        raise AudiogenError(f"n_components={n_components}: use at least 1, fewer than the rows of emb_a ({len(a)}), "
                            f"emb_b ({len(b)}) and reference ({len(ref)}), and at most the dimension {ref.shape[1]}")
    centre = ref.mean(axis=0)
    _, _, vt = np.linalg.svd(ref - centre, full_matrices=False)
    basis = vt[:n_components].T
    pa, pb = (a - centre) @ basis, (b - centre) @ basis
    return _frechet_of_moments(pa.mean(0), np.atleast_2d(np.cov(pa, rowvar=False)),
                               pb.mean(0), np.atleast_2d(np.cov(pb, rowvar=False)))


def nearest_neighbour_distances(samples: np.ndarray, reference: np.ndarray, *, return_index: bool = False,
                                chunk: int = 1024):
    """Each sample's Euclidean distance to its nearest row of ``reference`` -> ``(N,)``
    (and the row's index with ``return_index=True``).

    For the "not copies" check: a generator's samples against the training clips, beside the real
    test clips against the training clips (a sample much closer to a training clip than real test
    clips ever are is likely a copy). Computed ``chunk`` samples at a time.
    """
    x, ref = _check(samples, "samples", min_rows=1), _check(reference, "reference", min_rows=1)
    _same_width(x, ref, "samples and reference")
    ref_sq = np.sum(ref ** 2, axis=1)
    dist, index = np.empty(len(x)), np.empty(len(x), dtype=np.int64)
    for start in range(0, len(x), chunk):
        part = x[start:start + chunk]
        d2 = np.sum(part ** 2, axis=1)[:, None] + ref_sq[None] - 2 * part @ ref.T
        j = d2.argmin(axis=1)
        index[start:start + chunk] = j
        dist[start:start + chunk] = np.linalg.norm(part - ref[j], axis=1)  # exact, not by the expansion
    return (dist, index) if return_index else dist
