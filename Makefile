# Every target a developer or CI needs. `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_DIR := .demo

.PHONY: help install rabbitmq test-tools lint format test test-fast test-cluster demo bench dist completions clean

help:
	@echo "make demo        run example workers with real cast/call traffic on a private RabbitMQ"
	@echo "make test        lint + the whole test suite (what CI runs)"
	@echo "make lint        ruff format --check, ruff check, mypy --strict"
	@echo "make bench       benchmarks against raw aio-pika (bench/README.md)"
	@echo "make dist        sdist + wheel, checked by twine"
	@echo "make completions regenerate completions/ from the CLI"

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

rabbitmq:
	@$(PYTHON) tools/rabbitnode.py ensure

lint: install
	$(VENV)/bin/ruff format --check src tests tools bench examples
	$(VENV)/bin/ruff check src tests tools bench examples
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format src tests tools bench examples
	$(VENV)/bin/ruff check --fix src tests tools bench examples

test-tools:
	@$(PY) tools/test_tools.py ensure

test: install rabbitmq test-tools lint
	$(PY) -m pytest -q --cov --cov-report=term --durations=15

test-fast: install
	$(PY) -m pytest -q -m "not slow"

# Failover (3 clusters on loopback), and as root the partition and several-hosts tests
# (tools/rabbitnetns.py: network namespaces). 5.5-8 minutes on a shared 2-core VM.
test-cluster: install rabbitmq
	$(PY) -m pytest -q tests/cluster --run-cluster

demo: install rabbitmq
	@$(PY) tools/demo.py

bench: install rabbitmq
	$(PY) -m bench

completions: install
	$(PY) -m vincent_cli.completions completions

dist: install
	rm -rf dist
	$(PY) -m build --outdir dist . > /dev/null
	$(VENV)/bin/twine check --strict dist/*

clean:
	rm -rf dist build .pytest_cache .mypy_cache .ruff_cache $(DEMO_DIR) .coverage*
