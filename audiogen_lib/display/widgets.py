"""What every widget of the book stands on: a box drawn only in a live kernel, and buttons that need none.

A widget needs a kernel to answer its controls. Each explorer (:mod:`.explorers`) first
displays a static view (plain HTML that works anywhere), and returns its controls in a box
drawn only in a live kernel (:func:`_kernel_only`, :func:`_live_kernel`): in the built book,
where nobody could press them, a dead control would be drawn; the upload button of
:mod:`.your_recording` asks :func:`_live_kernel` too. Where a choice can be made without a
kernel, radio inputs and CSS switch between pre-rendered panels (:func:`_chooser_html`).

Notebook: notebooks/02_fourier_transform.ipynb, notebooks/09_listening_experiments.ipynb,
notebooks/10_generation.ipynb, notebooks/11_generative_vae.ipynb
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping


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


def _live_kernel() -> bool:
    """True in a kernel that a person drives, where an upload button can be pressed.

    A Jupyter server (JupyterLab, Notebook) starts a notebook's kernel with ``JPY_SESSION_NAME``
    set; nbclient, which executes notebooks for nbval and for the book, does not. Colab counts
    as live too. A script (no kernel) is not.
    """
    import sys

    from ..runtime import _in_notebook

    return _in_notebook() and (bool(os.environ.get("JPY_SESSION_NAME")) or "google.colab" in sys.modules)
