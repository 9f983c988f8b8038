# Clinicbot — developer commands. `make run` to chat with the demo clinic, `make test` to check everything.
SHELL := /bin/bash
PY := .venv/bin/python
CLINICBOT := .venv/bin/clinicbot
PORT ?= 8000

.PHONY: help setup run test test-fast test-scale services-start services-stop lint typecheck format bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

setup:  ## create .venv (app, Python 3.11) and .venv-rasa (engine, Python 3.10); quick when nothing changed
	@bash scripts/setup.sh

run: setup  ## start everything with the demo clinic and print the chat URL
	@$(CLINICBOT) up --port $(PORT)

test: setup  ## lint, type-check, every test (unit, contract, end-to-end, browser), then test-scale
	@$(PY) -m ruff check .
	@$(PY) -m mypy bot actions adapters knowledge
	@$(PY) -m pytest
	@$(MAKE) --no-print-directory test-scale

# on PostgreSQL + Redis: the scale suite and the two-gateway end-to-end flows (about 7 minutes); any e2e module
# runs there too, e.g. make test-scale SCALE_TESTS="tests/e2e/test_appointments.py"
SCALE_TESTS ?= tests/scale tests/e2e/test_scale_out.py

test-scale: setup  ## the scale suite and the two-gateway e2e flows again on PostgreSQL 15 + Redis 7 (started here)
	@bash scripts/services.sh start >/dev/null
	@set -a; eval "$$(bash scripts/services.sh env)"; set +a; \
	  CLINICBOT_E2E_BACKEND=postgres $(PY) -m pytest $(SCALE_TESTS); status=$$?; \
	  bash scripts/services.sh stop; exit $$status

services-start:  ## start the local PostgreSQL and Redis (installed with apt-get where missing); prints their URLs
	@bash scripts/services.sh start

services-stop:  ## stop them (their data stays under var/services)
	@bash scripts/services.sh stop

test-fast: setup  ## unit and contract tests only
	@$(PY) -m pytest -m "not e2e and not slow and not browser"

lint: setup  ## ruff
	@$(PY) -m ruff check .

typecheck: setup  ## mypy
	@$(PY) -m mypy bot actions adapters knowledge

format: setup  ## ruff format and import sorting
	@$(PY) -m ruff check --fix . && $(PY) -m ruff format .

bench: setup  ## run the benchmarks and print the README table
	@$(PY) scripts/bench.py

clean:  ## remove runtime data (var/), keeps the environments
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
