"""Listening: an inline player, and a grid of sounds each beside its spectrogram, in plain HTML.

Every player can keep a sound's true level (``normalize=False``) where levels are compared.
The grid is plain HTML (``IPython.display.HTML``, figures as PNG), so the static book shows
it as it is; its pieces (:func:`_figure_png`, :func:`_row_html`, :func:`_table_html`) also
lay out the explorers' views.

Public names
------------
audio           an inline player (``IPython.display.Audio``), normalised or at its true level, never failing on clipping
listen_grid     a labelled table, one sound per row: its spectrogram beside its player (plain HTML, no widgets)

Notebook: notebooks/01_digital_audio.ipynb, notebooks/04_griffin_lim.ipynb
"""

from __future__ import annotations

import base64
import html
import io
import warnings
from collections.abc import Mapping

import numpy as np

from ..config import FeatureConfig, get_config
from ..errors import AudiogenError
from .plots import DPI, TOP_DB, _as_image, _as_waveform, _db, _stft_settings, specshow


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

    from ..features import amplitude_to_db, stft_magnitude

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
    # Every row's figure has the same size and axes: constrained layout places the first of each
    # kind (the sound's own spectrogram, or a model's image), the rest reuse its positions (laying
    # out each anew took most of the grid's time).
    positions = {}
    for label, y, S, own in items:
        fig, ax = plt.subplots(figsize=(4.2, 1.9), dpi=DPI, layout=None if own in positions else "constrained")
        specshow(S, sr=sr_, n_fft=n_fft, hop_length=hop_length, ax=ax, fmax=fmax,
                 db_range=common if own else None)
        for axes, position in zip(fig.axes, positions.get(own, ())):
            axes.set_position(position)
        png = _figure_png(fig)
        positions.setdefault(own, [axes.get_position() for axes in fig.axes])
        html_rows.append(_row_html(label, png, audio(y * gain, sr=sr_, normalize=normalize)))
    if gain != 1.0:
        note = f"All rows scaled by {gain:.3f} (the loudest peaked at {peak:.2f}) to avoid clipping; relative levels kept."
        caption = f"{caption} {note}" if caption else note
    return HTML(_table_html(html_rows, caption))
