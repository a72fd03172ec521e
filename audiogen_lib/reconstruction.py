"""Magnitude spectrogram -> waveform.

A magnitude spectrogram has no phase; Griffin-Lim (1984) estimates one by
alternating between the STFT and its inverse, and the fast variant (Perraudin et
al., 2013) adds momentum. The code the study grew from skipped this and inverted
the magnitude with zero phase, under a comment saying Griffin-Lim: that inverse is
kept here only to hear why it is wrong.

Public names
------------
griffinlim            magnitudes ``(..., n_fft // 2 + 1, n_frames)`` -> waveforms, seeded, batched
zero_phase_istft      the inverse STFT of the magnitude with every phase set to zero
features_to_audio     normalised model images -> waveforms (denormalise, dB -> amplitude, Griffin-Lim)

Notebook: notebooks/04_griffin_lim.ipynb
"""

from __future__ import annotations

import numpy as np

from .config import FeatureConfig, get_config
from .errors import AudiogenError
from .features import features_to_magnitude


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


def griffinlim(S: np.ndarray, *, config: FeatureConfig | str, n_iter: int = 32, momentum: float = 0.99,
               seed: int = 0) -> np.ndarray:
    """Fast Griffin-Lim with librosa: magnitudes ``(..., n_fft // 2 + 1, n_frames)`` -> waveforms ``(..., n_samples)``.

    ``n_fft``, ``hop_length`` and the output length are passed explicitly from the
    config; the initial phase is random, drawn from ``seed``, so results repeat.
    A batch is processed in one call.
    """
    import librosa

    config = get_config(config)
    S = _check_magnitude(S, config)
    if n_iter < 1:
        raise AudiogenError(f"n_iter must be at least 1, got {n_iter}")
    return librosa.griffinlim(
        S, n_iter=n_iter, n_fft=config.n_fft, hop_length=config.hop_length, win_length=config.n_fft,
        window="hann", center=True, length=config.n_samples, momentum=momentum, init="random",
        random_state=np.random.default_rng(seed),
    ).astype(np.float32)


def zero_phase_istft(S: np.ndarray, *, config: FeatureConfig | str) -> np.ndarray:
    """Inverse STFT of the magnitude with all phases zero: what the study's code did.

    Each frame's inverse DFT becomes a zero-phase pattern, symmetric about the frame's
    first sample (where the Hann window is zero), so every frame contributes the same
    pulse shape at the same place: the result buzzes at the frame rate
    (sr / hop_length Hz) whatever was said.
    """
    import librosa

    config = get_config(config)
    S = _check_magnitude(S, config)
    return librosa.istft(S.astype(np.complex64), n_fft=config.n_fft, hop_length=config.hop_length,
                         length=config.n_samples).astype(np.float32)


def features_to_audio(x: np.ndarray, *, config: FeatureConfig | str, db_min, db_max, n_iter: int = 32,
                      seed: int = 0) -> np.ndarray:
    """Normalised images ``(N, n_bins, n_frames[, 1])`` -> waveforms ``(N, n_samples)`` via Griffin-Lim.

    ``db_min``/``db_max``: each clip's dB range (per-clip normalisation) or the
    config's ``global_db_range`` for images that came from no clip.
    """
    config = get_config(config)
    S = features_to_magnitude(x, config=config, db_min=db_min, db_max=db_max)
    return griffinlim(S, config=config, n_iter=n_iter, seed=seed)
