"""book/_ext/book_assets.py without building the book: pooch fetches, hash-checks and unpacks an
npm tarball once; the build copies only the files the book uses; an unreachable registry falls back
to the CDN with a warning; and each inline script reaches the page once, which a one-page Sphinx
build checks both ways (it fails the day Sphinx stops writing late inline scripts twice)."""

from __future__ import annotations

import base64
import functools
import hashlib
import http.server
import io
import subprocess
import sys
import tarfile
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import book_assets  # noqa: E402


def _tarball(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _integrity(raw: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(raw).digest()).decode()


@pytest.fixture
def registry(tmp_path, monkeypatch):
    """A local npm registry serving one package, counting requests; the cache in tmp_path."""
    root = tmp_path / "registry"
    (root / "fake-widgets" / "-").mkdir(parents=True)
    raw = _tarball({"package/dist/embed.js": b"// widgets\n", "package/dist/a1b2.woff2": b"font",
                    "package/dist/embed.js.map": b"{}", "package/dist/other.js": b"// not used\n",
                    "package/LICENSE": b"BSD\n"})
    (root / "fake-widgets" / "-" / "fake-widgets-1.0.0.tgz").write_bytes(raw)
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            requests.append(self.path)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    monkeypatch.setenv("AUDIOGEN_NPM_REGISTRY", f"http://127.0.0.1:{httpd.server_address[1]}")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    asset = book_assets.NpmAsset(name="fake-widgets", version="1.0.0", integrity=_integrity(raw),
                                 static_dir="jupyter-widgets", package_dir="dist",
                                 include=("embed.js", "*.woff2"), licence_files=("package/LICENSE",))
    yield asset, requests
    httpd.shutdown()


def test_known_hash_is_npms_integrity_in_pooch_form():
    raw = b"anything"
    asset = book_assets.NpmAsset("x", "1", _integrity(raw), "x", "dist", ("*",))
    assert asset.known_hash == "sha512:" + hashlib.sha512(raw).hexdigest()


def test_pooch_fetches_checks_and_unpacks_once_and_the_build_copies_what_is_used(registry, tmp_path):
    asset, requests = registry
    package = book_assets.ensure(asset)
    assert (package / "dist" / "embed.js").read_bytes() == b"// widgets\n"
    assert book_assets.ensure(asset) == package and len(requests) == 1  # cached: no second download
    static = tmp_path / "html" / "_static"
    book_assets.copy_into(asset, package, static)
    got = sorted(p.relative_to(static).as_posix() for p in static.rglob("*") if p.is_file())
    assert got == ["jupyter-widgets/LICENSE", "jupyter-widgets/a1b2.woff2", "jupyter-widgets/embed.js"]


def test_a_tarball_with_another_hash_is_refused(registry):
    asset, _ = registry
    wrong = book_assets.NpmAsset(**{**asset.__dict__, "integrity": _integrity(b"something else")})
    with pytest.raises(ValueError, match="(?i)hash"):
        book_assets.ensure(wrong)
    assert not (book_assets.cache_dir() / wrong.slug / "package").exists()


def test_an_unreachable_registry_falls_back_to_the_cdn(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIOGEN_NPM_REGISTRY", "http://127.0.0.1:9")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    warnings = []
    monkeypatch.setattr(book_assets.logger, "warning", lambda msg, **kw: warnings.append(msg))
    config = SimpleNamespace(nb_ipywidgets_js={"widgets-mathjax3.js": {}, "jupyter-widgets/embed.js": {}},
                             mathjax_path="mathjax/tex-mml-chtml.js")
    book_assets.config_inited(None, config)
    assert len(warnings) == 2 and all("CDN" in w or "cdn" in w for w in warnings)
    assert list(config.nb_ipywidgets_js) == [
        "widgets-mathjax3.js", "https://cdn.jsdelivr.net/npm/@jupyter-widgets/html-manager@1.0.15/dist/embed.js"]
    assert config.mathjax_path == "https://cdn.jsdelivr.net/npm/mathjax@3.2.2/es5/tex-mml-chtml.js"


CONF = """
import sys
sys.path.insert(0, {ext!r})
import book_assets

def setup(app):
    def late(app):  # as sphinx-thebe and sphinx-togglebutton do: an inline script added once the builder exists
        app.add_js_file(None, body="const LATE_SCRIPT = 1;")
    app.connect("builder-inited", late)
    if {dedupe}:
        app.connect("html-page-context", book_assets.keep_each_inline_script_once)
"""


def _count_in_built_page(tmp_path: Path, dedupe: bool) -> int:
    src = tmp_path / f"src-{dedupe}"
    src.mkdir()
    (src / "conf.py").write_text(CONF.format(ext=str(ROOT / "book" / "_ext"), dedupe=dedupe))
    (src / "index.rst").write_text("Title\n=====\n\nText.\n")
    out = tmp_path / f"out-{dedupe}"
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-E", str(src), str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return (out / "index.html").read_text(encoding="utf8").count("const LATE_SCRIPT = 1;")


def test_each_inline_script_reaches_the_page_once(tmp_path):
    """Pins the Sphinx behaviour the handler corrects: if the first count becomes 1, Sphinx fixed it
    (drop keep_each_inline_script_once); if the second is not 1, script_files changed under us."""
    assert _count_in_built_page(tmp_path, dedupe=False) == 2, "Sphinx no longer duplicates late inline scripts"
    assert _count_in_built_page(tmp_path, dedupe=True) == 1
