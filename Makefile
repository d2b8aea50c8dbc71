# The two commands: `make run` and `make test`. Everything else is a helper of theirs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := audit

.PHONY: run test bench install translations system-deps lint messages clean

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $@

install: $(VENV)/.installed translations

# Compiled catalogues (*.mo) are build products, made from the committed *.po files.
translations: $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d audit/translations

run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask demo --if-empty
	@echo
	@echo "  Serving http://127.0.0.1:$(PORT)"
	@echo "  Demo logins (password: demo): organiser@demo.test  auditor@demo.test  director@demo.test"
	@echo "  Mail waits in the outbox (no SMTP_HOST): organiser console, Sent mail"
	@echo
	@# The worker runs beside the web server and stops with it (Ctrl-C stops both).
	PUBLIC_URL=$${PUBLIC_URL:-http://127.0.0.1:$(PORT)} $(BIN)/flask jobs worker & worker=$$!; \
	trap 'kill -INT $$worker 2>/dev/null; wait $$worker' EXIT; \
	PUBLIC_URL=$${PUBLIC_URL:-http://127.0.0.1:$(PORT)} $(BIN)/flask run --host 127.0.0.1 --port $(PORT)

system-deps:
	bash scripts/install-system-deps.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

# The whole suite on SQLite, then again on a throwaway PostgreSQL server (browser tests: SQLite pass only).
test: install system-deps lint
	$(BIN)/pytest
	bash scripts/with-postgres.sh $(BIN)/pytest -q -m "not browser"

# The load check starts its own PostgreSQL (from system-deps); the budgets are ratios measured in one run.
bench: install system-deps
	$(BIN)/python -m bench

# Re-extract UI texts after changing templates or code, then translate the new entries in the .po files.
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k Np_:1,2 -o audit/translations/messages.pot .
	$(BIN)/pybabel update -i audit/translations/messages.pot -d audit/translations

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis test-artifacts
