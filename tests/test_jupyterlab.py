"""A chapter in JupyterLab, as a learner runs it: the numbers in its prose and its closed answers.

The venv's JupyterLab (with jupyterlab-myst, as ``make lab`` starts it) is started headless on a
free local port with a token, in folders of its own (config, data, runtime, workspaces, user
settings: nothing of the user's is read or written; autosave off, so the chapter's file is never
written), with the environment's own defaults (``make install`` writes them to JupyterLab's
``settings/overrides.d/audiogen.json``:
every cell drawn, ``windowingMode: none``, else jupyterlab-myst evaluates the expressions of
the Markdown cells on screen only). Headless Chromium (Debian's, as for tests/test_book.py) opens one short chapter
(``CHAPTER``, the cheapest of the smoke profile), runs it with Run All and checks:

* Run All finishes without an error;
* every ``{eval}`` of its Markdown was evaluated by jupyterlab-myst without error (its result is
  in the cell's ``user_expressions`` metadata), ``{eval}`prose.name``` shows the kernel's
  ``str(prose.name)``, each result appears in the cell's rendered text where the cell is drawn,
  and no expression is left raw (``prose.name`` as code);
* what the book hides is hidden: cells tagged ``remove-cell`` / ``hide-cell`` have input and
  outputs collapsed when the chapter opens, and their input still after Run All (JupyterLab
  opens the outputs of every cell it runs: a ``hide-cell`` answer's printed result then shows
  under its collapsed code); ``remove-input`` / ``hide-input`` their input
  (tests/test_notebooks_meta.py checks the metadata; this checks JupyterLab honours it); no
  Markdown dropdown (a solution) is open.

A screenshot goes to ``test-artifacts/screenshots/jupyterlab__<chapter>.png``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "notebooks/01_digital_audio.ipynb"   # 20 s with the smoke profile, 36 numbers in its prose
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
RUN_TIMEOUT_S = 300

pytestmark = pytest.mark.browser

_EVAL = re.compile(r"\{eval\}`([^`]*)`")
_PLAIN = re.compile(r"^prose\.([A-Za-z_]\w*)$")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _jupyter_lab() -> list[str]:
    exe = Path(sys.executable).with_name("jupyter-lab")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "jupyterlab"]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """``(url, token)`` of a JupyterLab serving the repository, stopped after the module."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install it with `make chromium`", pytrace=False)
    from jupyter_client.kernelspec import KernelSpecManager

    kernel = json.loads((ROOT / CHAPTER).read_text(encoding="utf8"))["metadata"]["kernelspec"]["name"]
    if kernel not in KernelSpecManager().find_kernel_specs():
        pytest.fail(f"the chapter's kernel {kernel!r} is not registered: run `make install`", pytrace=False)
    home = tmp_path_factory.mktemp("jupyterlab")
    settings = home / "settings" / "@jupyterlab" / "docmanager-extension"
    settings.mkdir(parents=True)
    (settings / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}), encoding="utf8")
    from jupyterlab.commands import get_app_dir

    overrides = Path(get_app_dir()) / "settings" / "overrides.d" / "audiogen.json"
    if json.loads(overrides.read_text(encoding="utf8") if overrides.exists() else "{}").get(
            "@jupyterlab/notebook-extension:tracker", {}).get("windowingMode") != "none":
        pytest.fail(f"{overrides} does not set windowingMode none (`make install` writes it): JupyterLab would "
                    "evaluate the numbers of the Markdown cells on screen only", pytrace=False)
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, AUDIOGEN_PROFILE=os.environ.get("AUDIOGEN_PROFILE", "smoke"),
               JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_DATA_DIR=str(home / "data"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), PYTHONUNBUFFERED="1")
    cmd = _jupyter_lab() + [
        "--no-browser", "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={ROOT}", f"--LabApp.workspaces_dir={home / 'workspaces'}",
        f"--LabApp.user_settings_dir={home / 'settings'}", "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=", "--ServerApp.open_browser=False"]
    if hasattr(os, "getuid") and os.getuid() == 0:
        cmd.append("--allow-root")
    log = open(home / "jupyterlab.log", "w")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        import urllib.request

        for _ in range(120):
            if proc.poll() is not None:
                break
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pass
        if proc.poll() is not None:
            pytest.fail(f"JupyterLab exited ({proc.returncode}):\n{(home / 'jupyterlab.log').read_text()[-3000:]}",
                        pytrace=False)
        yield url, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.copy(home / "jupyterlab.log", ROOT / "test-artifacts" / "jupyterlab.log") \
            if (ROOT / "test-artifacts").is_dir() else None


