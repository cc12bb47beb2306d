# Two commands do everything on a fresh machine: `make run` and `make test`.
VENV ?= .venv
STATE_DIR ?= .endurance
API_PORT ?= 3000
AWS_PORT ?= 4566
PYTHON ?= python3

.PHONY: install run test lint bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

## run: the local stack with the sample documents, ready to chat
run: install
	$(VENV)/bin/endurance ingest samples/documents --state-dir $(STATE_DIR) --if-empty
	$(VENV)/bin/endurance local up --state-dir $(STATE_DIR) --api-port $(API_PORT) --aws-port $(AWS_PORT)

## test: lint and every test (unit, local runtime, integration, sam validate/build)
test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: install
	$(VENV)/bin/python -m bench

clean:
	rm -rf $(STATE_DIR) .aws-sam .pytest_cache .ruff_cache
