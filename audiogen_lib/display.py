"""Plots, audio players and widgets: how the chapters show and play what the library computes.

Figures are small (80 dpi) so that executed notebooks stay light, and every player
can keep a sound's true level (``normalize=False``) where levels are compared.
Nothing here computes anything the other modules do not: spectrograms come from
:mod:`audiogen_lib.features` (or librosa, for settings that are not a config).

Public names
------------
specshow        a normalised model image or a dB spectrogram, with time (s) and frequency (Hz) axes and a colour bar
waveshow        a waveform against time (s): ``librosa.display.waveshow`` with the book's labels
audio           an inline player (``IPython.display.Audio``), normalised or at its true level, never failing on clipping
listen_grid     a labelled table, one sound per row: its spectrogram beside its player (plain HTML, no widgets)
plot_history    loss curves per epoch from a Keras-style history
stft_explorer   widgets for n_fft, hop and window that redraw the spectrogram; a static view of the defaults first
hop_gap         what a hop longer than n_fft does (gaps no frame sees), in words
latent_explorer sliders along the main directions of a VAE's latent codes that decode, redraw and replay; the mean first
digit_chooser   buttons 0-9 that ask a conditional VAE for that digit and play what it makes; build-time sounds first
recording_view  your recording's result (``recording.reconstruct_recording``): what was done to it, then each sound
                beside its image and the digit the classifier hears (plain HTML)
recording_widget  an upload button for your own wav in a live kernel; the worked example where nobody can upload
model_graph     the boxes and arrows of a model diagram, read from the Keras graph (layers, shapes, inbound layers)
plot_model      a model drawn from its own layers, top to bottom, skip connections included (matplotlib only)
pipeline        the library's pipeline run step by step on a tone: each function and what it returned
plot_pipeline   that pipeline drawn, wav file to model and back to sound, each box a library function
Diagram         what a diagram drew: the figure, its boxes and its arrows
short_paths     a recorded command with its absolute paths made machine-independent (results/x.json, a file name)

Notebook: notebooks/02_fourier_transform.ipynb, notebooks/05_data_pipeline.ipynb, notebooks/07_training_unet.ipynb,
notebooks/08_listening_experiments.ipynb, notebooks/09_generation.ipynb, notebooks/10_generative_vae.ipynb
"""

from __future__ import annotations

import base64
import html
import io
import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import FeatureConfig, get_config
from .errors import AudiogenError

DPI = 80                      # every figure: light enough to keep executed notebooks small
CMAP = "magma"
DIAGRAM_FONT = 10.5           # points: at 80 dpi a diagram's labels are 11-12 px high, readable
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
    """One sound: its label, its spectrogram and its player, stacked (a cell of :func:`_table_html`'s grid)."""
    head = (f'<div class="audiogen-label" style="font-weight:600;margin-bottom:.2em">{html.escape(label)}</div>'
            if label is not None else "")
    sound = player._repr_html_().replace("<audio ", '<audio style="width:100%;max-width:420px" ', 1)
    return (f'<div class="audiogen-sound" style="min-width:0;padding:0 .6em .8em 0">{head}'
            f'<img src="data:image/png;base64,{png}" alt="{html.escape(label or "spectrogram")}" '
            f'style="display:block;max-width:100%;height:auto"/>{sound}</div>')


def _table_html(rows: list[str], caption: str | None = None) -> str:
    """Sounds side by side where the page is wide enough, each at its figure's own size (readable
    labels), else one under the other: a CSS grid, never wider than the page's column."""
    cap = (f'<div class="audiogen-caption" style="grid-column:1/-1;font-size:.9em">{html.escape(caption)}</div>'
           if caption else "")
    style = "display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));align-items:end"
    return f'<div class="audiogen-listen" style="{style}">{"".join(rows)}{cap}</div>'


_ABSOLUTE_PATH = re.compile(r"(?<![\w.~])/(?:[^\s'\"/]+/)*[^\s'\"/]+")
_REPOSITORY = Path(__file__).resolve().parents[1]


def short_paths(text: str) -> str:
    """``text`` (a recorded command line, a log) with each absolute path made machine-independent:
    from a folder of the repository on (``/home/me/audiogen/results/x.json`` -> ``results/x.json``,
    whichever clone wrote it), else its last name (``/tmp/runs/sweep.json`` -> ``sweep.json``).
    A book shows no folder of the machine that built it.

    Notebook: notebooks/04_griffin_lim.ipynb, notebooks/10_generative_vae.ipynb
    """
    top = {p.name for p in _REPOSITORY.iterdir() if not p.name.startswith(".")} if _REPOSITORY.is_dir() else set()

    def short(m: re.Match) -> str:
        parts = m.group(0).strip("/").split("/")
        for i, part in enumerate(parts[:-1]):
            if part in top:
                return "/".join(parts[i:])
        return parts[-1]

    return _ABSOLUTE_PATH.sub(short, text)


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
#
# A widget needs a kernel to answer its controls. Each one here first displays a static view
# (plain HTML that works anywhere), and returns its controls in a box drawn only in a live kernel
# (_live_kernel): in the built book, where nobody could press them, a dead control would be drawn.


_STATIC_NOTE = ('<p class="audiogen-static-note" style="font-size:.9em"><i>Run this chapter in JupyterLab '
                "(or Colab, Binder) for the controls that change this view.</i></p>")


