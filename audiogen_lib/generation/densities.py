"""Densities over a VAE's latent codes: N(0, I), one Gaussian, or a Gaussian mixture fitted to the codes.

Ghosh et al. (ICLR 2020) fit a density to the training codes *after* training and sample
that instead of the prior; :func:`choose_gmm` picks the mixture's settings by the held-out
log-likelihood of the validation codes (see :mod:`audiogen_lib.generation`).

Public names
------------
SAMPLERS              ``("prior", "gaussian", "gmm")``
GMM_GRID              the covariance types and component counts :func:`choose_gmm` tries
gmm_grid_for          GMM_GRID, or the smoke profile's small grid for a few training clips
LatentDensity         a Gaussian mixture over latent codes (the prior and one Gaussian are mixtures of one): sample, log-likelihood
LatentSampler         one density, or one per digit for a conditional VAE
fit_sampler           ``"prior"``, ``"gaussian"`` or ``"gmm"`` (given settings) fitted to training codes
n_parameters          free parameters of a mixture (the tie-break of the choices: the simpler of equals)
choose_gmm            every setting of :data:`GMM_GRID` fitted on the training codes, scored on the validation codes

Notebook: notebooks/10_generation.ipynb
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..errors import AudiogenError


SAMPLERS = ("prior", "gaussian", "gmm")


N_DIGITS = 10
# Component counts per covariance type tried by choose_gmm. "full" with one component is the
# "gaussian" sampler. In 128 dimensions a full covariance has 8,256 parameters: with 2,400 codes
# a handful of full components is all the held-out likelihood can support, so "tied" (one
# covariance shared, many means) and "diag" carry the larger counts.
GMM_GRID = {"full": (1, 2, 3, 4, 5, 6, 8, 10, 20, 30), "tied": (5, 10, 30), "diag": (5, 10, 30)}
# The smoke profile (seconds, for CI) tries a few settings only.
SMOKE_GMM_GRID = {"full": (1, 2), "diag": (3,)}
GMM_REG_COVAR = 1e-6  # scikit-learn's default; larger values lowered the held-out likelihood (the codes' scale is ~1)


def gmm_grid_for(train) -> dict:
    """The GMM settings to try for training set ``train``: the small grid when only a few clips are
    used (the smoke profile), the full one otherwise."""
    return GMM_GRID if len(train) >= 1000 else SMOKE_GMM_GRID


# --- densities over the latent codes -----------------------------------------------------------

@dataclass(frozen=True)
class LatentDensity:
    """A mixture of ``K`` Gaussians in ``d`` dimensions: ``weights (K,)``, ``means (K, d)``, ``covariances (K, d, d)``.

    ``kind`` is ``"prior"`` (N(0, I)), ``"gaussian"`` or ``"gmm"``; ``settings`` records how it
    was fitted. :meth:`sample` is seeded and repeatable; :meth:`log_likelihood` is the
    log-density of each code (nats).
    """

    kind: str
    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    settings: dict = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    def mean(self) -> np.ndarray:
        """The mixture's mean, ``sum_k w_k mu_k``."""
        return self.weights @ self.means

    @cached_property
    def _cholesky(self) -> np.ndarray:
        return np.linalg.cholesky(self.covariances)

    def sample(self, n: int, *, seed: int = 0) -> np.ndarray:
        """``n`` codes ``(n, d)`` float32: a component by its weight, then its Gaussian.

        Same seed, same codes; and the first ``m`` codes of ``n`` are the ``m`` codes drawn alone.
        """
        # Two streams from one seed, each read in order, so that a longer draw begins with a shorter one.
        noise, pick = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
        eps = noise.standard_normal((n, self.dim))
        component = pick.choice(len(self.weights), size=n, p=self.weights / self.weights.sum())
        chol = self._cholesky
        z = self.means[component] + np.einsum("nij,nj->ni", chol[component], eps)
        return z.astype(np.float32)

    def log_likelihood(self, z: np.ndarray) -> np.ndarray:
        """``log p(z)`` for each code ``(N, d)`` -> ``(N,)``."""
        from scipy.linalg import solve_triangular
        from scipy.special import logsumexp

        z = np.asarray(z, np.float64)
        chol = self._cholesky
        parts = []
        for w, m, L in zip(self.weights, self.means, chol):
            r = solve_triangular(L, (z - m).T, lower=True)
            log_det = 2.0 * np.log(np.diag(L)).sum()
            parts.append(np.log(w) - 0.5 * (self.dim * np.log(2 * np.pi) + log_det + np.sum(r * r, axis=0)))
        return logsumexp(np.stack(parts), axis=0)

    def describe(self) -> dict:
        return {"kind": self.kind, "components": len(self.weights), **self.settings}


