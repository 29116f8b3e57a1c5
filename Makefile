# Credo — two commands: `make demo` (evaluate) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# Test processes (pytest-xdist); each gets its own test database and data directory.
TEST_WORKERS ?= auto
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: demo test lint format assets chromium venv clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

venv: $(BIN)/.installed

# Front-end libraries come from npm at build time and are copied into static/vendor (ignored).
assets: venv
	$(BIN)/python scripts/build_assets.py
	$(BIN)/python scripts/build_regions.py

.env:
	$(BIN)/python -m credo.devsecrets .env

# `credo` reads .env itself and an exported variable wins over it (DATABASE_URL=postgres://…
# make demo runs the demo on PostgreSQL); honcho is told not to re-apply .env over it.
demo: venv assets .env
	credo migrate --no-input && \
	  credo seed_demo && \
	  credo collectstatic --no-input --verbosity 0 && \
	  echo "Credo: http://127.0.0.1:8000  (Ctrl-C stops web, worker and scheduler)" && \
	  honcho -e /dev/null -f Procfile.demo start

chromium:
	@command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null)

# pytest exits 5 when a selection collects no tests; that is not a failure of the suite.
test: venv assets chromium
	$(BIN)/pytest -n $(TEST_WORKERS) --durations=25 $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; rc=0; fi; exit $$rc

lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	DATABASE_URL=sqlite:///:memory: DJANGO_SETTINGS_MODULE=tests.settings $(BIN)/python -m django makemigrations --check --dry-run

format: venv
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

clean:
	rm -rf $(VENV) node_modules src/credo/static/vendor
