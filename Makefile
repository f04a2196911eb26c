# Two commands do all the set-up on a fresh machine:
#   make demo   installs privaudit in .venv and scans a generated demo estate
#   make test   installs test dependencies (database/SSH servers, Chromium, SARIF Multitool) and runs the suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test install install-test system-deps lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'

system-deps:
	$(SUDO) bash .ci/install-system-deps.sh
	$(SUDO) bash .ci/install-chromium.sh
	bash .ci/install-sarif-multitool.sh

demo: install
	$(BIN)/privaudit demo --output privaudit-demo.sarif

test: install-test system-deps
	$(BIN)/python -m pytest -q

lint: install-test
	$(BIN)/ruff check .

bench: install
	$(BIN)/python bench/bench_logs.py

clean:
	rm -rf $(VENV) .tools .pytest_cache privaudit-demo.sarif