def _prior(dim: int) -> LatentDensity:
    return LatentDensity("prior", np.ones(1), np.zeros((1, dim)), np.eye(dim)[None], {"covariance_type": "identity"})


def _gaussian(codes: np.ndarray) -> LatentDensity:
    codes = np.asarray(codes, np.float64)
    if len(codes) < 2:
        raise AudiogenError(f"a Gaussian needs at least 2 codes to fit, got {len(codes)}")
    cov = np.cov(codes, rowvar=False) + GMM_REG_COVAR * np.eye(codes.shape[1])
    return LatentDensity("gaussian", np.ones(1), codes.mean(0)[None], cov[None],
                         {"covariance_type": "full", "reg_covar": GMM_REG_COVAR})


def _gmm(codes: np.ndarray, *, n_components: int, covariance_type: str, seed: int = 0) -> LatentDensity:
    from sklearn.mixture import GaussianMixture

    codes = np.asarray(codes, np.float64)
    if n_components > len(codes):
        raise AudiogenError(f"a mixture of {n_components} components needs at least as many codes, got {len(codes)}")
    if covariance_type not in GMM_GRID:
        raise AudiogenError(f"unknown covariance type {covariance_type!r}; use one of {sorted(GMM_GRID)}")
    g = GaussianMixture(n_components, covariance_type=covariance_type, reg_covar=GMM_REG_COVAR, random_state=seed,
                        max_iter=200).fit(codes)
    d = codes.shape[1]
    cov = {"full": lambda: g.covariances_, "tied": lambda: np.broadcast_to(g.covariances_, (n_components, d, d)),
           "diag": lambda: np.einsum("kd,de->kde", g.covariances_, np.eye(d))}[covariance_type]()
    return LatentDensity("gmm", g.weights_.copy(), g.means_.copy(), np.array(cov),
                         {"covariance_type": covariance_type, "n_components": n_components, "reg_covar": GMM_REG_COVAR,
                          "seed": seed, "converged": bool(g.converged_), "em_iterations": int(g.n_iter_)})


@dataclass(frozen=True)
class LatentSampler:
    """One :class:`LatentDensity` (key ``None``) or one per digit (keys 0-9, for a conditional VAE)."""

    kind: str
    densities: dict

    @property
    def conditional(self) -> bool:
        return None not in self.densities

    def density(self, digit: int | None) -> LatentDensity:
        if self.conditional:
            if digit is None:
                raise AudiogenError("this sampler has one density per digit (a conditional VAE): say which digit")
            return self.densities[_check_digit(digit)]
        if digit is not None:
            raise AudiogenError("this sampler has one density for every digit (an unconditional VAE): "
                                "sample without a digit, or ask generate() for one by rejection")
        return self.densities[None]

    def sample(self, n: int, *, seed: int = 0, digit: int | None = None) -> np.ndarray:
        """``n`` codes, seeded (the same ``seed`` and ``digit`` give the same codes)."""
        return self.density(digit).sample(n, seed=seed)

    def log_likelihood(self, codes: np.ndarray, digits: np.ndarray | None = None) -> np.ndarray:
        """Each code's log-density under its own digit's density (conditional) or the one density."""
        codes = np.asarray(codes)
        if not self.conditional:
            return self.densities[None].log_likelihood(codes)
        if digits is None:
            raise AudiogenError("a per-digit sampler scores codes against their digit's density: pass digits")
        out = np.empty(len(codes))
        for d in np.unique(digits):
            out[digits == d] = self.densities[int(d)].log_likelihood(codes[digits == d])
        return out

    def describe(self) -> dict:
        first = next(iter(self.densities.values())).describe()
        return {**first, "per_digit": self.conditional}


def _check_digit(digit) -> int:
    if isinstance(digit, bool) or not isinstance(digit, (int, np.integer)) or not 0 <= digit < N_DIGITS:
        raise AudiogenError(f"a digit is a whole number from 0 to 9, got {digit!r}")
    return int(digit)


