"""Objective measures of how close a generated sound or spectrogram is to its target, and of generated sets.

Public names
------------
By module; each module's docstring says what each name is.

spectral     rmse, spectral_convergence, log_spectral_distance, lsd_from_audio, snr
per_clip     MetricResult
speech       PESQ_SR, pesq_nb, stoi, stoi_concatenated
generative   inception_score, frechet_distance

Notebook: notebooks/04_griffin_lim.ipynb (spectral convergence),
notebooks/09_listening_experiments.ipynb (LSD, SNR, PESQ, STOI), notebooks/10_generation.ipynb (inception score,
Fréchet distance)
"""

from .generative import frechet_distance, inception_score
from .per_clip import MetricResult
from .spectral import log_spectral_distance, lsd_from_audio, rmse, snr, spectral_convergence
from .speech import PESQ_SR, pesq_nb, stoi, stoi_concatenated
