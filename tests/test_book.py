"""The built book: it builds with warnings as errors, has a page per chapter, and
every page works in a browser with no internet.

The book is built once per module, with ``AUDIOGEN_PROFILE=smoke``, into
``_build/smoke/_build/html``: a folder of its own, so that the smoke outputs (and
their jupyter-cache and Sphinx environment) never stand in for the reader's book,
which ``make book`` builds into ``_build/html`` with the ``book`` profile.

The browser tests open every page in headless Chromium (Debian's, at
/usr/bin/chromium: ``make chromium`` installs it) through a local HTTP server, with
every request that leaves the server refused, and check: no console errors, every
``<audio>`` plays (a source and a finite duration), every ``<img>`` loaded, every
saved widget view drawn, every formula typeset, no code or output whose text is
wider than its box (no horizontal scrollbar), and, as a reader at 1280 x 900 would:

* nothing wider than the page's column (a formula, a table, a figure, a widget), counting
  what sits in a scroll box at its full width: a table one must scroll sideways is cut off;
* no output picture shown at under 3/4 of its size (its labels would be too small to read);
* no raw MyST (``{eval}`...```, ``{glue:text}``, ``{term}``...) or ``prose.<name>`` in the text;
* every static chooser (buttons over sounds made at build time) shows, for each button
  clicked, its own sounds and only them;
* no absolute path of the machine that built the book (the repository, its parent
  folder, the home folder, the Python environment) anywhere on the page.

A screenshot of each page (its first screen; the whole page with ``AUDIOGEN_FULL_SCREENSHOTS=1``,
as ``make screenshots`` sets) goes to ``test-artifacts/screenshots/``, and each page's
height in screens and widest element against its column to ``test-artifacts/layout.json``.
"""

from __future__ import annotations

import asyncio
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOC = ROOT / "book" / "_toc.yml"
OUTPUT = ROOT / "_build" / "smoke"  # jupyter-book's --path-output
HTML = OUTPUT / "_build" / "html"
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Pages Sphinx writes besides the documents in the toc.
EXTRA_PAGES = ["genindex", "search"]

pytestmark = pytest.mark.book


def toc_documents() -> list[str]:
    """Every document in the toc, root first, as paths without extension (``notebooks/01_digital_audio``):
    book/_ext/execute_chapters.py reads the toc for ``make book`` and for these tests alike."""
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    try:
        import execute_chapters
    finally:
        sys.path.pop(0)
    return execute_chapters.toc_documents(TOC)


PAGES = toc_documents() + EXTRA_PAGES


def _jupyter_book() -> str:
    exe = Path(sys.executable).with_name("jupyter-book")
    return str(exe) if exe.exists() else (shutil.which("jupyter-book") or "jupyter-book")


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_WARNING = re.compile(r"(^|: )(WARNING|ERROR|CRITICAL|SEVERE): ")


@dataclass
class Build:
    ok: bool
    seconds: float
    report: str


@pytest.fixture(scope="module")
def book_build() -> Build:
    """Build the book once (smoke profile, -W -n --keep-going) and keep the log.

    Every page is read again (``--all``): Sphinx warns only about the pages it reads, so
    an incremental build would pass over a warning from an unchanged page. The executed
    notebooks come from the jupyter-cache: ``make test`` runs nbval first, which puts every
    chapter that passed there (tests/nbval_book_cache.py); a chapter not found is executed here.
    """
    cmd = [_jupyter_book(), "build", ".", "--toc", "book/_toc.yml", "--path-output", str(OUTPUT.relative_to(ROOT)),
           "-W", "-n", "--keep-going", "--all"]  # --all: reread every page, so that old warnings show again
    env = dict(os.environ, AUDIOGEN_PROFILE="smoke", PYTHONUNBUFFERED="1")
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, errors="replace")
    seconds = time.perf_counter() - start
    log = _ANSI.sub("", proc.stdout)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "book-build.log").write_text(log, encoding="utf8")
    ok = proc.returncode == 0 and (HTML / "index.html").exists()
    warnings = [line for line in log.splitlines() if _WARNING.search(line)]
    tail = "\n".join(log.splitlines()[-40:])
    report = (f"`{' '.join(cmd)}` {'succeeded' if ok else 'failed'} (exit {proc.returncode}) after {seconds:.0f} s.\n"
              f"Warnings and errors ({len(warnings)}):\n" + "\n".join(warnings[:50]) +
              f"\n\nLast lines of the log (all of it is in {ARTIFACTS / 'book-build.log'}):\n{tail}")
    return Build(ok, seconds, report)


