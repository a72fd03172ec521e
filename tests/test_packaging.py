"""environment.yml and pyproject.toml must name the same packages."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = set(map(_name, project["dependencies"]))
    for extra in project["optional-dependencies"].values():
        declared |= {_name(r) for r in extra if not r.startswith("audiogen")}
    env_lines = (ROOT / "environment.yml").read_text().splitlines()
    pip = [ln.strip()[2:] for ln in env_lines if ln.startswith("      - ") and not ln.strip().startswith("- -e")]
    assert set(map(_name, pip)) == declared
    # and with the same version bounds
    bounds = {r.replace(" ", "") for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        bounds |= {r.replace(" ", "") for r in extra if not r.startswith("audiogen")}
    assert {r.replace(" ", "") for r in pip} == bounds
    assert "  - python=3.11" in env_lines


def test_user_fixed_packages_are_declared():
    text = (ROOT / "pyproject.toml").read_text()
    for pkg in ["jupyterlab", "jupyter-book", "tensorflow", "librosa", "ipywidgets", "matplotlib", "nbval"]:
        assert f'"{pkg}' in text
