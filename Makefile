# make demo  - fakepve with a demo cluster + SQLite + gunicorn on http://127.0.0.1:5000
# make test  - the whole test suite: unit tests against a real fakepve over HTTPS, and the
#              end-to-end tests (portal under gunicorn reporting to a real Bugsink)
# make e2e   - only the end-to-end tests
# make real-guest-test - a real Debian 13 VM under QEMU reads the portal's seed ISO (minutes)
# make bugsink-server - a local Bugsink (Sentry-compatible) on http://127.0.0.1:8000; prints its DSN
# make lint  - ruff and mypy (app/, zero errors)
# make bench - the benchmark (bench/run.py): a table per cluster size, and bench/results.json

VENV ?= .venv
BUGSINK_VENV ?= .venv-bugsink
LOAD_VENV ?= .venv-load
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: demo test test-tools real-guest-test e2e lint venv bugsink loadtool chromium openid-provider bugsink-server bench clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(BIN)/.installed

$(BUGSINK_VENV)/bin/.installed: requirements-e2e.txt
	test -x $(BUGSINK_VENV)/bin/python || $(PYTHON) -m venv $(BUGSINK_VENV)
	$(BUGSINK_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-e2e.txt
	touch $@

bugsink: $(BUGSINK_VENV)/bin/.installed

# locust, for the load tests, apart: it brings gevent, which the portal's venv should not carry.
$(LOAD_VENV)/bin/.installed: requirements-load.txt
	test -x $(LOAD_VENV)/bin/python || $(PYTHON) -m venv $(LOAD_VENV)
	$(LOAD_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-load.txt
	touch $@

loadtool: $(LOAD_VENV)/bin/.installed

# The browser test drives the system Chromium (Playwright cannot download browsers here).
chromium:
	@test -n "$$CHROMIUM" || command -v chromium >/dev/null || { \
	    echo "make test needs Chromium: sudo apt-get install chromium (or set CHROMIUM)"; exit 1; }

# A real OpenID provider for the single sign-on tests: oidc-provider from npm (Node.js 20+).
OIDC_DIR := tests/e2e/oidc
$(OIDC_DIR)/node_modules/.installed: $(OIDC_DIR)/package.json $(OIDC_DIR)/package-lock.json
	@command -v npm >/dev/null || { echo "make test needs Node.js and npm: sudo apt-get install nodejs npm"; exit 1; }
	cd $(OIDC_DIR) && npm ci --no-audit --no-fund --silent
	touch $@

openid-provider: $(OIDC_DIR)/node_modules/.installed

bugsink-server: venv bugsink
	BUGSINK_VENV=$(BUGSINK_VENV) $(BIN)/python scripts/local_bugsink.py

demo: venv
	VENV=$(VENV) bash scripts/demo.sh

# The three venvs install side by side (-j3): on a fresh machine that is most of the wait.
test-tools:
	@$(MAKE) --no-print-directory -j3 venv bugsink loadtool chromium openid-provider

test: test-tools
	BUGSINK_VENV=$(BUGSINK_VENV) LOAD_VENV=$(LOAD_VENV) $(BIN)/pytest

# A real Debian 13 VM under QEMU (tests/real_guest/): debootstrap and QEMU from Debian.
real-guest-test: venv
	command -v debootstrap >/dev/null && command -v qemu-system-x86_64 >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap qemu-system-x86 qemu-utils)
	REAL_GUEST_TEST=1 $(BIN)/pytest tests/real_guest -s

e2e: test-tools
	BUGSINK_VENV=$(BUGSINK_VENV) LOAD_VENV=$(LOAD_VENV) $(BIN)/pytest tests/e2e

bench: venv
	VENV=$(VENV) $(BIN)/python bench/run.py

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(BUGSINK_VENV) $(LOAD_VENV) instance/demo .pytest_cache .ruff_cache
