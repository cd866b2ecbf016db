# Two commands for a newcomer: `make demo` (the app with demo data on SQLite) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test setup run clean lint

demo: setup
	$(BIN)/commissions demo
	$(BIN)/commissions run --host 127.0.0.1 --port 8000

run: setup
	$(BIN)/commissions run

# Two processes (the machine's cores); a test file runs whole in one of them, in order (pytest-xdist).
test: setup
	$(BIN)/pytest -n 2 --dist loadfile

setup: $(VENV)/.installed node_modules/.package-lock.json tests/oidc_provider/node_modules/.package-lock.json

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Quotaboard needs Python 3.11 or newer"'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test,dev]"
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

# the real OpenID provider the single sign-on tests run against (tests/sso; never shipped)
tests/oidc_provider/node_modules/.package-lock.json: tests/oidc_provider/package.json tests/oidc_provider/package-lock.json
	npm ci --prefix tests/oidc_provider --no-audit --no-fund

clean:
	rm -rf $(VENV) node_modules tests/oidc_provider/node_modules data .pytest_cache .hypothesis

# ruff (lint and format check), mypy (strict; the packages in [tool.mypy] files), import-linter (the layers).
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