def fit_sampler(kind: str, codes: np.ndarray, digits: np.ndarray | None = None, *, n_components: int = 10,
                covariance_type: str = "full", seed: int = 0) -> LatentSampler:
    """A :class:`LatentSampler` of ``kind`` fitted to training ``codes`` ``(N, d)``; per digit when ``digits`` are given.

    ``"gmm"`` takes ``n_components`` and ``covariance_type`` (choose them with
    :func:`choose_gmm`); ``"prior"`` ignores the codes' values (only their dimension).

    Notebook: notebooks/10_generation.ipynb
    """
    if kind not in SAMPLERS:
        raise AudiogenError(f"unknown sampler {kind!r}; use one of {SAMPLERS}")
    codes = np.asarray(codes)

    def one(c):
        if kind == "prior":
            return _prior(codes.shape[1])
        if kind == "gaussian":
            return _gaussian(c)
        return _gmm(c, n_components=n_components, covariance_type=covariance_type, seed=seed)

    if digits is None:
        return LatentSampler(kind, {None: one(codes)})
    digits = np.asarray(digits)
    missing = sorted(set(range(N_DIGITS)) - set(np.unique(digits).tolist()))
    if missing:
        raise AudiogenError(f"a per-digit sampler needs codes of every digit; none of {missing}")
    return LatentSampler(kind, {d: one(codes[digits == d]) for d in range(N_DIGITS)})


# --- choosing a mixture's settings on validation --------------------------------------------------


def _grid(grid: dict | None) -> list[tuple[str, int]]:
    grid = GMM_GRID if grid is None else grid
    return [(ct, k) for ct, ks in grid.items() for k in ks]


def n_parameters(covariance_type: str, n_components: int, dim: int) -> int:
    """Free parameters of a mixture: weights, means and covariances (``"full"``, ``"tied"`` or ``"diag"``)."""
    cov = {"full": n_components * dim * (dim + 1) // 2, "tied": dim * (dim + 1) // 2,
           "diag": n_components * dim}[covariance_type]
    return n_components - 1 + n_components * dim + cov


def choose_gmm(train_codes, validation_codes, train_digits=None, validation_digits=None, *,
               grid: dict | None = None, seed: int = 0) -> dict:
    """Fit a mixture for every setting of ``grid`` (default :data:`GMM_GRID`) to the training codes; choose on validation.

    Each setting is scored by the mean log-likelihood of the validation codes (nats per
    code). The choice is the one with the fewest parameters among the settings not reliably
    worse than the best: those whose paired 95% bootstrap interval over the validation codes
    of (its log-likelihood minus the best's) includes zero (the rule ``audiogen phase`` uses
    for its settings). Per digit when digits are given (the same setting for every digit,
    scored over all validation codes). A setting with more components than some digit's
    codes is skipped. Returns ``{"rule", "rows": [...], "best": {...}, "chosen": {...}}``.
    """
    from ..stats import paired_bootstrap

    rows, per_code = [], []
    dim = np.asarray(train_codes).shape[1]
    n_min = len(train_codes) if train_digits is None else int(np.bincount(train_digits, minlength=N_DIGITS).min())
    for ct, k in _grid(grid):
        if k > n_min:
            continue
        start = time.perf_counter()
        s = fit_sampler("gmm", train_codes, train_digits, n_components=k, covariance_type=ct, seed=seed)
        seconds = time.perf_counter() - start
        ll = s.log_likelihood(validation_codes, validation_digits)
        per_code.append(ll)
        rows.append({"covariance_type": ct, "n_components": k,
                     "parameters": n_parameters(ct, k, dim) * (N_DIGITS if train_digits is not None else 1),
                     "validation_log_likelihood": float(np.mean(ll)),
                     "train_log_likelihood": float(np.mean(s.log_likelihood(train_codes, train_digits))),
                     "fit_seconds": round(seconds, 2)})
    if not rows:
        raise AudiogenError(f"no mixture setting fits {n_min} codes; give more training clips")
    best = int(np.argmax([r["validation_log_likelihood"] for r in rows]))
    for row, ll in zip(rows, per_code):
        diff = paired_bootstrap(ll, per_code[best], seed=seed) if len(ll) > 1 else None
        row["minus_best"] = diff.to_dict() if diff is not None else None
        row["not_reliably_worse"] = diff is None or diff.high >= 0
    pick = min((r for r in rows if r["not_reliably_worse"]),
               key=lambda r: (r["parameters"], -r["validation_log_likelihood"]))
    return {"rule": "among the settings whose mean log-likelihood of the validation codes (under the mixture fitted "
                    "to the training codes) is not reliably worse than the best's (paired 95% bootstrap interval over "
                    "the validation codes includes zero), the one with the fewest parameters",
            "rows": rows, "best": {k: rows[best][k] for k in ("n_components", "covariance_type")},
            "chosen": {"n_components": pick["n_components"], "covariance_type": pick["covariance_type"]}}