def test_book_builds(book_build):
    """The book builds with warnings as errors (the log's warnings and tail if not)."""
    if not book_build.ok:
        pytest.fail(book_build.report, pytrace=False)
    print(f"book built in {book_build.seconds:.1f} s")


@pytest.fixture(scope="module")
def built_book(book_build) -> Path:
    if not book_build.ok:
        pytest.fail("the book did not build: see test_book_builds for the log", pytrace=False)
    return HTML


def test_every_toc_document_has_a_page(built_book):
    missing = [doc for doc in PAGES if not (built_book / f"{doc}.html").is_file()]
    assert not missing, f"no page built for {missing}"


def test_no_page_outside_the_toc(built_book):
    """Every built page is one the browser test visits (nothing slipped in unchecked)."""
    built = sorted(p.relative_to(built_book).with_suffix("").as_posix()
                   for p in built_book.rglob("*.html") if "_static" not in p.parts and "_sources" not in p.parts)
    # index.html is the redirect to the root document that sphinx-external-toc writes
    unexpected = sorted(set(built) - set(PAGES) - {"index"})
    assert not unexpected, f"pages built that are not in book/_toc.yml: {unexpected}"
    assert len(built) == len(PAGES) + 1, f"{len(built)} pages built, expected {len(PAGES)} and index.html"


def test_no_cdn_scripts(built_book):
    """Widgets and MathJax are served from _static (book/_ext/book_assets.py), not from a CDN."""
    cdn = re.compile(r"<script[^>]+src=\"(https?:)?//[^\"]+\"")
    offenders = {doc: cdn.findall((built_book / f"{doc}.html").read_text(encoding="utf8"))
                 for doc in PAGES}
    offenders = {doc: hits for doc, hits in offenders.items() if hits}
    assert not offenders, f"pages that load scripts from the internet: {offenders}"


def test_markdown_tables_are_rendered(built_book):
    """Tables printed as Markdown by a cell (the results tables) become HTML tables, not raw pipes."""
    raw_row = re.compile(r"\|\s*(-{3,}|\u2014)\s*\|")   # |---| (or |—| once smartquotes have run)
    offenders = [doc for doc in PAGES if raw_row.search(
        re.sub(r"<(pre|script|code)\b.*?</\1>", "", (built_book / f"{doc}.html").read_text(encoding="utf8"), flags=re.S))]
    assert not offenders, f"pages showing a Markdown table as text (nb_render_markdown_format in _config.yml): {offenders}"


def test_each_inline_script_once(built_book):
    """No page carries the same inline script twice (Sphinx 7.4 did so for late ones: book_assets.py)."""
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S)
    offenders = {}
    for doc in PAGES:
        bodies = [b.strip() for b in inline.findall((built_book / f"{doc}.html").read_text(encoding="utf8"))]
        twice = sorted({b[:60] for b in bodies if b and bodies.count(b) > 1})
        if twice:
            offenders[doc] = twice
    assert not offenders, f"inline scripts written twice: {offenders}"


_BINDER = re.compile(r"^https://mybinder\.org/v2/gh/([^/]+)/([^/]+)/([^?]+)\?urlpath=(?:lab/)?tree/(.+)$")
_COLAB = re.compile(r"^https://colab\.research\.google\.com/github/([^/]+)/([^/]+)/blob/([^/]+)/(.+)$")
_LAUNCH = re.compile(r'href="(https://(?:mybinder\.org|colab\.research\.google\.com)/[^"]+)"')


