"""The chapter notebooks as committed: in the toc, clean, small and shaped alike.

Every notebook in ``notebooks/`` is in ``book/_toc.yml`` and every notebook there
exists. A committed notebook is source, not a result: no outputs, no execution
counts, no saved widget state (so no embedded sounds or pictures), under 100 kB,
the ``audiogen`` kernel (the project's environment). Its first cell is markdown with
the chapter title and a ``## What you will learn`` section; its last two sections are ``## Summary`` and
``## Exercises``.

The one exception to "no outputs": a cell tagged ``nbval-check-output`` (nbval reads the
tag; a ``# NBVAL_CHECK_OUTPUT`` comment would show in the book) may keep its text output
and an execution count, because
that stored output is what nbval (``pytest --nbval-lax``) compares the new one
against; nbval checks nothing in a cell with no execution count. Such outputs must
be plain text (a print or a short repr), never images, audio or HTML.

No typed-in figures: a number the prose states comes from code (set as ``prose.key`` in a
code cell, shown with ``{eval}`prose.key``` in the Markdown, which JupyterLab and the book
both evaluate: book/_ext/prose_eval.py), or from a table a cell computes; see
:func:`test_markdown_states_no_typed_in_figures` for what is scanned and the short list of
numbers that may be typed.

These tests read the files only; nbval runs them.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
TOC = ROOT / "book" / "_toc.yml"
MAX_BYTES = 100_000
KERNEL = "audiogen"  # registered by `make install` / `make lab` (the project's venv)
OBJECTIVES, SUMMARY, EXERCISES = "## What you will learn", "## Summary", "## Exercises"
CHECK_TAG = "nbval-check-output"
# What a checked cell's stored outputs may hold: text, never rich media.
TEXT_MIME = {"text/plain"}


def toc_notebooks() -> list[str]:
    """The toc's entries under notebooks/, as ``notebooks/NAME`` (no extension)."""
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    try:
        import execute_chapters  # reads the toc for `make book` too
    finally:
        sys.path.pop(0)
    return [d for d in execute_chapters.toc_documents(TOC) if d.startswith("notebooks/")]


