"""New spoken digits from a VAE: a density on its latent codes, decoding, sound, and how to judge the result.

Sampling z ~ N(0, I) assumes the encoder's codes fill the prior. The study's VAE
(alpha = 10^6) leaves them elsewhere, so its prior samples decode to a few digits only.
Ghosh et al. (ICLR 2020, "From variational to deterministic autoencoders") fit a
density to the training codes *after* training ("ex-post density estimation") and
sample that instead: this module does so for any VAE of the library.

- ``"prior"``: N(0, I), what the VAE's objective assumes;
- ``"gaussian"``: one full-covariance Gaussian fitted to the training codes (mu);
- ``"gmm"``: a Gaussian mixture (scikit-learn's ``GaussianMixture``) fitted to them, its
  number of components and covariance type chosen by the **held-out log-likelihood of
  the validation codes** (:func:`choose_gmm`; of the settings within noise of the best, the
  one with the fewest parameters). That is the criterion that measures what a density is
  for (where the codes of unseen clips of the same population fall) and the only one that
  reads the validation split; the inception score of decoded samples would read no
  validation data at all, and it rewards a mixture that memorises the training codes
  (more, narrower components sit on training clips, which the judge recognises easily),
  which the held-out likelihood punishes (30 full components: -6,500 nats per code).

A conditional VAE (``cvae``) gets one density per digit, fitted to that digit's codes (the
prior is N(0, I) with the digit's one-hot). An unconditional VAE asked for a digit samples
by **rejection**: it draws, keeps the sounds the classifier hears as that digit, and says
how many it drew (:func:`generate`), so the digit is what the judge hears, not something the
model was told.

Every latent is decoded to an image, read in the ``top_db``-wide dB range of
:func:`db_range` (the model card's ``normalisation.generation_db_range``), and turned into
sound by the library's default phase reconstruction (:func:`audiogen_lib.reconstruction.latents_to_audio`).

Public names
------------
SAMPLERS              ``("prior", "gaussian", "gmm")``
MODEL_KINDS           ``("vae", "vae_gen", "cvae")``: the study's VAE and the two trained to generate
GMM_GRID              the covariance types and component counts :func:`choose_gmm` tries
LatentDensity         a Gaussian mixture over latent codes (the prior and one Gaussian are mixtures of one): sample, log-likelihood
LatentSampler         one density, or one per digit for a conditional VAE
encode_means          a VAE's posterior means mu for images (and digits)
decode                latents (and digits) -> images in [0, 1]
fit_sampler           ``"prior"``, ``"gaussian"`` or ``"gmm"`` (given settings) fitted to training codes
choose_gmm            every setting of :data:`GMM_GRID` fitted on the training codes, scored on the validation codes
choose_sampler        the samplers' held-out log-likelihoods, the GMM's settings and the best sampler; cached per model
sampler_for           a sampler fitted to a split's codes with the settings choose_sampler chose
n_parameters          free parameters of a mixture (the tie-break of the choices: the simpler of equals)
db_range              the dB range a generated image is read in
decode_audio          latents (and a digit) -> images and waveforms, read in db_range
morph_digit           a conditional VAE whose label (and, if asked, code) moves from one digit to another
generate              n sounds: latents -> images -> waveforms (rejection for a digit from an unconditional VAE)
Generated             what generate returns: codes, images, waveforms, the classifier's probabilities, how they were kept
classifier_embedding  the classifier's penultimate layer (the input of its softmax layer) for waveforms
frechet_distance      the Fréchet distance between two sets of embeddings (exact also when there are fewer rows than dimensions)
check_output_folder   refuse, before any work, an output folder that is not empty or cannot be written
write_samples         sounds -> a folder of wavs and index.json, all or nothing
evaluate_samplers     the samplers on the test split: inception score, histogram and Fréchet distance with intervals
load_generator        a shipped VAE by kind, with a clear error when it is not shipped
default_model         the model ``audiogen generate`` uses when none is named
model_record          a model's kind, weights_sha256, command and selection split, for an index or results
provenance            command, date, git commit, machine and data manifest of a measurement
run_generate          ``audiogen generate``: checks, loading, choice, generation, the folder
run_evaluate          ``audiogen generate --evaluate FILE.json``: evaluate_samplers with provenance, to JSON

``audiogen generate`` runs :func:`run_generate`; ``audiogen generate --evaluate`` runs :func:`run_evaluate`
(results/sampling_paper.json: ``audiogen generate --evaluate results/sampling_paper.json --model vae --config
paper --n 300 --seed 0 --profile book``).

Notebook: notebooks/09_generation.ipynb
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from .config import FeatureConfig, get_config
from .errors import AudiogenError
from .files import atomic_path, atomic_write

SAMPLERS = ("prior", "gaussian", "gmm")
MODEL_KINDS = ("vae", "vae_gen", "cvae")  # the study's VAE and the two trained to generate
N_DIGITS = 10
# Component counts per covariance type tried by choose_gmm. "full" with one component is the
# "gaussian" sampler. In 128 dimensions a full covariance has 8,256 parameters: with 2,400 codes
# a handful of full components is all the held-out likelihood can support, so "tied" (one
# covariance shared, many means) and "diag" carry the larger counts.
GMM_GRID = {"full": (1, 2, 3, 4, 5, 6, 8, 10, 20, 30), "tied": (5, 10, 30), "diag": (5, 10, 30)}
# The smoke profile (seconds, for CI) tries a few settings only.
SMOKE_GMM_GRID = {"full": (1, 2), "diag": (3,)}
GMM_REG_COVAR = 1e-6  # scikit-learn's default; larger values lowered the held-out likelihood (the codes' scale is ~1)
# Rejection sampling for a digit from an unconditional VAE: draws per batch and at most this many
# draws per sound asked for.
REJECTION_BATCH = 64
REJECTION_MAX_DRAWS_PER_SOUND = 50
# Bump when the meaning of a cached sampler choice changes.
_CHOICE_VERSION = 2


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

    Notebook: notebooks/09_generation.ipynb
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


# --- the VAE's two halves --------------------------------------------------------------------------

def _n_classes(vae) -> int:
    return int(getattr(vae, "n_classes", 0) or 0)


def _onehot(digits, n: int) -> np.ndarray:
    """One-hot rows for ``n`` codes from one digit or one per code; label weights ``(n, 10)`` pass as they are."""
    weights = np.asarray(digits)
    if weights.ndim == 2:  # a mix of digits per code (morph_digit)
        if weights.shape != (n, N_DIGITS):
            raise AudiogenError(f"label weights must be ({n}, {N_DIGITS}), one row per code; got {weights.shape}")
        return weights.astype(np.float32)
    digits = np.broadcast_to(np.asarray(digits, np.int64), (n,))
    return np.eye(N_DIGITS, dtype=np.float32)[digits]


def encode_means(vae, x: np.ndarray, digits: np.ndarray | None = None, *, batch_size: int = 256) -> np.ndarray:
    """The posterior means ``mu`` ``(N, latent_dim)`` of images ``x``; a conditional VAE also reads ``digits``."""
    if _n_classes(vae):
        if digits is None:
            raise AudiogenError(f"{vae.name} is conditioned on the digit: pass the images' digits")
        inputs = [x, _onehot(digits, len(x))]
    else:
        inputs = x
    mu, _ = vae.encoder.predict(inputs, batch_size=batch_size, verbose=0)
    return mu


def decode(vae, z: np.ndarray, digit=None, *, batch_size: int = 256) -> np.ndarray:
    """Latents ``(N, latent_dim)`` -> images ``(N, n_bins, n_frames, 1)`` in [0, 1]; a conditional VAE needs ``digit``
    (one digit, one per code, or label weights ``(N, 10)``)."""
    z = np.asarray(z, np.float32)
    if _n_classes(vae):
        if digit is None:
            raise AudiogenError(f"{vae.name} is conditioned on the digit: say which digit to decode")
        return vae.decoder.predict([z, _onehot(digit, len(z))], batch_size=batch_size, verbose=0)
    if digit is not None:
        raise AudiogenError(f"{vae.name} is not conditioned on the digit; decode without one")
    return vae.decoder.predict(z, batch_size=batch_size, verbose=0)


def db_range(vae, *, config: FeatureConfig | str | None = None, train=None) -> list[float]:
    """The ``top_db``-wide dB range ``[lo, hi]`` a generated image is read in.

    The model card's ``normalisation.generation_db_range`` where it records one of that
    width, else ``top_db`` below the training clips' median peak (``train``, default the
    training split): every image the VAE saw spans exactly ``top_db``.
    """
    from .training import generation_db_range

    config = get_config(config or vae.feature_config)
    card_range = (getattr(vae, "card", None) or {}).get("normalisation", {}).get("generation_db_range")
    if card_range and abs((card_range[1] - card_range[0]) - config.top_db) < 1e-6:
        return [float(v) for v in card_range]
    if train is None:
        from .features import load_features

        train = load_features("train", config=config)
    return [float(v) for v in generation_db_range(train, config)]


# --- choosing the density on validation ------------------------------------------------------------

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
    from .stats import paired_bootstrap

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


def _codes(vae, fs) -> tuple[np.ndarray, np.ndarray | None]:
    digits = fs.digits if _n_classes(vae) else None
    return encode_means(vae, fs.x, digits), digits


def _cache_root() -> Path:
    """Where sampler choices are cached: beside the feature caches (``$AUDIOGEN_CACHE/../sampling``)."""
    from .features import cache_dir

    return cache_dir().parent / "sampling"


def _choice_path(vae, train, validation, grid, seed) -> Path:
    from .models import weights_sha256

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
    from .stats import paired_bootstrap

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


# --- generating ---------------------------------------------------------------------------------------

@dataclass
class Generated:
    """What :func:`generate` made: ``z``, ``images``, ``waveforms`` at ``config.sr``, the classifier's ``probabilities``.

    ``digit_asked`` is the digit asked for (None for any); ``draws`` is how many latents were
    drawn to keep these (more than ``len(waveforms)`` under rejection); ``indices`` the
    position of each kept sound among the draws (its seed is ``seed`` and that index).
    """

    z: np.ndarray
    images: np.ndarray
    waveforms: np.ndarray
    probabilities: np.ndarray | None
    config: FeatureConfig
    sampler: str
    seed: int
    digit_asked: int | None = None
    draws: int = 0
    indices: np.ndarray | None = None
    selection: str = "none: every sound drawn is kept"

    @property
    def digits_heard(self) -> np.ndarray | None:
        return None if self.probabilities is None else self.probabilities.argmax(-1)


class _DigitDecoder:
    """``vae``'s decoder with the digit bound (None for an unconditional VAE): a ``predict`` of latents alone."""

    def __init__(self, vae, digit):
        self.vae, self.digit = vae, digit

    def predict(self, z, batch_size: int = 256, verbose=0):
        return decode(self.vae, z, self.digit, batch_size=batch_size)


