# Fresh machine: `make plan` shows what both stacks would create, `make test` runs everything.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install plan test lint bench clean contract mutation

install: $(STAMP)

# The pinned requirements, then the project itself, editable: `.venv/bin/orgtrail`.
$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation --editable .
	touch $(STAMP)

plan: $(STAMP)
	$(VENV)/bin/orgtrail plan --stack all

contract: $(STAMP)
	$(PY) -m orgtrail.contract.derived --write

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/zizmor --offline --persona=pedantic .github/workflows/

# One worker per core: the moto-backed tests spend most of their time waiting on loopback.
test: lint
	$(PY) -m pytest -q -n auto

# Not part of `make test`: minutes per module (see docs/development.md, "Mutation testing").
$(VENV)/.mutation-installed: $(STAMP) requirements-mutation.txt
	$(PY) -m pip install --quiet -r requirements-mutation.txt
	touch $@

mutation: $(VENV)/.mutation-installed
	$(PY) tools/mutation.py $(GROUPS)

bench: $(STAMP)
	$(PY) benchmarks/plan_scale.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mutation
