"""Recorded command lines made machine-independent: what a book may show of where a file was.

Public names
------------
short_paths     a recorded command with its absolute paths made machine-independent (results/x.json, a file name)

Notebook: notebooks/04_griffin_lim.ipynb, notebooks/11_generative_vae.ipynb
"""

from __future__ import annotations

import re
from pathlib import Path


_ABSOLUTE_PATH = re.compile(r"(?<![\w.~])/(?:[^\s'\"/]+/)*[^\s'\"/]+")
_REPOSITORY = Path(__file__).resolve().parents[2]


def short_paths(text: str) -> str:
    """``text`` (a recorded command line, a log) with each absolute path made machine-independent:
    from a folder of the repository on (``/home/me/audiogen/results/x.json`` -> ``results/x.json``,
    whichever clone wrote it), else its last name (``/tmp/runs/sweep.json`` -> ``sweep.json``).
    A book shows no folder of the machine that built it.

    Notebook: notebooks/04_griffin_lim.ipynb, notebooks/11_generative_vae.ipynb
    """
    top = {p.name for p in _REPOSITORY.iterdir() if not p.name.startswith(".")} if _REPOSITORY.is_dir() else set()

    def short(m: re.Match) -> str:
        parts = m.group(0).strip("/").split("/")
        for i, part in enumerate(parts[:-1]):
            if part in top:
                return "/".join(parts[i:])
        return parts[-1]

    return _ABSOLUTE_PATH.sub(short, text)
