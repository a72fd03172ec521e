"""The book's JavaScript: served from the book itself, so that it works offline,
and each inline script once.

Offline copies
--------------

Two scripts are normally loaded from a CDN by a Jupyter Book 1 site: the Jupyter
widgets HTML manager (myst-nb's ``nb_ipywidgets_js``, which draws the saved
ipywidgets state of a page) and MathJax (Sphinx's ``mathjax_path``). A reader
without internet, or a CI browser without it, then gets console errors, no
widgets and raw TeX. This Sphinx extension puts pinned copies of both into the
built site instead:

* at ``config-inited`` it makes sure each package below is in the download cache
  (``$XDG_CACHE_HOME/audiogen/static``, i.e. ``~/.cache/audiogen/static``),
  fetching the npm tarball from the registry once (no ``npm`` needed, only
  Python), checking it against the sha512 that npm publishes, and unpacking only
  the files the book needs;
* it adds those folders to ``html_static_path``, so that they are copied to
  ``_build/html/_static/jupyter-widgets/`` and ``_build/html/_static/mathjax/``,
  where ``_config.yml`` points ``nb_ipywidgets_js`` and ``mathjax_path``.

If the registry cannot be reached and nothing is cached, it warns (an error under
``-W``) and points both settings back at the CDN, so that a build still gives a
book that works online. ``AUDIOGEN_NPM_REGISTRY`` names a registry mirror.

Licences: @jupyter-widgets/html-manager is BSD-3-Clause (Project Jupyter), MathJax
is Apache-2.0; each folder keeps its licence text beside the code.

Inline scripts once
-------------------
Sphinx 7.4 writes an inline script that an extension adds after the builder has
started (sphinx-thebe's ``const THEBE_JS_URL = ...``, sphinx-togglebutton's
settings) twice into every page, and the second ``const`` is a SyntaxError in the
browser console. At ``env-updated`` (after reading, before writing) this extension
drops the builder's own copy of each such script; Sphinx adds it back from its
registry when it starts writing, once.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import io
import os
import shutil
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)

REGISTRY = "https://registry.npmjs.org"
CDN = "https://cdn.jsdelivr.net/npm"

BSD3_JUPYTER = """\
@jupyter-widgets/html-manager {version}, from the ipywidgets project,
https://github.com/jupyter-widgets/ipywidgets. embed.js bundles further packages;
their notices are in embed.js.LICENSE.txt.

Copyright (c) 2015 Project Jupyter Contributors
All rights reserved.

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:

1. Redistributions of source code must retain the above copyright notice, this
   list of conditions and the following disclaimer.

2. Redistributions in binary form must reproduce the above copyright notice,
   this list of conditions and the following disclaimer in the documentation
   and/or other materials provided with the distribution.

3. Neither the name of the copyright holder nor the names of its
   contributors may be used to endorse or promote products derived from
   this software without specific prior written permission.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS"
AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE
IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE
FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL
DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR
SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER
CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY,
OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
"""


@dataclass(frozen=True)
class NpmAsset:
    """One npm package, and which of its files go where under ``_static``."""

    name: str
    version: str
    integrity: str  # npm's dist.integrity of the tarball
    static_dir: str  # the folder under _static, also the prefix of the config paths
    package_dir: str  # the folder inside the tarball that maps onto static_dir
    include: tuple[str, ...]  # glob patterns, relative to package_dir
    licence_files: tuple[str, ...] = ()  # tarball paths copied as they are
    licence_text: str = ""  # written to LICENSE when the tarball has none

    @property
    def tarball_url(self) -> str:
        registry = os.environ.get("AUDIOGEN_NPM_REGISTRY", REGISTRY).rstrip("/")
        return f"{registry}/{self.name}/-/{self.name.split('/')[-1]}-{self.version}.tgz"

    def cdn_url(self, static_path: str) -> str:
        rest = static_path[len(self.static_dir) + 1:]
        return f"{CDN}/{self.name}@{self.version}/{self.package_dir}/{rest}"


ASSETS = (
    NpmAsset(
        name="@jupyter-widgets/html-manager",
        version="1.0.15",  # the one that goes with ipywidgets 8.1
        integrity="sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
        static_dir="jupyter-widgets",
        package_dir="dist",
        # embed.js: every ipywidgets control, no require.js needed; the fonts are
        # Font Awesome's, which the bundle loads from beside itself for icons.
        include=("embed.js", "embed.js.LICENSE.txt", "*.woff2", "*.woff"),
        licence_text=BSD3_JUPYTER.format(version="1.0.15"),
    ),
    NpmAsset(
        name="mathjax",
        version="3.2.2",
        integrity="sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
        static_dir="mathjax",
        package_dir="es5",
        # the combined component Sphinx uses, its fonts, and what it loads on demand
        include=("tex-mml-chtml.js", "output/chtml/fonts/woff-v2/*", "input/tex/extensions/*",
                 "a11y/*", "ui/*"),
        licence_files=("package/LICENSE",),
    ),
)


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/audiogen/static`` (``~/.cache/audiogen/static``), as the data cache."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "audiogen" / "static"


def _download(asset: NpmAsset) -> bytes:
    with urllib.request.urlopen(asset.tarball_url, timeout=120) as response:
        data = response.read()
    algo, _, expected = asset.integrity.partition("-")
    got = base64.b64encode(hashlib.new(algo, data).digest()).decode()
    if got != expected:
        raise ValueError(f"{asset.tarball_url}: {algo} is {got}, expected {expected}; "
                         "the download is corrupt or the pin is wrong")
    return data


def ensure(asset: NpmAsset) -> Path:
    """The cached folder holding ``asset.static_dir``; downloads and unpacks it once."""
    root = cache_dir() / f"{asset.name.replace('/', '__')}-{asset.version}"
    if (root / ".complete").exists():
        return root
    data = _download(asset)
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".partial-", dir=root.parent))
    try:
        target = tmp / asset.static_dir
        target.mkdir(parents=True)
        prefix = f"package/{asset.package_dir}/"
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member in tar.getmembers():
                if not member.isfile():
                    continue
                if member.name in asset.licence_files:
                    dest = target / Path(member.name).name
                elif member.name.startswith(prefix) and any(
                        fnmatch.fnmatch(member.name[len(prefix):], pattern) for pattern in asset.include):
                    rel = Path(member.name[len(prefix):])
                    if ".." in rel.parts or rel.is_absolute():
                        continue
                    dest = target / rel
                else:
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(tar.extractfile(member).read())
        if asset.licence_text:
            (target / "LICENSE").write_text(asset.licence_text, encoding="utf8")
        (tmp / ".complete").write_text(asset.tarball_url + "\n", encoding="utf8")
        if (root / ".complete").exists():  # another build got there first
            return root
        if root.exists():  # a partial folder from an interrupted run
            shutil.rmtree(root, ignore_errors=True)
        try:
            tmp.rename(root)
        except OSError:
            if not (root / ".complete").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def _point_at_cdn(config, asset: NpmAsset) -> None:
    """Replace this asset's local paths in the settings with CDN addresses."""
    local = asset.static_dir + "/"
    widgets_js = dict(config.nb_ipywidgets_js)
    config.nb_ipywidgets_js = {
        (asset.cdn_url(path) if path.startswith(local) else path): options
        for path, options in widgets_js.items()
    }
    if config.mathjax_path.startswith(local):
        config.mathjax_path = asset.cdn_url(config.mathjax_path)


def config_inited(app, config) -> None:
    static = list(config.html_static_path)
    for asset in ASSETS:
        try:
            root = ensure(asset)
        except Exception as err:  # noqa: BLE001 -- any failure means: use the CDN
            logger.warning(
                f"book_assets: could not get {asset.name}@{asset.version} from "
                f"{asset.tarball_url} ({type(err).__name__}: {err}); the book will load it "
                f"from {CDN} instead and needs internet to show it. Connect once (it is cached "
                f"in {cache_dir()}) or set AUDIOGEN_NPM_REGISTRY to a mirror.",
                type="book_assets", subtype="download")
            _point_at_cdn(config, asset)
            continue
        if str(root) not in static:
            static.append(str(root))
    config.html_static_path = static


def drop_duplicate_inline_scripts(app, env) -> list[str]:
    """Keep one copy of each inline script added after the builder started (see above)."""
    builder = app.builder
    js_files = getattr(builder, "_js_files", None)
    if js_files is None:  # not an HTML builder
        return []
    def key(filename, attrs):
        return filename or "", repr(sorted(attrs.items()))

    in_registry = {key(filename, attrs) for filename, attrs in app.registry.js_files}
    keep = []
    for js in js_files:
        attrs = {"priority": js.priority, **js.attributes}
        if js.filename is None and key(None, attrs) in in_registry:
            continue  # prepare_writing() adds it again from the registry
        keep.append(js)
    js_files[:] = keep
    return []


def setup(app):
    # config-inited comes before myst-nb reads nb_ipywidgets_js (builder-inited)
    # and before Sphinx copies html_static_path (at the end of the build)
    app.connect("config-inited", config_inited)
    app.connect("env-updated", drop_duplicate_inline_scripts)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