def _to_audio(vae, z, digit, *, config, lo_hi, seed) -> tuple[np.ndarray, np.ndarray]:
    """``(images, waveforms)``: :func:`audiogen_lib.reconstruction.latents_to_audio`, the default phase method."""
    from .reconstruction import latents_to_audio

    return latents_to_audio(_DigitDecoder(vae, digit), z, config=config, db_range=lo_hi, seed=seed)


def decode_audio(vae, z: np.ndarray, digit=None, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Latents (and a digit, for a conditional VAE) -> ``(images, waveforms)``, read in :func:`db_range`."""
    config = vae.feature_config
    if _n_classes(vae) and digit is None:
        raise AudiogenError(f"{vae.name} is conditioned on the digit: say which digit to decode")
    return _to_audio(vae, np.asarray(z, np.float32), digit, config=config, lo_hi=db_range(vae, config=config),
                     seed=seed)


def morph_digit(vae, z: np.ndarray, from_digit: int, to_digit: int, *, z_to: np.ndarray | None = None,
                steps: int = 7, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A conditional VAE told ``(1 - t) * one_hot(from_digit) + t * one_hot(to_digit)`` for ``steps`` values of
    ``t`` from 0 to 1: ``(t, images, waveforms)``.

    With ``z`` alone the code stays put and only the label moves; with ``z_to`` the code
    moves too, on the straight line from ``z`` to ``z_to`` (from one clip to another, say).
    """
    if not _n_classes(vae):
        raise AudiogenError(f"{vae.name} is not conditioned on the digit: morph between two codes instead "
                            f"(experiments.interpolate)")
    a, b = _check_digit(from_digit), _check_digit(to_digit)
    if not (isinstance(steps, (int, np.integer)) and steps >= 2):
        raise AudiogenError(f"steps must be a whole number >= 2, got {steps!r}")
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)
    labels = (1 - t)[:, None] * _onehot([a] * steps, steps) + t[:, None] * _onehot([b] * steps, steps)
    z = np.asarray(z, np.float32).reshape(1, -1)
    end = z if z_to is None else np.asarray(z_to, np.float32).reshape(1, -1)
    if end.shape != z.shape:
        raise AudiogenError(f"z and z_to must be codes of the same size, got {z.shape[1]} and {end.shape[1]}")
    z = ((1 - t)[:, None] * z + t[:, None] * end).astype(np.float32)
    config = vae.feature_config
    images, y = _to_audio(vae, z, labels, config=config, lo_hi=db_range(vae, config=config), seed=seed)
    return t, images, y


