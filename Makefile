# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements/dev.lock pyproject.toml | sha1sum | cut -c1-12)

.PHONY: run test test-sqlite test-postgres lint typecheck install lock bench-ingest clean

$(STAMP):
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (Liucun needs Python 3.11)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed-*; touch $@

install: $(STAMP)

## Start Liucun on the embedded default (SQLite, built-in worker, demo account).
run: install
	$(BIN)/liucun run

## The whole suite: lint, types, tests on SQLite and on a PostgreSQL this target starts itself.
test: install lint typecheck test-sqlite test-postgres

lint: install
	$(BIN)/ruff check liucun wxsim bench
	$(BIN)/ruff format --check liucun wxsim bench

typecheck: install
	$(BIN)/mypy liucun wxsim

test-sqlite: install
	$(BIN)/pytest -n 2 -p no:cacheprovider

test-postgres: install
	scripts/with-postgres $(BIN)/pytest -n 2 -p no:cacheprovider

## Regenerate the lock files after changing pyproject.toml.
lock: install
	$(BIN)/uv pip compile --quiet --python-version 3.11 --generate-hashes pyproject.toml -o requirements/base.lock
	$(BIN)/uv pip compile --quiet --python-version 3.11 --generate-hashes --extra dev pyproject.toml -o requirements/dev.lock

bench-ingest: install
	$(BIN)/python -m bench.ingest

clean:
	rm -rf $(VENV) var/test* .mypy_cache .ruff_cache
