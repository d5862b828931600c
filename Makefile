# Two commands for a fresh Debian/Ubuntu machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# libpango: WeasyPrint renders outgoing letters with it.
RUNTIME_PACKAGES := tesseract-ocr tesseract-ocr-deu libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
# chromium: the browser tests drive Debian's build (the runtime font serves it too).
TEST_PACKAGES := $(RUNTIME_PACKAGES) chromium

.PHONY: run test lint typecheck unit bench-intake system-packages test-packages clean

run: $(STAMP)
	@$(MAKE) --no-print-directory system-packages DEBIAN_PACKAGES="$(RUNTIME_PACKAGES)"
	$(BIN)/mailroom serve

test: $(STAMP) test-packages lint typecheck
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy aggregates routing ocr mailroom projections letters

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python >= 3.11 is required (found $$($(PYTHON) --version))"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

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

bench-intake: $(STAMP)
	$(BIN)/python bench/intake.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
