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

## The demo: loads a realistic multi-currency data set into SQLite and shows it.
run: $(STAMP)
	FOLIODB_DATABASE_URL=$${FOLIODB_DATABASE_URL:-sqlite:///$(CURDIR)/demo-out/demo.db} \
		$(BIN)/foliodb demo

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

clean:
	rm -rf $(VENV) demo-out .pytest_cache .ruff_cache .mypy_cache