NOTEBOOK_PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
# Appendix pages (A_*.ipynb) are reference tables a chapter points to, not lessons: they keep every rule
# but the lesson's shape (objectives first, summary and exercises last).
CHAPTER_PATHS = [p for p in NOTEBOOK_PATHS if not p.name.startswith("A_")]


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
        checked = CHECK_TAG in cell.get("metadata", {}).get("tags", [])
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
            problems.append(f"cell {i} ({CHECK_TAG}): a stored {kind} output "
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


@pytest.mark.parametrize("path", CHAPTER_PATHS, ids=lambda p: p.name)
def test_opens_with_title_and_objectives(path):
    cells = load(path)["cells"]
    assert cells and cells[0]["cell_type"] == "markdown", f"{path.name}: the first cell must be markdown"
    first = headings(cells[0])
    assert first and first[0].startswith("# "), f"{path.name}: the first cell must open with a `# Title`"
    assert OBJECTIVES in first, f"{path.name}: the first cell must contain the heading `{OBJECTIVES}`; it has {first}"


@pytest.mark.parametrize("path", CHAPTER_PATHS, ids=lambda p: p.name)
def test_ends_with_summary_and_exercises(path):
    sections = [h for cell in load(path)["cells"] for h in headings(cell) if h.startswith("## ")]
    assert sections[-2:] == [SUMMARY, EXERCISES], (
        f"{path.name}: the last two sections must be `{SUMMARY}` then `{EXERCISES}`; they are {sections[-2:]}")


# --- no typed-in figures -------------------------------------------------------------------------

# The figures a Markdown cell may state as typed: reference figures from the literature and
# configuration values (or arithmetic on them), which do not change when a model is retrained or a
# measurement rerun. Keep it short; anything measured is set on `prose` in a code cell instead. Every entry
# must still be used somewhere (test_every_allowed_figure_is_still_used).
ALLOWED_NUMBERS = {
    "8,000": "FSDD's sample rate, and the native8k config's",
    "22,050": "the paper config's sample rate (the study's, librosa's default)",
    "3,000": "FSDD's size as its documentation gives it: 6 speakers x 10 digits x 50 takes",
    "1,000,000": "the study's weight alpha on the reconstruction term (the library's default)",
    "95%": "the confidence level of every interval",
    "90%": "the two one-sided tests' interval (TOST at the 5% level)",
    "1%": "a share asked for in an exercise, and batch normalisation's momentum (1 - 0.99)",
    "99%": "batch normalisation's momentum (Keras default 0.99)",
    "50%": "the paper config's STFT overlap (hop = n_fft / 2)",
    "75%": "the native8k config's STFT overlap (hop 128 of n_fft 510, about three quarters)",
    "64%": "1 - 8000/22050: the share of the paper config's bins above 4 kHz, from the two sample rates",
    "163 of the 256": "the paper config's rows above 4 kHz (rows 93-255 of its 256), from the config",
    "150 epochs": "the study's epoch cap for the VAE (its paper profile)",
    "30 epochs": "the study's epoch cap for the U-Net (its paper profile)",
    "5 epochs": "the study's convergence claim, quoted (\"the U-Net plateaus within about 5 epochs\")",
    "10 ms": "the excerpt of a sine a figure shows (chapter 1), an input to the plot",
    "8 ms": "a short STFT frame chosen for the time-frequency trade-off figure (chapter 2), an input",
    "256 ms": "a long STFT frame chosen for the same figure, an input",
    "384 ms": "STOI's analysis segment (Taal et al. 2011)",
}

_FENCE_CODE = re.compile(r"^(```+|~~~+)(?!\{).*?^\1", re.S | re.M)         # a code block (not a {directive})
_FENCE_LINE = re.compile(r"(?m)^(```+|~~~+).*$|^:[\w-]+:.*$")              # a directive's fences and :options:
_INDENTED_CODE = re.compile(r"(?m)^(?: {4}|\t).*$")
_ROLE = re.compile(r"\{(?!math\})[\w:-]+\}`[^`]*`")                          # {eval}`prose.k`, {cite}`k`, {doc}`p`
_CODE_SPAN = re.compile(r"``([^`\n]+)``|`([^`\n]+)`")
# a code span that is a figure, not code: `0.069`, `4.2 dB`, `87%`, `1,030 steps` (no call, no assignment)
_FIGURE_SPAN = re.compile(r"^\s*[-+]?\d[\d.,]*\s*(?:\\?%|[A-Za-z]+(?: [A-Za-z]+)?)?\s*$")
_LINK = re.compile(r"(?:https?://|doi:)\S+|\]\([^)]*\)")
_VERSION = re.compile(r"\bv?\d+\.\d+\.\d+\b|\bCC[ -]BY(?:-[A-Z]+)* \d+\.\d+")  # 1.0.10, CC BY-SA 4.0
_FIGURE = re.compile(
    # a percentage (87%, 87.5 %, 87\% in LaTeX, 87 per cent)
    r"(?<![\w.])(\d+(?:\.\d+)?)\s*(?:\\?%|per ?cent\b)"
    # a count of a total: "286 of 300", "163 of the 256"
    r"|(?<![\w.,])(\d{1,3}(?:,\d{3})*\s+of\s+(?:the\s+)?\d{1,3}(?:,\d{3})*)(?![\w.])"
    # epochs run or a time measured: "149 epochs", "epoch 27", "12 ms", "3 minutes"
    r"|(?<![\w.,])(\d+\s+epochs?|epochs?\s+\d+|\d+(?:\.\d+)?(?:\s*(?:ms|seconds?|min|minutes?|hours?)|\s+s))(?![\w.])"
    # a decimal (0.8, 3.10) or a number with thousands separators (1,030; 16{,}384 in LaTeX; 2,400.5)
    r"|(?<![\w.])(\d{1,3}(?:(?:,|\{,\})\d{3})+(?:\.\d+)?|\d+\.\d+)(?![\w])")


def _figure_text(groups: tuple) -> str:
    pct, count, measured, number = groups
    if pct:
        return f"{pct}%"
    return re.sub(r"\s+", " ", (count or measured or number).replace("{,}", ","))


def typed_numbers(markdown: str) -> list[str]:
    """The figures typed into one Markdown cell's prose: decimals, numbers with thousands separators,
    percentages, counts of a total ("286 of 300"), epochs ("149 epochs", "epoch 27") and times ("12 ms").

    Scanned: the prose, headings, tables, ``$...$`` and ``$$...$$`` math, {math} roles, the text inside
    MyST directives (a dropdown solution is prose too), and inline code spans that hold a figure rather
    than code (`` `0.069` ``, `` `87%` ``). Not scanned: ``{eval}`` roles (the figure comes from code)
    and other roles' targets ({cite}, {doc}, {term}); fenced and indented code blocks and code spans
    that are code (a call, an assignment: a reader's inputs); link targets and DOIs; version numbers
    (1.0.10) and licence names (CC BY-SA 4.0). Plain integers in other places (6 speakers, 256 rows)
    are not detected: most are configuration, and the shapes above are those measurements take.
    """
    text = _FENCE_CODE.sub("", markdown)
    text = _INDENTED_CODE.sub("", _FENCE_LINE.sub("", text))
    for pattern in (_ROLE, _LINK, _VERSION):
        text = pattern.sub(" ", text)
    text = _CODE_SPAN.sub(lambda m: f" {m.group(1) or m.group(2)} "
                          if _FIGURE_SPAN.match(m.group(1) or m.group(2)) else " ", text)
    return [_figure_text(m) for m in _FIGURE.findall(text)]


def test_typed_numbers_finds_prose_math_percentages_counts_and_figure_spans_but_not_eval_or_code():
    cell = ("RMSE 0.069 after 1,030 steps ($16{,}384$ pixels), {eval}`f\"{prose.rmse:.3f}\"`, `alpha=0.5`, "
            "FSDD 1.0.10 under CC BY-SA 4.0 ({cite}`fsdd`, doi:10.5281/zenodo.1342401)\n"
            "```python\nx = 0.25\n```\n```{admonition} Solution\n:class: dropdown\nabout 43.07 Hz\n```\n"
            "88.7% heard (the six 50 per cent, $12\\%$), 286 of 300 clips, 163 of the 256 rows, best at epoch 27 "
            "of 149 epochs, 12 ms per clip, in `0.31 s`, `7`, `n_fft=512`, 6 speakers, $\\frac{1}{2s^2}$")
    assert typed_numbers(cell) == ["0.069", "1,030", "16,384", "43.07", "88.7%", "50%", "12%", "286 of 300",
                                   "163 of the 256", "epoch 27", "149 epochs", "12 ms", "0.31 s"]


def _typed_in(path) -> list[tuple[int, str]]:
    return [(i, n) for i, cell in enumerate(load(path)["cells"]) if cell["cell_type"] == "markdown"
            for n in typed_numbers(source(cell))]


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=lambda p: p.name)
def test_markdown_states_no_typed_in_figures(path):
    """Every figure the prose states comes from code, unless it is in ALLOWED_NUMBERS.

    A measured or computed number is set in a code cell (``prose.key = f"{value:.3f}"``, on the
    ``prose = SimpleNamespace()`` of the chapter's first code cell) and shown with
    ``{eval}`prose.key``` in the Markdown; a figure from a run too long for the book
    is read from a JSON result that records its provenance (``results/measured.json``).
    """
    found = [f"cell {i}: {n}" for i, n in _typed_in(path) if n not in ALLOWED_NUMBERS]
    assert not found, (f"{path.name} types figures into its Markdown; set them on `prose` in code (or add a literature "
                       f"or config value to ALLOWED_NUMBERS, with why):\n  " + "\n  ".join(found))