_KERNEL_READY = """() => {
    const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
    return !!(k && k.connectionStatus === 'connected' && k.status === 'idle' && w.content.widgets.length);
}"""

_PROSE_VALUES = """async () => {
    const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
    const f = k.requestExecute({code: '', silent: true, store_history: false, user_expressions: {v:
        "__import__('json').dumps({k: str(v) for k, v in vars(prose).items()})"}});
    const reply = await f.done;
    return reply.content.user_expressions.v;
}"""

_CELLS = """() => window.jupyterapp.shell.currentWidget.content.widgets.map(w => ({
    type: w.model.type,
    inputHidden: w.inputHidden,
    outputHidden: w.model.type === 'code' ? w.outputHidden : null,
    text: w.model.type === 'markdown' && w.node.querySelector('.jp-RenderedMarkdown, .jp-MarkdownOutput')
        ? w.node.querySelector('.jp-RenderedMarkdown, .jp-MarkdownOutput').innerText : '',
    raw: [...w.node.querySelectorAll('.jp-RenderedMarkdown code, .jp-MarkdownOutput code')]
        .map(c => c.textContent).filter(t => /^\\s*(prose\\.|f["']\\{prose\\.)/.test(t)),
    failed: w.node.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]').length
        && w.model.type === 'markdown',
    openDetails: w.model.type === 'markdown' ? w.node.querySelectorAll('details[open]').length : 0,
    expressions: w.model.type === 'markdown' ? (w.model.getMetadata('user_expressions') || []) : [],
    errors: w.node.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]').length,
}))"""

BOOK_HIDES_INPUT = {"remove-cell", "hide-cell", "remove-input", "hide-input"}
BOOK_HIDES_OUTPUT = {"remove-cell", "hide-cell", "remove-output", "hide-output"}