def launch_targets(html: str) -> list[tuple[str, str, str, str]]:
    """``(service, repository URL, branch, path in the repository)`` of every launch link in a page."""
    import html as html_lib
    from urllib.parse import unquote

    out = []
    for url in (html_lib.unescape(u) for u in _LAUNCH.findall(html)):
        for service, pattern in (("binder", _BINDER), ("colab", _COLAB)):
            m = pattern.match(url)
            if m:
                org, repo, branch, path = m.groups()
                out.append((service, f"https://github.com/{org}/{repo}", unquote(branch), unquote(path)))
                break
        else:
            out.append(("unknown", url, "", ""))
    return out


def test_launch_links_open_existing_notebooks(built_book):
    """Every Binder and Colab button opens a notebook that exists, in the repository and branch of _config.yml;
    every chapter has both."""
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    from colab_cell import repository

    repo_url, branch = repository()
    problems = []
    for doc in PAGES:
        targets = launch_targets((built_book / f"{doc}.html").read_text(encoding="utf8"))
        if doc.startswith("notebooks/") and {t[0] for t in targets} != {"binder", "colab"}:
            problems.append(f"{doc}: launch buttons {sorted({t[0] for t in targets})}, expected binder and colab")
        for service, repo, br, path in targets:
            if service == "unknown":
                problems.append(f"{doc}: a launch link of unknown form: {repo}")
            elif (repo, br) != (repo_url, branch):
                problems.append(f"{doc}: {service} opens {repo}@{br}, _config.yml names {repo_url}@{branch}")
            elif not (path.endswith(".ipynb") and (ROOT / path).is_file()):
                problems.append(f"{doc}: {service} opens {path}, which is not a notebook in the repository")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="module")
def server(built_book):
    """``http.server`` on a free local port, serving the built book, in a thread."""

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 -- the base class's name
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(built_book)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


NO_CHROMIUM = (f"{CHROMIUM} not found: the browser test needs Debian's Chromium (Playwright cannot "
               "download its own browser here). Install it with `make chromium` (apt-get install chromium).")


# Pages open side by side in one headless Chromium: most of a page's time is spent waiting (for its
# sounds' metadata, MathJax, the network to go idle), which the others fill.
PAGES_AT_ONCE = 2
# A screenshot of the first screen, as a reader first sees the page; of the whole page (which takes
# Chromium longer than the checks) with AUDIOGEN_FULL_SCREENSHOTS=1: `make screenshots`.
FULL_PAGE_SHOTS = os.environ.get("AUDIOGEN_FULL_SCREENSHOTS") == "1"


@pytest.fixture(scope="module")
def page_reports(server) -> dict[str, dict] | None:
    """Every page opened in headless Chromium, PAGES_AT_ONCE at a time: doc -> what the page showed
    (see _visit), or None when Chromium is not installed (each page test then fails, saying so)."""
    if not Path(CHROMIUM).exists():
        return None
    return asyncio.run(_visit_pages(server, PAGES))


async def _visit_pages(server: str, docs: list[str]) -> dict[str, dict]:
    from playwright.async_api import async_playwright

    limit = asyncio.Semaphore(PAGES_AT_ONCE)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)

        async def one(doc):
            async with limit:
                try:
                    return await _visit(browser, server, doc)
                except Exception as exc:  # noqa: BLE001 -- reported by the page's own test
                    return {"failed": f"{type(exc).__name__}: {exc}"}

        reports = await asyncio.gather(*(one(doc) for doc in docs))
        await browser.close()
    return dict(zip(docs, reports))


