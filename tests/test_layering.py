"""The library's modules follow the data: each imports only from the layers below it.

    errors, files -> config -> runtime -> data -> features -> reconstruction -> numba_cache -> metrics, stats, distances -> models
    -> pretrained -> training -> classifier, audio_judge -> recording, generation -> experiments, bench -> sweep -> display -> report -> cli

Imports inside functions count too (a lazy import is still a dependency). The test reads
the source with ``ast``; it imports nothing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "audiogen_lib"

# Lowest first; modules on one line form one layer and may not import each other.
LAYERS = [
    ["errors", "files"],  # files: the one atomic write, which needs nothing of the library
    ["config"],
    ["runtime"],
    ["data"],
    ["features"],
    ["reconstruction"],
    ["numba_cache"],  # fills numba's cache at set-up by calling reconstruction's compiled code
    ["metrics", "stats", "distances"],  # below training, whose model cards report metrics.rmse; distances: pure numpy
    ["models"],
    ["pretrained"],
    ["training"],
    ["classifier", "audio_judge"],  # the two judges: the CNN on the images, MFCC statistics of the 8 kHz audio
    ["recording", "generation"],
    ["diffusion", "judges"],  # the latent diffusion model; both judges behind one interface
    ["experiments", "bench"],
    ["sweep", "ldm_evaluation", "generator_choice"],  # train or judge generators through experiments' and generation's helpers
    ["display"],
    ["report"],
    ["cli"],
    ["__init__"],
]
LEVEL = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def top_module(path: Path) -> str:
    """``models/vae.py`` -> ``models``; ``features.py`` -> ``features``."""
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def imported_modules(source: str, *, in_subpackage: bool = False) -> set[str]:
    """Top-level modules of audiogen_lib that ``source`` imports (relative or absolute), anywhere in it."""
    tree = ast.parse(source)
    in_package = in_subpackage
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0:
                parts = (node.module or "").split(".")
                if parts[0] == "audiogen_lib" and len(parts) > 1:
                    found.add(parts[1])
                elif parts[0] == "audiogen_lib":
                    found.update(a.name for a in node.names)
                continue
            if node.level == 1 and in_package:
                continue  # a sibling inside the same subpackage
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "audiogen_lib" and len(parts) > 1:
                    found.add(parts[1])
    return found


SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_module_has_a_layer():
    missing = sorted({top_module(p) for p in SOURCES} - set(LEVEL))
    assert not missing, f"modules with no layer in tests/test_layering.py: {missing}; add them to LAYERS"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path):
    me = top_module(path)
    if me == "__init__":
        return
    found = imported_modules(path.read_text(encoding="utf8"), in_subpackage=len(path.relative_to(PACKAGE).parts) > 1)
    upward = sorted(m for m in found - {me} if m in LEVEL and LEVEL[m] >= LEVEL[me])
    assert not upward, (f"{path.relative_to(PACKAGE)} (layer {LEVEL[me]}: {me}) imports {upward} from the same "
                        f"layer or above; move the code down, or the import up")


def test_the_checker_sees_lazy_and_absolute_imports():
    """The checker itself can fail: imports inside functions and absolute imports are found."""
    source = ("def f():\n    from .experiments import reproduce\n"
              "import audiogen_lib.display\nfrom . import report\nfrom .layers import rmse\nfrom ..data import SPLITS\n")
    assert imported_modules(source) == {"experiments", "display", "report", "layers", "data"}
    assert imported_modules(source, in_subpackage=True) == {"display", "data"}
