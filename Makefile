# griddesk — the two commands that matter: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BACKEND ?= embedded
PYTEST_ARGS ?=
BACKENDS_SCRIPT := deploy/local/backends.sh

.PHONY: install run test backends-start backends-stop clean

$(VENV)/.installed: pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	@touch $@

install: $(VENV)/.installed

# Start all four services with the demo district. BACKEND=kafka runs them on the local Kafka broker and
# MongoDB-wire server (FerretDB) that the project fetches, builds and starts itself.
run: install
	@set -euo pipefail; \
	if [ "$(BACKEND)" = "kafka" ]; then \
	  trap 'bash $(BACKENDS_SCRIPT) stop >/dev/null 2>&1 || true' EXIT; \
	  out=$$(bash $(BACKENDS_SCRIPT) start); echo "$$out" | tail -n 2; \
	  export GRIDDESK_KAFKA_BOOTSTRAP=$$(echo "$$out" | sed -n 's/^KAFKA_BOOTSTRAP=//p' | tail -n 1); \
	  export GRIDDESK_MONGODB_URI=$$(echo "$$out" | sed -n 's/^MONGODB_URI=//p' | tail -n 1); \
	fi; \
	$(VENV)/bin/griddesk run --demo --backend $(BACKEND)

# Install, start the real Kafka broker and FerretDB, run the whole suite on both backends, stop them.
test: install
	@bash deploy/local/ensure-tools.sh
	@set -euo pipefail; \
	trap 'bash $(BACKENDS_SCRIPT) stop >/dev/null 2>&1 || true' EXIT; \
	bash deploy/local/browser.sh; \
	out=$$(bash $(BACKENDS_SCRIPT) start); echo "$$out" | tail -n 2; \
	export GRIDDESK_TEST_KAFKA_BOOTSTRAP=$$(echo "$$out" | sed -n 's/^KAFKA_BOOTSTRAP=//p' | tail -n 1); \
	export GRIDDESK_TEST_MONGODB_URI=$$(echo "$$out" | sed -n 's/^MONGODB_URI=//p' | tail -n 1); \
	$(VENV)/bin/python -m pytest -v -p no:cacheprovider $(PYTEST_ARGS)

backends-start:
	bash $(BACKENDS_SCRIPT) start

backends-stop:
	bash $(BACKENDS_SCRIPT) stop

clean:
	rm -rf var test-artifacts