def _kernel_only(children):
    """An ``ipywidgets.VBox`` of ``children`` that shows itself only in a live kernel, a note elsewhere."""
    import ipywidgets as widgets

    class KernelOnlyBox(widgets.VBox):
        def _ipython_display_(self):
            from IPython.display import HTML, display

            if _live_kernel():
                display(self._repr_mimebundle_(), raw=True)
            else:
                display(HTML(_STATIC_NOTE))

    return KernelOnlyBox(children)


def _chooser_html(panels: Mapping, *, legend: str, selected) -> str:
    """Buttons that switch between pre-rendered HTML ``panels`` (``{button label: html}``): radio
    inputs and CSS only, no script and no kernel, so the same choice works in the built book,
    in an exported page and in JupyterLab."""
    import hashlib

    uid = "audiogen-choose-" + hashlib.sha1("".join(map(str, panels)).encode() +
                                            str(len("".join(panels.values()))).encode()).hexdigest()[:10]
    keys = list(panels)
    css = [f"#{uid} > input {{position:absolute;opacity:0;width:1px;height:1px}}",
           f"#{uid} > label {{display:inline-block;min-width:2.4em;padding:.15em .5em;margin:0 .2em .4em 0;"
           "border:1px solid #888;border-radius:4px;text-align:center;cursor:pointer}",
           f"#{uid} > input:focus-visible + label {{outline:2px solid #176de8}}",
           f"#{uid} > .audiogen-panel {{display:none}}"]
    for i, _ in enumerate(keys):
        css.append(f"#{uid}-{i}:checked + label {{background:#176de8;color:#fff;border-color:#176de8}}")
        css.append(f"#{uid}-{i}:checked ~ .audiogen-panel-{i} {{display:block}}")
    buttons = "".join(
        f'<input type="radio" name="{uid}" id="{uid}-{i}"{" checked" if k == selected else ""}/>'
        f'<label for="{uid}-{i}">{html.escape(str(k))}</label>' for i, k in enumerate(keys))
    body = "".join(f'<div class="audiogen-panel audiogen-panel-{i}">{panels[k]}</div>' for i, k in enumerate(keys))
    return (f'<div class="audiogen-chooser" id="{uid}"><style>{"".join(css)}</style>'
            f'<span style="margin-right:.5em">{html.escape(legend)}</span>{buttons}{body}</div>')




def hop_gap(*, sr: int, n_fft: int, hop_length: int) -> str:
    """What a hop longer than the window does, in words; ``""`` when frames overlap or touch.

    With ``hop_length > n_fft`` the ``hop_length - n_fft`` samples between one frame's end
    and the next frame's start fall in no window: whatever happens there is not in the
    spectrogram at all, and a picture that draws each frame ``hop_length`` wide hides the gaps.

    Notebook: notebooks/02_fourier_transform.ipynb
    """
    gap = hop_length - n_fft
    if gap <= 0:
        return ""
    return (f"hop {hop_length} is longer than n_fft {n_fft}: the {gap} samples ({1000 * gap / sr:.1f} ms) "
            f"between one frame and the next are in no window (gaps): the spectrogram does not see them, "
            f"though each frame is drawn {hop_length} samples wide")


def _explorer_row(y, *, sr, n_fft, hop_length, window) -> str:
    """The HTML of one explorer view: the spectrogram for these settings beside a player."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.0, 2.6), dpi=DPI, layout="constrained")
    specshow(_db(y, sr=sr, n_fft=n_fft, hop_length=hop_length, window=window), sr=sr, n_fft=n_fft,
             hop_length=hop_length, ax=ax, normalised=False)
    label = (f"n_fft {n_fft} ({1000 * n_fft / sr:.0f} ms, {sr / n_fft:.1f} Hz per bin), "
             f"hop {hop_length} ({1000 * hop_length / sr:.1f} ms), {dict(WINDOWS_BY_NAME)[window]} window")
    gap = hop_gap(sr=sr, n_fft=n_fft, hop_length=hop_length)
    if gap:
        ax.set_title("gaps between frames: see the note", fontsize=8, color="C3")
        label += ". Note: " + gap
    return _table_html([_row_html(label, _figure_png(fig), audio(y, sr=sr))])


def stft_explorer(y, *, sr: int, n_fft: int = 512, hop_length: int | None = None, window: str = "hann"):
    """Explore n_fft, hop and window: a spectrogram that redraws as they change, and a player.

    Displays at once a static view of the default settings (a figure beside a player),
    so that a page without a live kernel still shows it, and returns the widget: it is
    displayed when it ends a notebook cell. Choosing new settings draws their spectrogram
    below the controls, to compare with the static view above. A hop longer than ``n_fft``
    is allowed, and the view says what it does (:func:`hop_gap`: samples no frame sees).

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
    return _kernel_only([widgets.HBox(controls), note, out])


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


def _latent_row(vae, z, *, config: FeatureConfig, db_range, n_iter: int | None, fmax, label: str) -> str:
    """The HTML of one explorer view: the image decoded from ``z`` (in dB) beside its sound."""
    import matplotlib.pyplot as plt

    from .reconstruction import latents_to_audio

    x, y = latents_to_audio(vae.decoder, np.asarray(z, np.float32)[None], config=config, db_range=db_range,
                            n_iter=n_iter)
    fig, ax = plt.subplots(figsize=(5.0, 2.6), dpi=DPI, layout="constrained")
    specshow(x[0], config=config, ax=ax, db_range=db_range, fmax=fmax, normalised=True)
    return _table_html([_row_html(label, _figure_png(fig), audio(y[0], sr=config.sr))])


