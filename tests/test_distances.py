"""The distances agree with slow direct formulas and closed forms, and behave as estimators should:
KID near zero (its interval covering zero) for two samples of one distribution, growing with a shift."""

import numpy as np
import pytest
from scipy import linalg

from audiogen_lib import AudiogenError
from audiogen_lib.distances import (frechet_distance_lowdim, kernel_inception_distance,
                                    nearest_neighbour_distances)


def slow_mmd2(a, b):
    """The unbiased MMD² written as its definition: mean over distinct pairs, loop by loop."""
    d = a.shape[1]
    k = lambda x, y: (np.dot(x, y) / d + 1.0) ** 3  # noqa: E731
    n, m = len(a), len(b)
    xx = sum(k(a[i], a[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    yy = sum(k(b[i], b[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(a[i], b[j]) for i in range(n) for j in range(m)) / (n * m)
    return xx + yy - 2 * xy


def slow_jackknife_se(a, b):
    """The two-sample delete-one jackknife, by deleting each row in turn."""
    n, m = len(a), len(b)
    loo_a = np.array([slow_mmd2(np.delete(a, i, 0), b) for i in range(n)])
    loo_b = np.array([slow_mmd2(a, np.delete(b, j, 0)) for j in range(m)])
    return np.sqrt((n - 1) / n * ((loo_a - loo_a.mean()) ** 2).sum()
                   + (m - 1) / m * ((loo_b - loo_b.mean()) ** 2).sum())


def test_kid_matches_the_direct_formula(rng):
    a, b = rng.normal(size=(9, 4)), rng.normal(0.3, 1.2, size=(7, 4))
    kid = kernel_inception_distance(a, b)
    assert kid.kid == pytest.approx(slow_mmd2(a, b), rel=1e-10)
    assert kid.se == pytest.approx(slow_jackknife_se(a, b), rel=1e-8)
    assert kid.low == pytest.approx(kid.kid - 1.959964 * kid.se) and kid.method == "jackknife"
    assert (kid.n_a, kid.n_b) == (9, 7)


def test_kid_of_one_distribution_is_near_zero_with_an_interval_covering_it():
    """Over 40 pairs of samples of one distribution the interval covers 0 at least 90% of the
    time (nominal 95%; the jackknife errs wide), and the estimates average to about zero."""
    covered, values = 0, []
    for seed in range(40):
        r = np.random.default_rng(seed)
        kid = kernel_inception_distance(r.normal(size=(200, 16)), r.normal(size=(200, 16)))
        covered += kid.low <= 0.0 <= kid.high
        values.append(kid.kid)
    assert covered >= 36
    assert abs(np.mean(values)) < 3 * np.std(values) / np.sqrt(len(values))


def test_kid_grows_with_a_mean_shift(rng):
    base = rng.normal(size=(300, 16))
    kids = [kernel_inception_distance(base, rng.normal(size=(300, 16)) + shift) for shift in (0.0, 0.25, 0.5, 1.0)]
    values = [k.kid for k in kids]
    assert values == sorted(values)
    assert kids[-1].low > 0 and kids[-2].low > 0  # clearly different: the interval excludes zero


def test_kid_subsets_recover_the_full_estimate(rng):
    a, b = rng.normal(size=(400, 8)), rng.normal(0.5, 1.0, size=(400, 8))
    full = kernel_inception_distance(a, b)
    sub = kernel_inception_distance(a, b, n_subsets=50, subset_size=100, seed=1)
    assert sub.method.startswith("subsets") and sub.low < full.kid < sub.high
    assert sub.kid == pytest.approx(full.kid, rel=0.2)
    assert sub == kernel_inception_distance(a, b, n_subsets=50, subset_size=100, seed=1)  # seeded


def test_frechet_equals_the_closed_form_for_two_gaussians():
    r = np.random.default_rng(3)
    mu1, mu2 = np.array([0.0, 1.0, -1.0]), np.array([0.5, 0.0, -1.5])
    l1, l2 = r.normal(size=(3, 3)), r.normal(size=(3, 3))
    cov1, cov2 = l1 @ l1.T + 0.5 * np.eye(3), l2 @ l2.T + 0.5 * np.eye(3)
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(cov1 + cov2 - 2 * linalg.sqrtm(cov1 @ cov2).real)
    a = r.multivariate_normal(mu1, cov1, size=200_000)
    b = r.multivariate_normal(mu2, cov2, size=200_000)
    # all three components of a rotated reference: the distance is the full 3-D one (rotation-invariant)
    q, _ = np.linalg.qr(r.normal(size=(3, 3)))
    reference = r.normal(size=(5000, 3)) * [3.0, 2.0, 1.0] @ q
    assert frechet_distance_lowdim(a, b, reference=reference, n_components=3) == pytest.approx(expected, rel=0.02)


def test_frechet_uses_only_the_reference_top_components(rng):
    """Differences outside the reference's top components are not seen; inside, they are, in closed form."""
    reference = rng.normal(size=(5000, 4)) * [5.0, 4.0, 0.1, 0.1]  # top two components: the first two axes
    a = rng.normal(size=(100_000, 4))
    b = rng.normal(size=(100_000, 4)) * [1.0, 2.0, 1.0, 1.0] + [0.0, 0.0, 3.0, 0.0]  # a shift on axis 3 only
    assert frechet_distance_lowdim(a, b, reference=reference, n_components=2) == pytest.approx(1.0, rel=0.03)
    assert frechet_distance_lowdim(a, b, reference=reference, n_components=4) == pytest.approx(1.0 + 9.0, rel=0.03)


def test_frechet_of_one_distribution_is_small_in_few_dimensions(rng):
    """The point of the low dimension: from 300 samples, same-distribution Fréchet is near zero in 4 dimensions
    and far from it in 64 (the bias grows with d²/n)."""
    reference = rng.normal(size=(2000, 64))
    a, b = rng.normal(size=(300, 64)), rng.normal(size=(300, 64))
    low, high = (frechet_distance_lowdim(a, b, reference=reference, n_components=k) for k in (4, 63))
    assert low < 0.15 < 3 * low < high


def test_nearest_neighbour_distances(rng):
    reference = rng.normal(size=(50, 5))
    samples = np.vstack([reference[[7, 3]], reference[[11]] + [0.1, 0, 0, 0, 0]])
    dist, index = nearest_neighbour_distances(samples, reference, return_index=True, chunk=2)
    assert list(index) == [7, 3, 11]
    np.testing.assert_allclose(dist, [0.0, 0.0, 0.1], atol=1e-12)
    others = rng.normal(size=(20, 5))
    slow = [min(np.linalg.norm(s - r) for r in reference) for s in others]
    np.testing.assert_allclose(nearest_neighbour_distances(others, reference, chunk=3), slow, rtol=1e-12)


@pytest.mark.parametrize("call, match", [
    (lambda r: kernel_inception_distance(r.normal(size=(10, 3)), r.normal(size=(10, 4))), "3 and 4 dimensions"),
    (lambda r: kernel_inception_distance(r.normal(size=(2, 3)), r.normal(size=(10, 3))), r"shape \(2, 3\)"),
    (lambda r: kernel_inception_distance(np.full((5, 2), np.nan), r.normal(size=(5, 2))), "NaN"),
    (lambda r: frechet_distance_lowdim(r.normal(size=(5, 3)), r.normal(size=(5, 3)), reference=r.normal(size=(50, 3)),
                                       n_components=5), "n_components=5"),
])
def test_clear_errors(rng, call, match):
    with pytest.raises(AudiogenError, match=match):
        call(rng)
