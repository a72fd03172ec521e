"""Execute the book's notebooks two at a time into the build's jupyter-cache.

Jupyter Book 1 runs the notebooks one after another, so a 2-core machine keeps one
core idle while a chapter waits on Python. ``make book`` first runs this script,
which executes the notebooks of ``book/_toc.yml`` in parallel (``--jobs``, default 2)
exactly as myst-nb would (the same kernel name after ``nb_kernel_rgx_aliases``, the
prose cell of ``prose_eval.py`` appended, the notebook's folder as working
directory, ``execute.timeout`` and ``allow_errors`` from _config.yml), and stores
each into the cache of the current profile (``book_profile.py``). The build then
finds every notebook cached ("Using cached notebook").

A notebook already in the cache is not run again. One that fails is not stored:
the build runs it again and reports the error in its own words. The longest
notebooks start first, by the times a previous run stored in the cache, else by
``results/chapter_times.json`` when it exists.

    python book/_ext/execute_chapters.py [--jobs 2] [--cache DIR]
"""

from __future__ import annotations

import argparse
import fcntl
import json
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOC = ROOT / "book" / "_toc.yml"
CONFIG = ROOT / "_config.yml"


def _config() -> dict:
    import yaml

    return yaml.safe_load(CONFIG.read_text(encoding="utf8"))


def toc_documents(toc_path: Path = TOC) -> list[str]:
    """Every document in the toc, root first, as paths without extension (``notebooks/01_digital_audio``)."""
    import yaml

    toc = yaml.safe_load(toc_path.read_text(encoding="utf8"))
    docs = [toc["root"]]

    def walk(node):
        for key in ("parts", "chapters", "sections"):
            for child in node.get(key, []) or []:
                if "file" in child:
                    docs.append(child["file"])
                walk(child)

    walk(toc)
    return [re.sub(r"\.(md|ipynb)$", "", d) for d in docs]


def toc_notebooks() -> list[Path]:
    """Every document of the toc that is a notebook, in the toc's order."""
    paths = [ROOT / (doc + ".ipynb") for doc in toc_documents()]
    return [p for p in paths if p.exists()]


def book_notebook(path: Path):
    """The notebook as myst-nb keys it in jupyter-cache (kernel name aliased, prose cell appended),
    and whether the prose cell was appended."""
    import nbformat

    sys.path.insert(0, str(Path(__file__).parent))
    try:
        import prose_eval
    finally:
        sys.path.pop(0)
    nb = nbformat.read(path, as_version=4)
    aliases = _config().get("sphinx", {}).get("config", {}).get("nb_kernel_rgx_aliases", {}) or {}
    kernelspec = nb.metadata.get("kernelspec", {})
    for pattern, alias in aliases.items():
        if kernelspec.get("name") is not None and re.fullmatch(pattern, kernelspec["name"]):
            kernelspec["name"] = alias
            break
    with_prose = prose_eval.uses_eval(nb)
    if with_prose:
        nb.cells.append(prose_eval.prose_cell())
    return nb, with_prose


@contextmanager
def locked(folder: Path):
    """One writer at a time into the cache at ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def default_cache() -> Path:
    """``_build/.jupyter_cache/<profile>``: where ``jupyter-book build .`` looks (book_profile.py)."""
    from audiogen_lib.config import get_profile

    return ROOT / "_build" / ".jupyter_cache" / get_profile().name


def _cached(cache_path: Path, nb) -> float | None:
    """The stored run time of ``nb`` in the cache (0.0 when none was stored), or None if absent."""
    from jupyter_cache import get_cache

    with locked(cache_path):
        try:
            record = get_cache(str(cache_path)).match_cache_notebook(nb)
        except KeyError:
            return None
    return float(record.data.get("execution_seconds") or 0.0)


def execute_one(path: Path, cache_path: Path, jobs: int = 1) -> tuple[str, float | None, str]:
    """Run one notebook and store it, with ``jobs`` notebooks running at once; returns
    (name, seconds or None, what happened)."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from jupyter_cache.executors.utils import single_nb_execution

    nb, _ = book_notebook(path)
    if _cached(cache_path, nb) is not None:
        return path.name, None, "cached already"
    execute = _config().get("execute", {})
    result = single_nb_execution(nb, cwd=str(path.parent), timeout=execute.get("timeout", 600),
                                 allow_errors=bool(execute.get("allow_errors", False)))
    if result.err is not None:
        return path.name, result.time, f"failed ({type(result.err).__name__}); the build will rerun it"
    with locked(cache_path):
        get_cache(str(cache_path)).cache_notebook_bundle(
            CacheBundleIn(nb, str(path.resolve()), data={"execution_seconds": result.time, "notebooks_at_once": jobs}),
            check_validity=False, overwrite=True)
    return path.name, result.time, "executed"


def expected_seconds(paths: list[Path]) -> dict[str, float]:
    """Last known run time per notebook name, from results/chapter_times.json (0 if unknown)."""
    times: dict[str, float] = {}
    record = ROOT / "results" / "chapter_times.json"
    if record.exists():
        data = json.loads(record.read_text(encoding="utf8"))
        for doc, row in data.get("chapters", {}).items():  # book/_ext/chapter_times.py writes it
            seconds = row.get("execution_seconds")
            if isinstance(seconds, (int, float)):
                times[Path(doc).name + ".ipynb"] = float(seconds)
    return {p.name: times.get(p.name, 0.0) for p in paths}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="notebooks run at once (default 2)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="jupyter-cache folder (default: _build/.jupyter_cache/<profile>)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, not {args.jobs}")
    cache_path = args.cache or default_cache()
    paths = toc_notebooks()
    expected = expected_seconds(paths)
    paths.sort(key=lambda p: -expected[p.name])  # longest first: the two workers end together
    start = time.perf_counter()
    failed = 0
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(execute_one, p, cache_path, args.jobs) for p in paths]
        for future in as_completed(futures):
            name, seconds, what = future.result()
            failed += what.startswith("failed")
            took = "" if seconds is None else f" in {seconds:.1f} s"
            print(f"execute_chapters: {name} {what}{took}", flush=True)
    print(f"execute_chapters: {len(paths)} notebooks, {args.jobs} at a time, "
          f"{time.perf_counter() - start:.0f} s; cache {cache_path}", flush=True)
    return 0  # a failure is the build's to report, with its traceback


if __name__ == "__main__":
    sys.exit(main())