def latent_explorer(vae, latents, *, config: FeatureConfig | str = "paper", n_components: int = 4,
                    n_iter: int | None = 8, db_range=None, max_sd: float = 3.0, step: float = 0.25,
                    fmax: float | None = 4000.0):
    """Move through a VAE's latent space along its main directions: sliders that decode, redraw and replay.

    ``latents`` are codes ``(N, latent_dim)``, typically the encoder's ``mu`` of the training
    images. Slider ``k`` moves the code from their mean along their ``k``-th principal
    direction, in units of the codes' standard deviation along it; all sliders at 0 is the
    mean latent. Each change decodes one image, reads it in ``db_range``, by default the
    ``top_db``-wide range generated images are read in
    (:func:`audiogen_lib.experiments.generation_db_range`: the model card's), which also
    labels the colour bar, and turns it into sound with the library's phase reconstruction
    (:func:`audiogen_lib.reconstruction.latents_to_audio`; ``n_iter`` iterations, fewer than the
    method's own, for a quicker answer; ``None`` for the method's own).

    Like :func:`stft_explorer`, it first displays a static view of the mean latent (a
    figure beside a player), so that a page without a live kernel still shows it, and
    returns the widget: it is displayed when it ends a notebook cell.

    Notebook: notebooks/09_generation.ipynb
    """
    import ipywidgets as widgets
    from IPython.display import HTML, display

    config = get_config(config)
    if not (max_sd > 0 and 0 < step <= max_sd and (n_iter is None or n_iter >= 1)):
        raise AudiogenError(f"latent_explorer needs max_sd > 0, 0 < step <= max_sd and n_iter >= 1 (or None); "
                            f"got max_sd={max_sd}, step={step}, n_iter={n_iter}")
    mean, directions, spread, share = _latent_directions(latents, n_components)
    if db_range is None:
        from .experiments import generation_db_range

        db_range = generation_db_range(vae, config=config)["db_range"]
    view = dict(config=config, db_range=tuple(float(v) for v in db_range), n_iter=n_iter, fmax=fmax)
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
    return _kernel_only([widgets.VBox(sliders), note, out])


def _generated_rows(gen, label) -> dict:
    """listen_grid rows for :class:`~audiogen_lib.generation.Generated` sounds: what the classifier hears in each."""
    heard = gen.digits_heard
    conf = gen.probabilities.max(-1)
    return {label(k, int(heard[k]), float(conf[k])): (gen.waveforms[k], gen.images[k]) for k in range(len(gen.waveforms))}


def digit_chooser(vae, sampler, classifier, *, n: int = 3, seed: int = 0, fmax: float | None = 4000.0):
    """Ask a conditional VAE for a digit: buttons 0-9 and "new sounds"; each choice generates ``n`` sounds.

    First a static chooser, one sound per digit (seed ``seed``) behind buttons 0-9 that switch
    between them with no kernel (plain HTML and CSS: they work in the built book); then the
    widget, drawn where it ends a cell in a live kernel only. Sounds come
    from :func:`audiogen_lib.generation.generate` with ``sampler`` (one density per digit),
    each labelled with the digit the ``classifier`` hears and how sure it is.

    Notebook: notebooks/10_generative_vae.ipynb
    """
    import ipywidgets as widgets
    from IPython.display import HTML, display

    from .generation import generate

    if not getattr(sampler, "conditional", False):
        raise AudiogenError("digit_chooser needs a conditional VAE's sampler (one density per digit, e.g. the cvae's)")
    if not (isinstance(n, (int, np.integer)) and 1 <= n <= 10):
        raise AudiogenError(f"n must be a whole number of sounds from 1 to 10, got {n!r}")
    config = vae.feature_config
    panels = {}
    for d in range(10):
        g = generate(vae, sampler, 1, seed=seed, digit=d, classifier=classifier)
        rows = _generated_rows(g, lambda k, h, c, d=d: f"asked for {d}: heard as {h} ({c:.0%})")
        panels[d] = listen_grid(rows, config=config, fmax=fmax).data
    # the sounds made now, one per digit, behind buttons that work without a kernel
    display(HTML(_chooser_html(panels, legend=f"digit (one sound each, seed {seed}):", selected=7)))

    digit = widgets.ToggleButtons(options=list(range(10)), value=7, description="digit",
                                  style={"button_width": "2.5em"})
    again = widgets.Button(description="new sounds", icon="refresh")
    out = widgets.Output()
    state = {"seed": seed + 1}

    def redraw(_change=None):
        g = generate(vae, sampler, n, seed=state["seed"], digit=digit.value, classifier=classifier)
        page = listen_grid(_generated_rows(g, lambda k, h, c: f"{digit.value}, seed {state['seed']} #{k + 1}: "
                                                                f"heard as {h} ({c:.0%})"),
                           config=config, fmax=fmax)
        out.outputs = ({"output_type": "display_data", "metadata": {},
                        "data": {"text/html": page.data, "text/plain": f"{n} sounds asked to say {digit.value}"}},)

    def new_seed(_button):
        state["seed"] += 1
        redraw()

    digit.observe(redraw, names="value")
    again.on_click(new_seed)
    return _kernel_only([widgets.HBox([digit, again]), out])



# --- your own recording ----------------------------------------------------------------------------


