"""How long each chapter takes: the build's execution times and what a learner meets.

After a book build (``make book``, profile ``book``), jupyter-cache holds every executed
chapter in ``_build/.jupyter_cache/<profile>`` (book/_ext/book_profile.py): its sqlite
database (``global.db``) records each notebook's execution time in seconds, and
``executed/<hashkey>/base.ipynb`` keeps the executed notebook. This module reads both,
read-only, and writes ``results/chapter_times.json``::

    python book/_ext/chapter_times.py                      # _build/.jupyter_cache/book
    python book/_ext/chapter_times.py --cache DIR --out FILE

Per chapter it records the execution time and what a learner meets on the page, counted
from the executed notebook: words of prose, code cells and code lines shown, figures,
tables, sound players and their seconds of audio, exercises. ``book/how_to_use.ipynb`` turns
them into a table. The file's ``provenance`` says which command wrote it, from which
cache, the commit of the notebooks that were executed, when, and on what machine.

Public names
------------
read_cache      ``{path: record}`` from a jupyter-cache folder (newest record per notebook)
chapter_counts  what a learner meets in one executed notebook
collect         the whole result (chapters and provenance) as a dict
main            the command line
"""

from __future__ import annotations

import argparse
import base64
import datetime
import io
import json
import os
import platform
import re
import sqlite3
import subprocess
import sys
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CACHE = ROOT / "_build" / ".jupyter_cache" / "book"
DEFAULT_OUT = ROOT / "results" / "chapter_times.json"
HIDDEN = {"remove-cell", "remove-input", "hide-cell", "hide-input"}
NO_OUTPUT = {"remove-cell", "remove-output"}
_WAV = re.compile(r"data:audio/wav;base64,([A-Za-z0-9+/=]+)")
_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+(?:['-][A-Za-z]+)*")
_FENCE = re.compile(r"^(```+|~~~+).*?^\1", re.S | re.M)
_ITEM = re.compile(r"(?m)^\d+\. ")
# a Markdown table: its header row, then the row of dashes under it
_MD_TABLE = re.compile(r"(?m)^\|.*\|[ \t]*\n\|?[ \t]*:?-{3,}")


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def read_cache(cache: Path) -> dict[str, dict]:
    """Each notebook's newest record in a jupyter-cache folder, keyed by its absolute path.

    The database is opened read-only; a missing one raises FileNotFoundError naming it.
    """
    db = Path(cache) / "global.db"
    if not db.is_file():
        raise FileNotFoundError(
            f"no jupyter-cache database at {db}: build the book first "
            "(`make book`, profile book), or pass --cache")
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT hashkey, uri, data, created FROM nbcache ORDER BY created").fetchall()
    finally:
        con.close()
    records = {}
    for hashkey, uri, data, created in rows:  # later rows replace earlier ones
        data = json.loads(data or "{}")
        records[uri] = {"hashkey": hashkey, "execution_seconds": data.get("execution_seconds"),
                        # execute_chapters.py runs several at once; myst-nb runs one
                        "notebooks_at_once": data.get("notebooks_at_once", 1),
                        "executed_at": created}
    return records


def _audio_seconds(html: str) -> list[float]:
    seconds = []
    for b64 in _WAV.findall(html):
        with wave.open(io.BytesIO(base64.b64decode(b64))) as w:
            seconds.append(w.getnframes() / w.getframerate())
    return seconds


def chapter_counts(source: dict, executed: dict) -> dict:
    """What a learner meets on one chapter's page.

    ``source`` is the notebook as committed (Markdown and tags), ``executed`` the one
    jupyter-cache stored (its code cells and outputs only, in the same order).
    Prose: words of the Markdown cells (solutions included, code blocks left out).
    Code: cells and lines shown on the page (not tagged remove-/hide-).
    Figures: PNG outputs of cells whose output is shown. Sound players: ``<audio>``
    elements in shown HTML outputs, with the total length of their wav files.
    Tables: Markdown tables in the prose and in shown outputs, and HTML ``<table>`` outputs.
    Exercises: numbered items after the ``## Exercises`` heading.
    """
    words, code_cells, code_lines, figures, tables = 0, 0, 0, 0, 0
    audio: list[float] = []
    exercises, in_exercises = 0, False
    code = [c for c in source.get("cells", []) if c.get("cell_type") == "code"]
    ran = [c for c in executed.get("cells", []) if c.get("cell_type") == "code"]
    matches = [_source(a) == _source(b) for a, b in zip(code, ran)]
    if len(ran) < len(code) or not all(matches):
        raise ValueError("the executed notebook's code differs from the source's "
                         f"(cell {matches.index(False) if False in matches else len(ran)})")
    outputs = iter(ran)
    for cell in source.get("cells", []):
        src, tags = _source(cell), _tags(cell)
        if cell.get("cell_type") == "markdown":
            prose = _FENCE.sub(lambda m: m.group(0) if "{" in m.group(0).split("\n")[0]
                               else "", src)
            words += len(_WORD.findall(prose))
            tables += len(_MD_TABLE.findall(_FENCE.sub("", src)))
            if re.search(r"(?m)^## Exercises\s*$", src):
                in_exercises = True
                src = src.split("## Exercises", 1)[1]
            if in_exercises:
                exercises += len(_ITEM.findall(_FENCE.sub("", src)))
            continue
        if cell.get("cell_type") != "code":
            continue
        out_cell = next(outputs)
        if "remove-cell" in tags:
            continue
        if not tags & HIDDEN:
            code_cells += 1
            code_lines += len([ln for ln in src.splitlines() if ln.strip()])
        if tags & NO_OUTPUT:
            continue
        for out in out_cell.get("outputs", []):
            data = out.get("data", {})
            figures += "image/png" in data
            html = data.get("text/html", "")
            html = "".join(html) if isinstance(html, list) else html
            audio += _audio_seconds(html)
            markdown = data.get("text/markdown", "")
            markdown = "".join(markdown) if isinstance(markdown, list) else markdown
            tables += len(_MD_TABLE.findall(markdown)) + html.count("<table")
    return {"prose_words": words, "code_cells": code_cells, "code_lines": code_lines,
            "figures": figures, "tables": tables, "sound_players": len(audio),
            "audio_seconds": round(sum(audio), 2), "exercises": exercises}


def _git(root: Path, *args: str) -> str | None:
    try:
        return subprocess.run(["git", "-C", str(root), *args], check=True, text=True,
                              capture_output=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}")


def collect(cache: Path = DEFAULT_CACHE, command: str = "") -> dict:
    """Every cached chapter (``notebooks/*.ipynb``) with its time, counts and provenance."""
    cache = Path(cache).resolve()
    chapters, roots = {}, set()
    for uri, rec in read_cache(cache).items():
        path = Path(uri)
        if path.parent.name != "notebooks" or path.suffix != ".ipynb":
            continue  # the book's own pages (book/*.ipynb) are not chapters
        executed = cache / "executed" / rec["hashkey"] / "base.ipynb"
        ran = json.loads(executed.read_text(encoding="utf8"))
        source = json.loads(path.read_text(encoding="utf8"))
        try:
            counts = chapter_counts(source, ran)
        except ValueError as err:
            raise ValueError(f"{path}: {err}; build the book again before running this") from None
        roots.add(path.parent.parent)
        chapters[f"notebooks/{path.stem}"] = {
            "execution_seconds": round(rec["execution_seconds"], 1),
            "notebooks_at_once": rec["notebooks_at_once"],
            "executed_at": rec["executed_at"], **counts}
    if not chapters:
        raise ValueError(f"{cache}: the cache holds no executed chapter (notebooks/*.ipynb)")
    if len(roots) != 1:
        raise ValueError(f"{cache}: chapters from several repositories: {sorted(map(str, roots))}")
    root = roots.pop()
    dirty = _git(root, "status", "--porcelain", "--", "notebooks")
    return {
        "about": "Execution time of each chapter in one book build (jupyter-cache's "
                 "execution_seconds), and what a learner meets on its page, counted from "
                 "the executed notebook (book/_ext/chapter_times.py).",
        "profile": cache.name,
        "chapters": dict(sorted(chapters.items())),
        "provenance": {
            "command": command,
            "cache": os.path.relpath(cache, root),
            "git_commit": _git(root, "rev-parse", "HEAD"),
            "notebooks_changed_since_commit": bool(dirty) if dirty is not None else None,
            "executed_from": min(c["executed_at"] for c in chapters.values()),
            "executed_to": max(c["executed_at"] for c in chapters.values()),
            "written": datetime.datetime.now(datetime.timezone.utc).isoformat(
                timespec="seconds"),
            "machine": _machine(),
            "cores": os.cpu_count(),
            "note": "executed_* are jupyter-cache's times (UTC); machine and cores are "
                    "those of the machine that wrote this file, run where the book was built",
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                        help="jupyter-cache folder (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="file to write (default: %(default)s)")
    args = parser.parse_args(argv)
    command = "python book/_ext/chapter_times.py " + " ".join(argv or sys.argv[1:])
    result = collect(args.cache, command.strip())
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n",
                        encoding="utf8")
    total = sum(c["execution_seconds"] for c in result["chapters"].values())
    print(f"{args.out}: {len(result['chapters'])} chapters, {total:.0f} s in all")


if __name__ == "__main__":
    main()
