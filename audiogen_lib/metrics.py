"""Objective measures of how close a generated sound or spectrogram is to its target.

Public names
------------
spectral_convergence   ||S - |STFT(y)|||_F / ||S||_F per clip: how well a waveform realises a magnitude

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