def generate(vae, sampler: LatentSampler, n: int, *, seed: int = 0, digit: int | None = None, classifier=None,
             lo_hi=None, max_draws: int | None = None) -> Generated:
    """``n`` new sounds from ``vae``: codes from ``sampler``, decoded, read in :func:`db_range`, phase-reconstructed.

    - a conditional VAE (``cvae``) with ``digit``: that digit's density and one-hot;
    - an unconditional VAE with ``digit``: **rejection** -- batches of :data:`REJECTION_BATCH`
      draws, keeping the sounds ``classifier`` hears as ``digit``, until ``n`` are kept or
      ``max_draws`` (default ``n * REJECTION_MAX_DRAWS_PER_SOUND``) are spent (then
      :class:`AudiogenError`, with the acceptance so far);
    - without ``digit``: ``n`` draws, all kept.

    The same ``seed`` gives the same sounds. With a ``classifier``, ``probabilities`` says
    which digit it hears in each. Images are read in ``lo_hi`` (default :func:`db_range`) and
    turned into sound by the library's default phase reconstruction.

    Notebook: notebooks/09_generation.ipynb
    """
    config = vae.feature_config
    if not (isinstance(n, (int, np.integer)) and n >= 1):
        raise AudiogenError(f"the number of sounds must be a positive whole number, got {n!r}")
    if digit is not None:
        digit = _check_digit(digit)
    lo_hi = lo_hi if lo_hi is not None else db_range(vae, config=config)
    if classifier is not None:
        from .models import check_features

        check_features(classifier, config=config, normalisation="clip")
    conditional = _n_classes(vae) > 0
    if conditional != sampler.conditional:
        raise AudiogenError(f"{vae.name} is {'' if conditional else 'not '}conditioned on the digit, but the sampler has "
                            f"{'one density per digit' if sampler.conditional else 'one density'}; fit it to this model")
    if conditional and digit is None:
        raise AudiogenError(f"{vae.name} makes the digit it is asked for: give a digit (0-9)")
    if digit is None or conditional:
        z = sampler.sample(n, seed=seed, digit=digit if conditional else None)
        images, y = _to_audio(vae, z, digit if conditional else None, config=config, lo_hi=lo_hi, seed=seed)
        probs = None if classifier is None else _probabilities(classifier, y)
        how = ("none: every sound drawn is kept" if digit is None else
               f"none: the model is conditioned on the digit {digit}; the classifier's verdict is reported, not used")
        return Generated(z, images, y, probs, config, sampler.kind, seed, digit, n, np.arange(n), how)
    if classifier is None:
        raise AudiogenError(f"{vae.name} is not conditioned on the digit; a digit from it needs the classifier "
                            f"(rejection sampling)")
    max_draws = max_draws or n * REJECTION_MAX_DRAWS_PER_SOUND
    # One long seeded stream of codes, taken a batch at a time: the draws do not depend on the batch size.
    stream = sampler.sample(max_draws, seed=seed)
    kept: list[int] = []
    parts = {"z": [], "images": [], "y": [], "p": []}
    drawn = heard = 0
    while len(kept) < n and drawn < max_draws:
        idx = np.arange(drawn, min(drawn + REJECTION_BATCH, max_draws))
        drawn = idx[-1] + 1
        images, y = _to_audio(vae, stream[idx], None, config=config, lo_hi=lo_hi, seed=seed)
        probs = _probabilities(classifier, y)
        hit = np.flatnonzero(probs.argmax(-1) == digit)
        heard += len(hit)
        hit = hit[: n - len(kept)]
        kept.extend(idx[hit].tolist())
        for key, arr in (("z", stream[idx]), ("images", images), ("y", y), ("p", probs)):
            parts[key].append(arr[hit])
    if len(kept) < n:
        raise AudiogenError(f"the classifier heard {digit} in only {len(kept)} of {drawn} sounds drawn from {vae.name} "
                            f"with the {sampler.kind} sampler ({n} asked for); ask for fewer, try another sampler, or "
                            f"use the conditional VAE (--model cvae)")
    cat = {k: np.concatenate(v) for k, v in parts.items()}
    how = (f"rejection: {drawn} sounds drawn in batches of {REJECTION_BATCH}, {heard} of them heard as {digit} "
           f"({heard / drawn:.1%}), the first {n} kept; the confidence of a kept sound is that of a selected "
           f"sound, not of the model's typical draw")
    return Generated(cat["z"], cat["images"], cat["y"], cat["p"], config, sampler.kind, seed, digit, int(drawn),
                     np.asarray(kept), how)


