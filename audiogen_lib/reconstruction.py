"""Magnitude spectrogram -> waveform.

A magnitude spectrogram has no phase. Griffin-Lim (1984) estimates one by
alternating between the STFT and its inverse, and the fast variant (Perraudin et
al., 2013) adds momentum; from a random start it is the study's reference. Phase
Gradient Heuristic Integration (PGHI, Průša, Balazs and Søndergaard, 2017) reads the
phase's derivatives off the log-magnitude's gradient and integrates them in one pass;
fast Griffin-Lim started from that phase ends far better than from a random one, and
is this library's default. The code the study grew from skipped all of this and
inverted the magnitude with zero phase, under a comment saying Griffin-Lim: that
inverse is kept here only to hear why it is wrong.

Public names
------------
pghi                  magnitudes ``(..., n_fft // 2 + 1, n_frames)`` -> phases, by heap integration of the phase gradient
phase_derivatives     the phase's derivatives along time and frequency that PGHI reads off the log-magnitude
griffinlim            magnitudes -> waveforms by fast Griffin-Lim from a random or a PGHI start, seeded, batched
zero_phase_istft      the inverse STFT of the magnitude with every phase set to zero
magnitude_to_audio    magnitudes -> waveforms by a method named in ``METHODS``
features_to_audio     normalised model images -> waveforms (denormalise, dB -> amplitude, ``magnitude_to_audio``)
latents_to_audio      a decoder's images of latent codes, and their waveforms (``features_to_audio`` in a dB range)
METHODS               the names ``magnitude_to_audio`` takes: ``"pghi+fgla"``, ``"pghi"``, ``"griffinlim"``, ``"zero_phase"``
DEFAULT_METHOD        ``"pghi+fgla"``, chosen on the validation split
SETTINGS              each config's validated PGHI tolerance, iterations and momentum, and the command that chose them
settings              a config's entry of ``SETTINGS`` (a copy; the paper config's for a config made by hand)
REFERENCE             the study's reference: 32 iterations from random phase, momentum 0.99
GAMMA_HANN            the Gaussian that stands in for a Hann window of length N has ``lambda = GAMMA_HANN * N**2``

Notebook: notebooks/04_griffin_lim.ipynb
"""

from __future__ import annotations

import numpy as np

from .config import FeatureConfig, get_config
from .errors import AudiogenError
from .features import features_to_magnitude

METHODS = ("pghi+fgla", "pghi", "griffinlim", "zero_phase")
DEFAULT_METHOD = "pghi+fgla"
INITS = ("random", "pghi")

# The study's reference: fast Griffin-Lim, 32 iterations, momentum 0.99 (librosa's), random start.
REFERENCE = {"n_iter": 32, "momentum": 0.99}

# PGHI followed by fast Griffin-Lim, per config, chosen on the validation split (takes 5-9, 300 clips,
# true magnitudes) by
#   audiogen phase --config paper --split validation --out results/phase_paper_validation.json
#   audiogen phase --config native8k --split validation --out results/phase_native8k_validation.json
# over tolerances 1e-2, 1e-3, 1e-5, momenta 0, 0.5, 0.9, 0.99 and 0-64 iterations. The rule: among the
# settings whose time per clip is at most that of the reference (32 iterations from random phase),
# the fastest whose mean PESQ-NB is not reliably below the best one's (paired 95% interval includes 0).
# ``tol``: bins more than this factor below the clip's peak are not integrated (random phase).
# paper (hop n_fft / 2): plain Griffin-Lim steps (momentum 0) refine PGHI's phase best; momentum
# 0.99 makes it worse after a few iterations. native8k (hop n_fft / 4): momentum helps, and the
# score still rises at 64 iterations, beyond the time budget.
SETTINGS: dict[str, dict] = {
    "paper": {"tol": 1e-5, "n_iter": 12, "momentum": 0.0},
    "native8k": {"tol": 1e-2, "n_iter": 24, "momentum": 0.99},
}
# For a config not tuned above (a FeatureConfig made by hand): the study's config's.
FALLBACK_SETTINGS = dict(SETTINGS["paper"])