def recording_view(result, *, fmax: float | None = 4000.0):
    """A :class:`~audiogen_lib.recording.RecordingResult` as a page: what was done to the recording,
    then one row per sound (your recording, the ceiling, each model) with its image, its player
    and the digit the classifier hears in it. Plain HTML: the static book shows it as it is.

    The players keep the sounds' relative levels (:func:`listen_grid`'s ``normalize=False``).

    Notebook: notebooks/08_listening_experiments.ipynb
    """
    from IPython.display import HTML

    grid = listen_grid(result.listen_rows(), config=result.config, fmax=fmax)
    head = f'<pre style="white-space:pre-wrap">{html.escape(result.summary())}</pre>'
    return HTML(head + grid.data)


def _live_kernel() -> bool:
    """True in a kernel that a person drives, where an upload button can be pressed.

    A Jupyter server (JupyterLab, Notebook) starts a notebook's kernel with ``JPY_SESSION_NAME``
    set; nbclient, which executes notebooks for nbval and for the book, does not. Colab counts
    as live too. A script (no kernel) is not.
    """
    import sys

    from .runtime import _in_notebook

    return _in_notebook() and (bool(os.environ.get("JPY_SESSION_NAME")) or "google.colab" in sys.modules)


def recording_widget(example=None, *, config: FeatureConfig | str = "paper", models=None, loaded: dict | None = None,
                     live: bool | None = None, fmax: float | None = 4000.0):
    """Your own recording through every model: an upload button where one can be pressed, the example elsewhere.

    In a live kernel (JupyterLab or Notebook through a Jupyter server, or Colab; ``live=None``
    detects it, ``True``/``False`` forces it) returns a widget: a button that takes one audio
    file (wav, flac, ogg: anything libsndfile reads, any rate, mono or stereo) and below it a
    page, at first ``example``'s. Each upload goes through
    :func:`audiogen_lib.recording.reconstruct_recording` (``config``, ``models`` kinds,
    ``loaded`` models) and its :func:`recording_view` replaces the page; a file the library
    refuses shows its message instead.

    Elsewhere (the built book, nbval, a script: nobody could press the button, and a widget
    would be dead there) returns ``recording_view(example)``, or a note if there is none.

    Notebook: notebooks/08_listening_experiments.ipynb
    """
    from IPython.display import HTML

    config = get_config(config)
    static = (recording_view(example, fmax=fmax) if example is not None else
              HTML("<p><i>Run this chapter in JupyterLab to upload a recording here.</i></p>"))
    if not (_live_kernel() if live is None else live):
        return static

    import ipywidgets as widgets

    from .recording import MODEL_KINDS, reconstruct_recording

    upload = widgets.FileUpload(accept="audio/*,.wav,.flac,.ogg", multiple=False,
                                description="Upload a recording")
    out = widgets.Output()
    note = widgets.HTML("<i>Say a digit, save it as a wav, upload it: every model's version appears below "
                        f"(config {config.name!r}; the first answer takes a few seconds).</i>")

    def show(page: str, text: str):
        out.outputs = ({"output_type": "display_data", "metadata": {},
                        "data": {"text/html": page, "text/plain": text}},)

    show(static.data, "the worked example")

    def on_upload(change):
        files = change["new"]
        if not files:
            return
        f = files[0]
        name = f.get("name", "<uploaded audio>")
        show(f"<p><i>Working on {html.escape(name)} ...</i></p>", f"working on {name}")
        try:
            result = reconstruct_recording(bytes(f["content"]), config=config, name=name,
                                           models=tuple(models or MODEL_KINDS), loaded=loaded)
        except AudiogenError as err:
            show(f'<p style="color:#b00">{html.escape(str(err))}</p>', str(err))
            return
        show(recording_view(result, fmax=fmax).data, result.summary())

    upload.observe(on_upload, names="value")
    return widgets.VBox([upload, note, out])


# --- diagrams --------------------------------------------------------------------------------------
#
# Drawn from the objects themselves: a model diagram walks the Keras graph (layers, output
# shapes, the layers each one is called on), the pipeline diagram runs the library's own
# functions on a tone. Neither holds a list of boxes that could drift from the code.

_ELEMENTWISE = ("ReLU", "LeakyReLU", "BatchNormalization", "Activation", "Dropout", "LayerNormalization")
_RESHAPING = ("Flatten", "Reshape")


@dataclass(frozen=True)
class DiagramNode:
    """One box of a model diagram: the layers drawn in it, what they do, and where it sits."""

    key: str                   # the first layer's name: edges refer to boxes by it
    label: str                 # the name written in the box
    layers: tuple[str, ...]    # every layer drawn in this box, in order
    kind: str                  # what the box does, e.g. "conv 3×3 /2, ReLU"
    shape: tuple               # output shape of the box's last layer, without the batch axis
    input_shape: tuple         # output shape of its first layer (differs where a Flatten or Reshape joined it)
    depth: int                 # halvings of the input's height (spatial), or one below the deepest (vectors)
    rank: int                  # longest path from the input: the row the box is drawn in


@dataclass(frozen=True)
class Diagram:
    """What :func:`plot_model` or :func:`plot_pipeline` drew: the figure, its boxes and its arrows.

    ``edges`` are ``(from_key, to_key, kind)``; ``kind`` is ``"flow"``, or ``"skip"`` for an
    arrow that jumps over rows (a skip connection).
    """

    figure: object
    nodes: tuple
    edges: tuple

    def __repr__(self) -> str:  # a cell ending with a diagram shows the figure, not a dump of its boxes
        return f"<Diagram: {len(self.nodes)} boxes, {len(self.edges)} arrows>"