# Run in the page once it has loaded: what each check needs, as plain data.
_AUDIO_STATE = """() => [...document.querySelectorAll('audio')].map(a => ({
    src: a.currentSrc || a.src || (a.querySelector('source[src]') || {}).src || '',
    readyState: a.readyState, duration: a.duration, error: a.error ? a.error.code : null}))"""
_IMAGES_STATE = """() => [...document.querySelectorAll('img')].map(i => ({
    src: (i.currentSrc || i.src || '').slice(0, 120), complete: i.complete, naturalWidth: i.naturalWidth}))"""
_WIDGETS_STATE = """() => {
    const views = [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')];
    return {hasState: !!document.querySelector('script[type="application/vnd.jupyter.widget-state+json"]'),
            views: views.length,
            drawn: views.filter(v => {
                const area = v.previousElementSibling;
                return area && area.querySelector('.jupyter-widgets, .widget-slider, .widget-output');
            }).length,
            widgets: document.querySelectorAll('.jupyter-widgets').length};
}"""
_MATH_STATE = """() => {
    const math = [...document.querySelectorAll('.math')];
    return {math: math.length, untypeset: math.filter(m => !m.querySelector('mjx-container')).length,
            errors: [...document.querySelectorAll('mjx-merror')].map(e => e.getAttribute('data-mjx-error') || e.textContent)};
}"""


# Every <pre> (a cell's code, its output, a Markdown code block) whose text is wider than its box,
# which then scrolls sideways. Collapsed boxes (hide-cell, dropdown solutions) are opened first.
# tests/test_notebooks_meta.py's MAX_CODE_COLUMNS is the width measured this way.
_OVERFLOWING_PRE = """() => {
    document.querySelectorAll('details').forEach(d => d.open = true);
    document.querySelectorAll('.toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
    return [...document.querySelectorAll('pre')].filter(p => p.scrollWidth > p.clientWidth + 1).map(p => ({
        kind: p.closest('.cell_input') ? 'code cell' : p.closest('.cell_output') ? 'output' : 'code block',
        excess: p.scrollWidth - p.clientWidth,
        text: p.textContent.trim().slice(0, 50),
        longest: p.textContent.split('\\n').reduce((a, b) => b.length > a.length ? b : a).trim().slice(0, 70)}));
}"""


# The page's column (the article's content box) and every element that does not fit it: its box
# reaches past the column, or it is a scroll box whose content is wider than the column (a formula
# or a table one must scroll sideways). Only the outermost offender is reported. Collapsed boxes are
# opened first (by _OVERFLOWING_PRE, which runs before). Also output images shown at under 3/4
# of their natural width. (The page's height in layout.json is measured before, boxes closed.)
_LAYOUT = """() => {
    const article = document.querySelector('article.bd-article') || document.querySelector('main');
    const cs = getComputedStyle(article), r = article.getBoundingClientRect();
    const left = r.left + parseFloat(cs.paddingLeft), right = r.right - parseFloat(cs.paddingRight);
    const describe = e => (e.tagName.toLowerCase() + (e.className && typeof e.className === 'string'
        ? '.' + e.className.trim().split(/\\s+/).slice(0, 3).join('.') : '') + ' in ' +
        ((e.closest('section[id]') || {}).id || '?') + ': ' + (e.textContent || e.getAttribute('alt') || '')
        .replace(/\\s+/g, ' ').trim().slice(0, 60));
    const wide = [];
    let widest = 0;
    for (const e of article.querySelectorAll('*')) {
        if (e.closest('mjx-assistive-mml, .headerlink, script, style, template')) continue;
        const b = e.getBoundingClientRect();
        if (b.width === 0 || b.height === 0) continue;
        const st = getComputedStyle(e);
        if (st.position === 'fixed' || st.visibility === 'hidden') continue;
        // a box whose content scrolls sideways counts at its content's width (a glyph's overhang
        // in an inline formula scrolls a few pixels: only content wider than the column counts)
        const scrolls = st.display !== 'inline' && ['auto', 'scroll', 'hidden'].includes(st.overflowX)
            && e.scrollWidth > e.clientWidth + 1;
        const full = scrolls ? Math.max(b.width, e.scrollWidth) : b.width;
        // the widest piece of content: a picture, a formula, a table, a widget (not a section, not
        // a code box, which are as wide as the column whatever they hold)
        if (e.matches('img, svg, video, iframe, table, mjx-math, .jupyter-widgets') || scrolls)
            widest = Math.max(widest, Math.round(full));
        const past = Math.max(b.right - right, left - b.left, scrolls ? e.scrollWidth - (right - left) : 0);
        if (past > 1 && !wide.some(w => w.el.contains(e)))
            wide.push({el: e, what: describe(e), width: Math.round(full), excess: Math.round(past), scrolls});
    }
    const shrunk = [...article.querySelectorAll('.cell_output img, .output img')]
        .filter(i => i.naturalWidth > 0 && i.getBoundingClientRect().width > 0
                 && i.getBoundingClientRect().width < 0.75 * i.naturalWidth)
        .map(i => ({what: describe(i), shown: Math.round(i.getBoundingClientRect().width), natural: i.naturalWidth}));
    return {column: Math.round(right - left), widest, height: document.documentElement.scrollHeight,
            wide: wide.map(({el, ...w}) => w), shrunk};
}"""

