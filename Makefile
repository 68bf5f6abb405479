# Pesä: every task a newcomer or CI needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
PORT ?= 8000
SOAK_SECONDS ?= 600
UV_VERSION ?= 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
RUN := $(UV) run --frozen
MANAGE := $(RUN) python manage.py

.PHONY: help demo test lint format check up bench bench-smoke soak install clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-12s %s\n", $$1, $$2}'

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

install: $(UV) ## Create .venv and install the locked dependencies
	$(UV) sync --frozen

demo: install ## Run Pesä with demo content on an embedded PostgreSQL (or DATABASE_URL's); with REDIS_URL, a worker and beat too (PORT=8000)
	mkdir -p var
	DJANGO_SETTINGS_MODULE=cms.settings.dev $(MANAGE) migrate --no-input
	DJANGO_SETTINGS_MODULE=cms.settings.dev $(MANAGE) ensure_admin
	DJANGO_SETTINGS_MODULE=cms.settings.dev $(MANAGE) load_demo
	@echo "Pesä: http://127.0.0.1:$(PORT)/admin/  API: http://127.0.0.1:$(PORT)/api/v1/  docs: http://127.0.0.1:$(PORT)/api/v1/docs/"
	PORT=$(PORT) DJANGO_SETTINGS_MODULE=cms.settings.dev $(MANAGE) serve_demo 127.0.0.1:$(PORT)

test: install ## Run every test on an embedded PostgreSQL (or DATABASE_URL's); Redis and a worker where they answer
	$(RUN) pytest $(PYTEST_ARGS)

lint: install ## ruff lint and format check
	$(RUN) ruff check .
	$(RUN) ruff format --check .

format: install ## ruff fix and format
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

check: install ## Django system checks and missing migrations
	mkdir -p var
	DJANGO_SETTINGS_MODULE=cms.settings.dev $(MANAGE) check
	DJANGO_SETTINGS_MODULE=cms.settings.dev $(MANAGE) makemigrations --check --dry-run

up: ## Start the production-like stack with docker compose
	docker compose up --build

bench: install ## Full benchmark on PostgreSQL + Redis + wrk (N = 10k/50k/200k; long): bench/results/<date>.md
	@command -v wrk >/dev/null || echo "bench: wrk is missing; installed with apt-get when run as root, else: sudo apt-get install wrk"
	$(RUN) python -m bench.run $(BENCH_ARGS)

bench-smoke: install ## The benchmark harness on 1k records, 1 s loads (CI); fails only if the harness breaks
	$(RUN) python -m bench.run --smoke

soak: install ## Mixed API reads while syncs run for SOAK_SECONDS (600; not in CI): fails on any error, prints p99
	@command -v wrk >/dev/null || echo "soak: wrk is missing; installed with apt-get when run as root, else: sudo apt-get install wrk"
	SOAK_SECONDS=$(SOAK_SECONDS) $(RUN) python -m bench.soak $(SOAK_ARGS)

clean: ## Remove the virtualenv and local data
	rm -rf .venv .tools var
