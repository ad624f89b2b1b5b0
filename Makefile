# Everything installs from nothing but python3, git and make.
# uv is bootstrapped into .tools/ when it is not on PATH (pip takes minutes
# to resolve this stack; uv takes seconds). --compile-bytecode: where
# PYTHONDONTWRITEBYTECODE is set (as on our CI machines) nothing else would
# cache bytecode, and every `scorecard` process (the CI gate, the CLI tests)
# would compile Dagster and pandas from source again, seconds each time.

PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := $(CURDIR)/.tools/bin/uv
endif
VENV := .venv
DAGSTER_HOME := $(CURDIR)/.dagster_home
export DAGSTER_HOME
PORT ?= 8501

.PHONY: demo test bench dev validate venv clean-demo cluster-up cluster-down

$(CURDIR)/.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/python -m pip install --quiet --disable-pip-version-check uv

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	@touch $@

venv: $(VENV)/.synced $(DAGSTER_HOME)/dagster.yaml

# One scorecard run at a time per instance: runs of crawl_and_score_job carry
# the tag scorecard/warehouse, and the run queue starts one of them at a time
# (the warehouse's run lock also covers CLI runs and other instances).
$(DAGSTER_HOME)/dagster.yaml:
	@mkdir -p $(DAGSTER_HOME)
	@printf 'telemetry:\n  enabled: false\nconcurrency:\n  runs:\n    tag_concurrency_limits:\n      - key: "scorecard/warehouse"\n        limit: 1\n' > $@

## Generate the demo org (first time), score it with 12 weeks of history, serve the dashboard.
demo: venv
	$(VENV)/bin/scorecard demo --port $(PORT)

## Run the test suite.
test: venv
	$(VENV)/bin/pytest -n 2 --dist loadgroup -q

## Print performance figures (1,000-repo org, 10,000-service dashboard, ...).
bench: venv
	$(VENV)/bin/python -m tests.bench.run_bench

## The Dagster UI on the demo config (run `make demo` once first).
dev: venv
	SCORECARD_CONFIG=$(CURDIR)/data/demo/scorecard.yaml $(VENV)/bin/dagster dev -w workspace.yaml

## A local Dagster cluster in .cluster/: PostgreSQL, Redis and WORKERS Celery workers (pipelines/cluster.py).
## Ports and workers: SCORECARD_CLUSTER_PG_PORT (15432), SCORECARD_CLUSTER_REDIS_PORT (16379), WORKERS.
cluster-up: venv
	$(VENV)/bin/scorecard cluster up --dir $(CURDIR)/.cluster $(if $(WORKERS),--workers $(WORKERS))

cluster-down:
	$(VENV)/bin/scorecard cluster down --dir $(CURDIR)/.cluster

validate: venv
	$(VENV)/bin/dagster definitions validate -w workspace.yaml

clean-demo:
	rm -rf data/demo data/warehouse data/serving
