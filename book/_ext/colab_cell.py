"""The first code cell of every chapter: makes a chapter opened alone (Colab, Binder, any Jupyter)
self-sufficient, and does nothing where the project's environment is already there.

Where ``audiogen_lib`` cannot be imported, the cell installs the package with pip from the
repository named in ``_config.yml`` (``repository.url`` at ``repository.branch``), so a fork's
launch buttons install the fork. The library then finds FSDD, or downloads it (pinned by its
sha256) on first use. In Colab it also turns on Colab's support for ipywidgets 8 (the progress
bars and explorers). The cell is tagged ``remove-cell``: the book neither shows it nor its output.

Public names
------------
repository        ``(url, branch)`` from ``_config.yml``
guard_cell_source the cell's source, built from ``_config.yml``
guard_cell        the cell as nbformat JSON (source, tags), ready to insert at the top of a notebook
CELL_TAGS         ``["remove-cell"]``

``python book/_ext/colab_cell.py`` prints the source.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "_config.yml"
CELL_TAGS = ["remove-cell"]
MARKER = "# Opened on its own (Colab, Binder, another Jupyter)?"


def repository(config_path: Path = CONFIG) -> tuple[str, str]:
    """The book's repository URL (without ``.git`` or a trailing slash) and branch, from ``_config.yml``."""
    import yaml

    repo = (yaml.safe_load(Path(config_path).read_text(encoding="utf8")) or {}).get("repository") or {}
    url = str(repo.get("url", "")).rstrip("/").removesuffix(".git")
    if not url.startswith("https://"):
        raise ValueError(f"{config_path}: repository.url must be an https URL, got {url!r}")
    return url, str(repo.get("branch") or "main")


def guard_cell_source(config_path: Path = CONFIG) -> str:
    """The first code cell of every chapter (see the module docstring)."""
    url, branch = repository(config_path)
    return f'''{MARKER} Install audiogen from the book's repository.
import importlib.util, subprocess, sys

if importlib.util.find_spec("audiogen_lib") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    "audiogen @ git+{url}@{branch}"], check=True)
    importlib.invalidate_caches()
    if "google.colab" in sys.modules:
        from google.colab import output
        output.enable_custom_widget_manager()  # ipywidgets 8: progress bars and explorers'''


def guard_cell(config_path: Path = CONFIG) -> dict:
    """The cell as it goes into a notebook (nbformat 4 JSON)."""
    return {"cell_type": "code", "execution_count": None, "id": "audiogen-setup",
            "metadata": {"tags": list(CELL_TAGS)}, "outputs": [],
            "source": guard_cell_source(config_path).splitlines(keepends=True)}


if __name__ == "__main__":
    sys.stdout.write(guard_cell_source() + "\n")
