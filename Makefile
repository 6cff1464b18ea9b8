# UnionOps — the two commands that matter: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
export PYTHONPATH := libs:deploy/local:services/membership:services/welfare:services/competitions:services/notify

.PHONY: run test test-at unit bench year token migrate status dlq outbox-replay actions traces trace mail sms url import seed contracts check-contracts clean help

help:
	@echo "make run    — start the whole system locally (Ctrl-C stops it)"
	@echo "make test   — install what is needed and run every test"
	@echo "make bench  — end-to-end and raw-pipeline throughput/latency"
	@echo "make year [ARGS='--members 1000000 --chaos'] — a whole city and a whole year, every invariant checked"
	@echo "make token [ARGS='--role staff --org <id>'] — a staff bearer token"
	@echo "make traces [ARGS='find --attr member.id=<id>'] | make trace ID=<trace id> | make mail | make sms"
	@echo "make url NAME=membership — a service's or sink's base URL on this stack's ports (.env)"
	@echo "make status [ARGS='--base https://{service}.example --token …'] — every service at a glance"
	@echo "make dlq ARGS='list | show SERVICE ID | replay SERVICE ID | replay-all SERVICE | discard SERVICE ID --reason …'"
	@echo "make outbox-replay ARGS='SERVICE --since ISO --until ISO [--topic T] [--apply --reason …]'"
	@echo "make actions — the audit of operator actions"

$(VENV)/.installed: requirements.lock requirements-runtime.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --no-deps -r requirements.lock
	$(PY) -m pip check >&2  # stderr: `TOKEN=$$(make -s token)` must capture the token only
	touch $@

run: $(VENV)/.installed
	$(PY) -m devstack.run

test: $(VENV)/.installed
	$(PY) -m contracts.generate --check
	$(PY) -m pytest -q

# The whole suite with every process's clock reading TIME (UTC) at the start, e.g. 16:30 or
# 23:50 (00:30 and 07:50 Beijing): needs Debian's faketime package.
test-at: $(VENV)/.installed
	@test -n "$(TIME)" || { echo "usage: make test-at TIME=HH:MM (UTC)"; exit 2; }
	$(PY) -m devstack.shifted_clock --at $(TIME) -- $(MAKE) --no-print-directory test

# The year of the city (docs/benchmarks.md): ARGS="--members 1000000", "--chaos", "--seed 7".
year: $(VENV)/.installed
	$(PY) -m devstack.year $(ARGS)

unit: $(VENV)/.installed
	$(PY) -m pytest -q -m "not integration"

bench: $(VENV)/.installed
	$(PY) -m devstack.bench $(ARGS)
	$(PY) -m devstack.bench_membership
	$(PY) -m devstack.bench_welfare
	$(PY) -m devstack.bench_competitions
	$(PY) -m devstack.bench_notify --members 100000
	$(PY) -m devstack.year --members 20000

token: $(VENV)/.installed
	@$(PY) -m devstack.token $(ARGS)

status: $(VENV)/.installed
	@$(PY) -m devstack.status $(ARGS)

# On call against the local stack; a token is minted unless UNIONOPS_TOKEN is set.
ONCALL = UNIONOPS_TOKEN=$${UNIONOPS_TOKEN:-$$($(PY) -m devstack.token)} $(PY) -m unionops.oncall

dlq: $(VENV)/.installed
	@$(ONCALL) dlq $(ARGS)

outbox-replay: $(VENV)/.installed
	@$(ONCALL) outbox-replay $(ARGS)

actions: $(VENV)/.installed
	@$(ONCALL) actions $(ARGS)

traces: $(VENV)/.installed
	@$(PY) -m devstack.traces $(or $(ARGS),recent)

trace: $(VENV)/.installed
	@$(PY) -m devstack.traces show $(ID)

mail: $(VENV)/.installed
	@$(PY) -m devstack.smtpsink list $(ARGS)

sms: $(VENV)/.installed
	@$(PY) -m devstack.httpsink list $(ARGS)

url: $(VENV)/.installed
	@$(PY) -m devstack.config url $(NAME)

import: $(VENV)/.installed
	@test -n "$(FILE)" || { echo "usage: make import FILE=members.xlsx ARGS='--intake new_joins|register [--online-notice]'"; exit 2; }
	MEMBERSHIP_DATABASE_URL=$$($(PY) -m devstack.config dsn membership) $(PY) -m membership.cli $(FILE) $(ARGS)

seed: $(VENV)/.installed
	$(PY) -m devstack.seed

# Migrations of one service's database by hand: ARGS="status membership" or ARGS="apply welfare".
migrate: $(VENV)/.installed
	@$(PY) -m unionops.migrate $(ARGS)

contracts: $(VENV)/.installed
	$(PY) -m contracts.generate

clean:
	rm -rf .state
