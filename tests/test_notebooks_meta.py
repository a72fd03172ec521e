"""The chapter notebooks as committed: in the toc, clean, small and shaped alike.

Every notebook in ``notebooks/`` is in ``book/_toc.yml`` and every notebook there
exists. A committed notebook is source, not a result: no outputs, no execution
counts, no saved widget state (so no embedded sounds or pictures), under 100 kB,
the ``python3`` kernel. Its first cell is markdown with the chapter title and a
``## What you will learn`` section; its last two sections are ``## Summary`` and
``## Exercises``.

The one exception to "no outputs": a cell whose first line is
``# NBVAL_CHECK_OUTPUT`` may keep its text output and an execution count, because
that stored output is what nbval (``pytest --nbval-lax``) compares the new one
against; nbval checks nothing in a cell with no execution count. Such outputs must
be plain text (a print or a short repr), never images, audio or HTML.

These tests read the files only; nbval runs them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
TOC = ROOT / "book" / "_toc.yml"
MAX_BYTES = 100_000
KERNEL = "python3"
OBJECTIVES, SUMMARY, EXERCISES = "## What you will learn", "## Summary", "## Exercises"
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
# What a checked cell's stored outputs may hold: text, never rich media.
TEXT_MIME = {"text/plain"}


def toc_notebooks() -> list[str]:
    """The toc's entries under notebooks/, as ``notebooks/NAME`` (no extension)."""
    toc = yaml.safe_load(TOC.read_text(encoding="utf8"))
    files = [toc["root"]]

    def walk(node):
        for key in ("parts", "chapters", "sections"):
            for child in node.get(key, []) or []:
                if "file" in child:
                    files.append(child["file"])
                walk(child)

    walk(toc)
    return [re.sub(r"\.ipynb$", "", f) for f in files if f.startswith("notebooks/")]


NOTEBOOK_PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))


def load(path: Path) -> dict:
    # plain JSON, not nbformat: the test is about what is in the file
    return json.loads(path.read_text(encoding="utf8"))


def source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def headings(cell: dict) -> list[str]:
    """Markdown headings of a markdown cell, outside code fences, whitespace normalised."""
    if cell.get("cell_type") != "markdown":
        return []
    found, fenced = [], False
    for line in source(cell).splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6} ", line):
            found.append(" ".join(line.split()))
    return found


def test_toc_and_notebooks_agree():
    on_disk = {f"notebooks/{p.stem}" for p in NOTEBOOK_PATHS}
    in_toc = toc_notebooks()
    assert len(in_toc) == len(set(in_toc)), f"a notebook is listed twice in {TOC.name}: {in_toc}"
    assert not on_disk - set(in_toc), f"notebooks not in book/_toc.yml: {sorted(on_disk - set(in_toc))}"
    assert not set(in_toc) - on_disk, f"book/_toc.yml lists notebooks that do not exist: {sorted(set(in_toc) - on_disk)}"


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = load(path)
    problems = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            if cell.get("attachments"):
                problems.append(f"cell {i}: markdown with attachments (embedded files); put figures in code")
            continue
        checked = source(cell).lstrip().startswith(CHECK_MARK)
        outputs = cell.get("outputs", [])
        if not checked:
            if outputs:
                problems.append(f"cell {i}: {len(outputs)} output(s)")
            if cell.get("execution_count") is not None:
                problems.append(f"cell {i}: execution count {cell['execution_count']}")
            continue
        for out in outputs:  # a checked cell's reference output: text only
            kind = out.get("output_type")
            if kind == "stream" and out.get("name") == "stdout":
                continue
            if kind == "execute_result" and set(out.get("data", {})) <= TEXT_MIME:
                continue
            problems.append(f"cell {i} ({CHECK_MARK}): a stored {kind} output "
                            f"{sorted(out.get('data', {})) or out.get('name', '')}; only text is kept")
    if "widgets" in nb.get("metadata", {}):
        problems.append("saved widget state in the notebook metadata")
    assert not problems, (f"{path.name} is committed with outputs; clear them (JupyterLab: Edit > Clear Outputs "
                          "of All Cells, or `jupyter nbconvert --clear-output --inplace`):\n  " + "\n  ".join(problems))


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=lambda p: p.name)
def test_small(path):
    size = path.stat().st_size
    assert size < MAX_BYTES, f"{path.name} is {size / 1000:.0f} kB, over {MAX_BYTES // 1000} kB"


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=lambda p: p.name)
def test_kernel(path):
    spec = load(path).get("metadata", {}).get("kernelspec", {})
    assert spec.get("name") == KERNEL, f"{path.name}: kernelspec {spec.get('name')!r}, expected {KERNEL!r}"


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=lambda p: p.name)
def test_opens_with_title_and_objectives(path):
    cells = load(path)["cells"]
    assert cells and cells[0]["cell_type"] == "markdown", f"{path.name}: the first cell must be markdown"
    first = headings(cells[0])
    assert first and first[0].startswith("# "), f"{path.name}: the first cell must open with a `# Title`"
    assert OBJECTIVES in first, f"{path.name}: the first cell must contain the heading `{OBJECTIVES}`; it has {first}"


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=lambda p: p.name)
def test_ends_with_summary_and_exercises(path):
    sections = [h for cell in load(path)["cells"] for h in headings(cell) if h.startswith("## ")]
    assert sections[-2:] == [SUMMARY, EXERCISES], (
        f"{path.name}: the last two sections must be `{SUMMARY}` then `{EXERCISES}`; they are {sections[-2:]}")
