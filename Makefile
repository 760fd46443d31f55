# nxsecure developer and CI entry points.
#
#   make setup   .venv (pip requirements), apt tools when missing, node packages
#   make test    setup, compile every module with mpy-cross, then pytest over host_tests/
#   make mpy     compile nxsecure/ (with its port/) into build/mpy/ and print .mpy sizes
#   make deploy BOARD=esp32|rp2040 PORT=/dev/ttyUSB0   stack + board config + examples to a board
#   make board-test PORT=/dev/ttyUSB0   run the on-board self-test through mpremote
#   make board-bridge   an emulated board (MicroPython WebAssembly) on socket://127.0.0.1:8266
#   make rp2040-bridge  an emulated Raspberry Pi Pico (the real rp2 firmware) on socket://127.0.0.1:8267
#   make run     the PSK echo demo (examples/psk_echo.py) on CPython
#   make mp-smoke  the portable smoke test inside MicroPython (WebAssembly, Node)
#   make bench   speed and memory vs python-mbedtls, raw UDP, MicroPython -> BENCHMARKS.md
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
# The MicroPython binaries (unix port, rp2 firmware) the tests and the bench run, and the
# conformance vectors, are read from ../shared beside the clone (or beside a parent of a
# worktree); NXSECURE_SHARED=dir names another place.
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
APT_NEEDS := openssl:openssl node:nodejs npm:npm gnutls-cli:gnutls-bin \
  coap-client-openssl:libcoap3-bin autoreconf:autoconf automake:automake libtoolize:libtool \
  tshark:tshark

VENV_STAMP := $(VENV)/.nxsecure-requirements
NODE_STAMP := node_modules/.nxsecure-npm

.PHONY: setup venv apt node test mpy run mp-smoke bench clean distclean interop

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

# ---- boards (docs/BOARDS.md) ---------------------------------------------------------
# deploy: compile with mpy-cross, stage build/deploy/$(BOARD)/ and copy it with mpremote:
# the .mpy files of the feature profile (tools/profiles.py; PROFILE=psk-client, psk-server,
# psk -- both roles, the default --, or full; MAIN=server/client pick psk-server/-client,
# FULL=1 means full) and the board's board_config.py with the example helpers to :/lib,
# the two example scripts to :/
# (MAIN=server|client also installs one as :/main.py, run at boot; NET_CONFIG=file.json
# copies WLAN and server settings to :/net_config.json). PORT is what mpremote connects
# to: /dev/ttyUSB0, /dev/ttyACM0, COM3, or socket://127.0.0.1:NNNN (the emulated board).
.PHONY: deploy board-stage board-test board-bridge rp2040-bridge
BOARD ?= esp32
PORT ?=
MAIN ?=
NET_CONFIG ?=
FULL ?=
PROFILE ?= $(if $(FULL),full,$(if $(filter server,$(MAIN)),psk-server,$(if $(filter client,$(MAIN)),psk-client,psk)))
BRIDGE_PORT ?= 8266
RP2040_BRIDGE_PORT ?= 8267
MPREMOTE = $(VENV)/bin/mpremote connect $(PORT)
DEPLOY = $(BUILD)/deploy/$(BOARD)
MAIN_server := dtls_echo_server.py
MAIN_client := dtls_sensor_client.py

# board-stage: only the staging, build/deploy/$(BOARD)/ as deploy copies it (lib/ and the
# examples); the heap-limited tests run the board programs from there on the unix port.
board-stage: venv
	@test -f boards/$(BOARD)/board_config.py || { echo "make deploy: unknown BOARD=$(BOARD) (esp32, rp2040)"; exit 2; }
	@test -z "$(MAIN)" -o -n "$(MAIN_$(MAIN))" || { echo "make deploy: MAIN=server or MAIN=client"; exit 2; }
	$(MPY_CMD) --quiet
	rm -rf $(DEPLOY) && mkdir -p $(DEPLOY)/lib
	@files="$$($(PYTHON) tools/profiles.py --mpy $(PROFILE))" || exit 2; \
	echo "== stage: profile $(PROFILE), $$(echo $$files | wc -w) modules"; \
	cd $(BUILD)/mpy && cp --parents $$files $(CURDIR)/$(DEPLOY)/lib/
	cp boards/$(BOARD)/board_config.py boards/common/nxboard.py boards/common/net.py $(DEPLOY)/lib/
	cp boards/common/dtls_echo_server.py boards/common/dtls_sensor_client.py $(DEPLOY)/
	$(if $(MAIN),cp boards/common/$(MAIN_$(MAIN)) $(DEPLOY)/main.py)
	$(if $(NET_CONFIG),cp $(NET_CONFIG) $(DEPLOY)/net_config.json)