def _layer_parents(layer) -> list:
    """The layers whose outputs ``layer`` is called on in a functional graph."""
    if type(layer).__name__ == "InputLayer":
        return []
    inputs = layer.input
    inputs = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    return [t._keras_history.operation for t in inputs]


def _short_shape(shape) -> tuple:
    return tuple(int(s) for s in shape[1:])


def _layer_kind(layer) -> str:
    """A few words for what one layer does, from its class and settings."""
    cls = type(layer).__name__

    def size(v):
        v = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
        return "×".join(str(int(s)) for s in v)

    def stride(v):
        v = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
        if all(s == 1 for s in v):
            return ""
        return f" /{v[0]}" if len(set(v)) == 1 else f" /({', '.join(str(s) for s in v)})"

    def filters(n):
        return f"{n} filter{'s' if n != 1 else ''}"

    if cls == "InputLayer":
        text = "input"
    elif cls == "Conv2D":
        text = f"conv {size(layer.kernel_size)}{stride(layer.strides)}, {filters(layer.filters)}"
    elif cls == "Conv2DTranspose":
        text = f"up-conv {size(layer.kernel_size)}{stride(layer.strides).replace('/', '×')}, {filters(layer.filters)}"
    elif cls == "MaxPooling2D":
        text = f"max pool {size(layer.pool_size)}"
    elif cls == "Dense":
        text = f"dense, {layer.units} units"
    elif cls == "Concatenate":
        text = "concatenate (skip)"
    elif cls == "Sampling":
        text = "sample z = μ + σ·ε"
    elif cls == "BatchNormalization":
        text = "BatchNorm"
    elif cls == "Activation":
        text = getattr(layer.activation, "__name__", "activation")
    else:
        text = cls.lower() if cls in _RESHAPING else cls
    activation = getattr(layer.activation, "__name__", "linear") if cls in ("Conv2D", "Conv2DTranspose", "Dense") else "linear"
    if activation != "linear":
        text += f", {'ReLU' if activation == 'relu' else activation}"
    return text


def _same_kind(a, b) -> bool:
    """Two layers that do the same thing to the same shape (a U-Net level's pair of convolutions)."""
    if type(a).__name__ != type(b).__name__ or type(a).__name__ not in ("Conv2D", "Conv2DTranspose", "Dense"):
        return False
    return _short_shape(a.output.shape) == _short_shape(b.output.shape) and _layer_kind(a) == _layer_kind(b)


def _raw_graph(model) -> tuple[list, dict]:
    """Every layer of ``model`` in graph order, and each layer's parents (by name).

    A functional model is read from its own graph. A VAE of this library (a subclassed
    model holding a functional ``encoder`` and ``decoder``) is the encoder's graph, its
    ``sampling`` layer fed by the encoder's outputs, and the decoder's graph fed by it:
    the wiring of :meth:`audiogen_lib.models.VAE.call`.
    """
    encoder, decoder = getattr(model, "encoder", None), getattr(model, "decoder", None)
    if encoder is not None and decoder is not None and hasattr(model, "sampling"):
        layers, parents = _raw_graph(encoder)
        heads = [t._keras_history.operation.name for t in encoder.outputs]
        sampling = model.sampling
        layers.append(sampling)
        parents[sampling.name] = heads
        dec_layers, dec_parents = _raw_graph(decoder)
        for layer in dec_layers:
            p = dec_parents[layer.name]
            parents[layer.name] = p if type(layer).__name__ != "InputLayer" else [sampling.name]
        layers += dec_layers
        return layers, parents
    if not hasattr(model, "layers") or not getattr(model, "inputs", None):
        raise AudiogenError(f"plot_model draws a functional Keras model or a VAE built by build_vae; "
                            f"got {type(model).__name__}, which has no graph of layers to walk")
    layers = list(model.layers)
    names = {layer.name for layer in layers}
    parents = {layer.name: [p.name for p in _layer_parents(layer) if p.name in names] for layer in layers}
    return layers, parents


