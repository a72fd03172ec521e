"""What a learner meets in JupyterLab: a first cell that prints nothing on stderr (TensorFlow's
C++ start-up log silenced at the file-descriptor level), progress bars that leave a line of text
instead of a widget, and MyST rendered in the lab."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# What every chapter's first code cell starts with (the start-up block, one call).
FIRST_CELL = "import audiogen_lib\n\nprofile = audiogen_lib.setup()\nprint(profile.name)"


def test_quiet_stderr_drops_known_c_level_notices_and_passes_the_rest():
    """Writes to file descriptor 2 (as C++ code does, below Python) are caught and filtered."""
    code = textwrap.dedent("""
        import os
        from audiogen_lib.runtime import quiet_stderr
        with quiet_stderr():
            os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\\n")
            os.write(2, b"I0000 00:00:1795998126.200111    6416 cudart_stub.cc:31] Could not find cuda drivers "
                        b"on your machine, GPU will not be used.\\n")
            os.write(2, b"a real error\\n")
        os.write(2, b"after\\n")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stderr == "a real error\nafter\n"


def test_progress_outside_a_notebook_is_tqdms_text_bar_cleared_when_done():
    from tqdm.std import tqdm

    from audiogen_lib.runtime import progress

    bar = progress(range(3), desc="clips")
    assert isinstance(bar, tqdm) and bar.leave is False and bar.fp is not None
    assert list(bar) == [0, 1, 2]


def _start_kernel():
    """A fresh kernel of this environment, as JupyterLab starts one.

    Without ``PYTEST_CURRENT_TEST`` in its environment: ipykernel does not forward what is
    written to file descriptor 2 (TensorFlow's C++ log) when it sees that variable, and the
    check would pass without looking.
    """
    import os

    from jupyter_client.manager import start_new_kernel

    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    return start_new_kernel(kernel_name="python3", cwd=str(ROOT / "notebooks"), env=env)


@pytest.fixture(scope="module")
def kernel():
    """A fresh kernel (as a learner's first cell gets), shut down after the module."""
    km, kc = _start_kernel()
    yield kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def _run(kc, code: str, timeout: float = 300) -> list[dict]:
    """Execute ``code``; return its iopub messages (stream, display, error) until the kernel is idle."""
    msg_id = kc.execute(code)
    messages = []
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return messages
        if msg["msg_type"] in ("stream", "display_data", "update_display_data", "execute_result", "error"):
            messages.append(msg)


def _stderr(messages) -> str:
    return "".join(m["content"]["text"] for m in messages
                   if m["msg_type"] == "stream" and m["content"]["name"] == "stderr")


def test_a_fresh_kernels_first_cell_prints_nothing_on_stderr(kernel):
    """The red box (absl, "Could not find cuda drivers", twice) is gone, and stays gone once models run."""
    messages = _run(kernel, FIRST_CELL)
    assert not [m for m in messages if m["msg_type"] == "error"], messages
    assert _stderr(messages) == "", f"the first cell wrote to stderr:\n{_stderr(messages)}"
    stdout = "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream")
    assert stdout.strip() in ("smoke", "book", "paper")
    later = _run(kernel, "import keras, tensorflow as tf\n"
                         "from audiogen_lib import models\n"
                         "m = models.build_unet((256, 64, 1), filters=(4, 8))\n"
                         "_ = m.predict(tf.zeros((1, 256, 64, 1)), verbose=0)")
    assert not [m for m in later if m["msg_type"] == "error"], later
    assert _stderr(later) == "", f"TensorFlow wrote to stderr after setup():\n{_stderr(later)}"


def test_progress_in_a_kernel_ends_as_a_line_of_text_not_a_widget(kernel):
    """Saved notebooks and the built book keep the summary line, never a widget view whose model is gone."""
    messages = _run(kernel, "from audiogen_lib.runtime import progress\n"
                            "for _ in progress(range(5), desc='FSDD -> paper features', unit='clip'):\n"
                            "    pass")
    shown = [m for m in messages if m["msg_type"] == "display_data"]
    assert shown and "application/vnd.jupyter.widget-view+json" in shown[0]["content"]["data"]  # drawn at once
    display_id = shown[0]["content"]["transient"]["display_id"]
    updates = [m for m in messages if m["msg_type"] == "update_display_data"
               and m["content"]["transient"]["display_id"] == display_id]
    assert updates, "the widget's output was never replaced"
    final = updates[-1]["content"]["data"]
    assert set(final) == {"text/plain"} and final["text/plain"].startswith("FSDD -> paper features: 5 clips in ")


def test_myst_renders_in_jupyterlab():
    """The book extra brings jupyterlab-myst, and JupyterLab accepts it (no "not compatible")."""
    book = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["book"]
    assert any(r.startswith("jupyterlab-myst") for r in book)
    exe = Path(sys.executable).with_name("jupyter")
    proc = subprocess.run([str(exe), "labextension", "list"], capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    line = next((ln for ln in out.splitlines() if "jupyterlab-myst" in ln and " v" in ln), "")
    assert "enabled" in line and "OK" in line, f"jupyterlab-myst is not enabled and OK:\n{out}"
    assert "not compatible" not in out, out


def test_the_audiogen_kernel_spec_when_registered_runs_this_environment():
    """`make lab` (and `make install`) register the kernel "audiogen" inside the venv (--sys-prefix)."""
    spec_file = Path(sys.prefix) / "share" / "jupyter" / "kernels" / "audiogen" / "kernel.json"
    if not spec_file.exists():
        pytest.skip(f"no kernel 'audiogen' in {sys.prefix}: run `make install` (or `make lab`) first")
    spec = json.loads(spec_file.read_text())
    assert Path(spec["argv"][0]).resolve() == Path(sys.executable).resolve()
    assert spec["display_name"] == "Python 3 (audiogen)" and spec["language"] == "python"


def test_without_setup_tensorflow_does_print_the_red_box():
    """The control: the same check sees TensorFlow's start-up log when setup() is not called first.
    (If this fails, TensorFlow stopped printing it and runtime.import_tensorflow can go.)"""
    km, kc = _start_kernel()
    try:
        err = _stderr(_run(kc, "import tensorflow"))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert "absl::InitializeLog" in err or "cuda" in err.lower(), err
