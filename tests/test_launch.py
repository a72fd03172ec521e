"""A chapter opened on its own (Colab, Binder, another Jupyter) sets itself up.

* The guard cell (book/_ext/colab_cell.py) installs nothing where audiogen_lib is importable,
  and otherwise installs it with pip from the repository and branch named in _config.yml.
* Binder (repo2docker) builds from environment.yml: its pip section holds a local requirement
  (``-e .``), which makes repo2docker copy the repository before it creates the environment,
  so the package is installed (repo2docker 2026.4: ``CondaBuildPack._should_preassemble_env``,
  ``utils.is_local_pip_requirement``; the Dockerfile it renders for this repository copies the
  repository, then runs ``mamba env update --file environment.yml``). postBuild registers the
  kernel the chapters name.

The launch links of the built pages are checked in tests/test_book.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import colab_cell  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _run_guard(source: str, monkeypatch, *, importable: bool) -> list[list[str]]:
    """Execute the guard cell with pip replaced by a recorder; return the commands it would run."""
    import importlib.util

    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append(cmd))
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: (real(name, *a) if importable or name != "audiogen_lib" else None))
    exec(compile(source, "<guard cell>", "exec"), {})
    return calls


def test_the_guard_installs_nothing_when_the_package_is_importable(monkeypatch):
    assert _run_guard(colab_cell.guard_cell_source(), monkeypatch, importable=True) == []


def test_the_guard_installs_from_the_repository_in_config_yml(monkeypatch):
    calls = _run_guard(colab_cell.guard_cell_source(), monkeypatch, importable=False)
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    assert calls == [[sys.executable, "-m", "pip", "install", "--quiet",
                      f"audiogen @ git+{config['url'].rstrip('/')}@{config['branch']}"]]


def test_a_fork_installs_from_the_fork(tmp_path, monkeypatch):
    (tmp_path / "_config.yml").write_text("repository:\n  url: https://github.com/someone/audiogen-fork/\n"
                                          "  branch: teaching\n")
    calls = _run_guard(colab_cell.guard_cell_source(tmp_path / "_config.yml"), monkeypatch, importable=False)
    assert calls[0][-1] == "audiogen @ git+https://github.com/someone/audiogen-fork@teaching"


def test_the_guard_cell_is_hidden_in_the_book():
    cell = colab_cell.guard_cell()
    assert cell["cell_type"] == "code" and "remove-cell" in cell["metadata"]["tags"]
    assert "".join(cell["source"]) == colab_cell.guard_cell_source()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_chapter_opens_with_the_guard_cell(path):
    """The first code cell of each chapter is exactly the guard (regenerate it after changing _config.yml)."""
    nb = json.loads(path.read_text(encoding="utf8"))
    first = next(c for c in nb["cells"] if c["cell_type"] == "code")
    source = "".join(first["source"]) if isinstance(first["source"], list) else first["source"]
    assert source == colab_cell.guard_cell_source(), (
        f"{path.name}: the first code cell is not the guard of book/_ext/colab_cell.py; insert "
        f"colab_cell.guard_cell() at the top (python book/_ext/colab_cell.py prints its source)")
    assert "remove-cell" in first.get("metadata", {}).get("tags", [])


def _is_local_pip_requirement(line: str) -> bool:
    """repo2docker's rule (utils.is_local_pip_requirement), for the forms environment.yml may use."""
    line = line.split("#", 1)[0].strip()
    if line.startswith(("-r", "-c", "--requirement", "--constraint")):
        return True
    line = re.sub(r"^(-e|--editable=?)\s*", "", line)
    return line.startswith((".", "/", "file:"))


def test_binder_installs_the_package_and_registers_the_kernel():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert any(_is_local_pip_requirement(line) for line in pip), (
        "environment.yml installs no local package: repo2docker would create the environment before "
        "copying the repository, and audiogen would be missing on Binder")
    assert "-e ." in pip
    assert any(str(d).startswith("python=3.11") for d in env["dependencies"])
    post = ROOT / "postBuild"
    assert post.is_file() and post.stat().st_mode & 0o111, "postBuild must exist and be executable"
    assert "ipykernel install --sys-prefix --name audiogen" in post.read_text()
    assert not (ROOT / "binder").exists() and not (ROOT / ".binder").exists(), (
        "a binder/ folder makes repo2docker ignore environment.yml and postBuild at the root")