def _probabilities(classifier, y: np.ndarray) -> np.ndarray:
    from .classifier import audio_to_probabilities

    return audio_to_probabilities(classifier, y)


# --- judging: the classifier's embedding and the Fréchet distance --------------------------------------

def _softmax_layer(classifier):
    import keras

    dense = [layer for layer in classifier.layers if isinstance(layer, keras.layers.Dense)]
    if not dense:
        raise AudiogenError(f"{classifier.name} has no Dense layer; classifier_embedding needs its softmax layer")
    return dense[-1]


def classifier_embedding(classifier, waveforms: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
    """Waveforms at the classifier's rate -> ``(N, D)``: the input of its softmax layer (the penultimate representation).

    The sounds are made into the features the classifier was trained on (per-clip
    normalised log-spectrograms, as :func:`audiogen_lib.classifier.audio_to_probabilities`
    does); a silent clip, which has no per-clip normalisation, gets NaN (a bootstrap leaves
    such rows out). For the shipped classifier D = 4,096 (its flattened last convolution).
    """
    import keras

    from .features import amplitude_to_db, normalise, stft_magnitude

    config = classifier.feature_config
    y = np.atleast_2d(np.asarray(waveforms, np.float32))
    S_db = amplitude_to_db(stft_magnitude(y, config=config), config=config)
    flat = S_db.max(axis=(-2, -1)) == S_db.min(axis=(-2, -1))
    head = keras.Model(classifier.inputs, _softmax_layer(classifier).input)
    out = np.full((len(y), int(np.prod(head.output_shape[1:]))), np.nan, np.float32)
    if (~flat).any():
        x, _, _ = normalise(S_db[~flat], config=config, mode="clip")
        out[~flat] = head.predict(x[..., None], batch_size=batch_size, verbose=0).reshape(int((~flat).sum()), -1)
    return out


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
    (:func:`classifier_embedding`). ``Tr (C_a C_b)^(1/2)`` is the nuclear norm of ``F_a F_b^T``
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


def _spread(values, what: str) -> dict:
    """Mean of independent repeats with a Student-t interval (:func:`audiogen_lib.stats.seed_spread`), named for ``what``."""
    from dataclasses import replace

    from .stats import seed_spread

    ci = seed_spread(values)
    return replace(ci, method=f"Student-t interval over {ci.n} {what}").to_dict()


# --- writing sounds -----------------------------------------------------------------------------------

def check_output_folder(out: str | os.PathLike) -> Path:
    """Raise :class:`AudiogenError` unless ``out`` can be made: absent (its parent creatable and writable) or an empty folder.

    Checked before any work, so that a run that could not write its sounds does not start.
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise AudiogenError(f"output folder {out} already exists and is not empty; choose another --out or delete it")
    parent = out.absolute().parent
    existing = parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise AudiogenError(f"cannot write the output folder {out}: {existing} is not a writable folder; "
                            f"choose another --out")
    return out


def write_samples(gen: Generated, out_dir: str | os.PathLike, *, info: dict) -> Path:
    """Write ``sample_000.wav`` ... and ``index.json`` to ``out_dir``, all or nothing.

    Everything is written into a temporary folder beside ``out_dir`` and renamed at the
    end; on any error the temporary folder (and any parent folder made for it) goes.
    ``info`` (model, config, weights_sha256, ...) heads the index; each sound's row holds
    its file, the digit the classifier hears and its confidence, the sampler, model, seed,
    its index among the seed's draws and the model's weights_sha256. The wavs are 16-bit
    at the config's rate; a sound that would clip is scaled down (said in its row).
    """

    out = check_output_folder(out_dir)
    made = []
    parent = out.absolute().parent
    while not parent.exists():
        made.append(parent)
        parent = parent.parent
    try:
        with atomic_path(out, directory=True) as tmp:
            _write_sounds(gen, tmp, info)
    except BaseException as err:
        for folder in made:  # deepest first: the parents made for this run
            try:
                folder.rmdir()
            except OSError:
                break
        if isinstance(err, OSError):
            raise AudiogenError(f"cannot write the output folder {out}: {err}; choose another --out") from err
        raise
    return out


def _write_sounds(gen: Generated, tmp: Path, info: dict) -> None:
    """Each sound as ``sample_<i>.wav`` (16-bit) and ``index.json`` into the folder ``tmp``."""
    import soundfile as sf

    rows = []
    probs = gen.probabilities
    for i, y in enumerate(gen.waveforms):
        name = f"sample_{i:03d}.wav"
        peak = float(np.max(np.abs(y))) if len(y) else 0.0
        row = {"file": name}
        if probs is not None:
            row.update({"digit_heard": int(probs[i].argmax()), "confidence": round(float(probs[i].max()), 4)})
        if gen.digit_asked is not None:
            row["digit_asked"] = gen.digit_asked
        row.update({"sampler": gen.sampler, "model": info.get("model"), "seed": gen.seed,
                    "draw": int(gen.indices[i]) if gen.indices is not None else i,
                    "weights_sha256": info.get("weights_sha256")})
        if peak > 1.0:
            y = y / peak
            row["note"] = f"scaled by {1 / peak:.3f} to avoid clipping"
        sf.write(tmp / name, y, gen.config.sr, subtype="PCM_16")
        rows.append(row)
    index = {**info, "sampler": gen.sampler, "seed": gen.seed, "n": len(rows), "digit_asked": gen.digit_asked,
             "draws": gen.draws, "selection": gen.selection, "sample_rate": gen.config.sr, "sounds": rows}
    (tmp / "index.json").write_text(json.dumps(index, indent=1) + "\n", encoding="utf8")


# --- models -----------------------------------------------------------------------------------------

def load_generator(kind: str, config: str = "paper"):
    """The shipped VAE ``kind`` (``"vae"``, ``"vae_gen"``, ``"cvae"``) for ``config``.

    A kind that is not shipped raises :class:`AudiogenError` naming it and the command that
    trains and ships it.
    """
    from .pretrained import available, load_pretrained

    if kind not in MODEL_KINDS:
        raise AudiogenError(f"unknown generative model {kind!r}; use one of {MODEL_KINDS}")
    config = get_config(config).name
    if f"{kind}_{config}" not in available():
        raise AudiogenError(f"the {kind} model for config {config!r} is not shipped yet (shipped: {available()}); "
                            f"train and ship it with `audiogen train {kind} --config {config} --profile paper --ship`, "
                            f"or use --model vae (the study's VAE)")
    return load_pretrained(kind, config)


def model_record(model) -> dict:
    """What an index or a results file says of a model: kind, weights_sha256, the command that made it, the splits."""
    from .models import weights_sha256

    card = getattr(model, "card", None) or {}
    split = card.get("split", {})
    return {"name": model.name, "kind": card.get("kind"), "weights_sha256": getattr(model, "weights_sha256", None)
            or weights_sha256(model), "command": card.get("command"),
            "chosen_on": ("validation split" if isinstance(split.get("validation"), dict)
                          else "test split (trained before the validation split existed)")}


# --- the samplers measured -------------------------------------------------------------------------

def _judge(probs: np.ndarray, *, n_boot: int, seed: int) -> dict:
    from .metrics import inception_score
    from .stats import bootstrap_statistic

    is_ci = bootstrap_statistic(probs, statistic=inception_score, n_boot=n_boot, seed=seed, what="sounds")
    return {"inception_score": is_ci.to_dict(), "histogram": np.bincount(probs.argmax(-1), minlength=N_DIGITS).tolist(),
            "mean_confidence": float(probs.max(-1).mean()), "n": len(probs)}


def _disjoint_subsets(fs, size: int, *, seed: int = 0) -> list:
    """As many disjoint subsets of ``fs`` of ``size`` clips, every digit equally represented, as it holds."""
    rng = np.random.default_rng(seed)
    digits = fs.digits
    per = max(1, size // N_DIGITS)
    groups = [rng.permutation(np.flatnonzero(digits == d)) for d in np.unique(digits)]
    k = min(len(g) for g in groups) // per
    return [fs.take(np.sort(np.concatenate([g[i * per:(i + 1) * per] for g in groups]))) for i in range(k)]


def _draw(vae, sampler, n, *, seed, classifier, lo_hi):
    """``n`` sounds and the classifier's probabilities; for a conditional VAE ``n // 10`` of each digit."""
    if not _n_classes(vae):
        g = generate(vae, sampler, n, seed=seed, classifier=classifier, lo_hi=lo_hi)
        return g.waveforms, g.probabilities, None
    per = max(1, n // N_DIGITS)
    gens = [generate(vae, sampler, per, seed=seed, digit=d, classifier=classifier, lo_hi=lo_hi) for d in range(N_DIGITS)]
    return (np.concatenate([g.waveforms for g in gens]), np.concatenate([g.probabilities for g in gens]),
            np.repeat(np.arange(N_DIGITS), per))


def evaluate_samplers(vae, classifier, *, n_samples: int = 300, n_sets: int = 5, seed: int = 0,
                      n_train: int | None = None, n_validation: int | None = None, n_test: int | None = None,
                      grid: dict | None = None, n_boot: int = 2000, progress=print) -> dict:
    """Choose on validation, then measure every sampler on the test split: the numbers of ``audiogen generate --evaluate``.

    1. Validation (takes 5-9): :func:`choose_sampler` (the GMM's settings, and the sampler,
       by the held-out log-likelihood of the validation codes).
    2. Test (takes 0-4), for each of :data:`SAMPLERS`: ``n_sets`` independent sets of
       ``n_samples`` sounds (seeds ``seed``, ``seed + 1``, ...), judged by ``classifier``. The
       first set gives the inception score with a bias-corrected bootstrap over its sounds, the
       histogram of digits heard and the mean confidence; every set gives its inception score
       and its Fréchet distance to the real test audio in the classifier's penultimate
       embedding, whose mean over the sets has a Student-t interval. (A bootstrap over the
       sounds does not suit the Fréchet distance here: with 300 sounds in 4,096 dimensions,
       the repeated rows of a resample move it by more than its spread.) For a conditional
       VAE each set holds ``n_samples // 10`` sounds of each digit. ``differences``: each pair of
       samplers' inception score and Fréchet distance, set by set, with a Student-t interval.
    3. References: the real test audio (inception score, histogram); Fréchet distances to the
       real test audio of sets of real clips of the same size: the validation split, disjoint
       subsets of the training split (spread over them), all the training clips, and the test
       clips' own magnitudes through the same phase reconstruction (the same clips: the
       phase's share alone).

    ``n_train``/``n_validation``/``n_test`` take a balanced subset (None: the whole split).
    """
    from .features import load_features
    from .metrics import inception_score
    from .models import check_features
    from .reconstruction import features_to_audio

    config = vae.feature_config
    check_features(classifier, config=config, normalisation="clip")
    train = load_features("train", config=config).subset(n_train)
    validation = load_features("validation", config=config).subset(n_validation)
    test = load_features("test", config=config).subset(n_test)
    t0 = time.perf_counter()
    choice = choose_sampler(vae, train, validation, grid=grid, seed=seed)
    progress(f"validation: sampler log-likelihoods {({k: round(v, 1) for k, v in choice['log_likelihood'].items()})}, "
             f"GMM {choice['gmm']['chosen']} (best {choice['gmm']['best']}), sampler {choice['best']} "
             f"({time.perf_counter() - t0:.0f} s)")
    lo_hi = db_range(vae, config=config, train=train)
    test_emb = classifier_embedding(classifier, test.waveforms)
    rows = {}
    for kind in SAMPLERS:
        t0 = time.perf_counter()
        sampler = sampler_for(vae, kind, train, choice, seed=seed)
        fds, scores = [], []
        for k in range(n_sets):
            y, probs, asked = _draw(vae, sampler, n_samples, seed=seed + k, classifier=classifier, lo_hi=lo_hi)
            if k == 0:
                row = _judge(probs, n_boot=n_boot, seed=seed)
                if asked is not None:
                    row["heard_as_asked"] = float(np.mean(probs.argmax(-1) == asked))
            scores.append(inception_score(probs))
            fds.append(frechet_distance(test_emb, classifier_embedding(classifier, y)))
        what = f"independent sets of {len(y)} sounds (seeds {seed}-{seed + n_sets - 1})"
        row.update({"inception_score_per_set": scores, "frechet_to_test_per_set": fds,
                    "sampler": sampler.describe(), "seconds": round(time.perf_counter() - t0, 1)})
        if n_sets >= 2:
            row["inception_score_over_sets"] = _spread(scores, what)
            row["frechet_to_test"] = _spread(fds, what)
        rows[kind] = row
        progress(f"{kind}: IS {row['inception_score']['estimate']:.2f} "
                 f"[{row['inception_score']['low']:.2f}, {row['inception_score']['high']:.2f}], "
                 f"FD {np.mean(fds):.1f} (sets {[round(f) for f in fds]}), histogram {row['histogram']} "
                 f"({row['seconds']} s)")
    differences = {}
    if n_sets >= 2:  # set k of every sampler has seed + k: the differences of sets with one seed are independent
        what = f"seeds ({seed}-{seed + n_sets - 1}), one set of {n_samples} sounds per sampler and seed"
        for a, b in (("gmm", "gaussian"), ("gmm", "prior"), ("gaussian", "prior")):
            differences[f"{a} minus {b}"] = {
                metric: _spread(np.subtract(rows[a][f"{metric}_per_set"], rows[b][f"{metric}_per_set"]), what)
                for metric in ("inception_score", "frechet_to_test")}
    t0 = time.perf_counter()
    reference = {"real test audio": _judge(_probabilities(classifier, test.waveforms), n_boot=n_boot, seed=seed)}
    subsets = _disjoint_subsets(train, len(test), seed=seed)
    train_emb = classifier_embedding(classifier, train.waveforms)
    position = {r.name: i for i, r in enumerate(train.recordings)}
    subset_fds = [frechet_distance(test_emb, train_emb[[position[r.name] for r in sub.recordings]]) for sub in subsets]
    ceiling = features_to_audio(test.x, config=config, db_min=test.db_min, db_max=test.db_max, seed=seed)
    floors = {
        "validation": {"what": f"the real validation audio ({len(validation)} clips, other takes of the same speakers)",
                       "estimate": frechet_distance(test_emb, classifier_embedding(classifier, validation.waveforms))},
        "train_subsets": {"what": f"{len(subsets)} disjoint sets of {len(subsets[0])} real training clips",
                          "per_set": subset_fds,
                          **(_spread(subset_fds, f"disjoint sets of {len(subsets[0])} training clips")
                             if len(subsets) >= 2 else {"estimate": subset_fds[0]})},
        "train_all": {"what": f"all {len(train)} real training clips (a larger set: a smaller bias)",
                      "estimate": frechet_distance(test_emb, train_emb)},
        "phase_only": {"what": "the test clips' own magnitudes through the same phase reconstruction (the same "
                               "clips: what the phase reconstruction alone moves)",
                       "estimate": frechet_distance(test_emb, classifier_embedding(classifier, ceiling))},
    }
    progress(f"references: real test IS {reference['real test audio']['inception_score']['estimate']:.2f}; "
             f"FD {({k: round(v['estimate'], 1) for k, v in floors.items()})} ({time.perf_counter() - t0:.0f} s)")
    return {"validation": choice, "test": rows, "differences": differences, "reference": reference,
            "frechet_floors": floors,
            "embedding": {"layer": f"the input of {_softmax_layer(classifier).name!r}, the classifier's softmax layer",
                          "dimensions": int(test_emb.shape[1])},
            "generation_db_range": lo_hi, "n_samples": n_samples, "n_sets": n_sets, "seed": seed,
            "splits": {"train": len(train), "validation": len(validation), "test": len(test)},
            "conditional": _n_classes(vae) > 0}


# --- the command's two jobs ---------------------------------------------------------------------------

def default_model(digit: int | None, config: str = "paper") -> str:
    """``cvae`` for a digit and ``vae_gen`` otherwise where shipped; else the study's ``vae`` (by rejection for a digit)."""
    from .pretrained import available

    config = get_config(config).name
    for kind in (("cvae",) if digit is not None else ()) + ("vae_gen", "vae"):
        if f"{kind}_{config}" in available():
            return kind
    return "vae"


def _profile_settings(profile) -> tuple[int | None, int | None, dict]:
    """The profile's training and validation/test clips (None: all) and the GMM grid it tries."""
    from .config import Profile, get_profile

    profile = profile if isinstance(profile, Profile) else get_profile(profile)
    return profile.n_train, profile.n_test, SMOKE_GMM_GRID if profile.name == "smoke" else GMM_GRID


def provenance(command: str) -> dict:
    """Command, date, git commit (and whether tracked files differed from it), machine, data manifest."""
    import datetime

    from .data import manifest_hash
    from .runtime import git_state
    from .training import machine

    commit, dirty = git_state()
    return {"command": command, "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "git_commit": commit, "git_dirty_tracked_files": dirty, "machine": machine(),
            "load_average_at_start": list(os.getloadavg()), "data_manifest": manifest_hash()}


def run_generate(out: str | os.PathLike, *, model: str | None = None, digit: int | None = None, n: int = 10,
                 sampler: str | None = None, seed: int = 0, config: str = "paper", profile=None,
                 command: str = "") -> tuple[Path, dict]:
    """``audiogen generate``: ``n`` sounds from a shipped VAE into the folder ``out``, with ``index.json``.

    Everything that can be refused is checked before any work: the digit (0-9), the model
    (``vae``, ``vae_gen``, ``cvae``; shipped), the sampler, the output folder. ``sampler=None``
    takes the best on validation (:func:`choose_sampler`). The density is fitted to the
    training clips of the profile (all of them outside ``smoke``). Returns the folder and the index.
    """
    from .features import load_features
    from .pretrained import load_pretrained

    if digit is not None:
        digit = _check_digit(digit)
    if model is not None and model not in MODEL_KINDS:
        raise AudiogenError(f"unknown generative model {model!r}; use one of {MODEL_KINDS}")
    if sampler is not None and sampler not in SAMPLERS:
        raise AudiogenError(f"unknown sampler {sampler!r}; use one of {SAMPLERS} (or leave it out: the best on "
                            f"validation)")
    if not (isinstance(n, (int, np.integer)) and 1 <= n <= 10_000):
        raise AudiogenError(f"--n must be a whole number from 1 to 10,000, got {n!r}")
    config = get_config(config).name
    check_output_folder(out)
    kind = model or default_model(digit, config)
    vae = load_generator(kind, config)
    classifier = load_pretrained("classifier", config)
    n_train, n_validation, grid = _profile_settings(profile)
    train = load_features("train", config=config).subset(n_train, seed=seed)
    validation = load_features("validation", config=config).subset(n_validation, seed=seed)
    choice = choose_sampler(vae, train, validation, grid=grid, seed=seed)
    chosen = sampler or choice["best"]
    density = sampler_for(vae, chosen, train, choice, seed=seed)
    gen = generate(vae, density, n, seed=seed, digit=digit, classifier=classifier,
                   lo_hi=db_range(vae, config=config, train=train))
    record = model_record(vae)
    info = {"model": kind, "model_name": vae.name, "config": config, "weights_sha256": record["weights_sha256"],
            "model_command": record["command"], "classifier_weights_sha256": model_record(classifier)["weights_sha256"],
            "sampler_settings": density.describe(),
            "sampler_choice": {"asked": sampler, "best_on_validation": choice["best"],
                               "validation_log_likelihood": choice["log_likelihood"],
                               "rule": choice.get("rule"), "gmm_rule": choice["gmm"]["rule"],
                               "clips": {"train": len(train), "validation": len(validation)}},
            "generation_db_range": db_range(vae, config=config, train=train),
            "phase_reconstruction": _phase_method(config), "command": command}
    if model is None and kind == "vae":
        info["note"] = ("the models trained to generate (vae_gen, cvae) are not shipped yet, so the study's VAE was "
                        "used; ship one with `audiogen train vae_gen --config ... --profile paper --ship`")
    path = write_samples(gen, out, info=info)
    return path, json.loads((path / "index.json").read_text())


def _phase_method(config) -> dict:
    """The phase reconstruction every generated image goes through: the library's default and its settings."""
    from .reconstruction import DEFAULT_METHOD, settings

    return {"method": DEFAULT_METHOD, **({"settings": settings(config)} if DEFAULT_METHOD == "pghi+fgla" else {})}


def run_evaluate(path: str | os.PathLike, *, model: str = "vae", n: int = 300, n_sets: int = 5, seed: int = 0,
                 config: str = "paper", profile=None, command: str = "", progress=print) -> dict:
    """``audiogen generate --evaluate FILE``: :func:`evaluate_samplers` for a shipped model, with provenance, to JSON."""
    from .pretrained import load_pretrained

    if model not in MODEL_KINDS:
        raise AudiogenError(f"unknown generative model {model!r}; use one of {MODEL_KINDS}")
    if not (isinstance(n, (int, np.integer)) and n >= N_DIGITS):
        raise AudiogenError(f"--n must be at least {N_DIGITS} sounds per sampler for an inception score, got {n!r}")
    path = Path(path)
    if path.suffix != ".json":
        raise AudiogenError(f"--evaluate writes a JSON file; give a path ending in .json, got {path}")
    config = get_config(config).name
    vae = load_generator(model, config)
    classifier = load_pretrained("classifier", config)
    n_train, n_test, grid = _profile_settings(profile)
    result = {"provenance": {**provenance(command), "models": {"vae": model_record(vae),
                                                                "classifier": model_record(classifier)},
                             "config": config, "profile_clips": {"train": n_train, "validation_and_test": n_test}}}
    result["provenance"]["phase_reconstruction"] = _phase_method(config)
    result.update(evaluate_samplers(vae, classifier, n_samples=n, n_sets=n_sets, seed=seed, n_train=n_train, n_validation=n_test,
                                    n_test=n_test, grid=grid, progress=progress))
    with atomic_write(path) as f:
        f.write(json.dumps(result, indent=1, default=float) + "\n")
    return result
