# foliodb: `make run` (demo) and `make test` are all a new machine needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean venv

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

## The demo: loads a realistic multi-currency data set into its own SQLite file and shows it
## (never into $FOLIODB_DATABASE_URL, which may be yours).
run: $(STAMP)
	$(BIN)/foliodb demo --db sqlite:///$(CURDIR)/demo-out/demo.db

## Every test, on SQLite and on a throwaway PostgreSQL cluster the run starts itself.
test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/ledger.py
	$(BIN)/python bench/analytics.py
	$(BIN)/python bench/history.py

clean:
	rm -rf $(VENV) demo-out .pytest_cache .ruff_cache .mypy_cache
