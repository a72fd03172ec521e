"""Numbers in the prose, one mechanism for the book and for JupyterLab: ``{eval}`prose.name```.

A chapter sets the figures its text quotes on a namespace, in the code that computes them::

    from types import SimpleNamespace
    prose = SimpleNamespace()                 # the numbers the text quotes
    ...
    prose.rmse_study = f"{rmse_study:.3f}"

and its Markdown says ``{eval}`prose.rmse_study```. In JupyterLab, jupyterlab-myst evaluates
the expression in the notebook's kernel when the cell is run (Run All shows every number).
myst-nb evaluates ``{eval}`` only in its ``inline`` execution mode, which runs every notebook at
every build (no jupyter-cache) and, in myst-nb 1.4, does not run a ``remove-cell`` cell before the
Markdown after it. So this extension gives the ``cache`` mode the same role:

* before a notebook whose Markdown uses ``{eval}`` is executed (or looked up in the cache), one
  code cell is appended to it, ``PROSE_CELL``: it displays ``vars(prose)``, each value formatted
  by IPython as ``{eval}`` would (its ``text/plain`` repr; myst-nb strips a string's quotes).
  Its code never changes, so editing the prose never invalidates the cache, and its output is
  cached with the notebook's;
* ``{eval}`prose.name``` then reads ``name`` from that output, and
  ``{eval}`f"{prose.name:.2f}"``` formats a number there, as Python would. The values are those at the end
  of the notebook (as ``glue`` gave them); each name is set once, so they are the values the
  cell that set them computed, as in JupyterLab.

The appended cell is not rendered (it is added after the page's cells were parsed) and is
removed again before myst-nb writes the executed notebook. Any other ``{eval}`` expression
fails the build with a message saying what to write instead.
"""

from __future__ import annotations

import re

import nbformat

NAMESPACE = "prose"
MIME = "application/vnd.audiogen.prose+json"
MARK = "audiogen-prose-values"   # the appended cell's metadata key, to find it again
_EXPRESSION = re.compile(rf"^\s*{NAMESPACE}\.([A-Za-z_]\w*)\s*$")
# f"{prose.name:.2f}": a number formatted in the prose itself
_FORMATTED = re.compile(rf"""^\s*f(["'])\{{{NAMESPACE}\.([A-Za-z_]\w*)(?::([^{{}}"'!]*))?\}}\1\s*$""")
_USES_EVAL = re.compile(r"\{eval\}`")

PROSE_CELL = f"""\
# Added by book/_ext/prose_eval.py at build time: the values {{eval}}`{NAMESPACE}.name` shows.
def _audiogen_prose_values():
    import math
    import numbers

    from IPython import get_ipython
    from IPython.display import display

    shell = get_ipython()
    ns = shell.user_ns.get("{NAMESPACE}")
    items = dict(vars(ns)).items() if ns is not None else {{}}.items()
    values = {{k: shell.display_formatter.format(v)[0] for k, v in items}}
    # numbers also as numbers, for f"{{{NAMESPACE}.name:.2f}}"
    raw = {{k: (v if isinstance(v, int) else float(v)) for k, v in items
           if isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)}}
    display({{"{MIME}": {{"values": values, "numbers": raw}}}}, raw=True)
_audiogen_prose_values()
del _audiogen_prose_values
"""


def uses_eval(notebook) -> bool:
    return any(c.get("cell_type") == "markdown" and _USES_EVAL.search(c.get("source", ""))
               for c in notebook.get("cells", []))


def prose_values(notebook) -> dict[str, dict] | None:
    """``{"values": {name: mime bundle}, "numbers": {name: number}}`` from the appended cell's
    output, or None if it has none."""
    for cell in reversed(notebook.get("cells", [])):
        if cell.get("metadata", {}).get(MARK):
            for out in cell.get("outputs", []):
                if MIME in out.get("data", {}):
                    return dict(out["data"][MIME])
            return None
    return None


def prose_cell():
    """The code cell appended to a notebook that uses ``{eval}``: ``PROSE_CELL``, marked and
    removed from the page. Its source and metadata are part of the notebook's jupyter-cache key,
    so whoever executes a chapter for the cache (tests/nbval_book_cache.py) appends this same cell."""
    cell = nbformat.v4.new_code_cell(PROSE_CELL)
    cell.metadata[MARK] = True
    cell.metadata["tags"] = ["remove-cell"]
    return cell


def _strip(notebook) -> None:
    cells = notebook.get("cells", [])
    if cells and cells[-1].get("metadata", {}).get(MARK):
        cells.pop()


class _ProseClient:
    """Wraps myst-nb's execution client: appends PROSE_CELL, answers {eval}, removes the cell."""

    def __init__(self, client, notebook):
        self._client, self._notebook = client, notebook

    def __enter__(self):
        client = self._client.__enter__()
        values = prose_values(client.notebook)

        def eval_variable(expression: str):
            m, f = _EXPRESSION.match(expression), _FORMATTED.match(expression)
            if not (m or f):
                raise ValueError(
                    f"the book evaluates only `{NAMESPACE}.<name>` and `f\"{{{NAMESPACE}.<name>:<format>}}\"` "
                    f"in {{eval}} (book/_ext/prose_eval.py), not {expression!r}: set `{NAMESPACE}.<name> = ...` "
                    "in a code cell")
            if values is None:
                raise ValueError("no values for {eval}: the notebook did not run to its end")
            name = m.group(1) if m else f.group(2)
            if name not in values["values"]:
                raise ValueError(f"`{NAMESPACE}.{name}` is not set by any code cell of this notebook")
            if m:
                return [nbformat.v4.new_output("display_data", data=values["values"][name])]
            if name not in values["numbers"]:
                raise ValueError(f"`{NAMESPACE}.{name}` is not a number: {expression!r} cannot format it here")
            text = format(values["numbers"][name], f.group(3) or "")
            return [nbformat.v4.new_output("display_data", data={"text/plain": text})]

        client.eval_variable = eval_variable
        return client

    def __exit__(self, *exc):
        try:
            return self._client.__exit__(*exc)
        finally:
            _strip(self._notebook)
            _strip(self._client.notebook)


def _wrap(create_client):
    def create_client_with_prose(notebook, source, nb_config, logger, read_fmt=None):
        if nb_config.execution_mode not in ("cache", "force", "auto") or not uses_eval(notebook):
            return create_client(notebook, source, nb_config, logger, read_fmt)
        notebook.cells.append(prose_cell())
        return _ProseClient(create_client(notebook, source, nb_config, logger, read_fmt), notebook)

    create_client_with_prose.__wrapped__ = create_client
    return create_client_with_prose


def setup(app):
    import myst_nb.sphinx_ as sphinx_

    if not hasattr(sphinx_.create_client, "__wrapped__"):
        sphinx_.create_client = _wrap(sphinx_.create_client)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
