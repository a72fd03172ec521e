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

.PHONY: help install data book test test-lib test-notebooks test-book lab bench chromium clean
help:
	@echo "make book   set up, then build the book into _build/html"
	@echo "make test   set up, then run every test (library, notebooks, book build, browser)"
	@echo "make lab    JupyterLab on notebooks/ with the project's environment"
	@echo "make bench  training and inference speed of the model presets"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(STAMP)

data: $(STAMP)
	$(BIN)/audiogen data

book: data
	$(BIN)/jupyter-book build . --toc book/_toc.yml
	@echo "The book is in _build/html/index.html"

# Debian's Chromium for the browser test (Playwright cannot download its own browser here).
chromium:
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

test: data chromium
	AUDIOGEN_PROFILE=smoke $(BIN)/pytest

test-lib: data
	AUDIOGEN_PROFILE=smoke $(BIN)/pytest tests --ignore=tests/test_notebooks.py -m "not book and not browser"

lab: data
	$(BIN)/jupyter lab notebooks/

bench: data
	$(PY) -m audiogen_lib.bench

clean:
	rm -rf _build .pytest_cache test-artifacts
