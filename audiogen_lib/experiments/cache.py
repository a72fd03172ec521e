"""Results shared between chapters: keyed by the models' weights, the clips, the settings and the code.

Public names
------------
RESULTS_VERSION         bumped when the meaning of a cached result changes in a way the source hash cannot see
result_key, cached      results shared between chapters, keyed by the weights, the clips, the settings and the code

Notebook: notebooks/09_listening_experiments.ipynb
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ..stats import Interval


# Bump when the meaning of a cached result changes in a way the source hash cannot see.
RESULTS_VERSION = 2


def _source_hash(names) -> str:
    """sha256 of the library's source files ``names``: paths under audiogen_lib without .py (``"features"``,
    ``"models/*"``); a package's name (``"experiments"``) stands for every module in it."""
    here = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for name in sorted(names):
        for path in sorted({*here.glob(f"{name}.py"), *here.glob(f"{name}/*.py")}):
            h.update(path.relative_to(here).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _code_version() -> str:
    return f"{RESULTS_VERSION}-" + _source_hash(
        ["experiments", "stats", "metrics", "reconstruction", "features", "classifier", "config", "training", "data"])


def result_key(name: str, models: dict, parts: dict) -> str:
    """The cache key of result ``name``: each model's weights (sha256), ``parts`` (config fingerprint, clips,
    settings, profile) and the version of the code that computes results."""
    from ..models import weights_sha256

    blob = {"name": name, "weights": {k: weights_sha256(m) for k, m in sorted(models.items())},
            "parts": parts, "code": _code_version()}
    return hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode()).hexdigest()[:24]


def _results_dir() -> Path:
    from ..features import cache_dir

    return cache_dir() / "results"


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, Interval):
        return obj.to_dict()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def cached(name: str, models: dict, parts: dict, compute) -> dict:
    """Result ``name`` for ``models`` and ``parts``: read from the shared cache, or ``compute()``-d and stored.

    The cache lies under the feature cache (``$AUDIOGEN_CACHE``, default
    ``~/.cache/audiogen/features``) in ``results/``; its key (:func:`result_key`) holds the
    sha256 of every model's weights, the clips, the settings and a hash of the library
    code that computes results, so a retrained model, another profile or changed code
    computes afresh. What is returned has been through JSON either way (lists, not arrays).
    """
    from ..files import atomic_write

    path = _results_dir() / f"{name}-{result_key(name, models, parts)}.json"
    if path.is_file():
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            pass  # unreadable: computed again below
    result = json.loads(json.dumps(_jsonable(compute())))
    with atomic_write(path) as f:
        json.dump(result, f, indent=1)
    return result
