# Shop CRM — developer commands. See README.md.
SHELL := /bin/bash
ARGS ?=

.PHONY: setup demo demo-db test lint bench clean

setup:  ## install what is missing: system packages, Odoo source, .venv, PostgreSQL
	bash scripts/setup.sh

demo:  ## (re)create shop_crm_demo with the demo flower shop and serve Odoo on :8069
	bash scripts/demo.sh

demo-db:  ## the same without serving
	bash scripts/demo.sh --no-serve

test:  ## install shop_crm in a throwaway database and run all its tests
	bash scripts/test.sh

lint:  ## ruff (lint + format check) and pylint-odoo
	bash scripts/lint.sh

bench:  ## benchmarks under bench/ (options: make bench ARGS="--small")
	bash scripts/bench.sh $(ARGS)

clean:  ## remove the virtualenv and local state (not the Odoo source, not the databases)
	source scripts/common.sh && rm -rf "$$VENV" "$$WORK"
