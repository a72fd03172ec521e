"""One execution of each chapter for nbval and for the smoke book build.

nbval runs every chapter cell by cell in its own kernel; the smoke book build
(tests/test_book.py) would then run every chapter again through myst-nb and
jupyter-cache. This plugin keeps what nbval's kernel sent and, when every cell
of a chapter has passed, writes the executed chapter into the smoke build's
jupyter-cache, where myst-nb finds it ("Using cached notebook") instead of
running it again.

What the cache receives is what myst-nb's own run would have stored:

* the kernel's messages are replayed through nbclient's ``process_message``
  (the code myst-nb executes with), so display updates, cleared outputs and
  widget state come out as they would there;
* the key is myst-nb's: the kernel name after ``nb_kernel_rgx_aliases``
  (_config.yml), and for a chapter with ``{eval}`` prose, the cell
  book/_ext/prose_eval.py appends, run here in the same kernel after the
  chapter's last cell.

A chapter with a failed, skipped or unrun cell is not cached: the book build
runs it and reports it. Only runs with ``AUDIOGEN_PROFILE=smoke`` (the smoke
build's profile) write. ``--no-book-cache`` turns the plugin off; ``--book-cache``
names another cache folder. The root conftest.py loads the plugin.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# book/_ext/book_profile.py: <outdir>/../.jupyter_cache/<profile>; the smoke build's outdir is
# _build/smoke/_build/html (tests/test_book.py)
SMOKE_CACHE = ROOT / "_build" / "smoke" / "_build" / ".jupyter_cache" / "smoke"
PROFILE = "smoke"


def pytest_addoption(parser):
    parser.addoption("--no-book-cache", action="store_true",
                     help="do not put the chapters nbval ran into the smoke book build's jupyter-cache")
    parser.addoption("--book-cache", default=str(SMOKE_CACHE),
                     help="the jupyter-cache folder to write to (default: the smoke book build's)")


def pytest_configure(config):
    if config.getoption("--no-book-cache") or not config.pluginmanager.hasplugin("nbval"):
        return
    if os.environ.get("AUDIOGEN_PROFILE") != PROFILE:
        return
    from nbval.kernel import RunningKernel
    from nbval.plugin import IPyNbCell, IPyNbFile

    if getattr(IPyNbFile, "_book_cache_patched", False):
        return
    IPyNbFile._book_cache_patched = True
    cache_path = Path(config.getoption("--book-cache"))
    get_message = RunningKernel.get_message
    runtest, teardown = IPyNbCell.runtest, IPyNbFile.teardown

    def recording_get_message(self, stream, timeout=None):
        msg = get_message(self, stream, timeout=timeout)
        if stream == "iopub":
            self.__dict__.setdefault("_recorded", []).append(msg)
        return msg

    def recording_execute(self, cell_input, allow_stdin=None):
        # store_history as nbclient runs a cell: IPython reads a trailing ";" (no result shown)
        # from the history, so without it a cell's result would show after the previous cell's ";"
        msg_id = self.kc.execute(cell_input, store_history=True, allow_stdin=allow_stdin, stop_on_error=False)
        self.__dict__.setdefault("_executed", []).append(msg_id)
        return msg_id

    def counting_runtest(self):
        try:
            runtest(self)
        except BaseException:
            self.parent._book_cache_failed = True
            raise
        self.parent._book_cache_passed = getattr(self.parent, "_book_cache_passed", 0) + 1

    def caching_teardown(self):
        try:
            kernel = self.kernel
            cells = sum(c.cell_type == "code" for c in self.nb.cells) if hasattr(self, "nb") else -1
            if (kernel is not None and kernel.is_alive() and not getattr(self, "_book_cache_failed", False)
                    and getattr(self, "_book_cache_passed", 0) == cells):
                try:
                    cache_executed(Path(str(self.fspath)), kernel, cache_path)
                except Exception as exc:  # the book build then runs the chapter itself
                    sys.stderr.write(f"nbval_book_cache: {self.fspath} not cached ({exc!r})\n")
        finally:
            teardown(self)

    RunningKernel.get_message = recording_get_message
    RunningKernel.execute_cell_input = recording_execute
    IPyNbCell.runtest = counting_runtest
    IPyNbFile.teardown = caching_teardown


def _execute_chapters():
    """book/_ext/execute_chapters.py, which keys notebooks as myst-nb does and locks the cache."""
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    try:
        import execute_chapters
    finally:
        sys.path.pop(0)
    return execute_chapters


def book_notebook(path: Path):
    """The chapter as myst-nb keys it in jupyter-cache (see book/_ext/execute_chapters.py)."""
    return _execute_chapters().book_notebook(path)


def _run_extra_cell(kernel, source: str, timeout: float = 120) -> str:
    """Run ``source`` in nbval's kernel and read its messages up to idle (they are recorded)."""
    msg_id = kernel.execute_cell_input(source, allow_stdin=False)
    deadline = time.monotonic() + timeout
    while True:
        msg = kernel.get_message("iopub", timeout=max(1.0, deadline - time.monotonic()))
        if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status"
                and msg["content"]["execution_state"] == "idle"):
            return msg_id


def replay(nb, executed: list[str], recorded: list[dict]):
    """``nb`` with the outputs its code cells' messages give, as nbclient would write them.

    ``executed`` holds one execute request id per code cell, in order; ``recorded`` every iopub
    message the kernel sent.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionComplete

    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    if len(executed) != len(code):
        raise ValueError(f"{len(executed)} cells ran, the notebook has {len(code)} code cells")
    by_parent: dict[str, list[dict]] = {}
    for msg in recorded:
        by_parent.setdefault(msg["parent_header"].get("msg_id"), []).append(msg)
    client = NotebookClient(nb, record_timing=False)
    client.reset_execution_trackers()
    for index, msg_id in zip(code, executed):
        cell = nb.cells[index]
        cell.outputs, cell.execution_count = [], None
        cell.metadata.pop("execution", None)
        client.clear_before_next_output = False  # as nbclient's execute_cell starts a cell
        for msg in by_parent.get(msg_id, []):
            try:
                client.process_message(msg, cell, index)
            except CellExecutionComplete:
                break
    client.set_widgets_metadata()
    return nb


def cache_executed(path: Path, kernel, cache_path: Path = SMOKE_CACHE) -> None:
    """Put chapter ``path``, just run by nbval in ``kernel``, into the jupyter-cache at ``cache_path``."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    nb, with_prose = book_notebook(path)
    executed = list(kernel.__dict__.get("_executed", []))
    if with_prose:
        executed.append(_run_extra_cell(kernel, nb.cells[-1].source))
    nb = replay(nb, executed, kernel.__dict__.get("_recorded", []))
    with _execute_chapters().locked(cache_path):
        cache = get_cache(str(cache_path))
        cache.cache_notebook_bundle(CacheBundleIn(nb, str(path.resolve()), data={"executed_by": "nbval"}),
                                    check_validity=False, overwrite=True)