def test_every_allowed_figure_is_still_used():
    """An allow-list entry that no notebook types any more is a hole left open: it goes."""
    used = {n for path in NOTEBOOK_PATHS for _, n in _typed_in(path)}
    assert not set(ALLOWED_NUMBERS) - used, f"ALLOWED_NUMBERS entries no notebook uses: {set(ALLOWED_NUMBERS) - used}"


# --- code fits its box in the book ---------------------------------------------------------------

# The longest line a code box of the built book shows without a horizontal scrollbar. Measured in
# headless Chromium at tests/test_book.py's viewport (1280 x 900) on the smoke build's chapter pages
# (sphinx-book-theme, its default monospace font: 14 px DejaVu Sans Mono here, 8.43 px a character):
# a cell's input box (`.cell_input pre`, 684 px wide with its padding) and a Markdown code block hold
# 77 characters, and 78 scroll; an output box holds 78. A cell tagged hide-cell or hide-input shows its
# code inside a collapsible `details.admonition`, a Markdown code block inside a directive (a
# dropdown solution) sits in the admonition's padding too: 75 characters there (666 px). Other fonts
# that the theme asks for first (ui-monospace, Cascadia Code, Menlo, Consolas) are no wider. The box
# narrows with the window (69 characters at 1200 px, where the page's contents column appears), so
# the check is for the test's viewport. test_book.py's browser test measures the same on every page.
MAX_CODE_COLUMNS = 77
MAX_HIDDEN_CODE_COLUMNS = 75
HIDDEN_INPUT_TAGS = {"hide-cell", "hide-input"}    # the input inside a collapsible box
HIDDEN_OUTPUT_TAGS = {"hide-cell", "hide-output"}  # the output inside one
REMOVED_TAGS = {"remove-cell", "remove-input"}     # not in the book at all (the Colab guard cell)
_FENCE_OPEN = re.compile(r"^\s*(`{3,}|~{3,}|:{3,})\s*(\{[^}]*\})?")


