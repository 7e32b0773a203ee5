# Duet: `make run` starts everything on embedded defaults; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two locks (README): requirements.lock is what the service runs on (make run, the
# Docker image), requirements-dev.lock adds the test, lint and benchmark tools (make test).
STAMP := $(VENV)/.installed-run-$(shell sha256sum requirements.lock | cut -c1-16)
DEV_STAMP := $(VENV)/.installed-dev-$(shell sha256sum requirements-dev.lock | cut -c1-16)

install: $(STAMP)

install-dev: $(DEV_STAMP)

$(STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Duet needs Python >= 3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	@rm -f $(VENV)/.installed-run-*
	@touch $@

$(DEV_STAMP): requirements-dev.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Duet needs Python >= 3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements-dev.lock
	@rm -f $(VENV)/.installed-dev-*
	@touch $@

## make run: migrate, load demo data, then serve the API with a Celery worker and beat (Ctrl-C stops all).
run: install
	@mkdir -p var/mail var/broker/queue var/broker/processed var/broker/control
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile.dev

## make test: ruff, mypy, migrations and schema checks, then the whole pytest suite.
test: install-dev lint typecheck check-migrations check-schema pytest

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy .

check-migrations:
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py makemigrations --check --dry-run

check-schema:
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py spectacular --fail-on-warn --validate --file /dev/null

pytest:
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make client-check: the contract front-end teams consume (docs/clients.md). Generates the
## TypeScript types with openapi-typescript at default options, compiles a typed first-hour flow
## with tsc --strict, and lints the schema with Redocly's recommended rules at zero errors; the
## tools are pinned in clients/typescript-check/package-lock.json (npm ci, needs Node >= 20.19).
client-check: install
	@mkdir -p var/clients
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py spectacular --fail-on-warn \
		--validate --format openapi-json --file var/clients/schema.json
	cd clients/typescript-check && npm ci --no-audit --no-fund --loglevel=error \
		&& npm run --silent generate && npm run --silent compile \
		&& REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true npm run --silent lint

## make messages: compile locale/*/LC_MESSAGES/django.po and the apps' <app>/locale/*/... ones
## into the committed .mo files (polib, no system gettext); a test fails while a .mo is stale.
messages:
	$(BIN)/python -m config.locale
	$(BIN)/python -c 'import pathlib, polib; [polib.pofile(str(p)).save_as_mofile(str(p.with_suffix(".mo"))) or print("compiled", p) for p in sorted(pathlib.Path().glob("*/locale/*/LC_MESSAGES/django.po"))]'

## make bench: benchmarks on PostgreSQL and Redis (BENCH_REDIS_URL), results in
## docs/benchmarks.md. PostgreSQL: a cluster the bench starts of its own with production's
## deploy/postgresql.conf (needs the server binaries, initdb and postgres), or BENCH_DATABASE_URL's.
## Needs wrk for the API figures (Debian package, installed when root).
bench: install-dev
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; } \
		|| echo "bench: wrk is missing; the API benchmarks will be skipped"
	$(BIN)/python -m bench.run $(BENCH_ARGS)

## make loadtest: 100 concurrent mobile users for 60 s against gunicorn (production settings) on
## PostgreSQL and Redis; fails on any error (LOAD_DATABASE_URL, LOAD_REDIS_URL).
loadtest: install-dev
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python -m bench.load $(LOAD_ARGS)

## make fuzz: Schemathesis against the live schema under gunicorn, as a partner, an outsider and a
## therapist (100 s each), on a fresh database: `<name>_fuzz` beside the one DATABASE_URL names
## (PostgreSQL), else SQLite. Fails on any failure or an operation never called; FUZZ_ARGS for
## more options (docs/testing.md).
fuzz: install-dev
	$(BIN)/python -m tests.fuzz.run_schemathesis $(FUZZ_ARGS)

## make chaos: the weekly run of 2,000 couples and their digests through killed workers and a
## crashed Redis (a redis-server of its own), on PostgreSQL (CHAOS_DATABASE_URL); fails on any
## lost or doubled report or digest and prints its figures. CI runs it within `make test`.
chaos: install-dev
	DATABASE_URL="$${CHAOS_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/duet_chaos}" \
	REDIS_URL="$${REDIS_URL:-redis://127.0.0.1:6379/0}" \
		$(BIN)/python -m pytest -p no:cacheprovider -s tests/chaos

## make screenshots: refresh docs/screenshots from the admin's browser test (needs Chromium).
screenshots: install-dev
	DUET_SCREENSHOT_DIR=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest tests/browser -q

## make lock: re-resolve pyproject.toml into both locks, with hashes. uv is in the dev lock (or
## `pip install uv`); the runtime lock is resolved within the dev one, so both pin the same versions.
lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
		-o requirements-dev.lock
	$(BIN)/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 \
		-c requirements-dev.lock -o requirements.lock

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
