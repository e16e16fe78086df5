# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements/dev.lock pyproject.toml | sha1sum | cut -c1-12)
NODE_STAMP := node_modules/.installed-$(shell cat package-lock.json | sha1sum | cut -c1-12)
# The suite starts hundreds of Python processes (xdist workers, servers, workers, wxsim): with bytecode
# cached in __pycache__ (ignored by git) each imports Liucun instead of compiling it again, even on
# machines whose environment turns the cache off.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test test-sqlite test-postgres lint typecheck install browser messages lock bench-ingest bench-sync bench-fanlist bench-readmodels bench-rules bench-inbox bench-history bench-reports screenshots clean

$(STAMP):
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (Liucun needs Python 3.11)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed-*; touch $@

# The console's front-end packages (Apache ECharts), exactly as package-lock.json pins them.
$(NODE_STAMP): package-lock.json
	@command -v npm >/dev/null || { echo "error: npm not found (the console's assets install with Node's npm)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@rm -f node_modules/.installed-*; touch $@

install: $(STAMP) $(NODE_STAMP)

## Start Liucun on the embedded default (SQLite, built-in worker, demo account).
run: install
	$(BIN)/liucun run

## The whole suite: lint, types, tests on SQLite and on a PostgreSQL this target starts itself.
test: install lint typecheck test-sqlite test-postgres

lint: install
	$(BIN)/ruff check liucun wxsim bench
	$(BIN)/ruff format --check liucun wxsim bench
	@# Every model change has its migration committed (a fresh clone cannot make one up).
	$(BIN)/python manage.py makemigrations --check --dry-run --no-color >/dev/null || { $(BIN)/python manage.py makemigrations --check --dry-run; exit 1; }

typecheck: install
	$(BIN)/mypy liucun wxsim

# Browser tests drive Debian's chromium headless; this installs it (and CJK fonts) when the machine lacks it.
browser: install
	scripts/ensure-browser

test-sqlite: install browser
	$(BIN)/pytest -n 2 -p no:cacheprovider

test-postgres: install browser
	scripts/with-postgres $(BIN)/pytest -n 2 -p no:cacheprovider

## Re-extract the console's translatable strings and compile them (needs GNU gettext; the .mo is committed).
messages: install
	cd liucun && DJANGO_SETTINGS_MODULE=liucun.settings ../$(BIN)/django-admin makemessages -l zh_Hans -i "*/tests/*" -i "testing/*"
	cd liucun && DJANGO_SETTINGS_MODULE=liucun.settings ../$(BIN)/django-admin compilemessages -l zh_Hans

## Regenerate the lock files after changing pyproject.toml.
lock: install
	$(BIN)/uv pip compile --quiet --python-version 3.11 --generate-hashes pyproject.toml -o requirements/base.lock
	$(BIN)/uv pip compile --quiet --python-version 3.11 --generate-hashes --extra dev pyproject.toml -o requirements/dev.lock

bench-ingest: install
	$(BIN)/python -m bench.ingest

bench-sync: install
	$(BIN)/python -m bench.sync

bench-fanlist: install
	$(BIN)/python -m bench.fanlist

bench-rules: install
	$(BIN)/python -m bench.rules

bench-readmodels: install
	$(BIN)/python -m bench.readmodels

bench-inbox: install
	$(BIN)/python -m bench.inbox

bench-reports: install
	$(BIN)/python -m bench.reports
	scripts/with-postgres $(BIN)/python -m bench.reports

bench-history: install
	$(BIN)/python -m bench.history

## Two web nodes behind a proxy, two workers, one PostgreSQL; a web node and a worker killed mid-run (docs/deploy.md).
.PHONY: test-multinode
test-multinode: install
	scripts/multinode

## Refresh docs/screenshots/ from the browser tests.
screenshots: install browser
	LIUCUN_SCREENSHOTS=docs/screenshots $(BIN)/pytest -p no:cacheprovider -q liucun/console/tests/test_browser.py liucun/console/tests/test_phone_width.py liucun/analytics/tests/test_browser.py

clean:
	rm -rf $(VENV) node_modules var/test* .mypy_cache .ruff_cache