# Every static chooser (audiogen_lib.display's buttons over sounds made at build time): each button,
# clicked, shows its own panel and only it. No kernel: the page's controls must work as they are.
_CHOOSERS = """() => [...document.querySelectorAll('.audiogen-chooser')].map(ch => {
    const labels = [...ch.querySelectorAll(':scope > label')];
    const panels = [...ch.querySelectorAll(':scope > .audiogen-panel')];
    return labels.map((label, i) => {
        label.click();
        const shown = panels.map((p, j) => getComputedStyle(p).display !== 'none' ? j : -1).filter(j => j >= 0);
        return {button: label.textContent, shown, expected: i};
    });
})"""

# Text a reader should never see: MyST that was not rendered, and the prose namespace's names.
_RAW_MYST = re.compile(r"\{(eval|glue(:\w+)?|term|cite(:\w+)?|doc|ref|numref|download|abbr)\}|`prose\.\w+`|\bprose\.[a-z_]\w*")
_PAGE_TEXT = """() => {
    const article = (document.querySelector('article.bd-article') || document.body).cloneNode(true);
    const prose = article.cloneNode(true);
    prose.querySelectorAll('pre, code, .cell_input, script, style').forEach(e => e.remove());
    return {prose: prose.textContent, all: article.textContent};
}"""


def machine_paths() -> list[str]:
    """Absolute paths of the machine that built the book, as they would appear in an output."""
    paths = {str(ROOT), str(ROOT.parent), str(Path.home()), sys.prefix, os.environ.get("AUDIOGEN_FSDD", "")}
    return sorted(p.rstrip("/") + "/" for p in paths if len(p.strip("/")) > 1)


def test_machine_paths_are_specific():
    paths = machine_paths()
    assert str(ROOT) + "/" in paths and "/" not in paths and all(p.endswith("/") for p in paths)