# Průša et al. (2017), Table I: the Gaussian exp(-pi t^2 / lambda) closest to a Hann window
# of length N has lambda = 0.25645 N^2 (t in samples).
GAMMA_HANN = 0.25645


def _check_magnitude(S: np.ndarray, config: FeatureConfig) -> np.ndarray:
    S = np.asarray(S, dtype=np.float32)
    if S.ndim < 2 or S.shape[-2:] != (config.n_stft_bins, config.n_frames):
        raise AudiogenError(
            f"magnitude of shape {S.shape} does not match config {config.name!r}: expected "
            f"(..., {config.n_stft_bins}, {config.n_frames}); restore the dropped Nyquist bin with "
            f"features_to_magnitude first"
        )
    if not np.all(np.isfinite(S)) or (S < 0).any():
        raise AudiogenError("magnitude must be finite and non-negative; check the spectrogram it came from")
    return S


def settings(config: FeatureConfig | str) -> dict:
    """The validated ``tol``, ``n_iter`` and ``momentum`` of ``"pghi+fgla"`` for ``config`` (a copy)."""
    return dict(SETTINGS.get(get_config(config).name, FALLBACK_SETTINGS))


# --- PGHI ----------------------------------------------------------------------------------------

def phase_derivatives(S: np.ndarray, *, config: FeatureConfig | str, tol: float = 1e-5, gamma: float = GAMMA_HANN):
    """The phase's derivatives that PGHI reads off the log-magnitude, in radians per frame and per bin.

    For a Gaussian window ``exp(-pi t^2 / lambda)`` the STFT is, up to a Gaussian factor, an
    analytic function of ``x - i lambda omega``, and the Cauchy-Riemann equations give (with
    librosa's frames, whose phase is measured from each frame's first sample)

        d phase / d frame = hop * (2 pi k / n_fft + (n_fft / lambda) * d log S / d k)
        d phase / d bin   = pi - (lambda / (n_fft * hop)) * d log S / d frame

    with ``lambda = gamma * n_fft**2`` (``GAMMA_HANN`` for the Hann window). The log-magnitude is floored at
    ``tol`` times each clip's peak first, so that empty bins do not make the gradient blow up.
    Returns ``(log_S, d_time, d_freq)``, each of ``S``'s shape, float64.
    """
    config = get_config(config)
    N, H = config.n_fft, config.hop_length
    lam = gamma * N**2
    S = np.asarray(S, dtype=np.float64)
    floor = np.maximum(tol * S.max(axis=(-2, -1), keepdims=True), np.finfo(np.float64).tiny)
    log_S = np.log(np.maximum(S, floor))
    k = np.arange(S.shape[-2])[:, None]
    d_time = H * (2 * np.pi * k / N + (N / lam) * np.gradient(log_S, axis=-2))
    d_freq = np.pi - (lam / (N * H)) * np.gradient(log_S, axis=-1)
    return log_S, d_time, d_freq


def _numba_jit(fn):
    from numba import njit

    return njit(cache=True, nogil=True)(fn)


@_numba_jit
def _heap_push(heap, size, item, key):
    pos = size
    while pos > 0:
        parent = (pos - 1) >> 1
        if key[heap[parent]] >= key[item]:
            break
        heap[pos] = heap[parent]
        pos = parent
    heap[pos] = item
    return size + 1


@_numba_jit
def _heap_pop(heap, size, key):
    top = heap[0]
    size -= 1
    last = heap[size]
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= size:
            break
        if child + 1 < size and key[heap[child + 1]] > key[heap[child]]:
            child += 1
        if key[heap[child]] <= key[last]:
            break
        heap[pos] = heap[child]
        pos = child
    heap[pos] = last
    return top, size


