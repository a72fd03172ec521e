"""How the library runs in a notebook or a terminal: a quiet TensorFlow, progress bars, one set-up call.

TensorFlow's C++ code prints its start-up log ("All log messages before
absl::InitializeLog() is called are written to STDERR", "Could not find cuda drivers
on your machine, GPU will not be used", oneDNN and CPU-instruction notices) straight
to file descriptor 2, twice, before ``TF_CPP_MIN_LOG_LEVEL`` is read; Python's
``sys.stderr`` never sees it, so redirecting that does nothing, and in JupyterLab it
becomes a red box under the first cell. :func:`import_tensorflow` imports TensorFlow
(and Keras) with descriptor 2 pointed at a temporary file, then restores it and passes
on whatever was not one of those known notices, so a real error still shows.

Public names
------------
setup              the one start-up call of every chapter: quiet TensorFlow, figure settings; returns the profile
import_tensorflow  import TensorFlow and Keras with their C++ start-up log filtered out; returns ``tensorflow``
quiet_stderr       context manager: descriptor 2 redirected, known TensorFlow notices dropped, the rest passed on
progress           a progress bar that shows from the first second and leaves no dead widget behind

Notebook: every chapter's first code cell (``profile = audiogen_lib.setup()``)
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sys
import tempfile

# Lines TensorFlow's C++ code prints at import and at its first operation, which say
# nothing a reader can act on. Anything else written to descriptor 2 is passed on.
_TF_NOISE = re.compile(
    r"All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|^[IWE]\d{4} \S+\s+\d+ (port|cudart_stub|cuda_platform|cuda_executor|cuda_dnn|cuda_fft|cuda_blas"
    r"|cpu_feature_guard|computation_placer|gpu_device|cuda_diagnostics|device_compiler|service|tf_trt)\.cc:\d+\]"
    r"|^To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags\.$"
    r"|^WARNING: All log messages before absl"
)

# Figure settings of the chapters: small enough for a page beside the players.
RC_PARAMS = {"figure.dpi": 80, "figure.figsize": (6, 2.5)}


def _is_noise(line: str) -> bool:
    return not line.strip() or bool(_TF_NOISE.search(line))


@contextlib.contextmanager
def quiet_stderr(*, keep=None):
    """Point file descriptor 2 at a temporary file for the ``with`` block; then restore it.

    What was written there (by C or C++ code as well as by Python) is read back and
    each line that ``keep(line)`` accepts (default: every line that is not a known
    TensorFlow start-up notice) is written to ``sys.stderr``, so errors still show.
    """
    keep = keep or (lambda line: not _is_noise(line))
    for stream in (sys.stdout, sys.stderr, sys.__stderr__):
        with contextlib.suppress(Exception):
            stream.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no descriptor 2 (a detached process): nothing to silence
        yield
        return
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.__stderr__.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode("utf8", errors="replace")
            rest = [line for line in text.splitlines() if keep(line)]
            if rest:
                sys.stderr.write("\n".join(rest) + "\n")


def import_tensorflow():
    """Import TensorFlow and Keras without their C++ start-up log; return the ``tensorflow`` module.

    Also runs TensorFlow's device discovery (which prints "failed call to cuInit" on a
    machine without a GPU) inside the redirection, and sets TensorFlow's Python logger
    to errors only (no retracing notices between the figures). Cheap after the first call.
    """
    if "tensorflow" in sys.modules and getattr(import_tensorflow, "_done", False):
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # C++ log after start-up: warnings and errors only
    with quiet_stderr():
        import tensorflow as tf
        import keras  # noqa: F401  (Keras 3 loads its TensorFlow backend here)

        tf.config.list_physical_devices()  # device discovery: the cuInit message on a machine without a GPU
        tf.constant(0.0) + 1.0  # the first operation: cuInit on machines whose discovery was lazy
    tf.get_logger().setLevel("ERROR")
    import_tensorflow._done = True
    return tf


def git_state() -> tuple[str | None, bool | None]:
    """The library's git commit and whether tracked files differ from it; ``(None, None)`` outside a checkout."""
    import subprocess

    here = os.path.dirname(os.path.abspath(__file__))
    try:
        run = dict(capture_output=True, text=True, check=True, cwd=here)
        commit = subprocess.run(["git", "rev-parse", "HEAD"], **run).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], **run).stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        return None, None
    return commit, dirty


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``; else what ``platform`` knows): part of every provenance record."""
    import platform

    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def setup(*, tensorflow: bool = True, rc_params: dict | None = None):
    """The start-up of a chapter, in one call: returns the run profile (``AUDIOGEN_PROFILE``).

    * imports TensorFlow and Keras quietly (:func:`import_tensorflow`; ``tensorflow=False``
      skips it in chapters that do not use a model),
    * sets matplotlib's figure size and resolution (:data:`RC_PARAMS`, updated by ``rc_params``),
    * returns :func:`audiogen_lib.config.get_profile`, so that a bad ``AUDIOGEN_PROFILE``
      fails in the first cell with the library's message.

    >>> profile = audiogen_lib.setup()   # doctest: +SKIP
    """
    from .config import get_profile

    profile = get_profile()
    if tensorflow:
        import_tensorflow()
    import matplotlib.pyplot as plt

    plt.rcParams.update({**RC_PARAMS, **(rc_params or {})})
    return profile


# --- progress ------------------------------------------------------------------------------------


def _in_notebook() -> bool:
    """True inside a Jupyter kernel whose front end can draw widgets."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def progress(iterable=None, *, desc: str | None = None, total: int | None = None, unit: str = "it", **kwargs):
    """A tqdm progress bar that shows from its first step and leaves nothing dead behind.

    * In a Jupyter kernel: tqdm's widget, drawn at once (``mininterval`` 0.1 s); when the
      loop ends the widget is closed and its output replaced by one line of text
      (``"FSDD -> paper features: 3000 clips in 12.3 s"``), so a saved notebook holds no
      widget that would read "Error displaying widget: model not found" when reopened,
      and the built book shows that line instead of a frozen bar.
    * Elsewhere: tqdm's text bar on stderr, cleared when done (``leave=False``).

    Use it as tqdm: ``for x in progress(items, desc="..."):`` or ``with progress(total=n) as bar``.
    """
    kwargs.setdefault("mininterval", 0.1)
    if _in_notebook():
        try:
            return _NotebookProgress(iterable, desc=desc, total=total, unit=unit, **kwargs)
        except ImportError:  # no ipywidgets: fall through to text
            pass
    from tqdm.std import tqdm

    return tqdm(iterable, desc=desc, total=total, unit=unit, leave=False, file=sys.stderr, **kwargs)


@functools.cache
def _notebook_class():
    from tqdm.notebook import tqdm as notebook_tqdm

    class NotebookProgress(notebook_tqdm):
        """tqdm's widget in a display slot that is replaced by a line of text when it closes."""

        def __init__(self, *args, **kwargs):
            from IPython.display import display

            kwargs["display"] = False
            kwargs["leave"] = False
            super().__init__(*args, **kwargs)
            self._slot = None if self.disable else display(self.container, display_id=True)

        def close(self):
            if self.disable or getattr(self, "_closed_slot", False):
                return super().close()
            self._closed_slot = True
            finished = self.total is None or self.n >= self.total
            super().close()
            if self._slot is not None:
                elapsed = self.format_interval(self.format_dict["elapsed"])
                what = f"{self.n:,} {self.unit}" + ("" if self.n == 1 else "s" if self.unit != "it" else "")
                line = f"{self.desc + ': ' if self.desc else ''}{what} in {elapsed}"
                if not finished:
                    line += f" (stopped at {self.n} of {self.total})"
                self._slot.update({"text/plain": line}, raw=True)

    return NotebookProgress


def _NotebookProgress(*args, **kwargs):  # noqa: N802 -- a factory that reads as the class it builds
    return _notebook_class()(*args, **kwargs)
