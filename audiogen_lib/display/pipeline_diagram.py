"""The library's pipeline, run step by step on a tone and drawn: wav file to model and back to sound.

The diagram runs the library's own functions (:func:`pipeline`), so every box names a real
function and the shape of what it returned; renaming a function breaks this, not a picture.

Public names
------------
pipeline        the library's pipeline run step by step on a tone: each function and what it returned
plot_pipeline   that pipeline drawn, wav file to model and back to sound, each box a library function

Notebook: notebooks/05_data_pipeline.ipynb
"""

from __future__ import annotations

import numpy as np

from ..config import FeatureConfig, get_config
from .diagrams import Diagram, _shape_text
from .plots import DPI


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

    from .. import features as F
    from ..reconstruction import DEFAULT_METHOD, magnitude_to_audio

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
