# Two commands for a fresh clone (see README):  make run   |   make test
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
BUN_DIR := .tools
PYTHON ?= python3

# Reflex would download bun from the internet; take it from the npm registry instead.
export REFLEX_USE_SYSTEM_BUN := 1
export PATH := $(CURDIR)/$(BUN_DIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export PWPUSH_DATA_DIR ?= $(CURDIR)/data

.PHONY: run build test test-containers install install-test system-deps bench clean

## Install everything and start the app on SQLite at http://localhost:3000
## (the frontend is built on the first start, and again only when its sources or settings change)
run: install
	mkdir -p -m 0700 "$(PWPUSH_DATA_DIR)"
	$(PY) -m pwpush_app serve

## Build the frontend for the current settings now (at install or deploy time) instead of at the next start
build: install
	$(PY) -m pwpush_app build

## Install what the tests need (Python deps, bun, Chromium, PostgreSQL, Redis, podman) and run
## them all (in two processes, each module whole in one; then the tests marked `alone`, by
## themselves; then the container tests: the image built from a Debian base, run alone and
## in compose.yaml, ~2.5 min on an idle 2-core machine)
TEST_PROCESSES ?= 2
test: install-test system-deps
	scripts/system-deps.sh --containers
	$(PY) -m compileall -q pwpush_app rxconfig.py alembic bench  # bytecode once, for the servers and commands the tests start
	status=0; \
	$(PY) -m pytest -n $(TEST_PROCESSES) --dist loadfile -m "not soak and not container and not alone" $(PYTEST_ARGS) || status=$$?; \
	$(PY) -m pytest -m "alone and not soak and not container" $(PYTEST_ARGS) || status=$$?; \
	$(PY) -m pytest -m "container and not soak" tests/container $(PYTEST_ARGS) || status=$$?; \
	exit $$status

## The container tests alone, with their long variant (a container that builds its pages at
## its first start)
test-containers: install-test
	scripts/system-deps.sh --containers
	$(PY) -m pytest -m "container" tests/container $(PYTEST_ARGS)

install: $(VENV)/.installed $(BUN_DIR)/node_modules/.bin/bun
install-test: install $(VENV)/.installed-test

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install -q --disable-pip-version-check -e ".[test]"
	touch $@

$(BUN_DIR)/node_modules/.bin/bun:
	npm install --silent --no-audit --no-fund --prefix $(BUN_DIR) bun@1

system-deps:
	scripts/system-deps.sh

## Benchmarks (bench/README.md): make bench [BENCH="api scale sizing"]
BENCH ?= api
bench: install-test system-deps
	command -v wrk >/dev/null || apt-get install -y -qq wrk
	$(PY) -m bench $(BENCH)

clean:
	rm -rf .web .states $(VENV) $(BUN_DIR)
