# Dais: `make run` starts the platform with demo content; `make test` runs every test.
# Both install what is missing first (a .venv, the Python package, the web UI, Chromium for the
# browser tests).

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DAIS := $(VENV)/bin/dais
STAMP := $(VENV)/.dais-installed
WEB_STAMP := web/node_modules/.dais-installed
WEB_SRC := $(shell find web/src web/index.html web/vite.config.ts web/package.json -type f 2>/dev/null)
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
# Two test processes (a test module stays in one): most tests wait on processes, not the CPU.
# Browser tests and latency measurements (markers e2e, serial) then run alone, in one process.
PYTEST_ARGS ?=
PARALLEL ?= -n 2 --dist loadfile

.PHONY: run install web test test-sqlite test-postgres check lint format chromium openapi cli-docs clean

run: install web
	$(DAIS) db upgrade
	$(DAIS) up --demo

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $@

web: web/dist/index.html

web/dist/index.html: $(WEB_STAMP) $(WEB_SRC)
	cd web && npm run build

# Debian's Chromium drives the browser tests; a test tool never downloads a browser of its own.
chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

test: install web chromium
	$(MAKE) test-sqlite
	$(MAKE) test-postgres

test-sqlite:
	$(PY) -m pytest $(PARALLEL) $(PYTEST_ARGS) -m "not e2e and not serial"
	$(PY) -m pytest $(PYTEST_ARGS) -m "e2e or serial"

# The same suite on PostgreSQL (127.0.0.1:5432 here and in CI). Outside CI a missing server is a skip.
test-postgres:
	@if $(PY) -c "import socket; socket.create_connection(('127.0.0.1', 5432), 2)" 2>/dev/null; then \
		DAIS_TEST_DATABASE_URL=$(PG_TEST_URL) $(PY) -m pytest $(PARALLEL) $(PYTEST_ARGS) -m "not e2e and not serial" && \
		DAIS_TEST_DATABASE_URL=$(PG_TEST_URL) $(PY) -m pytest $(PYTEST_ARGS) -m "serial and not e2e"; \
	elif [ -n "$$CI" ]; then echo "PostgreSQL is not reachable at 127.0.0.1:5432 (needed in CI)"; exit 1; \
	else echo "SKIPPED: PostgreSQL tests (no server at 127.0.0.1:5432; set PG_TEST_URL)"; fi

check: install $(WEB_STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	cd web && npm run typecheck && npm run lint

format: install
	$(VENV)/bin/ruff format src tests bench
	$(VENV)/bin/ruff check --fix src tests bench

# Regenerate the web UI's API types from the server's OpenAPI document.
openapi: install $(WEB_STAMP)
	$(PY) -m dais.app.openapi > web/openapi.json
	cd web && npx --yes openapi-typescript@7.13.0 openapi.json -o src/api/schema.d.ts

# Regenerate the CLI reference from the commands' own help.
cli-docs: install
	$(VENV)/bin/typer dais.cli.main utils docs --name dais --output docs/cli.md

clean:
	rm -rf $(VENV) web/node_modules web/dist .mypy_cache .ruff_cache .pytest_cache test-artifacts
