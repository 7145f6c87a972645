# The two Quickstart targets: `make demo` (set up, run the main job) and `make test` (set up, lint, type-check, test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA ?= ../shared/data
TRAIN ?=
STEPS ?=
# `make test`: pytest worker processes (pytest-xdist), one torch thread each; 0 runs the suite in this process.
TEST_WORKERS ?= 2

.PHONY: demo test lint typecheck install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade --quiet pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# `make demo`: the shipped model answers; `make demo TRAIN=1 [STEPS=N]` retrains it first (resumable).
demo: install-dev
	$(BIN)/earthgpt demo --data $(DATA) --out runs/demo $(if $(filter 1 yes true,$(TRAIN)),--train) $(if $(STEPS),--steps $(STEPS))

lint: install-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install-dev
	$(BIN)/mypy

test: lint typecheck
	EARTHGPT_DATA=$(DATA) OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist worksteal --durations=25 --timeout=1500 tests

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
