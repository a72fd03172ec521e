"""Your own recording through every model: its page, and an upload button where one can be pressed.

:func:`recording_view` is plain HTML, so the static book shows it as it is;
:func:`recording_widget` adds the upload button in a live kernel only.

Public names
------------
recording_view  your recording's result (``recording.reconstruct_recording``): what was done to it, then each sound
                beside its image and the digit the classifier hears (plain HTML)
recording_widget  an upload button for your own wav in a live kernel; the worked example where nobody can upload

Notebook: notebooks/09_listening_experiments.ipynb
"""

from __future__ import annotations

import html

from ..config import FeatureConfig, get_config
from ..errors import AudiogenError
from .players import listen_grid
from .widgets import _live_kernel


def recording_view(result, *, fmax: float | None = 4000.0):
    """A :class:`~audiogen_lib.recording.RecordingResult` as a page: what was done to the recording,
    then one row per sound (your recording, the ceiling, each model) with its image, its player
    and the digit the classifier hears in it. Plain HTML: the static book shows it as it is.

    The players keep the sounds' relative levels (:func:`listen_grid`'s ``normalize=False``).

    Notebook: notebooks/09_listening_experiments.ipynb
    """
    from IPython.display import HTML

    grid = listen_grid(result.listen_rows(), config=result.config, fmax=fmax)
    head = f'<pre style="white-space:pre-wrap">{html.escape(result.summary())}</pre>'
    return HTML(head + grid.data)


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

    Notebook: notebooks/09_listening_experiments.ipynb
    """
    from IPython.display import HTML

    config = get_config(config)
    static = (recording_view(example, fmax=fmax) if example is not None else
              HTML("<p><i>Run this chapter in JupyterLab to upload a recording here.</i></p>"))
    if not (_live_kernel() if live is None else live):
        return static

    import ipywidgets as widgets

    from ..recording import MODEL_KINDS, reconstruct_recording

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