async def _visit(browser, server: str, doc: str) -> dict:
    """Open one page as a reader would and return, as plain data, what each check of
    test_page_in_browser reads; its full-page screenshot goes to SCREENSHOTS."""
    errors: list[str] = []
    outside: list[str] = []
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")

    async def only_local(route):
        if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort()

    await context.route("**/*", only_local)
    page = await context.new_page()
    page.on("console", lambda msg: errors.append(f"console.error: {msg.text} at {msg.location.get('url', '')}")
            if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    try:
        await page.goto(f"{server}/{doc}.html", wait_until="load")
        # images outside the viewport may be lazy: load them all before checking
        await page.evaluate("() => document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')")
        # audio whose metadata has not loaded yet (preload="none"): ask for it
        await page.evaluate("""() => document.querySelectorAll('audio').forEach(a => {
            if (a.readyState < 1) { a.preload = 'metadata'; a.load(); } })""")
        await _wait(page, "() => [...document.querySelectorAll('audio')].every(a => a.readyState >= 1 || a.error)")
        await _wait(page, "() => [...document.querySelectorAll('img')].every(i => i.complete)")
        widgets = await page.evaluate(_WIDGETS_STATE)
        if widgets["views"]:
            await _wait(page, f"() => ({_WIDGETS_STATE})().drawn === ({_WIDGETS_STATE})().views")
            widgets = await page.evaluate(_WIDGETS_STATE)
        if (await page.evaluate(_MATH_STATE))["math"]:
            await _wait(page, f"() => ({_MATH_STATE})().untypeset === 0")
        await page.wait_for_load_state("networkidle")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / f"{doc.replace('/', '__')}.png"), full_page=FULL_PAGE_SHOTS)
        report = {"errors": errors, "outside": outside, "widgets": widgets,
                  "audio": await page.evaluate(_AUDIO_STATE), "images": await page.evaluate(_IMAGES_STATE),
                  "math": await page.evaluate(_MATH_STATE),
                  # as a reader first sees it; then _OVERFLOWING_PRE opens the collapsed boxes
                  "height": await page.evaluate("() => document.documentElement.scrollHeight"),
                  "overflowing": await page.evaluate(_OVERFLOWING_PRE)}
        await page.wait_for_timeout(200)
        report.update(layout=await page.evaluate(_LAYOUT), text=await page.evaluate(_PAGE_TEXT),
                      choosers=await page.evaluate(_CHOOSERS))
    finally:
        await context.close()
    return report


@pytest.mark.browser
@pytest.mark.parametrize("doc", PAGES)
def test_page_in_browser(page_reports, doc):
    if page_reports is None:
        pytest.fail(NO_CHROMIUM, pytrace=False)
    report = page_reports[doc]
    if "failed" in report:
        pytest.fail(f"{doc}.html could not be checked: {report['failed']}", pytrace=False)
    errors, outside, widgets, audio, images, math, overflowing, layout, text, choosers = (
        report[k] for k in ("errors", "outside", "widgets", "audio", "images", "math", "overflowing",
                            "layout", "text", "choosers"))
    layout["height"] = report["height"]
    _record_layout(doc, layout)

    problems = list(errors)
    problems += [f"request outside the book refused: {url}" for url in outside]
    for i, a in enumerate(audio):
        if not a["src"]:
            problems.append(f"<audio> #{i} has no source")
        elif a["error"] is not None or not (isinstance(a["duration"], (int, float)) and 0 < a["duration"] < float("inf")):
            problems.append(f"<audio> #{i} does not play: duration {a['duration']}, readyState {a['readyState']}, "
                            f"MediaError code {a['error']}, source {a['src'][:80]}")
    problems += [f"<img> not loaded: {i['src']}" for i in images if not (i["complete"] and i["naturalWidth"] > 0)]
    if widgets["views"] and widgets["drawn"] < widgets["views"]:
        problems.append(f"{widgets['views'] - widgets['drawn']} of {widgets['views']} saved widget views not drawn")
    if widgets["views"] and not widgets["hasState"]:
        problems.append("widget views but no saved widget state (was the notebook executed with widgets?)")
    if math["untypeset"]:
        problems.append(f"{math['untypeset']} of {math['math']} formulas not typeset by MathJax")
    problems += [f"TeX error in a formula: {e}" for e in math["errors"]]
    problems += [f"{o['kind']} wider than its box by {o['excess']} px (a horizontal scrollbar; see "
                 f"MAX_CODE_COLUMNS in tests/test_notebooks_meta.py): {o['text']!r}, its longest line "
                 f"{o['longest']!r}" for o in overflowing]
    problems += [f"wider than the column ({layout['column']} px) by {w['excess']} px"
                 f"{' (a sideways scroll box)' if w['scrolls'] else ''}: {w['width']} px, {w['what']}"
                 for w in layout["wide"]]
    problems += [f"picture shown at {i['shown']} of its {i['natural']} px (labels too small): {i['what']}"
                 for i in layout["shrunk"]]
    problems += [f"chooser {c}: button {b['button']!r} shows panels {b['shown']}, not only panel {b['expected']}"
                 for c, buttons in enumerate(choosers) for b in buttons if b["shown"] != [b["expected"]]]
    problems += [f"raw MyST or a prose name in the text: {m.group(0)!r} in "
                 f"...{text['prose'][max(0, m.start() - 40): m.end() + 40]!r}..."
                 for m in list(_RAW_MYST.finditer(text["prose"]))[:5]]
    problems += [f"a path of the build machine on the page: {path!r} in "
                 f"...{text['all'][text['all'].find(path) - 30: text['all'].find(path) + 60]!r}..."
                 for path in machine_paths() if path in text["all"]]
    assert not problems, f"{doc}.html:\n  " + "\n  ".join(problems)


