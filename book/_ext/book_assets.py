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

* at ``config-inited``, pooch fetches each package's npm tarball from the registry
  once into the download cache (``$XDG_CACHE_HOME/audiogen/static``, i.e.
  ``~/.cache/audiogen/static``), checks it against the sha512 that npm publishes
  (``dist.integrity``) and unpacks the folder the book needs (``pooch.Untar``);
* at ``build-finished`` the files the book uses are copied into
  ``_build/html/_static/jupyter-widgets/`` and ``_build/html/_static/mathjax/``,
  with their licence, where ``_config.yml`` points ``nb_ipywidgets_js`` and
  ``mathjax_path``.

If the registry cannot be reached and nothing is cached, it warns (an error under
``-W``) and points both settings back at the CDN, so that a build still gives a
book that works online. ``AUDIOGEN_NPM_REGISTRY`` names a registry mirror.

Licences: @jupyter-widgets/html-manager is BSD-3-Clause (Project Jupyter), MathJax
is Apache-2.0; each folder keeps its licence text beside the code.

Inline scripts once
-------------------
Sphinx 7.4 writes an inline script that an extension adds after the builder has
started (sphinx-thebe's ``const THEBE_JS_URL = ...``, sphinx-togglebutton's
settings) twice into every page: the builder keeps it once with ``filename=None``
and once, re-added from the registry, with ``filename=''``; the second ``const`` is
a SyntaxError in the browser console. At ``html-page-context`` this extension gives
the page a ``script_files`` list (the template variable Sphinx documents) with
each script once; Sphinx's own lists are not touched. ``tests/test_book_assets.py``
builds a one-page project with and without the handler, so it fails the day Sphinx
stops duplicating (remove the handler then) or the template variable changes.
"""

from __future__ import annotations

import base64
import fnmatch
import os
import shutil
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
    def known_hash(self) -> str:
        """npm's integrity (``sha512-<base64>``) in pooch's form, ``sha512:<hex>``."""
        algo, _, b64 = self.integrity.partition("-")
        return f"{algo}:{base64.b64decode(b64).hex()}"

    @property
    def slug(self) -> str:
        return f"{self.name.replace('/', '__')}-{self.version}"

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


def ensure(asset: NpmAsset) -> Path:
    """The cached, unpacked ``package/`` folder of ``asset``: pooch downloads, hash-checks and unpacks it once."""
    import pooch

    pooch.get_logger().setLevel("WARNING")  # no "Downloading ..." lines in the build log
    members = [f"package/{asset.package_dir}", *asset.licence_files]
    pooch.retrieve(asset.tarball_url, known_hash=asset.known_hash, fname=f"{asset.slug}.tgz", path=cache_dir(),
                   processor=pooch.Untar(members=members, extract_dir=asset.slug), progressbar=False)
    return cache_dir() / asset.slug / "package"


def copy_into(asset: NpmAsset, package: Path, static: Path) -> list[Path]:
    """Copy the files of ``asset`` the book uses (``include``, licence) from ``package`` to ``static/<static_dir>``."""
    source, target = package / asset.package_dir, static / asset.static_dir
    copied = []
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source).as_posix()
        if path.is_file() and any(fnmatch.fnmatch(rel, pattern) for pattern in asset.include):
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
            copied.append(dest)
    for name in asset.licence_files:
        shutil.copyfile(package.parent / name, target / Path(name).name)
    if asset.licence_text:
        (target / "LICENSE").write_text(asset.licence_text, encoding="utf8")
    if not copied:
        raise FileNotFoundError(f"none of {asset.include} in {source}")
    return copied


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


_PACKAGES: dict[str, Path] = {}  # asset name -> its unpacked package/ folder, copied at build-finished


def config_inited(app, config) -> None:
    _PACKAGES.clear()
    for asset in ASSETS:
        try:
            _PACKAGES[asset.name] = ensure(asset)
        except Exception as err:  # noqa: BLE001 -- any failure means: use the CDN
            logger.warning(
                f"book_assets: could not get {asset.name}@{asset.version} from "
                f"{asset.tarball_url} ({type(err).__name__}: {err}); the book will load it "
                f"from {CDN} instead and needs internet to show it. Connect once (it is cached "
                f"in {cache_dir()}) or set AUDIOGEN_NPM_REGISTRY to a mirror.",
                type="book_assets", subtype="download")
            _point_at_cdn(config, asset)


def build_finished(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    for asset in ASSETS:
        package = _PACKAGES.get(asset.name)
        if package is not None:
            copy_into(asset, package, static)


def _script_key(js) -> tuple:
    """What makes two scripts the same: the file (``None`` and ``''`` alike: inline), priority, attributes, body."""
    attributes = getattr(js, "attributes", {}) or {}
    return (getattr(js, "filename", js) or "", getattr(js, "priority", 500), repr(sorted(attributes.items())))


def keep_each_inline_script_once(app, pagename, templatename, context, doctree) -> None:
    """Give the page a ``script_files`` list with each script once (see the module docstring)."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for js in scripts:
        key = _script_key(js)
        if key not in seen:
            seen.add(key)
            unique.append(js)
    if len(unique) != len(scripts):
        context["script_files"] = unique  # a new list: Sphinx's own is left as it is


def setup(app):
    # config-inited comes before myst-nb reads nb_ipywidgets_js (builder-inited);
    # build-finished comes after Sphinx has copied html_static_path.
    app.connect("config-inited", config_inited)
    app.connect("build-finished", build_finished)
    app.connect("html-page-context", keep_each_inline_script_once)
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": True}
