# audiogen: `make book` builds the book, `make test` runs every test. Both set everything up first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed

# Use the shared copy of FSDD when there is one; otherwise the library downloads it.
SHARED_FSDD := $(abspath ../shared/fsdd)
ifneq ($(wildcard $(SHARED_FSDD)/recordings),)
export AUDIOGEN_FSDD ?= $(SHARED_FSDD)
endif

.PHONY: help install data book test test-lib test-notebooks test-book test-lab screenshots nbval-record lab bench chromium clean
help:
	@echo "make book   set up, then build the book into _build/html"
	@echo "make test   set up, then run every test (library, notebooks, book build, browser)"
	@echo "make lab    JupyterLab on notebooks/ with the project's environment"
	@echo "make test-lib / test-notebooks / test-book / test-lab   one part of the tests"
	@echo "make bench  training and inference speed of the model presets"

# The chapters run on the kernel "audiogen" (their kernelspec): registered inside the venv
# (--sys-prefix, so nothing is written outside .venv), where the venv's JupyterLab, nbclient
# and the book build find it. A learner using another Jupyter sees which environment they need.
KERNEL := $(VENV)/share/jupyter/kernels/audiogen/kernel.json
KERNEL_INSTALL = $(PY) -m ipykernel install --sys-prefix --name audiogen --display-name "Python 3 (audiogen)" >/dev/null

# uv installs the same packages as pip from PyPI, several at a time (a minute less on a fresh
# machine); where uv cannot be had, pip does it.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	( $(PY) -m pip install --quiet uv && $(BIN)/uv pip install --quiet --compile-bytecode --python $(PY) -e ".[dev]" ) \
	  || $(PY) -m pip install --quiet -e ".[dev]"
	$(KERNEL_INSTALL)
	touch $@

$(KERNEL): | $(STAMP)
	$(KERNEL_INSTALL)

# JupyterLab's defaults for this environment (settings/overrides.d): every cell drawn (windowingMode
# none), so that Run All evaluates the numbers ({eval}`prose.name`) of every Markdown cell, not only
# of those on screen (jupyterlab-myst reads the expressions of cells it has drawn); and no pop-up
# asking to fetch Jupyter's news over the chapter.
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.d/audiogen.json
$(LAB_OVERRIDES): Makefile | $(STAMP)
	mkdir -p $(dir $@)
	echo '{"@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"}, "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}}' > $@

# numba compiles some of librosa's functions and of the library's on first call and caches the
# code on disk; two processes compiling the same function at once can corrupt that cache (a later
# process hangs or crashes in it). So it is filled here, once, before anything runs in parallel;
# again when the library's compiled code changes (audiogen_lib/numba_cache.py).
NUMBA_CACHE := $(VENV)/.numba-cache
$(NUMBA_CACHE): $(STAMP) audiogen_lib/numba_cache.py audiogen_lib/reconstruction.py
	$(PY) -m audiogen_lib.numba_cache
	touch $@

install: $(STAMP) $(NUMBA_CACHE) $(KERNEL) $(LAB_OVERRIDES)

data: $(STAMP) $(NUMBA_CACHE)
	$(BIN)/audiogen data

# The book, with AUDIOGEN_PROFILE as set (default: book). The first build fetches the
# widget manager and MathJax from the npm registry into ~/.cache/audiogen/static
# (book/_ext/book_assets.py), so the built book needs no CDN.
# Jupyter Book 1 runs the notebooks one at a time; book/_ext/execute_chapters.py first runs them two
# at a time into the build's jupyter-cache, as myst-nb would, so the build finds them cached.
book: data
	$(PY) book/_ext/execute_chapters.py --jobs 2
	$(BIN)/jupyter-book build . --toc book/_toc.yml
	@echo "The book is in _build/html/index.html"

# Debian's Chromium for the browser test (Playwright cannot download its own browser here).
chromium:
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