ifneq ($(filter deploy,$(MAKECMDGOALS)),)
ifeq ($(PORT),)
$(error make deploy: set PORT (/dev/ttyUSB0, /dev/ttyACM0, COM3, socket://127.0.0.1:NNNN))
endif
endif
deploy: board-stage
	@echo "== deploy: $$(find $(DEPLOY) -type f | wc -l) files, $$(find $(DEPLOY) -type f -exec cat {} + | wc -c) bytes -> $(PORT)"
	NL=$$'\n'; top=""; for f in $$(find $(DEPLOY) -maxdepth 1 -type f | sort); do \
	  top="$$top + fs cp $$f :/$$(basename $$f)"; done; \
	$(MPREMOTE) exec "import os$${NL}try: os.mkdir('/lib')$${NL}except OSError: pass" \
	  + fs cp -r $$(find $(DEPLOY)/lib -mindepth 1 -maxdepth 1 | sort) :/lib/ $$top + fs ls :/lib
	@echo "== deploy: done ($(BOARD) on $(PORT))"

board-test: venv
	@test -n "$(PORT)" || { echo "make board-test: set PORT (/dev/ttyUSB0, /dev/ttyACM0, COM3, socket://127.0.0.1:NNNN)"; exit 2; }
	@mkdir -p $(BUILD)
	$(MPREMOTE) run boards/common/selftest.py | tee $(BUILD)/board-test.txt
	@grep -q "^SELFTEST OK" $(BUILD)/board-test.txt || { echo "== board-test: FAILED (see $(BUILD)/board-test.txt)"; exit 1; }
	@echo "== board-test: all checks passed on $(PORT)"

board-bridge: node
	node tools/board_bridge.js --port $(BRIDGE_PORT)

rp2040-bridge: node
	node tools/rp2040/bridge.js --port $(RP2040_BRIDGE_PORT)

# A compile error fails the run, but pytest still runs (test_mpy_compile names the module),
# so the log always ends with pytest's summary line.
test: setup
	@echo '$(MPY_CMD)'; mpy_rc=0; $(MPY_CMD) || mpy_rc=$$?; \
	echo '$(PYTEST_CMD)'; test_rc=0; $(PYTEST_CMD) || test_rc=$$?; \
	if [ $$test_rc -ne 0 ]; then exit $$test_rc; fi; exit $$mpy_rc

# The DTLS interop matrix (also part of `make test`): our client and server against
# OpenSSL, GnuTLS, Mbed TLS, tinydtls, libcoap and aiocoap; then the optional features
# (issue 14) against the peers that have them, and tshark on Connection ID records;
# then issue 15's (server names, ALPN, secp384r1, a P-384 chain at MTU 400);
# -rA prints the matrices.
interop: setup
	$(PYTEST_CMD) -rA host_tests/test_interop_matrix.py host_tests/test_features_interop.py \
	  host_tests/test_connection_id_udp.py host_tests/test_identity_interop.py | grep -v '^PASSED '

run: venv
	$(VPY) examples/psk_echo.py

mp-smoke: node
	node tools/mp_run.js --test --seed-random host_tests/portable/test_smoke.py

# Not part of `make test`: its own requirements, taskset-pinned processes, ~5 minutes.
BENCH_STAMP := $(VENV)/.nxsecure-bench-requirements
BENCH_ARGS ?=

$(BENCH_STAMP): requirements-bench.txt $(VENV_STAMP)
	$(VPY) -m pip install $(PIP_FLAGS) -q -r requirements-bench.txt 2>&1 | { grep -v "$(PIP_NOISE)" || true; }
	@touch $@

bench: setup $(BENCH_STAMP)
	NXSECURE_BENCH_MAKE=1 $(VPY) bench/run.py $(BENCH_ARGS)

# Issue #5 ("hard to break"), not part of `make test` (short versions are:
# host_tests/test_loss_short.py, test_fuzz_smoke.py).
#   make loss-report  handshakes through the seeded UDP proxy at 10/30/50 % loss, real
#                     timers, 100 seeds per row: ours against ours, OpenSSL, GnuTLS and
#                     Mbed TLS in both roles, and those three against themselves as the
#                     reference rows, each failure classified -> build/loss-report.md
#                     (run limit 183 s; about 25 minutes with the default 50 runs at a
#                     time, which mostly sleep on timers)
#   make fuzz         >= 10^6 mutated inputs over the fuzz harnesses -> build/fuzz-report.md
.PHONY: loss-report fuzz
LOSS_ARGS ?=
FUZZ_ARGS ?=
loss-report: setup
	$(VPY) tools/loss_report.py $(LOSS_ARGS)

fuzz: venv
	$(VPY) tools/fuzz_campaign.py $(FUZZ_ARGS)

clean:
	rm -rf $(BUILD) .pytest_cache .hypothesis
	find . -path ./$(VENV) -prune -o -path ./node_modules -prune -o \
	  -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) node_modules
