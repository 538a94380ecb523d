# Vivalia crisis assistant. `make run` and `make test` work on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
PY        := $(VENV)/bin/python
RASA      := $(VENV)/bin/rasa
MODEL     := models/crisis.tar.gz
# Rasa 3.6 runs on Python 3.10 only: the first python3.10 that really starts (pyenv's shim may
# exist without the version being active).
PYTHON310 ?= $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do \
	  if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then command -v $$p; break; fi; done)

TRAIN_INPUTS := config.yml $(shell find domain data corpus bot/nlu bot/safety bot/policies bot/text.py -type f \( -name '*.yml' -o -name '*.py' \) 2>/dev/null)
PO_FILES     := $(wildcard locales/*/LC_MESSAGES/*.po)
MO_FILES     := $(PO_FILES:.po=.mo)

export PYTHONDONTWRITEBYTECODE := 1
# Rasa and TensorFlow: quiet, offline, no telemetry.
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 3
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
# endpoints.yml reads it (`python -m bot run` sets it to the action server it starts).
export ACTION_SERVER_URL ?= http://127.0.0.1:5055/webhook

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-16s %s\n", $$1, $$2}'

# Run time (requirements.txt) for `make run`; the development and test tools
# (requirements-dev.txt) on top of it for lint, tests and the bench.
$(VENV)/.installed: requirements.txt constraints.txt
	@test -n "$(PYTHON310)" || { echo "python3.10 not found: Rasa 3.6 needs Python 3.10" >&2; exit 1; }
	test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip<24"
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $@

.PHONY: install
install: $(VENV)/.installed $(MO_FILES) ## create .venv and install the pinned run-time dependencies

.PHONY: install-dev
install-dev: install $(VENV)/.installed-dev ## install as well the development and test tools

%.mo: %.po $(VENV)/.installed
	$(VENV)/bin/pybabel compile --use-fuzzy -i $< -o $@

WEB_ASSETS := bot/web/static/manifest.json
$(WEB_ASSETS): web/package.json web/package-lock.json web/build.mjs $(wildcard web/src/*)
	cd web && npm ci --no-audit --no-fund && npm run build

.PHONY: web
web: $(WEB_ASSETS) ## build the public page's assets (npm: socket.io-client, the chat widget)

# Headless Chromium for the browser tests: Debian's packages, never a browser download.
.PHONY: browser
browser: ## install Debian's chromium and chromium-driver when they are missing (root)
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	fi

$(MODEL): $(VENV)/.installed $(TRAIN_INPUTS)
	@mkdir -p models
	$(RASA) train --config config.yml --domain domain --data data --out models --fixed-model-name crisis
	@touch $@

.PHONY: train
train: $(MODEL) ## train the model (only when data, domain or config changed)

.PHONY: run
run: install $(MODEL) $(WEB_ASSETS) ## install, train when needed, start every service (Ctrl-C stops them)
	$(PY) -m bot run

.PHONY: content-check
content-check: $(VENV)/.installed ## validate locales/*/answers.yml as the assistant would
	$(PY) -m bot content-check

.PHONY: messages
messages: $(VENV)/.installed ## extract interface strings and merge them into the .po catalogs
	$(VENV)/bin/pybabel extract -k _ --no-location --omit-header -o locales/messages.pot bot
	$(VENV)/bin/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching

.PHONY: lint
lint: $(VENV)/.installed-dev ## ruff (lint + format check) and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

.PHONY: format
format: $(VENV)/.installed-dev ## format the code with ruff
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

.PHONY: validate
validate: $(VENV)/.installed ## rasa data validate --fail-on-warnings
	$(RASA) data validate --domain domain --data data --config config.yml --fail-on-warnings

.PHONY: test-stories
test-stories: $(MODEL) ## conversation tests, failing on any prediction error
	$(RASA) test core --model $(MODEL) --stories tests/stories --fail-on-prediction-errors --out results/core

.PHONY: nlu-report
nlu-report: $(MODEL) ## intent report of the trained model on the held-out French test file
	$(RASA) test nlu --model $(MODEL) --nlu tests/nlu/heldout.yml --out results/nlu
	$(PY) -c "import json; r = json.load(open('results/nlu/intent_report.json')); m = r['macro avg']; print('held-out macro F1 = %.3f, accuracy = %.3f' % (m['f1-score'], r['accuracy']))"

.PHONY: check
check: install-dev lint $(WEB_ASSETS) ## the quick answer: lint, types and the unit tests (no model, no live services, no browser)
	$(PY) -m pytest -q -m "not live and not browser"

.PHONY: pytest
pytest: install-dev $(MODEL) $(WEB_ASSETS) browser ## the pytest suite (unit, live end-to-end, browser)
	REQUIRE_BROWSER=1 $(PY) -m pytest -q

.PHONY: test
test: install-dev lint content-check validate $(MODEL) test-stories pytest ## everything CI runs

.PHONY: bench
bench: install-dev $(MODEL) ## load benchmark vs Rasa's default config (trains it once, minutes) -> BENCHMARKS.md
	$(PY) -m bench

.PHONY: clean
clean: ## remove the model and results (keeps .venv and var/)
	rm -rf models results
