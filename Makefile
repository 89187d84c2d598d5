# policy-radar: `make demo` runs the main job on embedded defaults, `make test` runs the suite.
# Both create the virtual environment themselves from the locked requirements.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test test-postgres lint typecheck bench clean lock

install: $(STAMP)

# Bytecode is compiled at install: uv does not by default, and where PYTHONDONTWRITEBYTECODE
# is set (containers, CI) every `radar` command would otherwise compile ~600 modules from
# source — half of a one-file command's CPU (BENCHMARKS.md, "Command line"). The migrated
# Prefect database a new `radar serve` home starts from is built here too (flows/prefect_template.py).
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv || true
	if [ -x $(BIN)/uv ]; then \
	  $(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -r requirements.lock && \
	  $(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e . ; \
	else \
	  $(BIN)/python -m pip install -q -r requirements.lock && \
	  $(BIN)/python -m pip install -q --no-deps -e . ; \
	fi
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m compileall -q parsers storage alerts flows >/dev/null
	$(BIN)/python -m flows.prefect_template >/dev/null || echo "no Prefect database template: a new serve home migrates its own"
	touch $(STAMP)

lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra bench -o requirements.lock --python-version 3.11

demo: install
	RADAR_HOME=$${RADAR_HOME:-$(CURDIR)/.radar} $(BIN)/radar demo

test: install
	$(BIN)/python -m pytest -q -p no:cacheprovider

# The same suite against a real PostgreSQL server started in a temporary directory.
test-postgres: install
	$(BIN)/python tests/pg_server.py -- $(BIN)/python -m pytest -q -p no:cacheprovider

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check parsers storage alerts flows tests bench

typecheck: install
	$(BIN)/mypy parsers storage alerts flows

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
