"""Figures: one spectrogram with time and frequency axes, a waveform, loss curves per epoch.

Figures are small (:data:`DPI` 80) so that executed notebooks stay light. Spectrograms come
from :mod:`audiogen_lib.features`, or from librosa (:func:`_db`) for settings that are not a
config. The checks on what is shown (:func:`_as_image`, :func:`_as_waveform`) and the STFT
settings that label the axes (:func:`_stft_settings`) serve the players and explorers too.

Public names
------------
specshow        a normalised model image or a dB spectrogram, with time (s) and frequency (Hz) axes and a colour bar
waveshow        a waveform against time (s): ``librosa.display.waveshow`` with the book's labels
plot_history    loss curves per epoch from a Keras-style history
DPI, CMAP, TOP_DB, AMIN   every figure's resolution, the colour map, a dB spectrogram's colour range, the dB floor

Notebook: notebooks/01_digital_audio.ipynb, notebooks/02_fourier_transform.ipynb, notebooks/03_vae_theory.ipynb
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..config import FeatureConfig, get_config
from ..errors import AudiogenError


DPI = 80                      # every figure: light enough to keep executed notebooks small
CMAP = "magma"
TOP_DB = 80.0                 # colour range of a dB spectrogram when none is given (librosa's default)
AMIN = 1e-5                   # smallest amplitude before the logarithm (-100 dB), as in FeatureConfig


def _new_axes(ax, figsize):
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize, dpi=DPI, layout="constrained")
    return ax


def _stft_settings(config, sr, n_fft, hop_length) -> tuple[int, int, int]:
    """``(sr, n_fft, hop_length)`` from a config, overridden by any that are given explicitly."""
    if config is not None:
        config = get_config(config)
        sr = config.sr if sr is None else sr
        n_fft = config.n_fft if n_fft is None else n_fft
        hop_length = config.hop_length if hop_length is None else hop_length
    if sr is None or n_fft is None:
        raise AudiogenError(
            f"specshow needs the STFT settings to label its axes: pass config= (e.g. 'paper') "
            f"or sr= and n_fft= (got sr={sr}, n_fft={n_fft})"
        )
    hop_length = n_fft // 4 if hop_length is None else hop_length
    for name, value in (("sr", sr), ("n_fft", n_fft), ("hop_length", hop_length)):
        if not value > 0:
            raise AudiogenError(f"{name} must be positive, got {value}")
    return int(sr), int(n_fft), int(hop_length)


def _as_image(x) -> np.ndarray:
    """A 2-D ``(bins, frames)`` array from ``(bins, frames)`` or ``(bins, frames, 1)``."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 3 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim != 2:
        raise AudiogenError(
            f"specshow shows one spectrogram of shape (bins, frames) or (bins, frames, 1), got {x.shape}; "
            f"pick one clip from a batch, e.g. x[0]"
        )
    if not np.all(np.isfinite(x)):
        raise AudiogenError("the spectrogram holds NaN or Inf; check the model output or the audio it came from")
    return x


def _as_waveform(y) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 2 and 1 in y.shape:
        y = y.reshape(-1)
    if y.ndim != 1 or y.size == 0:
        raise AudiogenError(f"expected one mono waveform of shape (n_samples,), got {y.shape}; pick one clip, e.g. y[0]")
    if not np.all(np.isfinite(y)):
        raise AudiogenError("the waveform holds NaN or Inf; check the model output or the file it came from")
    return y


def _db(y: np.ndarray, *, sr: int, n_fft: int, hop_length: int, window="hann") -> np.ndarray:
    """dB magnitude STFT (re 1.0, floored at -100 dB) for settings that are not a FeatureConfig."""
    import librosa

    S = np.abs(librosa.stft(np.asarray(y, dtype=np.float32), n_fft=n_fft, hop_length=hop_length, window=window))
    return 20.0 * np.log10(np.maximum(AMIN, S))