def markdown_code_lines(markdown: str) -> list[tuple[int, str, bool]]:
    """``(line number, line as shown, inside a directive)`` for each line of a code block in a
    Markdown cell: fenced, or indented by four spaces after a blank line (shown without the four).

    A fence with ``{...}`` (an admonition, a dropdown) or of colons opens a directive, whose body is
    Markdown again; any other fence opens code, closed by a fence of at least its length. Indented
    lines under a list item are the item's text, not code.
    """
    out, stack = [], []   # the open fences, outermost first: (marker, is code)
    indented, after_blank, in_list = False, True, False
    for number, line in enumerate(markdown.splitlines(), 1):
        stripped = line.strip()
        if stack and stack[-1][1]:
            marker = stack[-1][0]
            if stripped.startswith(marker) and not stripped.strip(marker[0]):
                stack.pop()
            else:
                out.append((number, line, len(stack) > 1))
            continue
        if line.startswith(("    ", "\t")) and (indented or after_blank) and not in_list:
            indented = True
            out.append((number, line.expandtabs(4)[4:], bool(stack)))
            continue
        indented = False
        after_blank = not stripped
        if stripped:
            in_list = bool(re.match(r"\s*([-*+]|\d+[.)])\s", line)) or (in_list and line[:1].isspace())
        m = _FENCE_OPEN.match(line)
        if not m:
            continue
        marker, directive = m.groups()
        if stack and not directive and stripped.startswith(stack[-1][0]) and not stripped.strip(marker[0]):
            stack.pop()                                                      # the directive's end
        else:
            stack.append((marker, marker[0] != ":" and not directive))
        after_blank = True   # a directive's first line of text may be indented code
    return out