@_numba_jit
def _heap_integrate(key, d_time, d_freq, todo, phase, n_frames):
    """Průša et al. (2017), Algorithm 1, on one clip, flattened bin-major (index = bin * n_frames + frame).

    ``todo`` marks the bins to integrate (cleared as they are done); ``phase`` is written in place.
    The loudest bin not yet done starts an island with phase 0; each bin taken from the max-heap
    gives its phase to its unfinished neighbours by the trapezoidal rule and pushes them.
    """
    n = key.size
    heap = np.empty(n, np.int64)
    size = 0
    for start in np.argsort(-key):
        if not todo[start]:
            continue
        todo[start] = False
        phase[start] = 0.0
        size = _heap_push(heap, size, start, key)
        while size > 0:
            i, size = _heap_pop(heap, size, key)
            m = i % n_frames
            if m + 1 < n_frames and todo[i + 1]:          # next frame, same bin
                phase[i + 1] = phase[i] + 0.5 * (d_time[i] + d_time[i + 1])
                todo[i + 1] = False
                size = _heap_push(heap, size, i + 1, key)
            if m > 0 and todo[i - 1]:                     # previous frame
                phase[i - 1] = phase[i] - 0.5 * (d_time[i] + d_time[i - 1])
                todo[i - 1] = False
                size = _heap_push(heap, size, i - 1, key)
            j = i + n_frames
            if j < n and todo[j]:                         # bin above, same frame
                phase[j] = phase[i] + 0.5 * (d_freq[i] + d_freq[j])
                todo[j] = False
                size = _heap_push(heap, size, j, key)
            j = i - n_frames
            if j >= 0 and todo[j]:                        # bin below
                phase[j] = phase[i] - 0.5 * (d_freq[i] + d_freq[j])
                todo[j] = False
                size = _heap_push(heap, size, j, key)


def pghi(S: np.ndarray, *, config: FeatureConfig | str, tol: float | None = None, seed: int | None = 0,
         gamma: float = GAMMA_HANN) -> np.ndarray:
    """Phase Gradient Heuristic Integration: magnitudes ``(..., n_fft // 2 + 1, n_frames)`` -> phases (radians).

    The phase's derivatives along time and frequency follow from the log-magnitude's
    gradient (exact for a Gaussian window, close for the Hann window the features use, see
    :func:`phase_derivatives`); they are integrated outward from the loudest bin, always
    continuing from the loudest bin reached so far (a heap), in one pass (Průša, Balazs and
    Søndergaard, IEEE/ACM TASLP 25(5), 2017). Each island of bins above ``tol`` times the
    clip's peak starts at phase 0 at its loudest bin; bins below it get a random phase
    drawn from ``seed`` (zero phase if ``seed`` is None): they are too quiet to hear.
    ``gamma``: the window's Gaussian, ``lambda = gamma * n_fft**2`` (default: Hann's).

    ``tol`` defaults to the config's validated setting (:data:`SETTINGS`). Clips are
    integrated one by one, so a batch gives the clips' phases one call each would, except
    for the random phases of the bins below ``tol``. A silent clip gets only those.

    Notebook: notebooks/04_griffin_lim.ipynb
    """
    config = get_config(config)
    S = _check_magnitude(S, config)
    tol = settings(config)["tol"] if tol is None else float(tol)
    if not 0 < tol < 1:
        raise AudiogenError(f"tol must lie between 0 and 1 (a fraction of each clip's peak magnitude), got {tol}")
    log_S, d_time, d_freq = phase_derivatives(S, config=config, tol=tol, gamma=gamma)
    shape = S.shape
    if seed is None:
        phase = np.zeros(shape, np.float64)
    else:
        phase = 2 * np.pi * np.random.default_rng(seed).random(shape)
    flat = (-1, shape[-2] * shape[-1])
    S2, key, dt, df, ph = (a.reshape(flat) for a in (S, log_S, d_time, d_freq, phase))
    for c in range(S2.shape[0]):
        todo = S2[c] > tol * S2[c].max()   # all False for a silent clip
        if todo.any():
            row = np.ascontiguousarray(ph[c])
            _heap_integrate(np.ascontiguousarray(key[c]), np.ascontiguousarray(dt[c]),
                            np.ascontiguousarray(df[c]), todo, row, shape[-1])
            ph[c] = row
    return ph.reshape(shape)


# --- fast Griffin-Lim ------------------------------------------------------------------------------

def _stft_settings(config: FeatureConfig) -> dict:
    return dict(n_fft=config.n_fft, hop_length=config.hop_length, win_length=config.n_fft, window="hann", center=True)