def model_graph(model, *, collapse: bool = True) -> tuple[tuple, tuple]:
    """The boxes and arrows of a diagram of ``model``: ``(nodes, edges)``, read from its layers.

    Each Keras layer is drawn in exactly one box. With ``collapse`` a layer joins the box
    of the one layer it is called on, when that layer feeds nothing else, if it is
    element-wise (ReLU, BatchNorm, an activation), only reshapes (Flatten, Reshape), or
    repeats the previous layer's operation on the same shape (a U-Net level's two
    convolutions). A VAE's decoder input joins the sampling box that feeds it.

    ``edges`` are ``(from_key, to_key, kind)`` with ``kind`` ``"skip"`` where the arrow jumps
    over rows of the diagram (a skip connection), otherwise ``"flow"``.

    Notebook: notebooks/07_training_unet.ipynb
    """
    layers, parents = _raw_graph(model)
    by_name = {layer.name: layer for layer in layers}
    children: dict[str, list[str]] = {layer.name: [] for layer in layers}
    for name, ps in parents.items():
        for p in ps:
            children[p].append(name)

    box_of: dict[str, str] = {}           # layer name -> key of its box
    members: dict[str, list[str]] = {}    # box key -> its layers
    for layer in layers:
        name, cls = layer.name, type(layer).__name__
        ps = parents[name]
        joined = False
        if collapse and len(ps) == 1 and len(children[ps[0]]) == 1:
            key = box_of[ps[0]]
            last = by_name[members[key][-1]]
            head = by_name[members[key][0]]
            parent_cls = type(by_name[ps[0]]).__name__
            if ((cls in _ELEMENTWISE or cls in _RESHAPING) and type(head).__name__ != "InputLayer"
                    or cls == "InputLayer" and parent_cls == "Sampling"
                    or _same_kind(last, layer) and all(_same_kind(head, by_name[m]) for m in members[key])):
                members[key].append(name)
                box_of[name] = key
                joined = True
        if not joined:
            members[name] = [name]
            box_of[name] = name

    def output_shape(layer) -> tuple:
        if type(layer).__name__ == "Sampling":
            return _short_shape(layer.output.shape) if hasattr(layer, "output") else ()
        out = layer.output
        return _short_shape((out[0] if isinstance(out, (list, tuple)) else out).shape)

    input_height = next(_short_shape(layer.output.shape)[0] for layer in layers
                        if type(layer).__name__ == "InputLayer" and len(_short_shape(layer.output.shape)) == 3)

    def spatial_depth(shape) -> int | None:
        if len(shape) != 3:
            return None
        return int(round(np.log2(input_height / shape[0])))

    edges, seen = [], set()
    for name in box_of:
        for p in parents[name]:
            a, b = box_of[p], box_of[name]
            if a != b and (a, b) not in seen:
                seen.add((a, b))
                edges.append((a, b))
    rank: dict[str, int] = {}
    for key in members:                    # layers come in graph order, so parents are ranked first
        rank[key] = max((rank[a] + 1 for a, b in edges if b == key), default=0)

    shapes, depths = {}, {}
    for key, names in members.items():
        head_shape = output_shape(by_name[names[0]])
        if type(by_name[names[0]]).__name__ == "Sampling":
            head_shape = output_shape(by_name[parents[names[0]][0]])
        shapes[key] = (head_shape, output_shape(by_name[names[-1]]) if len(names) > 1 else head_shape)
        depths[key] = spatial_depth(head_shape)
    deepest = max((d for d in depths.values() if d is not None), default=0)

    nodes = []
    for key, names in members.items():
        head = by_name[names[0]]
        same = [names[0]]                  # the head, and the layers that repeat it
        for n in names[1:]:
            if not _same_kind(head, by_name[n]):
                break
            same.append(n)
        kind = _layer_kind(head) if len(same) == 1 else f"{len(same)} × {_layer_kind(head)}"
        extra = [_layer_kind(by_name[n]) for n in names[len(same):]
                 if type(by_name[n]).__name__ != "InputLayer"]
        kind = ", ".join([kind] + extra)
        if len(same) > 1:
            prefix = os.path.commonprefix(same)
            label = prefix + "/".join(n[len(prefix):] for n in same)
        else:
            label = key
        if type(head).__name__ == "Sampling" and len(names) > 1:
            label = f"{key} → {names[-1]}"
        d = depths[key]
        nodes.append(DiagramNode(key=key, label=label, layers=tuple(names), kind=kind, shape=shapes[key][1],
                                 input_shape=shapes[key][0], depth=deepest + 1 if d is None else d, rank=rank[key]))
    typed = tuple((a, b, "skip" if rank[b] - rank[a] > 1 else "flow") for a, b in edges)
    return tuple(nodes), typed


def _shape_text(shape) -> str:
    return " × ".join(f"{s:,}" for s in shape) if shape else ""


