# Two commands: `make run` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint bench bench-load bench-sim bench-plan bench-policies clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(STAMP)

run: $(STAMP)
	$(BIN)/nighthawk serve --demo --hl7-port 2575

test: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/solve.py
	$(BIN)/python benchmarks/assign_one.py

bench-load: $(STAMP)
	$(BIN)/python benchmarks/load.py
	$(BIN)/python benchmarks/load.py --postgres

bench-sim: $(STAMP)
	$(BIN)/python benchmarks/simulate.py

bench-plan: $(STAMP)
	$(BIN)/python benchmarks/plan.py

bench-policies: $(STAMP)
	$(BIN)/python benchmarks/policies.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