def _fgla(S: np.ndarray, angles: np.ndarray, *, config: FeatureConfig, momentum: float, stops) -> dict[int, np.ndarray]:
    """Fast Griffin-Lim from unit phasors ``angles``; the waveform after each iteration count in ``stops``.

    The loop is librosa's ``griffinlim`` (0.11) line for line, so a random start gives
    its result; here the start can be any phase, and one run yields every count in ``stops``.
    """
    import librosa

    kw = _stft_settings(config)
    eps = np.finfo(np.float32).tiny
    angles = angles.astype(np.complex64) * S
    rebuilt = tprev = inverse = None
    out = {}
    for it in range(max(stops) + 1):
        if it in stops:
            out[it] = librosa.istft(angles, length=config.n_samples, **kw).astype(np.float32)
        if it == max(stops):
            break
        inverse = librosa.istft(angles, length=config.n_samples, out=inverse, **kw)
        rebuilt = librosa.stft(inverse, pad_mode="constant", out=rebuilt, **kw)
        angles[:] = rebuilt
        if tprev is not None:
            angles -= (momentum / (1 + momentum)) * tprev
        angles /= np.abs(angles) + eps
        angles *= S
        rebuilt, tprev = tprev, rebuilt
    return out


def _initial_phase(S: np.ndarray, *, config: FeatureConfig, init: str, seed: int | None, tol) -> np.ndarray:
    if init == "random":
        import librosa

        return librosa.util.phasor(2 * np.pi * np.random.default_rng(seed).random(size=S.shape))
    if init == "pghi":
        return np.exp(1j * pghi(S, config=config, tol=tol, seed=seed))
    raise AudiogenError(f"unknown init {init!r}; use one of {INITS}")


def griffinlim(S: np.ndarray, *, config: FeatureConfig | str, n_iter: int = 32, momentum: float = 0.99,
               init: str = "random", seed: int = 0, tol: float | None = None, stops=None):
    """Fast Griffin-Lim: magnitudes ``(..., n_fft // 2 + 1, n_frames)`` -> waveforms ``(..., n_samples)``.

    ``init="random"`` (the study's reference): a random start drawn from ``seed``, the
    same result as ``librosa.griffinlim`` with that generator. ``init="pghi"``: start
    from :func:`pghi`'s phase (``tol`` and ``seed`` passed on). ``n_iter=0`` inverts
    the starting phase as it is. ``n_fft``, ``hop_length`` and the output length come
    from the config; a batch is processed in one call.

    ``stops``: a list of iteration counts; then a dict ``{n: waveforms after n iterations}``
    is returned from a single run (to draw quality against iterations).

    Notebook: notebooks/04_griffin_lim.ipynb
    """
    config = get_config(config)
    S = _check_magnitude(S, config)
    counts = [n_iter] if stops is None else list(stops)
    if not counts or min(counts) < 0 or any(int(n) != n for n in counts):
        raise AudiogenError(f"iteration counts must be integers >= 0, got {counts}")
    if not 0 <= momentum < 2:
        raise AudiogenError(f"momentum must lie in [0, 2) (librosa's default: 0.99), got {momentum}")
    angles = _initial_phase(S, config=config, init=init, seed=seed, tol=tol)
    out = _fgla(S, angles, config=config, momentum=momentum, stops={int(n) for n in counts})
    return out if stops is not None else out[n_iter]


def zero_phase_istft(S: np.ndarray, *, config: FeatureConfig | str) -> np.ndarray:
    """Inverse STFT of the magnitude with all phases zero: what the study's code did.

    Each frame's inverse DFT becomes a zero-phase pattern, symmetric about the frame's
    first sample (where the Hann window is zero), so every frame contributes the same
    pulse shape at the same place: the result buzzes at the frame rate
    (sr / hop_length Hz) whatever was said.

    Notebook: notebooks/04_griffin_lim.ipynb
    """
    import librosa

    config = get_config(config)
    S = _check_magnitude(S, config)
    return librosa.istft(S.astype(np.complex64), n_fft=config.n_fft, hop_length=config.hop_length,
                         length=config.n_samples).astype(np.float32)


