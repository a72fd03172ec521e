"""Distances between spectrograms: the study's RMSE, spectral convergence and the log-spectral distance.

Public names
------------
rmse                   root mean square error between normalised spectrograms (the study's measure)
spectral_convergence   ||S - |STFT(y)|||_F / ||S||_F per clip: how well a waveform realises a magnitude
log_spectral_distance  dB distance between magnitudes per clip, frames averaged, bins up to 4 kHz
lsd_from_audio         :func:`log_spectral_distance` of two waveform batches' STFT magnitudes
snr                    signal-to-noise ratio of waveforms in dB, per clip: blind to what the ear ignores (the phase)

Notebook: notebooks/04_griffin_lim.ipynb (spectral convergence),
notebooks/09_listening_experiments.ipynb (LSD, SNR)
"""

from __future__ import annotations

import numpy as np

from ..config import FeatureConfig, get_config
from ..errors import AudiogenError
from .per_clip import _clips


def rmse(a: np.ndarray, b: np.ndarray, *, per_clip: bool = False):
    """``sqrt(mean((a - b)**2))`` over everything, or over each clip (all axes but the first)."""
    err = np.square(np.asarray(a, np.float64) - np.asarray(b, np.float64))
    if per_clip:
        return np.sqrt(err.reshape(len(err), -1).mean(axis=1))
    return float(np.sqrt(err.mean()))


def spectral_convergence(S: np.ndarray, y: np.ndarray, *, config: FeatureConfig | str) -> np.ndarray:
    """Spectral convergence of waveforms ``y`` to target magnitudes ``S`` (full STFT, Nyquist included).

    0 is a perfect match; Griffin-Lim minimises exactly this. Returns one value per clip.
    """
    import librosa

    config = get_config(config)
    S = np.asarray(S, dtype=np.float64)
    S_y = np.abs(librosa.stft(np.asarray(y, dtype=np.float32), n_fft=config.n_fft, hop_length=config.hop_length))
    return np.linalg.norm(S - S_y, axis=(-2, -1)) / np.linalg.norm(S, axis=(-2, -1))


# --- log-spectral distance -------------------------------------------------------------------


def _lsd_frames(S_ref, S_est, *, config: FeatureConfig, fmax: float, amin: float) -> np.ndarray:
    """Per-frame LSD ``(..., n_frames)`` of magnitudes ``(..., n_bins, n_frames)``."""
    S_ref = np.asarray(S_ref, dtype=np.float64)
    S_est = np.asarray(S_est, dtype=np.float64)
    rows = (config.n_stft_bins, config.n_stft_bins - 1)
    if S_ref.shape != S_est.shape or S_ref.ndim < 2 or S_ref.shape[-2] not in rows:
        raise AudiogenError(
            f"magnitudes must have the same shape (..., n_bins, n_frames) with n_bins {rows[0]} or {rows[1]} "
            f"(Nyquist dropped) for config {config.name!r}; got {S_ref.shape} and {S_est.shape}"
        )
    if not (np.all(np.isfinite(S_ref)) and np.all(np.isfinite(S_est))) or (S_ref < 0).any() or (S_est < 0).any():
        raise AudiogenError("magnitudes must be finite and non-negative; pass |STFT|, not dB or normalised images")
    if fmax <= 0 or amin <= 0:
        raise AudiogenError(f"fmax and amin must be positive, got fmax={fmax}, amin={amin}")
    freqs = np.arange(S_ref.shape[-2]) * config.bin_hz
    band = freqs <= fmax * (1 + 1e-9)  # native8k's top bin is 4000 Hz up to rounding
    diff = 20.0 * (np.log10(np.maximum(S_ref[..., band, :], amin)) - np.log10(np.maximum(S_est[..., band, :], amin)))
    return np.sqrt(np.mean(np.square(diff), axis=-2))


def log_spectral_distance(S_ref, S_est, *, config: FeatureConfig | str, fmax: float = 4000.0,
                          amin: float = 1e-5) -> np.ndarray:
    """Log-spectral distance in dB between magnitudes ``(..., n_bins, n_frames)``, one value per clip.

    For each frame, ``sqrt(mean_k (20 log10 S_ref[k] - 20 log10 S_est[k])**2)`` over
    the bins ``k`` at or below ``fmax`` (FSDD, recorded at 8 kHz, has nothing above
    4 kHz); then the mean over frames. Magnitudes are floored at ``amin`` (-100 dB).
    ``n_bins`` is ``n_fft // 2 + 1``, or one less where the Nyquist row was dropped.
    0 for identical magnitudes; ``S`` against ``2 * S`` gives 20 log10 2 = 6.02 dB.

    Notebook: notebooks/09_listening_experiments.ipynb
    """
    config = get_config(config)
    return _lsd_frames(S_ref, S_est, config=config, fmax=fmax, amin=amin).mean(axis=-1)


def lsd_from_audio(y_ref, y_est, *, config: FeatureConfig | str, fmax: float = 4000.0, amin: float = 1e-5,
                   lengths=None) -> np.ndarray:
    """:func:`log_spectral_distance` of the STFT magnitudes (the config's n_fft and hop) of two waveform batches.

    ``lengths`` (samples at ``config.sr``, e.g. ``FeatureSet.lengths``) limits each
    clip's mean to the frames centred inside the speech. Pass them: in the padding the
    reference is digital silence (-100 dB), and any faint noise there dominates. On the
    test split, Griffin-Lim (32 it.) from the pipeline's magnitude, whose floor is 80 dB
    below each clip's peak, scores 16.4 dB without ``lengths`` and 2.8 dB with them.

    Notebook: notebooks/09_listening_experiments.ipynb
    """
    import librosa

    config = get_config(config)
    single = np.ndim(y_ref) == 1
    y_ref, y_est, n = _clips(y_ref, y_est, sr=config.sr, lengths=lengths)

    def mag(y):
        return np.abs(librosa.stft(y.astype(np.float32), n_fft=config.n_fft, hop_length=config.hop_length))

    per_frame = _lsd_frames(mag(y_ref), mag(y_est), config=config, fmax=fmax, amin=amin)
    n_frames = np.minimum(-(-n // config.hop_length), per_frame.shape[-1])  # frames centred before the end
    out = np.array([f[:k].mean() for f, k in zip(per_frame, n_frames)])
    return out[0] if single else out


def snr(y_ref, y_est, *, sr: int, lengths=None) -> np.ndarray:
    """Signal-to-noise ratio in dB of waveforms ``y_est`` against ``y_ref``, one value per clip.

    ``10 log10(sum y_ref**2 / sum (y_ref - y_est)**2)`` over each clip's first ``lengths``
    samples (all of them without ``lengths``). It compares samples, so it hears a change of
    phase as loudly as a change of what is said: a sound rebuilt from its magnitude alone can
    be near perfect to the ear and still score about 0 dB or less. ``y_est = 0`` scores 0 dB;
    an identical estimate +inf.

    Notebook: notebooks/09_listening_experiments.ipynb
    """
    single = np.ndim(y_ref) == 1
    y_ref, y_est, n = _clips(y_ref, y_est, sr=sr, lengths=lengths)
    keep = np.arange(y_ref.shape[-1]) < n[:, None]
    signal = np.sum(np.where(keep, y_ref, 0.0) ** 2, axis=-1)
    noise = np.sum(np.where(keep, y_ref - y_est, 0.0) ** 2, axis=-1)
    with np.errstate(divide="ignore"):
        out = 10 * np.log10(signal / noise)
    return out[0] if single else out