# Every test, with the smoke profile, in two pytest runs:
# 1. the library's tests, the notebooks' shape (tests/test_notebooks_meta.py), the notebooks
#    themselves (nbval: every cell runs, cells tagged `nbval-check-output` are compared with their
#    stored output) and one chapter run in JupyterLab with Run All (tests/test_jupyterlab.py), on three
#    pytest-xdist workers that each take a whole file at a time (--dist loadfile keeps a notebook's
#    cells in one kernel). Each chapter nbval ran through goes into the smoke book's jupyter-cache
#    (tests/nbval_book_cache.py), so that it is executed once, not twice;
# 2. the book build with warnings as errors into _build/smoke, and every page in headless Chromium
#    (tests/test_book.py; screenshots in test-artifacts/).
# The second runs even if the first fails; make fails if either does.
NBVAL := --nbval-lax --nbval-current-env --nbval-cell-timeout=600 --nbval-sanitize-with tests/nbval_sanitize.cfg
# three workers on two cores: a worker waiting on a kernel's start, a PESQ pool or Chromium leaves
# a core idle, and the third fills it (user time was three quarters of two cores' wall time with two)
XDIST := -n 3 --dist loadfile

# Several processes share the two cores in a test run and a book build (pytest's workers, the
# chapters' kernels), so each gets one OpenBLAS thread: a second one spins while it waits for work,
# on a core another process needs (the first pytest run took 5 min 47 s with one, 6 min 56 s without).
test test-lib test-notebooks test-book test-lab screenshots book: export OPENBLAS_NUM_THREADS = 1

test: data chromium $(KERNEL) $(LAB_OVERRIDES)
	AUDIOGEN_PROFILE=smoke $(BIN)/pytest $(XDIST) tests notebooks $(NBVAL) --ignore=tests/test_book.py --durations=20; \
	first=$$?; AUDIOGEN_PROFILE=smoke $(BIN)/pytest tests/test_book.py; second=$$?; \
	exit $$(( first != 0 ? first : second ))

test-notebooks: data
	AUDIOGEN_PROFILE=smoke $(BIN)/pytest tests/test_notebooks_meta.py notebooks $(NBVAL)

test-book: data chromium
	AUDIOGEN_PROFILE=smoke $(BIN)/pytest tests/test_book.py

# The browser test again, with a screenshot of every whole page in test-artifacts/screenshots/ (make
# test keeps each page's first screen).
screenshots: data chromium
	AUDIOGEN_PROFILE=smoke AUDIOGEN_FULL_SCREENSHOTS=1 $(BIN)/pytest tests/test_book.py -k page_in_browser

# One chapter run in JupyterLab with Run All, in headless Chromium: its numbers and closed answers.
test-lab: data chromium $(KERNEL) $(LAB_OVERRIDES)
	AUDIOGEN_PROFILE=smoke $(BIN)/pytest tests/test_jupyterlab.py

# nbval compares a cell tagged `nbval-check-output` only when the notebook stores its output
# and an execution count. `make nbval-record NB=notebooks/01_digital_audio.ipynb` (default:
# every chapter) runs the notebook with the smoke profile and stores the text output of
# those cells only; every other cell is left with no output and no count.
define NBVAL_RECORD_PY
import copy, os, sys
import nbformat
from nbclient import NotebookClient
for path in sys.argv[1:]:
    nb = nbformat.read(path, as_version=4)
    ran = copy.deepcopy(nb)
    NotebookClient(ran, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": os.path.dirname(path) or "."}}).execute()
    count = 0
    for cell, done in zip(nb.cells, ran.cells):
        if cell.cell_type != "code":
            continue
        if "nbval-check-output" not in cell.metadata.get("tags", []):
            cell.outputs, cell.execution_count = [], None
            continue
        count += 1
        keep = []
        for out in done.outputs:
            if out.output_type == "stream" and out.name == "stdout":
                keep.append(out)
            elif out.output_type == "execute_result" and "text/plain" in out.data:
                keep.append(nbformat.v4.new_output("execute_result", data={"text/plain": out.data["text/plain"]},
                                                   execution_count=count))
        cell.outputs, cell.execution_count = keep, count
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)
    print(f"{path}: stored the output of {count} checked cells")
endef
export NBVAL_RECORD_PY

nbval-record: data
	AUDIOGEN_PROFILE=smoke $(PY) -c "$$NBVAL_RECORD_PY" $(or $(NB),$(wildcard notebooks/*.ipynb))

test-lib: data
	AUDIOGEN_PROFILE=smoke $(BIN)/pytest tests --ignore=tests/test_notebooks.py -m "not book and not browser"

# JupyterLab from the venv: the kernel "audiogen" and jupyterlab-myst (MyST as in the book) come with it.
lab: data $(KERNEL) $(LAB_OVERRIDES)
	$(BIN)/jupyter lab notebooks/

bench: data
	$(BIN)/audiogen bench

clean:
	rm -rf _build .pytest_cache test-artifacts