# --- by name -------------------------------------------------------------------------------------

def magnitude_to_audio(S: np.ndarray, *, config: FeatureConfig | str, method: str = DEFAULT_METHOD,
                       n_iter: int | None = None, momentum: float | None = None, tol: float | None = None,
                       seed: int = 0) -> np.ndarray:
    """Magnitudes ``(..., n_fft // 2 + 1, n_frames)`` -> waveforms ``(..., n_samples)`` by the named ``method``.

    - ``"pghi+fgla"`` (default): PGHI, then fast Griffin-Lim; ``tol``, ``n_iter`` and
      ``momentum`` default to the config's validated :data:`SETTINGS`.
    - ``"pghi"``: the PGHI phase alone, no iteration.
    - ``"griffinlim"``: fast Griffin-Lim from random phase, the study's reference
      (``n_iter`` 32 and momentum 0.99 unless given).
    - ``"zero_phase"``: the study's code, every phase zero (for contrast only).

    Notebook: notebooks/04_griffin_lim.ipynb
    """
    config = get_config(config)
    if method == "pghi+fgla":
        s = settings(config)
        return griffinlim(S, config=config, init="pghi", seed=seed,
                          tol=s["tol"] if tol is None else tol,
                          n_iter=s["n_iter"] if n_iter is None else n_iter,
                          momentum=s["momentum"] if momentum is None else momentum)
    if method == "pghi":
        return griffinlim(S, config=config, init="pghi", seed=seed, tol=tol, n_iter=0)
    if method == "griffinlim":
        return griffinlim(S, config=config, init="random", seed=seed,
                          n_iter=REFERENCE["n_iter"] if n_iter is None else n_iter,
                          momentum=REFERENCE["momentum"] if momentum is None else momentum)
    if method == "zero_phase":
        return zero_phase_istft(S, config=config)
    raise AudiogenError(f"unknown reconstruction method {method!r}; use one of {METHODS}")


def features_to_audio(x: np.ndarray, *, config: FeatureConfig | str, db_min, db_max, n_iter: int | None = None,
                      seed: int = 0, method: str = DEFAULT_METHOD) -> np.ndarray:
    """Normalised images ``(N, n_bins, n_frames[, 1])`` -> waveforms ``(N, n_samples)`` by ``method``.

    ``db_min``/``db_max``: each clip's dB range (per-clip normalisation) or the
    config's ``global_db_range`` for images that came from no clip. ``n_iter=None``
    takes the method's own setting (see :func:`magnitude_to_audio`).

    Notebook: notebooks/04_griffin_lim.ipynb
    """
    config = get_config(config)
    S = features_to_magnitude(x, config=config, db_min=db_min, db_max=db_max)
    return magnitude_to_audio(S, config=config, method=method, n_iter=n_iter, seed=seed)


def latents_to_audio(decoder, z: np.ndarray, *, config: FeatureConfig | str, db_range, method: str = DEFAULT_METHOD,
                     n_iter: int | None = None, seed: int = 0, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Latent codes ``z`` ``(N, latent_dim)`` -> ``(images, waveforms)`` through ``decoder.predict``.

    ``decoder`` is anything with a Keras-style ``predict`` (a VAE's ``decoder``). An image
    decoded from a code belongs to no clip, so it has no dB range of its own: all are read in
    ``db_range = (lo, hi)``, which for this library's VAEs is ``top_db`` wide (see
    :func:`audiogen_lib.experiments.generation_db_range`), then turned into sound by
    :func:`features_to_audio` (``method``, ``n_iter`` and ``seed`` passed on).

    Notebook: notebooks/10_generation.ipynb
    """
    lo, hi = (float(v) for v in np.ravel(db_range))
    if not lo < hi:
        raise AudiogenError(f"db_range must be (low, high) in dB with low < high, got {db_range}")
    x = np.asarray(decoder.predict(np.asarray(z, np.float32), batch_size=batch_size, verbose=0))
    return x, features_to_audio(x, config=config, db_min=lo, db_max=hi, n_iter=n_iter, seed=seed, method=method)
