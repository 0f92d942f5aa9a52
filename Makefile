# Linli: the commands a developer and CI use. Every target installs what it needs first
# (scripts/bootstrap.sh is quick when nothing changed).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

BIN := .venv/bin
# Extra pytest arguments, e.g. make test PYTEST_ARGS='-k supply -x'
PYTEST_ARGS ?=
# Directories mypy checks, of those that exist.
MYPY_DIRS := $(wildcard linli tests bench)

# pytest with exit code 5 ("no tests collected") reported as the failure it is.
define run_pytest
	rc=0; $(1) $(BIN)/pytest -n 2 $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make: pytest collected no tests: that is a failure" >&2; fi; \
	exit $$rc
endef

.PHONY: help bootstrap demo test lint lint-ruff lint-format lint-mypy lint-django test-postgres ci

help:
	@echo "make demo            start the demo (optional: TIER=community|estate|street PORT=8000)"
	@echo "make test            the whole test suite on SQLite, browser tests included"
	@echo "make lint            ruff, ruff format, mypy, Django system checks, missing migrations"
	@echo "make test-postgres   the whole test suite on a throwaway PostgreSQL"
	@echo "make ci              lint + test + test-postgres (what .ci/run runs)"

bootstrap:
	@bash scripts/bootstrap.sh

demo: bootstrap
	$(BIN)/linli demo $(if $(TIER),--tier=$(TIER)) $(if $(PORT),--port=$(PORT))

test: bootstrap
	@echo "=== make test: pytest on SQLite ==="
	@$(call run_pytest,)

# Separate targets so that `make -k lint` (as CI runs it) reports every kind of problem.
lint: lint-ruff lint-format lint-mypy lint-django

lint-ruff: bootstrap
	$(BIN)/ruff check --output-format=concise .

lint-format: bootstrap
	$(BIN)/ruff format --check .

lint-mypy: bootstrap
	$(if $(MYPY_DIRS),$(BIN)/mypy $(MYPY_DIRS),@echo "mypy: nothing to check")

lint-django: bootstrap
	$(BIN)/linli check
	$(BIN)/linli makemigrations --check --dry-run

test-postgres: bootstrap
	@echo "=== make test-postgres: pytest on PostgreSQL ==="
	@$(call run_pytest,bash scripts/with-postgres.sh)

ci: lint test test-postgres