def test_markdown_code_lines_sees_code_in_and_out_of_directives():
    cell = ("Text\n```python\nx = 1\n```\n````{admonition} Solution\n:class: dropdown\nsome prose\n"
            "```python\ny = 2\n```\n````\n:::{note}\n~~~\nz = 3\n~~~\n:::\n```{math}\na^2\n```\n"
            "\n    w = 4\n    v = 5\n- an item\n\n    its second paragraph\n")
    assert markdown_code_lines(cell) == [(3, "x = 1", False), (9, "y = 2", True), (14, "z = 3", True),
                                         (21, "w = 4", False), (22, "v = 5", False)]


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=lambda p: p.name)
def test_code_fits_its_box_in_the_book(path):
    """No code line (a cell's, or a Markdown code block's) and no stored output line is wider than
    the book's code box (MAX_CODE_COLUMNS, MAX_HIDDEN_CODE_COLUMNS: see there how they were
    measured); a wider one gets a horizontal scrollbar. Cells the book leaves out are not checked."""
    problems = []
    for i, cell in enumerate(load(path)["cells"]):
        text = source(cell)
        if cell["cell_type"] == "markdown":
            for n, line, nested in markdown_code_lines(text):
                limit = MAX_HIDDEN_CODE_COLUMNS if nested else MAX_CODE_COLUMNS
                if len(line) > limit:
                    problems.append(f"cell {i} (markdown code{' in a directive' if nested else ''}), "
                                    f"line {n}: {len(line)} > {limit} characters: {line.strip()[:60]}")
            continue
        if cell["cell_type"] != "code":
            continue
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & REMOVED_TAGS:
            continue
        limit = MAX_HIDDEN_CODE_COLUMNS if tags & HIDDEN_INPUT_TAGS else MAX_CODE_COLUMNS
        for n, line in enumerate(text.splitlines(), 1):
            if len(line) > limit:
                problems.append(f"cell {i}, line {n}: {len(line)} > {limit} characters: {line.strip()[:60]}")
        limit = MAX_HIDDEN_CODE_COLUMNS if tags & HIDDEN_OUTPUT_TAGS else MAX_CODE_COLUMNS
        for out in cell.get("outputs", []):
            stored = out.get("text") or out.get("data", {}).get("text/plain", "")
            for n, line in enumerate(("".join(stored) if isinstance(stored, list) else stored).splitlines(), 1):
                if len(line) > limit:
                    problems.append(f"cell {i}, stored output line {n}: {len(line)} > {limit} characters: "
                                    f"{line.strip()[:60]}")
    assert not problems, (f"{path.name}: lines wider than the book's code box; break the call over lines, "
                          "put a trailing comment on its own line above, or print fewer columns:\n  "
                          + "\n  ".join(problems))


# --- the same chapter in JupyterLab --------------------------------------------------------------

# What the book hides (Jupyter Book's cell tags) JupyterLab hides too: a cell's
# metadata.jupyter.source_hidden / outputs_hidden collapse its input / output there, until the
# learner clicks the collapsed bar. An exercise's answer (hide-cell) stays closed until opened.
HIDDEN_IN_LAB = {  # tag: (source_hidden, outputs_hidden)
    "remove-cell": (True, True), "hide-cell": (True, True),
    "remove-input": (True, False), "hide-input": (True, False),
    "remove-output": (False, True), "hide-output": (False, True),
}


def lab_hidden(tags) -> tuple[bool, bool]:
    """``(source_hidden, outputs_hidden)`` that a cell with these tags has in JupyterLab."""
    return (any(HIDDEN_IN_LAB[t][0] for t in tags if t in HIDDEN_IN_LAB),
            any(HIDDEN_IN_LAB[t][1] for t in tags if t in HIDDEN_IN_LAB))


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=lambda p: p.name)
def test_jupyterlab_hides_what_the_book_hides(path):
    problems = []
    for i, cell in enumerate(load(path)["cells"]):
        meta = cell.get("metadata", {})
        want = lab_hidden(meta.get("tags", []))
        jup = meta.get("jupyter", {})
        have = (bool(jup.get("source_hidden")), bool(jup.get("outputs_hidden")))
        if have != want:
            problems.append(f"cell {i} (tags {meta.get('tags', [])}): jupyter source_hidden, outputs_hidden "
                            f"{have}, expected {want}")
    assert not problems, (f"{path.name}: cell tags and JupyterLab's metadata.jupyter disagree (re-run the "
                          "conversion, or in JupyterLab collapse the cell's input/output as the tags say):\n  "
                          + "\n  ".join(problems))


