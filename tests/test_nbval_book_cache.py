"""A chapter nbval ran goes into the book's jupyter-cache exactly as myst-nb would have run it.

Two small notebooks go through nbval with the plugin (tests/nbval_book_cache.py) in a pytest of
their own: one that passes, with the outputs a replay could get wrong (a result hidden by a trailing
``;`` after a cell without one, a display updated by its id, an output cleared, a progress widget,
``{eval}`` prose), and one whose second cell fails. The passing one must be found in the cache under
the key myst-nb computes and carry the outputs nbclient (myst-nb's executor) gives it; the failing
one must not be cached at all.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from nbval_book_cache import book_notebook  # noqa: E402

CELLS = [
    "from types import SimpleNamespace\nprose = SimpleNamespace()\nprose.answer = 6 * 7",
    "import matplotlib\nmatplotlib.use('agg')\nimport matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot([1, 2]);",
    "prose.answer + 1",          # a result that shows, after a cell ending in ";"
    "from IPython.display import display, clear_output\nh = display('first', display_id=True)\nh.update('second')",
    "print('gone')\nclear_output()\nprint('kept')",
    "import ipywidgets\nw = ipywidgets.IntSlider(3)\nw",
    "import sys\nprint('to stderr', file=sys.stderr)\nprint('to stdout')",
]


def _notebook(cells, markdown="The answer is {eval}`prose.answer`."):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "audiogen", "display_name": "Python 3 (audiogen)", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(markdown)] + [nbformat.v4.new_code_cell(c) for c in cells]
    return nb


def _outputs(nb):
    """Each code cell's outputs as a reader sees them: type, stream name and text, data (no memory addresses)."""
    out = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        seen = []
        for o in cell.outputs:
            data = {k: v for k, v in o.get("data", {}).items() if k != "image/png"}
            data = re.sub(r'"model_id": "\w+"', '"model_id": "<id>"', json.dumps(data, sort_keys=True))
            seen.append((o.output_type, o.get("name"), o.get("text"), data))
        out.append(seen)
    return out


def test_nbval_puts_a_passing_notebook_into_the_cache_as_myst_nb_would_and_skips_a_failing_one(tmp_path):
    from jupyter_cache import get_cache
    from nbclient import NotebookClient

    good, bad = tmp_path / "good.ipynb", tmp_path / "bad.ipynb"
    nbformat.write(_notebook(CELLS), good)
    nbformat.write(_notebook(["x = 1", "raise ValueError('a failing cell')", "x"]), bad)
    cache = tmp_path / "cache"
    env = dict(os.environ, AUDIOGEN_PROFILE="smoke", PYTHONPATH=str(Path(__file__).parent))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "nbval_book_cache", "-p", "no:cacheprovider",
                           "--nbval-lax", "--nbval-current-env", "--book-cache", str(cache), "-q",
                           "--rootdir", str(tmp_path), str(good), str(bad)],
                          cwd=tmp_path, env=env, capture_output=True, text=True)
    assert "1 failed" in proc.stdout and f"{len(CELLS) + 2} passed" in proc.stdout, proc.stdout + proc.stderr

    store = get_cache(str(cache))
    with pytest.raises(KeyError):
        store.match_cache_notebook(book_notebook(bad)[0])          # a failed chapter is left to the book build
    key, with_prose = book_notebook(good)
    assert with_prose and key.metadata.kernelspec["name"] == "python3"  # _config.yml's alias, as myst-nb applies it
    cached = store.get_cache_bundle(store.match_cache_notebook(key).pk).nb

    expected = book_notebook(good)[0]
    NotebookClient(expected, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert _outputs(cached) == _outputs(expected)
    assert [c.execution_count for c in cached.cells if c.cell_type == "code"] == \
           [c.execution_count for c in expected.cells if c.cell_type == "code"]
    code = [c for c in cached.cells if c.cell_type == "code"]      # the cache keeps code cells only
    view = next(o for o in code[5].outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {}))
    state = cached.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert view.data["application/vnd.jupyter.widget-view+json"]["model_id"] in state   # the view can be drawn
    shown = _outputs(cached)
    assert shown[1] == [] and "43" in shown[2][0][3]                 # ";" hides a result, the next cell's shows
    assert "second" in shown[3][0][3] and [o[2] for o in shown[4]] == ["kept\n"]
    assert "42" in shown[-1][0][3]                                   # the prose cell's values, for {eval}


def test_make_books_parallel_run_stores_a_notebook_once_under_myst_nbs_key_and_leaves_a_failing_one(tmp_path):
    """book/_ext/execute_chapters.py (``make book`` runs it before the build): the same key as above,
    a second run finds the notebook cached instead of running it, a failing notebook is not stored."""
    from jupyter_cache import get_cache

    from nbval_book_cache import _execute_chapters

    chapters = _execute_chapters()
    good, bad = tmp_path / "good.ipynb", tmp_path / "bad.ipynb"
    nbformat.write(_notebook(CELLS[:3]), good)
    nbformat.write(_notebook(["x = 1", "raise ValueError('a failing cell')"]), bad)
    cache = tmp_path / "cache"
    name, seconds, what = chapters.execute_one(good, cache)
    assert (name, what) == ("good.ipynb", "executed") and seconds > 0
    assert chapters.execute_one(good, cache)[1:] == (None, "cached already")
    assert chapters.execute_one(bad, cache)[2].startswith("failed (")
    store = get_cache(str(cache))
    with pytest.raises(KeyError):
        store.match_cache_notebook(book_notebook(bad)[0])
    record = store.match_cache_notebook(book_notebook(good)[0])
    assert record.data["execution_seconds"] == seconds
    shown = _outputs(store.get_cache_bundle(record.pk).nb)
    assert "43" in shown[2][0][3] and "42" in shown[-1][0][3]       # the cells' and the prose cell's values