def test_chapter_runs_in_jupyterlab_with_its_numbers_and_closed_answers(lab):
    from playwright.sync_api import sync_playwright

    url, token = lab
    before = (ROOT / CHAPTER).read_bytes()
    nb = json.loads(before)
    console: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
            page.goto(f"{url}/lab/tree/{CHAPTER}?token={token}", wait_until="load")
            page.wait_for_function(_KERNEL_READY, timeout=120_000)
            on_open = page.evaluate(_CELLS)
            start = time.perf_counter()
            finished = page.evaluate(
                f"""() => Promise.race([window.jupyterapp.commands.execute('notebook:run-all-cells'),
                                        new Promise(r => setTimeout(() => r('timeout'), {RUN_TIMEOUT_S * 1000}))])""")
            seconds = time.perf_counter() - start
            page.wait_for_function(_KERNEL_READY, timeout=60_000)
            page.wait_for_timeout(1500)   # Markdown expressions render after their reply
            toasts = page.evaluate("() => [...document.querySelectorAll('.Toastify__toast')].map(t => t.innerText)")
            values = page.evaluate(_PROSE_VALUES)
            cells = page.evaluate(_CELLS)
            for cell, opened in zip(cells, on_open):
                cell["outputHiddenOnOpen"] = opened["outputHidden"]
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"jupyterlab__{Path(CHAPTER).stem}.png"))
            # and the first Markdown cell with numbers, as the learner reads it
            first = next((i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "markdown"
                          and _EVAL.search("".join(c["source"]))), None)
            if first is not None:
                page.evaluate(f"() => window.jupyterapp.shell.currentWidget.content.widgets[{first}].node"
                              ".scrollIntoView()")
                page.wait_for_timeout(500)
                page.screenshot(path=str(SCREENSHOTS / f"jupyterlab__{Path(CHAPTER).stem}__numbers.png"))
        finally:
            browser.close()
    print(f"Run All of {CHAPTER} in JupyterLab: {seconds:.0f} s")
    assert (ROOT / CHAPTER).read_bytes() == before, f"JupyterLab wrote {CHAPTER} (autosave should be off)"

    problems = [f"a notification covers the chapter: {t!r}" for t in toasts]
    if finished is not True:
        problems.append(f"Run All did not finish cleanly: {finished!r} after {seconds:.0f} s")
    if values.get("status") != "ok":
        problems.append(f"could not read `prose` from the kernel: {values}")
        prose = {}
    else:
        prose = json.loads(eval(values["data"]["text/plain"]))  # noqa: S307 -- the repr of a str from our kernel
    assert len(cells) == len(nb["cells"]), f"JupyterLab shows {len(cells)} cells, the file has {len(nb['cells'])}"
    shown = 0
    for i, (cell, seen) in enumerate(zip(nb["cells"], cells)):
        src = "".join(cell["source"])
        tags = set(cell.get("metadata", {}).get("tags", []))
        if seen["errors"]:
            problems.append(f"cell {i}: an error output")
        if cell["cell_type"] == "markdown":
            problems += [f"cell {i}: {{eval}} left raw: {r!r}" for r in seen["raw"]]
            if seen["failed"]:
                problems.append(f"cell {i}: an {{eval}} expression failed")
            if seen["openDetails"]:
                problems.append(f"cell {i}: {seen['openDetails']} dropdown(s) open (an answer beside its question)")
            # jupyterlab-myst keeps each expression's result in the cell's metadata (shown as the
            # cell scrolls into view: JupyterLab renders only the cells near the screen)
            results = {e.get("expression"): e.get("result", {}) for e in seen["expressions"]}
            for expr in _EVAL.findall(src):
                result = results.get(expr)
                if result is None:
                    problems.append(f"cell {i}: {{eval}}`{expr}` was not evaluated")
                    continue
                if result.get("status") != "ok":
                    problems.append(f"cell {i}: {{eval}}`{expr}` failed: {result.get('ename')}: {result.get('evalue')}")
                    continue
                text = result.get("data", {}).get("text/plain", "")
                m = _PLAIN.match(expr.strip())
                if m and m.group(1) in prose and text.strip("'\"") != prose[m.group(1)]:
                    problems.append(f"cell {i}: {{eval}}`{expr}` shows {text!r}, the kernel has {prose[m.group(1)]!r}")
                elif seen["text"] and text.strip("'\"") not in seen["text"]:
                    problems.append(f"cell {i}: {{eval}}`{expr}` = {text} not in its rendered text "
                                    f"{seen['text'][:100]!r}...")
                else:
                    shown += 1
        elif cell["cell_type"] == "code":
            if bool(tags & BOOK_HIDES_INPUT) != bool(seen["inputHidden"]):
                problems.append(f"cell {i} (tags {sorted(tags)}): input {'hidden' if seen['inputHidden'] else 'shown'}")
            # outputs: JupyterLab opens the outputs of every cell it runs (CodeCell.execute sets
            # outputHidden = false), so only the collapsed input can be checked after Run All;
            # test_notebooks_meta.py checks that outputs_hidden is set for when the chapter opens
            if tags & BOOK_HIDES_OUTPUT and not seen["outputHiddenOnOpen"]:
                problems.append(f"cell {i} (tags {sorted(tags)}): outputs shown when the chapter opens")
    evals = sum(len(_EVAL.findall("".join(c["source"]))) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert evals, f"{CHAPTER} has no {{eval}} in its prose: pick a chapter that has"
    assert not problems, (f"{CHAPTER} in JupyterLab ({shown} of {evals} numbers shown; console errors: "
                          f"{console[:5]}):\n  " + "\n  ".join(problems))
