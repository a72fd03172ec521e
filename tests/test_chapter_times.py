"""book/_ext/chapter_times.py counts what a learner meets on a chapter's page."""

import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))
import chapter_times  # noqa: E402

TABLE = "| a | b |\n|---|---:|\n| 1 | 2 |\n"


def _chapter():
    v4 = nbformat.v4
    shown = v4.new_code_cell("show()", outputs=[
        v4.new_output("display_data", data={"text/markdown": "Scores\n\n" + TABLE}),
        v4.new_output("display_data", data={"text/html": "<table><tr><td>1</td></tr></table>",
                                            "image/png": "iVBORw0KGgo="})])
    hidden = v4.new_code_cell("plumbing()", metadata={"tags": ["remove-cell"]}, outputs=[
        v4.new_output("display_data", data={"text/markdown": TABLE})])
    return v4.new_notebook(cells=[
        v4.new_markdown_cell("# A chapter\n\nTwo words.\n\n" + TABLE + "\n```\n" + TABLE + "```"),
        shown, hidden,
        v4.new_markdown_cell("## Exercises\n\n1. One.\n2. Two."),
    ])


def test_chapter_counts_tables_figures_code_and_exercises_a_reader_sees():
    nb = _chapter()
    counts = chapter_times.chapter_counts(nb, nb)
    # the prose's table, the Markdown output's and the HTML output's; not the one in a code
    # block, nor the removed cell's
    assert counts["tables"] == 3
    assert (counts["figures"], counts["code_cells"], counts["exercises"]) == (1, 1, 2)


def test_chapter_counts_refuses_an_executed_notebook_of_other_code():
    nb = _chapter()
    other = _chapter()
    other.cells[1].source = "something_else()"
    with pytest.raises(ValueError, match="code differs"):
        chapter_times.chapter_counts(nb, other)
