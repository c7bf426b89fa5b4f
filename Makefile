# Two commands for a new user (see README.md):
#   make demo   set everything up and start the app on the demo project
#   make test   set everything up and run every test (what CI runs)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501

.PHONY: demo test lint venv venv-test system-deps core-install clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

venv: $(PY)
	$(PY) -m pip install -q -e '.[dev]'

# The test environment also gets the local LLM judge (llama-cpp-python compiles once, ~5 min)
# and FastChat's compute_agreement.py for the interoperability test (without fschat's own dependencies).
venv-test: $(PY)
	$(PY) -m pip install -q -e '.[dev,local,postgres]'
	$(PY) -m pip install -q --no-deps 'fschat==0.2.36'

# Debian packages the browser and database tests need (skipped when already present).
system-deps:
	@bash scripts/system_deps.sh

demo: venv
	$(VENV)/bin/annotate demo --port $(PORT)

lint: venv
	$(VENV)/bin/ruff check .

# Types: both packages are kept clean by mypy (settings in pyproject.toml).
test: venv-test system-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy annotate metaeval
	$(PY) -m pytest -q -p no:cacheprovider

# A fresh environment with `pip install .` only runs `annotate demo --no-serve` and opens every
# page for every demo role (scripts/check_core_install.sh; CI runs it before `make test`).
core-install:
	PYTHON=$(PYTHON) bash scripts/check_core_install.sh

clean:
	rm -rf $(VENV) var build *.egg-info
