# Two commands for a fresh Debian/Ubuntu machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: `make run` installs the runtime dependencies only (the versions of the lock file,
# as the image does); `make test` adds the test tools on top ('.[dev]').
RUNTIME_STAMP := $(VENV)/.installed-runtime
TEST_STAMP := $(VENV)/.installed-test
LOCK := requirements.lock
# The lock file pins what the image installs; `make lock` regenerates it after a change of the
# dependencies in pyproject.toml (a test fails while it lags behind).
UV := $(BIN)/uv
UV_REQUIREMENT := uv>=0.9,<1
# libpango: WeasyPrint renders outgoing letters with it.
RUNTIME_PACKAGES := tesseract-ocr tesseract-ocr-deu libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
# chromium: the browser tests drive Debian's build (the runtime font serves it too);
# docker-compose: validates infra/compose.yaml (no Docker daemon needed).
TEST_PACKAGES := $(RUNTIME_PACKAGES) chromium docker-compose

.PHONY: run test lint typecheck unit lock bench-intake system-packages test-packages clean

run: $(RUNTIME_STAMP)
	@$(MAKE) --no-print-directory system-packages DEBIAN_PACKAGES="$(RUNTIME_PACKAGES)"
	$(BIN)/mailroom serve

test: $(TEST_STAMP) test-packages lint typecheck
	$(BIN)/pytest -q -n 2 --dist loadfile --durations=20  # two processes: much of the suite waits on servers

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(TEST_STAMP)
	$(BIN)/mypy aggregates routing ocr mailroom projections letters

$(RUNTIME_STAMP): pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python >= 3.11 is required (found $$($(PYTHON) --version))"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet -e .  # adds what the lock may lack (a test reports that)
	touch $(RUNTIME_STAMP)

# On top of the locked runtime: pip keeps those versions and adds the test tools.
$(TEST_STAMP): $(RUNTIME_STAMP)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(TEST_STAMP)

# Regenerates the lock file from pyproject.toml: every platform, Python 3.11 (the image's) and
# newer, with hashes; no index URL or local path goes into it. It keeps the pinned versions that
# still fit; `make lock LOCK_ARGS=--upgrade` moves every pin to the newest release.
lock:
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	test -x $(UV) || $(BIN)/pip install --quiet '$(UV_REQUIREMENT)'
	$(UV) pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes \
		--no-emit-index-url --no-emit-find-links --custom-compile-command 'make lock' \
		--quiet -o $(LOCK) $(LOCK_ARGS)

test-packages:
	@$(MAKE) --no-print-directory system-packages DEBIAN_PACKAGES="$(TEST_PACKAGES)"

# Installs the Debian packages that are missing, when we may (root, or sudo without a password).
system-packages:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
		else echo "Please install: $$missing (e.g. sudo apt-get install $$missing)"; exit 1; fi; \
		echo "Installing $$missing"; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

bench-intake: $(TEST_STAMP)
	$(BIN)/python bench/intake.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
