# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install mlflow-env demo test test-slow lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[all,dev]'
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps 'fasttreeshap-fixed==0.1.5'
	touch $(STAMP)

install: $(STAMP)

# A real MLflow tracking server for the `govledger import mlflow` tests, in its own
# virtualenv so that MLflow's dependencies never enter govledger's; created at install time
# so that tests never download.
MLFLOW_VENV  := .venv-mlflow
MLFLOW_STAMP := $(MLFLOW_VENV)/.installed-stamp

$(MLFLOW_STAMP): $(STAMP)
	test -x $(MLFLOW_VENV)/bin/python || $(BIN)/uv venv --quiet --python $(PYTHON) $(MLFLOW_VENV)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(MLFLOW_VENV)/bin/python 'mlflow>=3,<4'
	touch $(MLFLOW_STAMP)

mlflow-env: $(MLFLOW_STAMP)

demo: install
	$(BIN)/python -m examples.credit_demo --out demo-output

# Two workers (this machine's two cores), each given whole test files so that a module's
# servers and ledgers start once.
test: install mlflow-env
	$(BIN)/python -m pytest -m "not slow" -n 2 --dist loadfile --durations=30

test-slow: install
	$(BIN)/python -m pytest -m slow

lint: install
	$(BIN)/ruff check ledger explain reports api tests bench
	$(BIN)/mypy

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(MLFLOW_VENV) demo-output .pytest_cache
