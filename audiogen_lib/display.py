"""Plots, audio players and widgets: how the chapters show and play what the library computes.

Figures are small (80 dpi) so that executed notebooks stay light, and every player
can keep a sound's true level (``normalize=False``) where levels are compared.
Nothing here computes anything the other modules do not: spectrograms come from
:mod:`audiogen_lib.features` (or librosa, for settings that are not a config).

Public names
------------
specshow        a normalised model image or a dB spectrogram, with time (s) and frequency (Hz) axes and a colour bar
waveshow        a waveform against time (s)
audio           an inline player (``IPython.display.Audio``), normalised or at its true level, never failing on clipping
listen_grid     a labelled table, one sound per row: its spectrogram beside its player (plain HTML, no widgets)
plot_history    loss curves per epoch from a Keras-style history
stft_explorer   widgets for n_fft, hop and window that redraw the spectrogram; a static view of the defaults first
latent_explorer sliders along the main directions of a VAE's latent codes that decode, redraw and replay; the mean first

Notebook: notebooks/02_fourier_transform.ipynb, notebooks/09_generation.ipynb
"""

from __future__ import annotations

import base64
import html
import io
import warnings
from collections.abc import Mapping

import numpy as np

from .config import FeatureConfig, get_config
from .errors import AudiogenError

DPI = 80                      # every figure: light enough to keep executed notebooks small
CMAP = "magma"
TOP_DB = 80.0                 # colour range of a dB spectrogram when none is given (librosa's default)
AMIN = 1e-5                   # smallest amplitude before the logarithm (-100 dB), as in FeatureConfig
N_FFTS = (64, 128, 256, 512, 1024, 2048)
HOP_LENGTHS = (16, 32, 64, 128, 256, 512, 1024)
WINDOWS = (("Hann", "hann"), ("Hamming", "hamming"), ("Blackman", "blackman"), ("rectangular", "boxcar"))
WINDOWS_BY_NAME = tuple((value, label) for label, value in WINDOWS)


# --- helpers ---------------------------------------------------------------------------------------


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


def _figure_png(fig) -> str:
    """A figure as a base64 PNG, and the figure closed (it is shown through the PNG only)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _row_html(label: str | None, png: str, player) -> str:
    head = f'<th style="text-align:left;padding-right:1em">{html.escape(label)}</th>' if label is not None else ""
    return (f'<tr>{head}<td><img src="data:image/png;base64,{png}" alt="{html.escape(label or "spectrogram")}"/></td>'
            f'<td style="vertical-align:middle">{player._repr_html_()}</td></tr>')


def _table_html(rows: list[str], caption: str | None = None) -> str:
    cap = f'<caption style="caption-side:bottom;text-align:left">{html.escape(caption)}</caption>' if caption else ""
    return f'<table class="audiogen-listen" style="border-collapse:collapse">{cap}{"".join(rows)}</table>'


# --- figures ---------------------------------------------------------------------------------------


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

    Extra keyword arguments (``color``, ``label``, ``alpha``, ...) go to ``ax.plot``.

    Notebook: notebooks/01_digital_audio.ipynb
    """
    y = _as_waveform(y)
    if not sr > 0:
        raise AudiogenError(f"sr must be positive, got {sr}")
    ax = _new_axes(ax, (6.0, 2.2))
    t = np.arange(y.size) / sr
    kwargs.setdefault("linewidth", 0.7)
    ax.plot(t, y, **kwargs)
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


# --- listening -------------------------------------------------------------------------------------


def audio(y, *, sr: int, normalize: bool = True):
    """An inline player for one waveform: ``IPython.display.Audio`` at rate ``sr``.

    ``normalize=True`` plays the loudest sample at full scale (IPython's default).
    ``normalize=False`` keeps the level the waveform has, so that players can be
    compared; samples beyond +-1 are clipped, as a sound card would, with a warning
    (IPython itself would refuse them).

    Notebook: notebooks/01_digital_audio.ipynb
    """
    from IPython.display import Audio

    y = _as_waveform(y)
    if not sr > 0:
        raise AudiogenError(f"sr must be positive, got {sr}")
    peak = float(np.max(np.abs(y)))
    if peak == 0.0:
        normalize = False  # silence: nothing to scale (IPython would divide by zero)
    if not normalize and peak > 1.0:
        n = int(np.sum(np.abs(y) > 1.0))
        warnings.warn(f"{n} samples beyond +-1 (peak {peak:.2f}) were clipped for playback; "
                      f"scale the waveform down or use normalize=True", stacklevel=2)
        y = np.clip(y, -1.0, 1.0)
    return Audio(data=y, rate=int(sr), normalize=normalize)


