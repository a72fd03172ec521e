"""Writing files all or nothing: the library's one atomic write.

A result, a feature cache, a model or a folder of outputs is written under a temporary
name beside its target and renamed onto it (``os.replace``, atomic on one file system)
only when the writing succeeded. A reader never sees half a file, an interrupted run
leaves the old file as it was, and a failure removes what it had written.

Public names
------------
atomic_path   context manager: a temporary path beside the target (a file name, or a created folder),
              renamed onto the target on success, removed on failure
atomic_write  context manager: a file object opened on such a path (``open``'s ``mode``, text or binary)

Notebook: none (the library's plumbing); used by features, models, training, experiments, recording, report
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from pathlib import Path


def _temporary_name(target: Path) -> Path:
    """``.<stem>.<random>.tmp<suffix>`` beside ``target``: hidden, and ending as the target does, so that
    writers that choose a format by the file's extension (Keras, soundfile, matplotlib) choose the right one."""
    return target.with_name(f".{target.stem}.{secrets.token_hex(4)}.tmp{target.suffix}")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, directory: bool = False):
    """Yield a temporary path beside ``path``; on success rename it onto ``path``, on failure remove it.

    For a file (``directory=False``) the name is yielded and nothing is created: the writer
    creates it (``model.save(tmp)``, ``sf.write(tmp, ...)``), with the permissions any new
    file gets. The name ends with ``path``'s suffix. With ``directory=True`` an empty folder
    is created and yielded; ``path`` must then not exist or be an empty folder (it is
    replaced). The parent folder is created if needed. Any exception in the ``with`` block,
    ``KeyboardInterrupt`` included, removes the temporary file or folder and leaves ``path``
    as it was::

        with atomic_path("model.keras") as tmp:
            model.save(tmp)
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary_name(target)
    try:
        if directory:
            tmp.mkdir()
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"nothing was written to {tmp} for {target}")
        if directory and target.is_dir() and not target.is_symlink():
            target.rmdir()  # only an empty folder; OSError otherwise, and the temporary one goes
        os.replace(tmp, target)
    except BaseException:
        _remove(tmp)
        raise


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", *, encoding: str | None = None):
    """Yield a file opened with ``mode`` (``"w"``, ``"wb"``) on a temporary name beside ``path``;
    on success it is closed and renamed onto ``path``, on failure removed (``path`` untouched).

    Text is written in UTF-8 unless ``encoding`` says otherwise::

        with atomic_write("results.json") as f:
            json.dump(results, f)
    """
    if not set(mode) <= set("wbt") or "w" not in mode:
        raise ValueError(f"atomic_write writes a new file: mode must be 'w' or 'wb', got {mode!r}")
    if "b" not in mode and encoding is None:
        encoding = "utf8"
    with atomic_path(path) as tmp:
        with open(tmp, mode.replace("w", "x"), encoding=encoding) as f:
            yield f
