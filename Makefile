# Esattoria: `make run` (demo on the embedded defaults), `make test` (the whole suite, after `make check`).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test check install install-test system-deps lint vendor clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Serve Python 3.11 ($(PYTHON))"; exit 1; }
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || scripts/system-deps.sh python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

system-deps:
	scripts/system-deps.sh test

run: install
	APP_ENV=development $(BIN)/esattoria db upgrade
	APP_ENV=development $(BIN)/esattoria demo seed
	APP_ENV=development HOST=$(HOST) PORT=$(PORT) scripts/run.sh

test: install-test system-deps
	scripts/test.sh

lint: install-test
	$(BIN)/ruff check .

# ruff, bandit (pyproject.toml [tool.bandit]) and pip-audit of the installed environment; `make test` runs it too
check: install-test
	scripts/check.sh

vendor:
	scripts/vendor.sh

clean:
	rm -rf $(VENV) instance/esattoria.db instance/redis.*