def specshow(x, *, config: FeatureConfig | str | None = None, sr: int | None = None, n_fft: int | None = None,
             hop_length: int | None = None, ax=None, title: str | None = None, db_range=None,
             normalised: bool | None = None, fmax: float | None = None, colorbar: bool = True, cmap: str = CMAP):
    """Show one spectrogram with time (s) and frequency (Hz) axes and a colour bar; return the axes.

    ``x`` is a normalised model image ``(n_bins, n_frames[, 1])`` with values in [0, 1]
    or a dB spectrogram ``(bins, frames)``; ``normalised=None`` tells them apart by their range.
    Row ``k`` sits at ``k * sr / n_fft`` Hz and frame ``j`` at ``j * hop_length / sr`` s
    (centred frames), with the settings taken from ``config`` unless ``sr``, ``n_fft``
    or ``hop_length`` are given.

    ``db_range=(low, high)`` is the dB range the colour bar spans: for a normalised image,
    the levels its 0 and 1 stand for (a clip's ``db_min, db_max``, or ``config.global_db_range``),
    so that it is shown in dB; for a dB spectrogram, the colour limits (default: its
    maximum and 80 dB below). ``fmax`` crops the frequency axis (FSDD has nothing above 4 kHz).

    Why not ``librosa.display.specshow``: placing row ``k`` at ``k * sr / n_fft`` Hz is the
    lesson of chapter 2, and librosa's cannot draw the study's images: with the Nyquist row
    dropped (256 rows for ``n_fft`` 512) it takes the 257 bin frequencies for the edges of
    the rows and fails (librosa 0.11: a pcolormesh shape error), or, given explicit
    coordinates, draws every row half a bin too high.

    Notebook: notebooks/02_fourier_transform.ipynb
    """
    sr, n_fft, hop_length = _stft_settings(config, sr, n_fft, hop_length)
    img = _as_image(x)
    if normalised is None:
        normalised = bool(img.min() >= 0.0 and img.max() <= 1.0)
    if db_range is not None:
        lo, hi = (float(v) for v in np.ravel(db_range))
        if not lo < hi:
            raise AudiogenError(f"db_range must be (low, high) with low < high, got {db_range}")
        if normalised:
            img = lo + img * (hi - lo)
        vmin, vmax, label = lo, hi, "dB"
    elif normalised:
        vmin, vmax, label = 0.0, 1.0, "level (0-1)"
    else:
        vmax = float(img.max())
        vmin, label = max(float(img.min()), vmax - TOP_DB), "dB"

    n_bins, n_frames = img.shape
    dt, df = hop_length / sr, sr / n_fft
    extent = (-dt / 2, (n_frames - 0.5) * dt, -df / 2, (n_bins - 0.5) * df)
    ax = _new_axes(ax, (5.0, 3.0))
    im = ax.imshow(img, origin="lower", aspect="auto", interpolation="nearest", extent=extent,
                   cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (Hz)")
    if fmax is not None:
        ax.set_ylim(0.0, fmax)
    if title is not None:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, label=label, pad=0.02)
    return ax


def waveshow(y, *, sr: int, ax=None, title: str | None = None, **kwargs):
    """Plot a waveform against time in seconds; return the axes.

    ``librosa.display.waveshow`` draws it (nothing here is the lesson): each sample as a
    step when zoomed in, the envelope when zoomed out. This adds the checks, the book's
    axis labels and a time axis that spans exactly the waveform. Extra keyword arguments
    (``color``, ``label``, ``alpha``, ``marker``, ...) go to librosa's.

    Notebook: notebooks/01_digital_audio.ipynb
    """
    import librosa.display

    y = _as_waveform(y)
    if not sr > 0:
        raise AudiogenError(f"sr must be positive, got {sr}")
    ax = _new_axes(ax, (6.0, 2.2))
    kwargs.setdefault("linewidth", 0.7)
    librosa.display.waveshow(y, sr=sr, ax=ax, axis="s", **kwargs)
    ax.set_xlim(0.0, y.size / sr)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("amplitude")
    if title is not None:
        ax.set_title(title)
    return ax


def plot_history(history, *, keys=None, ax=None, logy: bool = False, title: str | None = None):
    """Plot a Keras-style history (``{name: [value per epoch]}`` or a ``History``); return the axes.

    ``keys=None`` plots every training curve; each ``"val_<name>"`` is drawn dashed in
    the colour of ``<name>``. ``logy`` puts the values on a log scale (useful when one
    term is a million times another, as in the study's VAE loss).

    Notebook: notebooks/03_vae_theory.ipynb
    """
    from matplotlib.ticker import MaxNLocator

    history = getattr(history, "history", history)
    if not isinstance(history, Mapping) or not history:
        raise AudiogenError(f"history must be a non-empty dict of lists (or a Keras History), got {type(history).__name__}")
    if keys is None:  # every training curve; "wall_time" (seconds so far, in training cards) is no loss
        keys = [k for k in history if not str(k).startswith("val_") and k != "wall_time"]
    keys = list(keys)
    missing = [k for k in keys if k not in history]
    if missing:
        raise AudiogenError(f"history has no {missing}; it holds {sorted(history)}")
    ax = _new_axes(ax, (5.0, 3.0))
    for key in keys:
        values = np.asarray(history[key], dtype=float)
        (line,) = ax.plot(np.arange(1, values.size + 1), values, marker="o" if values.size < 30 else None,
                          markersize=3, label=key)
        val = f"val_{key}"
        if not str(key).startswith("val_") and val in history and val not in keys:
            v = np.asarray(history[val], dtype=float)
            ax.plot(np.arange(1, v.size + 1), v, linestyle="--", color=line.get_color(),
                    marker="o" if v.size < 30 else None, markersize=3, label=val)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if logy:
        ax.set_yscale("log")
    if title is not None:
        ax.set_title(title)
    ax.legend(frameon=False)
    return ax
