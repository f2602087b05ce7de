# OsteoScreen: `make demo` starts the platform with demo data; `make test` runs the tests.
# Both set up what they need first (virtualenv, pinned packages, pyradiomics, the frontend bundle)
# and reuse what exists on a second run.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PY := .venv/bin/python
DEMO_BIND ?= 127.0.0.1:8000
PIP := $(PY) -m pip
STAMP := .venv/.installed
REQ_HASH := $(shell cat requirements.txt requirements-dev.txt docker/install-pyradiomics.sh 2>/dev/null | sha256sum | cut -c1-16)
FRONTEND_SOURCES := $(shell find frontend -path frontend/node_modules -prune -o -path frontend/dist -prune -o -path frontend/dist-bench -prune -o -type f -print 2>/dev/null)

# CI must run on the real services (PostgreSQL, Redis); the tests refuse to fall back there.
ifeq ($(CI),true)
export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
export CELERY_BROKER_URL ?= redis://127.0.0.1:6379/0
endif

.PHONY: help demo test venv frontend browser pacs lint typecheck bench clean
help:
	@echo "make demo   - set up and start the platform with demo data on http://127.0.0.1:8000"
	@echo "make test   - set up and run the test suite (CI=true: on PostgreSQL + Redis)"
	@echo "make lint   - ruff (lint and format) and the import contracts (lint-imports); make typecheck - mypy"

venv: $(STAMP)-$(REQ_HASH)
$(STAMP)-$(REQ_HASH):
	test -x $(PY) || python3 -m venv .venv
	$(PIP) install -q --upgrade pip setuptools wheel
	$(PIP) install -q -r requirements.txt -r requirements-dev.txt
	bash docker/install-pyradiomics.sh $(PY)
	rm -f $(STAMP)-* && touch $@

frontend: frontend/dist/.built
frontend/dist/.built: $(FRONTEND_SOURCES)
	@if [ -f frontend/package.json ]; then \
	  cd frontend && (npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error) && npm run build && npm run build:bench; \
	fi
	mkdir -p frontend/dist && touch $@

# Debian's chromium drives the browser tests (Playwright cannot download browsers here).
browser:
	@command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || \
	  ( [ "$$(id -u)" = 0 ] && (apt-get install -y -q chromium || (apt-get update -q && apt-get install -y -q chromium)) ) || \
	  echo "NOTICE: chromium is missing; browser tests will be skipped (apt-get install chromium)"

# Debian's Orthanc with its DICOMweb plugin: the PACS the tests start (on a free port, a temporary folder).
pacs:
	@( command -v Orthanc >/dev/null && [ -e /usr/share/orthanc/plugins/libOrthancDicomWeb.so ] ) || \
	  ( [ "$$(id -u)" = 0 ] && (apt-get install -y -q orthanc orthanc-dicomweb || (apt-get update -q && apt-get install -y -q orthanc orthanc-dicomweb)) ) || \
	  echo "NOTICE: Orthanc is missing; PACS tests will be skipped (apt-get install orthanc orthanc-dicomweb)"

migrate: venv
	$(PY) manage.py migrate --noinput

demo: venv frontend migrate
	$(PY) manage.py create_demo_users
	$(PY) manage.py load_demo
	$(PY) manage.py run_platform --bind $(DEMO_BIND)

test: venv frontend browser pacs
	$(PY) -m pytest $(PYTEST_ARGS)

# lint-imports checks the allowed arrows between the parts (pyproject.toml, [tool.importlinter]).
lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	PYTHONPATH=platform:. .venv/bin/lint-imports --no-logo

typecheck: venv
	$(PY) -m mypy platform annotations inference tests

clean:
	rm -rf var frontend/dist frontend/dist-bench
