# One entry point for people and CI. `make demo` and `make test` set everything up first;
# each step is skipped when already done, so both are quick the second time.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VENDOR := src/rigwatch/commander/web/static/vendor

.PHONY: setup system python web services demo test check lint typecheck unit bench clean

setup: system python web

system:
	@bash scripts/system-packages.sh

python: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

web: $(VENDOR)/.installed
$(VENDOR)/.installed: package.json package-lock.json Makefile
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css $(VENDOR)/
	@touch $@

services:
	@bash scripts/services.sh

demo: setup
	$(BIN)/rigwatch demo

test: setup services check

check: lint typecheck unit

lint:
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports

typecheck:
	$(BIN)/mypy

unit:
	$(BIN)/pytest

bench: setup
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.poll
	$(BIN)/python -m bench.logtail
	$(BIN)/python -m bench.history
	$(BIN)/python -m bench.ui
	$(BIN)/python -m bench.alerts

clean:
	rm -rf $(VENV) node_modules $(VENDOR) .mypy_cache .ruff_cache .pytest_cache