def listen_grid(rows: Mapping, *, config: FeatureConfig | str | None = None, sr: int | None = None,
                n_fft: int | None = None, hop_length: int | None = None, normalize: bool = False,
                fmax: float | None = None, caption: str | None = None):
    """A table with one sound per row: its label, its spectrogram and its player, side by side.

    ``rows`` maps a label to a waveform, or to ``(waveform, spectrogram)`` where the
    spectrogram (a model image or dB, as :func:`specshow` takes) is shown instead of
    the waveform's own. Spectrograms are computed with ``config`` (as the features are)
    or with ``sr``, ``n_fft``, ``hop_length``, and share one colour range, so that
    levels compare. ``normalize=False`` (the default) keeps the rows' relative levels:
    if any row would clip, all are scaled by the same factor, and the caption says so.

    The result is plain HTML (``IPython.display.HTML``): the static book shows it as it is.

    Notebook: notebooks/04_griffin_lim.ipynb
    """
    import matplotlib.pyplot as plt
    from IPython.display import HTML

    from .features import amplitude_to_db, stft_magnitude

    if not isinstance(rows, Mapping) or not rows:
        raise AudiogenError("rows must be a non-empty dict {label: waveform or (waveform, spectrogram)}")
    cfg = get_config(config) if config is not None else None
    sr_, n_fft, hop_length = _stft_settings(cfg, sr, n_fft, hop_length)
    same_as_config = cfg is not None and (sr_, n_fft, hop_length) == (cfg.sr, cfg.n_fft, cfg.hop_length)

    items = []
    for label, value in rows.items():
        y, S = value if isinstance(value, tuple) else (value, None)
        y = _as_waveform(y)
        if S is None:
            S = (amplitude_to_db(stft_magnitude(y, config=cfg), config=cfg) if same_as_config
                 else _db(y, sr=sr_, n_fft=n_fft, hop_length=hop_length))
            items.append((str(label), y, S, True))
        else:
            items.append((str(label), y, _as_image(S), False))
    computed = [S for _, _, S, own in items if own]
    top = max(float(S.max()) for S in computed) if computed else None
    common = (top - TOP_DB, top) if top is not None else None

    peak = max(float(np.max(np.abs(y))) for _, y, _, _ in items)
    gain = 1.0 / peak if (not normalize and peak > 1.0) else 1.0
    html_rows = []
    for label, y, S, own in items:
        fig, ax = plt.subplots(figsize=(4.2, 1.9), dpi=DPI, layout="constrained")
        specshow(S, sr=sr_, n_fft=n_fft, hop_length=hop_length, ax=ax, fmax=fmax,
                 db_range=common if own else None)
        html_rows.append(_row_html(label, _figure_png(fig), audio(y * gain, sr=sr_, normalize=normalize)))
    if gain != 1.0:
        note = f"All rows scaled by {gain:.3f} (the loudest peaked at {peak:.2f}) to avoid clipping; relative levels kept."
        caption = f"{caption} {note}" if caption else note
    return HTML(_table_html(html_rows, caption))


# --- widgets ---------------------------------------------------------------------------------------


