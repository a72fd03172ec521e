"""Objective measures of how close a generated sound or spectrogram is to its target.

Public names
------------
rmse                   root mean square error between normalised spectrograms (the study's measure)
spectral_convergence   ||S - |STFT(y)|||_F / ||S||_F per clip: how well a waveform realises a magnitude
inception_score        exp E[KL(p(y|x) || p(y))] of classifier probabilities: 1 (useless) to 10 (ten clear digits)

Notebook: notebooks/04_griffin_lim.ipynb
"""

from __future__ import annotations

import numpy as np

from .config import FeatureConfig, get_config


def spectral_convergence(S: np.ndarray, y: np.ndarray, *, config: FeatureConfig | str) -> np.ndarray:
    """Spectral convergence of waveforms ``y`` to target magnitudes ``S`` (full STFT, Nyquist included).

    0 is a perfect match; Griffin-Lim minimises exactly this. Returns one value per clip.
    """
    import librosa

    config = get_config(config)
    S = np.asarray(S, dtype=np.float64)
    S_y = np.abs(librosa.stft(np.asarray(y, dtype=np.float32), n_fft=config.n_fft, hop_length=config.hop_length))
    return np.linalg.norm(S - S_y, axis=(-2, -1)) / np.linalg.norm(S, axis=(-2, -1))


def rmse(a: np.ndarray, b: np.ndarray, *, per_clip: bool = False):
    """``sqrt(mean((a - b)**2))`` over everything, or over each clip (all axes but the first)."""
    err = np.square(np.asarray(a, np.float64) - np.asarray(b, np.float64))
    if per_clip:
        return np.sqrt(err.reshape(len(err), -1).mean(axis=1))
    return float(np.sqrt(err.mean()))


def inception_score(probs: np.ndarray, *, eps: float = 1e-12) -> float:
    """``exp(mean_x KL(p(y|x) || p(y)))`` for classifier probabilities ``(N, n_classes)``.

    Between 1 (every sound gets the same distribution) and ``n_classes`` (each sound is
    one clear class and all classes are equally frequent). Salimans et al. (2016).
    """
    p = np.clip(np.asarray(probs, np.float64), eps, 1.0)
    p /= p.sum(axis=1, keepdims=True)
    marginal = p.mean(axis=0, keepdims=True)
    return float(np.exp(np.mean(np.sum(p * (np.log(p) - np.log(marginal)), axis=1))))
