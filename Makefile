# nxsecure developer and CI entry points.
#
#   make setup   .venv (pip requirements), apt tools when missing, node packages
#   make test    setup, compile every module with mpy-cross, then pytest over host_tests/
#   make mpy     compile nxsecure/ and port/ into build/mpy/ and print .mpy sizes
#   make run     the PSK echo demo (examples/psk_echo.py) on CPython
#   make mp-smoke  the portable smoke test inside MicroPython (WebAssembly, Node)
#   make clean   remove build output and caches (keeps .venv and node_modules)
#   make distclean  also remove .venv and node_modules
#
# Every step is idempotent: stamps record what is installed, so a second `make test`
# goes straight to the tests. Nothing here needs an activated virtualenv.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test
MAKEFLAGS += --no-builtin-rules

PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
BUILD := build
PIP_FLAGS ?= --disable-pip-version-check --no-input
# This machine's pip config names optional local indexes that may be absent: not news.
PIP_NOISE := is ignored: it is neither a file nor a directory
PYTEST_ARGS ?=
MPY_ARGS ?=

# Debian packages the tests need, as `command:package` pairs. Installed only when the
# command is missing, and only when we are root (a developer without root installs them
# by hand; the tests that need them then say so).
APT_NEEDS := openssl:openssl node:nodejs npm:npm

VENV_STAMP := $(VENV)/.nxsecure-requirements
NODE_STAMP := node_modules/.nxsecure-npm

.PHONY: setup venv apt node test mpy run mp-smoke clean distclean

setup: venv apt node

venv: $(VENV_STAMP)

# apt first: some pip packages (later: dtlssocket) build against apt tools.
$(VENV_STAMP): requirements.txt | apt
	@echo "== venv: $(VENV) ($$($(PYTHON) --version))"
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install $(PIP_FLAGS) -q -r requirements.txt 2>&1 | { grep -v "$(PIP_NOISE)" || true; }
	@touch $@

# Always checked (it is only `command -v`); apt-get runs only when something is missing.
apt:
	@missing=""; \
	for pair in $(APT_NEEDS); do \
	  command -v "$${pair%%:*}" >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; \
	done; \
	if [ -z "$$missing" ]; then \
	  echo "== apt: nothing missing"; \
	elif [ "$$(id -u)" != 0 ]; then \
	  echo "== apt: not root, skipping; please install:$$missing"; exit 0; \
	else \
	  echo "== apt: installing$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq; \
	  apt-get install -y -qq --no-install-recommends $$missing; \
	fi

node: $(NODE_STAMP)

$(NODE_STAMP): package.json package-lock.json | apt
	@echo "== node: $$(node --version), npm $$(npm --version 2>/dev/null)"
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

MPY_CMD = $(VPY) tools/mpy_sizes.py --out $(BUILD)/mpy $(MPY_ARGS)
PYTEST_CMD = $(VPY) -m pytest -q $(PYTEST_ARGS)

mpy: venv
	$(MPY_CMD)

# A compile error fails the run, but pytest still runs (test_mpy_compile names the module),
# so the log always ends with pytest's summary line.
test: setup
	@echo '$(MPY_CMD)'; mpy_rc=0; $(MPY_CMD) || mpy_rc=$$?; \
	echo '$(PYTEST_CMD)'; test_rc=0; $(PYTEST_CMD) || test_rc=$$?; \
	if [ $$test_rc -ne 0 ]; then exit $$test_rc; fi; exit $$mpy_rc

run: venv
	$(VPY) examples/psk_echo.py

mp-smoke: node
	node tools/mp_run.js --test --seed-random host_tests/portable/test_smoke.py

clean:
	rm -rf $(BUILD) .pytest_cache .hypothesis
	find . -path ./$(VENV) -prune -o -path ./node_modules -prune -o \
	  -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) node_modules