def _explorer_row(y, *, sr, n_fft, hop_length, window) -> str:
    """The HTML of one explorer view: the spectrogram for these settings beside a player."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.0, 2.6), dpi=DPI, layout="constrained")
    specshow(_db(y, sr=sr, n_fft=n_fft, hop_length=hop_length, window=window), sr=sr, n_fft=n_fft,
             hop_length=hop_length, ax=ax, normalised=False)
    label = (f"n_fft {n_fft} ({1000 * n_fft / sr:.0f} ms, {sr / n_fft:.1f} Hz per bin), "
             f"hop {hop_length} ({1000 * hop_length / sr:.1f} ms), {dict(WINDOWS_BY_NAME)[window]} window")
    return _table_html([_row_html(label, _figure_png(fig), audio(y, sr=sr))])


def stft_explorer(y, *, sr: int, n_fft: int = 512, hop_length: int | None = None, window: str = "hann"):
    """Explore n_fft, hop and window: a spectrogram that redraws as they change, and a player.

    Displays at once a static view of the default settings (a figure beside a player),
    so that a page without a live kernel still shows it, and returns the widget: it is
    displayed when it ends a notebook cell. Choosing new settings draws their spectrogram
    below the controls, to compare with the static view above.

    Notebook: notebooks/02_fourier_transform.ipynb
    """
    import ipywidgets as widgets
    from IPython.display import HTML, display

    y = _as_waveform(y).astype(np.float32)
    hop_length = n_fft // 4 if hop_length is None else hop_length
    windows = dict(WINDOWS_BY_NAME)
    if n_fft not in N_FFTS or hop_length not in HOP_LENGTHS or window not in windows:
        raise AudiogenError(
            f"stft_explorer offers n_fft in {N_FFTS}, hop_length in {HOP_LENGTHS} and window in "
            f"{tuple(windows)}; got n_fft={n_fft}, hop_length={hop_length}, window={window!r}"
        )
    display(HTML(_explorer_row(y, sr=sr, n_fft=n_fft, hop_length=hop_length, window=window)))

    style = {"description_width": "initial"}
    controls = [
        widgets.Dropdown(options=N_FFTS, value=n_fft, description="n_fft", style=style),
        widgets.Dropdown(options=HOP_LENGTHS, value=hop_length, description="hop_length", style=style),
        widgets.Dropdown(options=WINDOWS, value=window, description="window", style=style),
    ]
    out = widgets.Output()
    note = widgets.HTML("<i>Choose settings: their spectrogram appears below, the defaults stay above.</i>")

    def redraw(_change=None):
        n, h, w = (c.value for c in controls)
        page = _explorer_row(y, sr=sr, n_fft=n, hop_length=h, window=w)
        out.outputs = ({"output_type": "display_data", "metadata": {},
                        "data": {"text/html": page, "text/plain": f"STFT n_fft={n} hop_length={h} window={w}"}},)

    for c in controls:
        c.observe(redraw, names="value")
    return widgets.VBox([widgets.HBox(controls), note, out])


def _latent_directions(latents, n_components: int):
    """Mean, top principal directions (unit rows) and their spreads (standard deviations) of codes ``(N, d)``."""
    Z = np.asarray(latents, dtype=np.float64)
    if Z.ndim != 2 or len(Z) < 2 or not np.all(np.isfinite(Z)):
        raise AudiogenError(f"latents must be finite codes of shape (N, latent_dim) with N >= 2, e.g. the encoder's "
                            f"mu of the training images; got shape {Z.shape}")
    most = min(len(Z) - 1, Z.shape[1])
    if not 1 <= n_components <= most:
        raise AudiogenError(f"n_components must be between 1 and {most} for {len(Z)} codes of {Z.shape[1]} "
                            f"dimensions, got {n_components}")
    mean = Z.mean(axis=0)
    _, s, Vt = np.linalg.svd(Z - mean, full_matrices=False)
    spread = s / np.sqrt(len(Z) - 1)
    share = spread**2 / np.sum(spread**2)
    return mean, Vt[:n_components], spread[:n_components], share[:n_components]


def _latent_row(vae, z, *, config: FeatureConfig, n_iter: int, fmax, label: str) -> str:
    """The HTML of one explorer view: the image decoded from ``z`` (in dB) beside its sound."""
    import matplotlib.pyplot as plt

    from .experiments import decode_to_audio

    x, y = decode_to_audio(vae, np.asarray(z, np.float32)[None], config=config, n_iter=n_iter)
    fig, ax = plt.subplots(figsize=(5.0, 2.6), dpi=DPI, layout="constrained")
    specshow(x[0], config=config, ax=ax, db_range=config.global_db_range, fmax=fmax, normalised=True)
    return _table_html([_row_html(label, _figure_png(fig), audio(y[0], sr=config.sr))])


def latent_explorer(vae, latents, *, config: FeatureConfig | str = "paper", n_components: int = 4, n_iter: int = 8,
                    max_sd: float = 3.0, step: float = 0.25, fmax: float | None = 4000.0):
    """Move through a VAE's latent space along its main directions: sliders that decode, redraw and replay.

    ``latents`` are codes ``(N, latent_dim)``, typically the encoder's ``mu`` of the training
    images. Slider ``k`` moves the code from their mean along their ``k``-th principal
    direction, in units of the codes' standard deviation along it; all sliders at 0 is the
    mean latent. Each change decodes one image, reads it in the config's fixed
    ``global_db_range`` and turns it into sound with ``n_iter`` Griffin-Lim iterations
    (:func:`audiogen_lib.experiments.decode_to_audio`).

    Like :func:`stft_explorer`, it first displays a static view of the mean latent (a
    figure beside a player), so that a page without a live kernel still shows it, and
    returns the widget: it is displayed when it ends a notebook cell.

    Notebook: notebooks/09_generation.ipynb
    """
    import ipywidgets as widgets
    from IPython.display import HTML, display

    config = get_config(config)
    if not (max_sd > 0 and 0 < step <= max_sd and n_iter >= 1):
        raise AudiogenError(f"latent_explorer needs max_sd > 0, 0 < step <= max_sd and n_iter >= 1; "
                            f"got max_sd={max_sd}, step={step}, n_iter={n_iter}")
    mean, directions, spread, share = _latent_directions(latents, n_components)
    view = dict(config=config, n_iter=n_iter, fmax=fmax)
    display(HTML(_latent_row(vae, mean, label="the mean latent (every slider at 0)", **view)))

    sliders = [widgets.FloatSlider(value=0.0, min=-max_sd, max=max_sd, step=step, continuous_update=False,
                                   readout_format="+.2f", description=f"PC{k + 1} ({share[k]:.0%} of variance)",
                                   style={"description_width": "initial"}, layout={"width": "30em"})
               for k in range(len(directions))]
    out = widgets.Output()
    note = widgets.HTML("<i>Move a slider (in standard deviations of the training codes along that direction): "
                        "the decoded image and its sound appear below; the mean latent stays above.</i>")

    def redraw(_change=None):
        a = np.array([s.value for s in sliders])
        z = mean + (a * spread) @ directions
        moved = ", ".join(f"PC{k + 1} {v:+.2f} sd" for k, v in enumerate(a) if v) or "the mean latent"
        page = _latent_row(vae, z, label=moved, **view)
        out.outputs = ({"output_type": "display_data", "metadata": {},
                        "data": {"text/html": page, "text/plain": f"decoded latent: {moved}"}},)

    for s in sliders:
        s.observe(redraw, names="value")
    return widgets.VBox([widgets.VBox(sliders), note, out])

