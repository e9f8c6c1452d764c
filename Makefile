# The two commands of the README. Each sets up .venv from a bare clone (Python >= 3.10 needed).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO   ?= demo-project

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The runtime install (what `pip install noria` gives a user).
$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	$(BIN)/python -m compileall -q src   # the editable sources get bytecode, as a wheel install would
	touch $@

# The runtime plus the dev extras (pytest, hypothesis, ruff, import-linter, ...).
$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/python -m compileall -q src
	touch $@ $(VENV)/.runtime

demo: $(VENV)/.runtime
	rm -rf $(DEMO)
	$(BIN)/noria demo --path $(DEMO)
	cd $(DEMO) && ../$(BIN)/noria run && ../$(BIN)/noria runs

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test: $(VENV)/.dev lint
	$(BIN)/pytest -q

bench: $(VENV)/.dev
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .ruff_cache