_EVAL = re.compile(r"\{eval\}`([^`]*)`")
_EVAL_FORMS = re.compile(r"""prose\.[A-Za-z_]\w*|f(["'])\{prose\.[A-Za-z_]\w*(:[^{}"'!]*)?\}\1""")


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=lambda p: p.name)
def test_numbers_in_prose_render_in_book_and_jupyterlab(path):
    """Numbers in the prose are ``{eval}`prose.key``` (or ``{eval}`f"{prose.key:.2f}"```), which
    both the book (book/_ext/prose_eval.py) and jupyterlab-myst evaluate; ``{glue}`` roles show
    their key in JupyterLab and myst_nb.glue is not needed any more; no NBVAL comment shows."""
    problems = []
    for i, cell in enumerate(load(path)["cells"]):
        text = source(cell)
        if cell["cell_type"] == "markdown":
            problems += [f"cell {i}: {m.group(0)} (JupyterLab shows the key)"
                         for m in re.finditer(r"\{glue(:\w+)?\}`[^`]*`", text)]
            problems += [f"cell {i}: {{eval}}`{e}` is not prose.<name> or f\"{{prose.<name>:<format>}}\""
                         for e in _EVAL.findall(text) if not _EVAL_FORMS.fullmatch(e.strip())]
        elif cell["cell_type"] == "code":
            if re.search(r"^\s*from myst_nb import glue|^\s*glue\(", text, re.M):
                problems.append(f"cell {i}: uses myst_nb.glue; set prose.<name> instead")
            if re.search(r"#\s*NBVAL_", text):
                problems.append(f"cell {i}: an NBVAL comment shows in the book; use the cell tag nbval-check-output")
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)


def _prose_names(code: str) -> list[re.Pattern]:
    """Patterns of the prose names a notebook's code sets: ``prose.key = ...``,
    ``setattr(prose, "key", ...)`` and ``setattr(prose, f"{name}_key", ...)`` (any name there)."""
    found = [re.escape(k) for k in re.findall(r"\bprose\.([A-Za-z_]\w*)\s*=(?!=)", code)]
    for quote, key in re.findall(r"setattr\(\s*prose,\s*f?(['\"])(.*?)\1", code):
        found.append(re.sub(r"\\\{[^}]*\\\}", r"\\w+", re.escape(key)))
    if re.search(r"setattr\(\s*prose,\s*[A-Za-z_]\w*\s*,", code):   # setattr(prose, key, value): names in a loop
        found.append(r"\w+")
    return [re.compile(p) for p in found]


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=lambda p: p.name)
def test_every_number_in_the_prose_is_set_by_the_code(path):
    """Each ``{eval}`prose.key``` names a value some code cell sets (read from the file: the build
    and JupyterLab evaluate them, this finds a typo in seconds)."""
    cells = load(path)["cells"]
    code = "\n".join(source(c) for c in cells if c["cell_type"] == "code")
    names = _prose_names(code)
    missing = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        for expr in _EVAL.findall(source(cell)):
            m = re.search(r"prose\.([A-Za-z_]\w*)", expr)
            if m and not any(p.fullmatch(m.group(1)) for p in names):
                missing.append(f"cell {i}: {{eval}}`{expr}`")
    assert not missing, f"{path.name}: prose names no code cell sets:\n  " + "\n  ".join(missing)


def test_prose_names_reads_assignments_and_setattr():
    code = ('prose.a = 1\nsetattr(prose, "b", 2)\nfor name in ("x", "y"):\n'
            '    setattr(prose, f"{name}_c", 3)\nif prose.a == 1: pass\n')
    names = _prose_names(code)
    assert [n for n in ("a", "b", "x_c", "paper_c") if any(p.fullmatch(n) for p in names)] == ["a", "b", "x_c", "paper_c"]
    assert not any(p.fullmatch("d") for p in names)


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=lambda p: p.name)
def test_answers_say_what_they_hide(path):
    """A collapsed cell shows its first line in JupyterLab: an answer (hide-cell) opens with
    ``# Solution``, so that the line says what is inside without giving it away."""
    bad = [i for i, c in enumerate(load(path)["cells"]) if c["cell_type"] == "code"
           and "hide-cell" in c.get("metadata", {}).get("tags", []) and not source(c).startswith("# Solution")]
    assert not bad, f"{path.name}: hide-cell cells {bad} do not open with `# Solution`"
