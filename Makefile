# minyi-suban: every command a developer or CI needs. Nothing is installed by hand:
# the targets below create .venv (the app, tests, local stack) and .venv-sam (SAM CLI).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Lambda runs python3.12; so do the venvs. pyenv's 3.12 is used when it is not on PATH.
# (a pyenv shim on PATH may exist yet refuse to run, so each candidate is tried.)
PYTHON312 ?= $(shell for p in $$(ls -d $$HOME/.pyenv/versions/3.12.*/bin/python3.12 2>/dev/null | sort -V -r) \
	$$(command -v python3.12) $$(command -v python3); do \
	"$$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null && { echo "$$p"; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
PORT ?= 3000
export AWS_REGION ?= us-east-1
# the region samconfig.toml deploys to: lint checks every resource type exists there
DEPLOY_REGION := ap-east-1
export SAM_CLI_TELEMETRY := 0

.PHONY: help venv lint test test-fast run build build-check bench bench-dispatch probe clean

help:
	@echo "make run    - local stack on http://127.0.0.1:$(PORT) (moto server + the real handlers)"
	@echo "make test   - lint (ruff, cfn-lint, sam validate --lint) and all tests (unit, integration, e2e)"
	@echo "make build  - sam build without Docker, then build-check (every handler imports from the layer alone)"
	@echo "make bench  - cold imports, intake writes and latency, one order's life (writes, staff action latency), the SLA sweep's cost at 10k and 100k orders (SWEEP_ARGS=--quick: 1k and 10k), a month's report from the KPI counters beside reading every order at 10k and 100k (REPORT_ARGS=--quick: 1k and 10k), the dashboard's warm latency on the local stack (DASHBOARD_ARGS=--orders N), dispatch speed and accuracy, layer size"
	@echo "make bench-dispatch [DATA=file] - dispatch accuracy on labelled messages (CSV or TSV)"
	@echo "make probe [ARGS='--start --requests 3000'] - concurrent duplicates and moto's memory against the local stack"

$(VENV)/.installed: requirements-dev.txt src/requirements.txt pyproject.toml
	@test -n "$(PYTHON312)" || { echo "python3.12 not found (install it or set PYTHON312=...)"; exit 1; }
	test -x $(PY) || $(PYTHON312) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==26.3
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

venv: $(VENV)/.installed

$(SAM_VENV)/.installed: requirements-sam.txt
	@test -n "$(PYTHON312)" || { echo "python3.12 not found (install it or set PYTHON312=...)"; exit 1; }
	test -x $(SAM_VENV)/bin/python || $(PYTHON312) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip==26.3
	$(SAM_VENV)/bin/python -m pip install --quiet -r requirements-sam.txt
	touch $@

lint: venv $(SAM_VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/cfn-lint --regions $(DEPLOY_REGION) -- template.yaml
	$(SAM) validate --lint --template-file template.yaml --region $(DEPLOY_REGION)

test: lint
	$(PY) -m pytest -v

test-fast: venv
	$(PY) -m pytest -m "not e2e"

run: venv
	PORT=$(PORT) $(PY) -m infra.local_stack

# the layer's Makefile (src/Makefile) installs with the SAM venv's python3.12 and its pinned pip;
# then every handler is imported from the built layer alone (build-check)
build: $(SAM_VENV)/.installed venv
	PATH="$(dir $(PYTHON312)):$$PATH" LAYER_PYTHON="$(abspath $(SAM_VENV)/bin/python)" \
		$(SAM) build --template-file template.yaml
	$(MAKE) --no-print-directory build-check

build-check: venv
	@test -d .aws-sam/build/SharedLayer/python || { echo "no layer built: make build"; exit 1; }
	$(PY) -m pytest -q -p no:cacheprovider tests/unit/test_layer.py

bench: venv
	$(PY) bench/cold_imports.py
	$(PY) bench/intake_writes.py
	$(PY) bench/order_life.py
	$(PY) bench/sweep_cost.py $(SWEEP_ARGS)
	$(PY) bench/report_cost.py $(REPORT_ARGS)
	$(PY) bench/dashboard_latency.py $(DASHBOARD_ARGS)
	$(PY) bench/dispatch_accuracy.py
	$(PY) bench/layer_size.py

bench-dispatch: venv
	DATA=$(DATA) $(PY) bench/dispatch_accuracy.py

# against the stack `make run` started (.local/); ARGS="--start" starts one of its own
probe: venv
	$(PY) bench/local_stack_probe.py $(ARGS)

clean:
	rm -rf .aws-sam .pytest_cache .ruff_cache .local
