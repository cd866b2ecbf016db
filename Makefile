# Two commands for a newcomer: `make demo` (the app with demo data on SQLite) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test setup run clean lint messages

demo: setup
	$(BIN)/commissions demo
	$(BIN)/commissions run --host 127.0.0.1 --port 8000

run: setup
	$(BIN)/commissions run

# Two processes (the machine's cores); a test file runs whole in one of them, in order (pytest-xdist).
test: setup
	$(BIN)/pytest -n 2 --dist loadfile --durations=25

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

# The interface text (docs/translating.md): extract every _()/{% trans %} into messages.pot, then bring
# each language's messages.po up to date (new strings empty, changed ones fuzzy: translate them, then
# tests/core/test_translations.py passes). The .po files are compiled in memory at run time (core/i18n.py).
LOCALES_DIR := commissions/locales
messages: setup
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k Nn_:1,2 --project=Quotaboard --no-wrap --sort-by-file \
		-o $(LOCALES_DIR)/messages.pot .
	$(BIN)/pybabel update -i $(LOCALES_DIR)/messages.pot -d $(LOCALES_DIR) -D messages --no-wrap --ignore-obsolete
