# make demo  - fakepve with a demo cluster + SQLite + gunicorn on http://127.0.0.1:5000
# make test  - the whole test suite (unit tests against a real fakepve over HTTPS)
# make lint  - ruff

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: demo test lint venv clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(BIN)/.installed

demo: venv
	VENV=$(VENV) bash scripts/demo.sh

test: venv
	$(BIN)/pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) instance/demo .pytest_cache .ruff_cache
