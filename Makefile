# The verbs a newcomer needs. `make run` and `make test` set up whatever is missing first.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
# The first Python 3.10 that actually runs (a pyenv shim may exist without a 3.10 selected).
PYTHON_BOOT ?= $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1 && { echo "$$p"; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
export PYTHONPATH := $(CURDIR)
export TF_CPP_MIN_LOG_LEVEL := 3
export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
MODEL := models/caregiver.tar.gz
RASA_INPUTS := config.yml $(wildcard domain/*.yml) $(shell find data -name '*.yml' 2>/dev/null) \
	$(filter-out rasa_components/webchat.py rasa_components/telegram.py rasa_components/whatsapp.py rasa_components/messaging.py rasa_components/tracker_store.py rasa_components/lock_store.py rasa_components/adaptations.py rasa_components/run.py,$(wildcard rasa_components/*.py)) $(wildcard bot/nlu/*.py)

.PHONY: install browser balancer knowledge rules-report train run test test-fast validate eval eval-conversations bench bench-review load lint lock audit clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.lock
	@test -n "$(PYTHON_BOOT)" || { echo "Python 3.10 is required (Rasa 3.6 supports 3.8-3.10)"; exit 1; }
	test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip<24.1" 2>&1 | { grep -v "is ignored" || true; }
	$(PY) -m pip install --quiet -r requirements.lock 2>&1 | { grep -v "is ignored" || true; }
	$(PY) -c "import rasa, rasa_sdk, spacy, sqlalchemy, pytest"
	touch $@

knowledge: install
	$(PY) -m bot.knowledge.build

# The whole decision logic (topic rules, safety net, milestone thresholds, observations, red flags) as one
# document for clinical sign-off: reports/rules.md, committed; a test fails when it is out of date.
rules-report: install
	$(PY) -m bot.knowledge.report --out reports/rules.md

$(MODEL): $(VENV)/.installed $(RASA_INPUTS) knowledge/red_flags.yml $(wildcard knowledge/topics/*.md) knowledge/questions.yml
	$(MAKE) knowledge
	$(RASA) train --domain domain --data data --config config.yml --out models --fixed-model-name caregiver

train: knowledge $(MODEL)

# RASA_REPLICAS=N make run: N Rasa replicas behind HAProxy (`balancer` installs it when missing).
run: train $(if $(filter-out 0 1,$(or $(RASA_REPLICAS),1)),balancer)
	$(PY) -m bot.serve --model $(MODEL)

validate: knowledge
	$(RASA) data validate --domain domain --data data --config config.yml --fail-on-warnings

# Debian's Chromium for the browser tests (test tools cannot download their own browsers here).
CHROMIUM ?= /usr/bin/chromium
APT_INSTALL := apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver
browser:
	@if [ -x "$(CHROMIUM)" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then $(APT_INSTALL); \
	elif command -v apt-get >/dev/null && sudo -n true 2>/dev/null; then sudo sh -c '$(APT_INSTALL)'; \
	else echo "Browser tests need Chromium at $(CHROMIUM): install it (Debian/Ubuntu: sudo apt-get install chromium chromium-driver) or set CHROMIUM=/path/to/chromium. Until then they are skipped (and fail under CI=true)."; fi

# Debian's HAProxy, the load balancer in front of several Rasa replicas (RASA_REPLICAS > 1, the replica tests).
HAPROXY ?= $(or $(shell command -v haproxy 2>/dev/null),/usr/sbin/haproxy)
APT_INSTALL_HAPROXY := apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy
balancer:
	@if [ -x "$(HAPROXY)" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then $(APT_INSTALL_HAPROXY); \
	elif command -v apt-get >/dev/null && sudo -n true 2>/dev/null; then sudo sh -c '$(APT_INSTALL_HAPROXY)'; \
	else echo "Several Rasa replicas need HAProxy at $(HAPROXY): install it (Debian/Ubuntu: sudo apt-get install haproxy) or set HAPROXY=/path/to/haproxy. Until then RASA_REPLICAS > 1 cannot start and the replica tests are skipped (and fail under CI=true)."; fi

# Two workers. --dist loadgroup with the groups tests/conftest.py sets: the shared server stack starts once per
# worker, the limits and replica stacks once (their tests stay on one worker), every other file stays whole; about
# 9 minutes on this 2-core machine (11.5 before the stacks were shared). PYTEST_ARGS= runs it in one process.
PYTEST_ARGS ?= -n 2 --dist loadgroup
test: lint train browser balancer
	CHROMIUM=$(CHROMIUM) HAPROXY=$(HAPROXY) $(PY) -m pytest $(PYTEST_ARGS)

# The in-process tests only (no server process, no browser, no model; not the modules that import Rasa itself,
# whose import alone takes half a minute), for the edit-test loop: about 2 minutes here. tests/conftest.py --fast.
PYTEST_FAST_ARGS ?= -n 2 --dist loadgroup
test-fast: knowledge
	$(PY) -m pytest --fast -q $(PYTEST_FAST_ARGS)

bench-review: knowledge
	$(PY) -m tests.tools.review_bench

lint: install
	$(VENV)/bin/ruff check bot actions rasa_components tests
	$(VENV)/bin/ruff format --check bot actions rasa_components tests
	$(VENV)/bin/mypy

EVAL_FOLDS ?= 5
# Compared side by side in the same run: the stock Rasa logistic regression. Add the Rasa default (DIET,
# about 5 minutes per fold here) with EVAL_COMPARE="configs/count_logreg.yml configs/baseline_default.yml".
EVAL_COMPARE ?= configs/count_logreg.yml
eval: train
	$(PY) -m tests.tools.evaluate --folds $(EVAL_FOLDS) $(foreach c,$(EVAL_COMPARE),--compare $(c))

# Compare with another checkout instead of Rasa's default config: BENCH_ARGS="--baseline-root ../baseline --rounds 3"
BENCH_ARGS ?=
bench: train
	$(PY) -m tests.tools.benchmark $(BENCH_ARGS)

# The closed-loop load benchmark (issue 15): 1 and 2 Rasa replicas and Rasa's `rasa init` bot side by side, loopback
# only, about 10 minutes (HAProxy for the replicas: `balancer`); writes reports/load.md. A quick subset:
# LOAD_ARGS="--only ours1 --parents 1,20 --seconds 10".
LOAD_ARGS ?=
load: train balancer
	HAPROXY=$(HAPROXY) $(PY) -m tests.tools.load $(LOAD_ARGS)

# How well the assistant understands parents (answers in their own words, facts in passing, corrections,
# emergencies, near misses), measured against the real servers: reports/conversations.md. Exits 0; add
# EVAL_CONVERSATIONS_ARGS=--gate to fail on an urgent miss or a question asked after the parent had told.
eval-conversations: train
	$(PY) -m tests.tools.eval_conversations $(EVAL_CONVERSATIONS_ARGS)

lock: install
	$(PY) -m pip freeze --exclude-editable 2>/dev/null | grep -v "^-e" > requirements.lock

# Known vulnerabilities in requirements.lock (README "Dependencies and advisories"). pip-audit lives in its own
# venv, .venv-audit, so it never touches Rasa's pins. Prints the findings and what could not be checked; exits 0
# unless AUDIT_STRICT=1 (then any finding, or any package the service could not check, fails).
# AUDIT_SERVICE=osv asks OSV instead of PyPI; AUDIT_ARGS passes more, e.g. "--ignore-vuln GHSA-... --osv-url URL".
AUDIT_VENV := .venv-audit
AUDIT_SERVICE ?= pypi
AUDIT_ARGS ?=
AUDIT_STRICT ?=
audit:
	@test -x $(AUDIT_VENV)/bin/pip-audit || { $(or $(PYTHON_BOOT),python3) -m venv $(AUDIT_VENV) && \
		$(AUDIT_VENV)/bin/pip install --quiet "pip-audit==2.10.1" 2>&1 | { grep -v "is ignored" || true; }; }
	@rc=0; $(AUDIT_VENV)/bin/pip-audit -r requirements.lock --no-deps --disable-pip --progress-spinner off \
		--vulnerability-service $(AUDIT_SERVICE) $(AUDIT_ARGS) > $(AUDIT_VENV)/report.txt 2> $(AUDIT_VENV)/log.txt || rc=$$?; \
	cat $(AUDIT_VENV)/report.txt; grep -v -e "--no-deps is supported" -e "pip-compile" $(AUDIT_VENV)/log.txt | tail -n 3 || true; \
	total=$$(grep -c "==" requirements.lock); skipped=$$(grep -c "could not be audited" $(AUDIT_VENV)/report.txt || true); \
	if [ "$$rc" != 0 ] && ! grep -q "known vulnerabilit" $(AUDIT_VENV)/log.txt; then skipped=$$total; fi; \
	echo "audit ($(AUDIT_SERVICE), $$(date -u +%F)): $$total pinned packages, $$skipped not checked, pip-audit exit $$rc"; \
	if [ "$$skipped" -gt 0 ]; then echo "NOT AUDITED: $$skipped packages could not be checked against $(AUDIT_SERVICE) (unreachable, or a" \
		"registry mirror without per-version data). Try AUDIT_SERVICE=osv; README 'Dependencies and advisories'."; fi; \
	if [ -n "$(AUDIT_STRICT)" ] && [ "$(AUDIT_STRICT)" != 0 ] && { [ "$$rc" != 0 ] || [ "$$skipped" -gt 0 ]; }; then exit 1; fi

# Derived files only: runtime data (DATA_DIR, default var/: conversations, accounts, secrets) is kept.
clean:
	rm -rf build models results reports .pytest_cache domain/_generated.yml data/rules/_generated.yml
