"""Explorers: a view that redraws and replays as its controls move, a static view of the defaults first.

Each explorer displays at once a static view (a figure beside a player), so that a page
without a live kernel still shows it, and returns its controls in a box that only a live
kernel draws (:func:`.widgets._kernel_only`).

Public names
------------
stft_explorer   widgets for n_fft, hop and window that redraw the spectrogram; a static view of the defaults first
hop_gap         what a hop longer than n_fft does (gaps no frame sees), in words
latent_explorer sliders along the main directions of a VAE's latent codes that decode, redraw and replay; the mean first
digit_chooser   buttons 0-9 that ask a conditional VAE for that digit and play what it makes; build-time sounds first
N_FFTS, HOP_LENGTHS, WINDOWS, WINDOWS_BY_NAME   the settings :func:`stft_explorer` offers

Notebook: notebooks/02_fourier_transform.ipynb, notebooks/10_generation.ipynb, notebooks/11_generative_vae.ipynb
"""

from __future__ import annotations

import numpy as np

from ..config import FeatureConfig, get_config
from ..errors import AudiogenError
from .players import _figure_png, _row_html, _table_html, audio, listen_grid
from .plots import DPI, _as_waveform, _db, specshow
from .widgets import _chooser_html, _kernel_only


N_FFTS = (64, 128, 256, 512, 1024, 2048)
HOP_LENGTHS = (16, 32, 64, 128, 256, 512, 1024)
WINDOWS = (("Hann", "hann"), ("Hamming", "hamming"), ("Blackman", "blackman"), ("rectangular", "boxcar"))
WINDOWS_BY_NAME = tuple((value, label) for label, value in WINDOWS)


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

    from ..reconstruction import latents_to_audio

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

    Notebook: notebooks/10_generation.ipynb
    """
    import ipywidgets as widgets
    from IPython.display import HTML, display

    config = get_config(config)
    if not (max_sd > 0 and 0 < step <= max_sd and (n_iter is None or n_iter >= 1)):
        raise AudiogenError(f"latent_explorer needs max_sd > 0, 0 < step <= max_sd and n_iter >= 1 (or None); "
                            f"got max_sd={max_sd}, step={step}, n_iter={n_iter}")
    mean, directions, spread, share = _latent_directions(latents, n_components)
    if db_range is None:
        from ..experiments import generation_db_range

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

    Notebook: notebooks/11_generative_vae.ipynb
    """
    import ipywidgets as widgets
    from IPython.display import HTML, display

    from ..generation import generate

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