def plot_model(model, *, collapse: bool = True, title: str | None = None, box_width: float | None = None,
               indent: float = 0.5, row_height: float = 0.62) -> Diagram:
    """Draw ``model`` from its own layers: one box per layer (or per collapsed group), top to bottom.

    Each box gives the layer's name and output shape (height × width × channels), and
    what it does. Rows follow the graph; each box is indented by how many times the
    input's height has been halved, so an encoder steps right and a decoder steps back
    left, and a U-Net's skip connections (orange, on the left) join boxes at the same depth.
    Vectors (dense layers, the latent code) sit one step deeper than the deepest map.
    Matplotlib only: no graphviz. Returns a :class:`Diagram` with the figure and what
    was drawn (see :func:`model_graph` for the rules).

    Notebook: notebooks/03_vae_theory.ipynb, notebooks/06_training_vae.ipynb, notebooks/07_training_unet.ipynb
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    nodes, edges = model_graph(model, collapse=collapse)
    heads = {n.key: f"{n.label}  ·  {_shape_text(n.shape)}" for n in nodes}
    for n in nodes:
        if n.input_shape != n.shape:       # a box that reshapes: both shapes
            heads[n.key] = f"{n.label}  ·  {_shape_text(n.input_shape)} → {_shape_text(n.shape)}"

    def text_width(n) -> float:            # inches for a box's longest line (DejaVu Sans: 0.6 em a bold character)
        return 0.25 + max(0.0085 * len(heads[n.key]), 0.0075 * len(n.kind)) * DIAGRAM_FONT

    if box_width is None:
        box_width = max(1.6, max(text_width(n) for n in nodes))
    n_rows = 1 + max(n.rank for n in nodes)
    sharing: dict[int, list] = {}          # boxes that share a row (a VAE's mu and log_var) stand side by side
    for n in nodes:
        sharing.setdefault(n.rank, []).append(n)
    pos, width = {}, {}
    for row, group in sharing.items():
        # side by side, each as wide as its own text (a shared row would otherwise widen the figure)
        w = box_width if len(group) == 1 else min(box_width, max(max(text_width(n) for n in group), 1.6))
        for j, n in enumerate(group):
            width[n.key] = w
            pos[n.key] = (n.depth * indent + (j - (len(group) - 1) / 2) * (w + 0.2), -row * row_height)
    left = min(x - width[k] / 2 for k, (x, _) in pos.items()) - (0.45 if any(k == "skip" for *_, k in edges) else 0.05)
    right = max(x + width[k] / 2 for k, (x, _) in pos.items()) + 0.05
    height = n_rows * row_height + (0.3 if title else 0.0)
    fig, ax = plt.subplots(figsize=(right - left, height), dpi=DPI)
    fig.subplots_adjust(0, 0, 1, 1 - (0.3 / height if title else 0))
    ax.set(xlim=(left, right), ylim=(-(n_rows - 0.5) * row_height, 0.5 * row_height))
    ax.axis("off")
    h = 0.76 * row_height
    colours = {"input": "#e8e8e8", "conv": "#dbe9f6", "up-conv": "#dff0d8", "max pool": "#fdebd0",
               "dense": "#f2e0f5", "sample": "#fff3b0", "concatenate": "#fde0dd"}
    for n in nodes:
        x, y = pos[n.key]
        kind = n.kind.split(" × ", 1)[-1] if n.kind[:1].isdigit() else n.kind
        face = next((c for k, c in colours.items() if kind.startswith(k)), "#f4f4f4")
        ax.add_patch(FancyBboxPatch((x - width[n.key] / 2, y - h / 2), width[n.key], h,
                                    boxstyle="round,pad=0,rounding_size=0.05", facecolor=face, edgecolor="0.35", lw=0.8))
        ax.text(x, y + h * 0.22, heads[n.key], ha="center", va="center", fontsize=DIAGRAM_FONT, weight="bold")
        ax.text(x, y - h * 0.24, n.kind, ha="center", va="center", fontsize=DIAGRAM_FONT - 0.5)
    arrow = dict(arrowstyle="-|>", mutation_scale=8, lw=0.8, shrinkA=0, shrinkB=0)
    for a, b, kind in edges:
        (xa, ya), (xb, yb) = pos[a], pos[b]
        if kind == "flow":
            ax.annotate("", xy=(xb, yb + h / 2), xytext=(xa, ya - h / 2), arrowprops=dict(arrow, color="0.3"))
        else:  # out of the left side, down, and into the left side of the box it joins
            xl = min(xa, xb) - box_width / 2 - 0.2
            ax.plot([xa - box_width / 2, xl, xl], [ya, ya, yb], color="C1", lw=1.2)
            ax.annotate("", xy=(xb - box_width / 2, yb), xytext=(xl, yb), arrowprops=dict(arrow, color="C1", lw=1.2))
    if title:
        fig.suptitle(title, fontsize=DIAGRAM_FONT + 1)
    return Diagram(fig, nodes, edges)


def pipeline(config: FeatureConfig | str = "paper", *, model=None, seconds: float = 0.5, n_iter: int | None = 1,
             method: str | None = None) -> list[tuple]:
    """Run the library's own pipeline on a tone and return each step: ``(function, what, result)``.

    wav file -> :func:`~audiogen_lib.features.load_audio` -> ``fix_length`` -> ``stft_magnitude``
    -> ``amplitude_to_db`` -> ``normalise`` -> the model (``model.predict``, or the image
    itself when no model is given) -> ``denormalise`` -> ``db_to_amplitude`` ->
    ``restore_nyquist`` -> :func:`~audiogen_lib.reconstruction.magnitude_to_audio` (the library's
    default ``method`` unless one is given; ``n_iter`` iterations, ``None`` for the method's own). The tone is a
    440 Hz sine written as a wav at 8 kHz (the dataset's rate), so every step really runs;
    ``function`` is the function object, so renaming one breaks this, not a picture.
    The composition is the one :func:`~audiogen_lib.features.waveform_to_features` and
    :func:`~audiogen_lib.reconstruction.features_to_audio` compute (tests/test_display.py checks it).

    Notebook: notebooks/05_data_pipeline.ipynb
    """
    import tempfile

    import soundfile as sf

    from . import features as F
    from .reconstruction import DEFAULT_METHOD, magnitude_to_audio

    config = get_config(config)
    t = np.arange(int(seconds * 8000)) / 8000
    with tempfile.TemporaryDirectory(prefix="audiogen-pipeline-") as tmp:
        path = f"{tmp}/tone.wav"
        sf.write(path, 0.5 * np.sin(2 * np.pi * 440.0 * t), 8000, subtype="PCM_16")
        steps = [(F.load_audio, f"read and resample to {config.sr:,} Hz", F.load_audio(path, sr=config.sr))]
    y = F.fix_length(steps[-1][2], config=config)
    steps.append((F.fix_length, f"pad or trim to {config.duration} s", y))
    S = F.stft_magnitude(y, config=config)
    steps.append((F.stft_magnitude, f"|STFT|, n_fft {config.n_fft}, hop {config.hop_length}"
                  + ("\nthe Nyquist row dropped" if config.drop_nyquist else ""), S))
    S_db = F.amplitude_to_db(S, config=config)
    steps.append((F.amplitude_to_db, f"decibels, floored\n{config.top_db:g} dB below the peak", S_db))
    x, db_min, db_max = F.normalise(S_db, config=config)
    steps.append((F.normalise, "min-max to [0, 1]", x))
    if model is not None:
        x_hat = np.asarray(model.predict(x[None, ..., None], verbose=0))[0, ..., 0]
        steps.append((model.predict, f"the model: {model.name}", x_hat))
    else:
        x_hat = x
        steps.append((None, "the model (VAE or U-Net)", x_hat))
    S_db_hat = F.denormalise(x_hat, db_min, db_max)
    steps.append((F.denormalise, "to dB with the clip's range", S_db_hat))
    S_hat = F.db_to_amplitude(S_db_hat)
    steps.append((F.db_to_amplitude, "dB to amplitude", S_hat))
    S_full = F.restore_nyquist(S_hat, config=config)
    steps.append((F.restore_nyquist, "Nyquist row put back (zeros)" if config.drop_nyquist else "no row was dropped",
                  S_full))
    method = method or DEFAULT_METHOD
    steps.append((magnitude_to_audio, f"phase and inverse STFT:\nmethod {method!r}",
                  magnitude_to_audio(S_full, config=config, method=method, n_iter=n_iter)))
    return steps


def _function_name(fn) -> str:
    if fn is None:
        return "model.predict"
    module = getattr(fn, "__module__", "") or ""
    if module.startswith("audiogen_lib."):
        return f"{module.split('.')[-1]}.{fn.__name__}"
    return getattr(fn, "__qualname__", getattr(fn, "__name__", str(fn)))


def _pipeline_shape(shape) -> str:
    return f"{shape[0]:,} samples" if len(shape) == 1 else _shape_text(shape)


def plot_pipeline(config: FeatureConfig | str = "paper", *, model=None, title: str | None = None) -> Diagram:
    """Draw the pipeline from a wav file to the model and back to a waveform, from :func:`pipeline`.

    Every box names the library function that does the step, what it does, and the shape
    of what it returned in a real run on a tone with ``config``: the forward steps run left
    to right on top, the model sits at the turn, and the way back runs right to left below,
    each inverse under the step it undoes. Returns a :class:`Diagram` whose nodes are
    ``(function name, what it does, shape)`` and whose edges join consecutive steps.

    Notebook: notebooks/05_data_pipeline.ipynb
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    steps = pipeline(config, model=model)
    nodes = tuple((_function_name(fn), what, tuple(np.shape(out))) for fn, what, out in steps)
    forward = next(i for i, (fn, _, _) in enumerate(steps) if fn is None or fn == getattr(model, "predict", 0))
    n_cols = forward                         # the forward steps; the model turns; the way back, one fewer
    w, h, gap, vgap, margin = 1.6, 0.8, 0.2, 0.3, 0.55
    width = 2 * margin + n_cols * w + (n_cols - 1) * gap
    height = 3 * h + 2 * vgap + 0.1 + (0.3 if title else 0)
    fig, ax = plt.subplots(figsize=(width, height), dpi=DPI)
    fig.subplots_adjust(0, 0, 1, 1 - (0.3 / height if title else 0))
    ax.set(xlim=(0, width), ylim=(-2 * (h + vgap) - h / 2 - 0.05, h / 2 + 0.05))
    ax.axis("off")

    def column(c):
        return margin + c * (w + gap) + w / 2

    pos = []
    for i in range(len(nodes)):
        if i < forward:
            pos.append((column(i), 0.0))
        elif i == forward:
            pos.append((column(n_cols - 1), -(h + vgap)))
        else:
            pos.append((column(n_cols - 1 - (i - forward - 1)), -2 * (h + vgap)))
    for i, (name, what, shape) in enumerate(nodes):
        x, y = pos[i]
        face = "#fff3b0" if i == forward else ("#dbe9f6" if i < forward else "#dff0d8")
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.06",
                                    facecolor=face, edgecolor="0.35", lw=0.8))
        ax.text(x, y + 0.25, name, ha="center", va="center", fontsize=6.5, family="monospace", weight="bold")
        ax.text(x, y + 0.02, what, ha="center", va="center", fontsize=6.5, linespacing=1.1)
        ax.text(x, y - 0.25, _pipeline_shape(shape), ha="center", va="center", fontsize=7, color="0.25")
    arrow = dict(arrowstyle="-|>", mutation_scale=8, lw=0.8, color="0.3", shrinkA=1, shrinkB=1)
    edges = []
    for i in range(len(nodes) - 1):
        (xa, ya), (xb, yb) = pos[i], pos[i + 1]
        if ya == yb:
            sign = 1 if xb > xa else -1
            ax.annotate("", xy=(xb - sign * w / 2, yb), xytext=(xa + sign * w / 2, ya), arrowprops=arrow)
        else:
            ax.annotate("", xy=(xb, yb + h / 2), xytext=(xa, ya - h / 2), arrowprops=arrow)
        edges.append((nodes[i][0], nodes[i + 1][0], "flow"))
    (x0, y0), (x1, y1) = pos[0], pos[-1]
    ax.annotate("wav file", xy=(x0 - w / 2, y0), xytext=(x0 - w / 2 - margin + 0.05, y0), fontsize=7.5,
                ha="left", va="center", arrowprops=arrow)
    ax.annotate("", xy=(x1 - w / 2 - margin + 0.05, y1), xytext=(x1 - w / 2, y1), arrowprops=arrow)
    ax.text(x1 - w / 2 - margin + 0.05, y1 + 0.06, "sound", fontsize=7.5, ha="left", va="bottom")
    if title:
        fig.suptitle(title, fontsize=9)
    return Diagram(fig, nodes, tuple(edges))
