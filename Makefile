# Two commands matter: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Re-install whenever pyproject.toml changes.
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
TEST_STAMP := $(VENV)/.installed-test-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: install demo test test-distributed lint typecheck unit bench clean screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@ $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/mastery demo --data-dir ./.mastery-demo

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest -q

# Every integration test on the distributed backend too (docs/testing.md): ~20 min more.
test-distributed: $(TEST_STAMP)
	MASTERY_TEST_DISTRIBUTED=all $(BIN)/pytest -q tests/integration -k distributed

unit: $(TEST_STAMP)
	$(BIN)/pytest -q tests/unit

# The latest screenshots of `make demo`'s district (tests/browser/test_demo_walk.py), kept in docs/ for the README.
screenshots:
	mkdir -p docs/screenshots
	cp test-artifacts/screenshots/demo-*.png docs/screenshots/

bench: $(TEST_STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mastery .mastery-demo .pytest_cache .mypy_cache .ruff_cache test-artifacts