def _record_layout(doc: str, layout: dict) -> None:
    """Each page's height in screens and widest element, in test-artifacts/layout.json (read-modify-write)."""
    path = ARTIFACTS / "layout.json"
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        data = json.loads(path.read_text(encoding="utf8"))
    except (OSError, ValueError):
        data = {}
    data[doc] = {"screens": round(layout["height"] / 900, 1), "column_px": layout["column"],
                 "widest_px": layout["widest"], "too_wide": len(layout["wide"])}
    path.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf8")


async def _wait(page, predicate: str, timeout_ms: int = 20_000) -> None:
    """Wait for a JS predicate; on timeout carry on, so that the checks below say what is wrong."""
    try:
        await page.wait_for_function(predicate, timeout=timeout_ms)
    except Exception:  # noqa: BLE001 -- playwright's TimeoutError; the assertions report the details
        pass


# --------------------------------------------------------------------------- {eval} in the book


def test_prose_eval_answers_from_the_appended_cell_and_removes_it():
    """book/_ext/prose_eval.py without a build: the cell it appends, the values it reads back,
    the formats it applies, its messages, and the notebook left as it was."""
    import nbformat

    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    import prose_eval

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("RMSE {eval}`prose.rmse`.")])
    assert prose_eval.uses_eval(nb)

    class Client:  # what myst-nb's cache client does: run the notebook on entering
        def __init__(self, notebook):
            self.notebook = notebook

        def __enter__(self):
            cell = self.notebook.cells[-1]
            cell.outputs = [nbformat.v4.new_output("display_data", data={prose_eval.MIME: {
                "values": {"rmse": {"text/plain": "'0.038'"}, "pesq": {"text/plain": "3.4217"}},
                "numbers": {"pesq": 3.4217}}})]
            return self

        def __exit__(self, *exc):
            return None

    config = type("Config", (), {"execution_mode": "cache"})()
    wrapped = prose_eval._wrap(lambda notebook, *a: Client(notebook))(nb, "ch.ipynb", config, None)
    assert len(nb.cells) == 2 and nb.cells[-1].metadata.get(prose_eval.MARK)
    assert "remove-cell" in nb.cells[-1].metadata["tags"]
    with wrapped as client:
        assert client.eval_variable("prose.rmse")[0]["data"] == {"text/plain": "'0.038'"}
        assert client.eval_variable('f"{prose.pesq:.2f}"')[0]["data"] == {"text/plain": "3.42"}
        for expression, message in [("rmse_study", "only `prose.<name>`"), ("prose.nope", "not set by any"),
                                    ('f"{prose.rmse:.2f}"', "not a number")]:
            with pytest.raises(ValueError, match=message):
                client.eval_variable(expression)
    assert len(nb.cells) == 1   # the appended cell is gone before myst-nb writes the notebook
