# Fresh machine: `make plan` shows what both stacks would create, `make test` runs everything.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install plan test lint bench clean contract mutation lock

install: $(STAMP)

# The lock (every distribution, transitive ones included, with its hashes; pip itself
# among them), then the project itself, editable: `.venv/bin/orgtrail`.
$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation --editable .
	touch $(STAMP)

# Re-resolve the *.in files into the locks, with hashes (docs/development.md, "Dependencies").
# pip-tools runs from a virtualenv of its own, itself installed from a lock.
LOCK_VENV := .venv-lock
PIP_COMPILE := $(LOCK_VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe \
	--strip-extras --no-emit-index-url --no-emit-find-links $(LOCK_ARGS)
lock:
	test -x $(LOCK_VENV)/bin/pip-compile || { $(PYTHON) -m venv $(LOCK_VENV) && \
		$(LOCK_VENV)/bin/pip install --quiet --require-hashes --no-deps -r tools/lock.txt; }
	$(PIP_COMPILE) --output-file requirements.txt requirements.in
	$(PIP_COMPILE) --output-file requirements-mutation.txt requirements-mutation.in
	cd policies && ../$(PIP_COMPILE) --output-file requirements.txt requirements.in
	cd tools && ../$(PIP_COMPILE) --output-file lock.txt lock.in

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
	$(PY) -m pip install --quiet --require-hashes -r requirements-mutation.txt
	touch $@

mutation: $(VENV)/.mutation-installed
	$(PY) tools/mutation.py $(GROUPS)

bench: $(STAMP)
	$(PY) benchmarks/plan_scale.py

clean:
	rm -rf $(VENV) $(LOCK_VENV) .pytest_cache .ruff_cache .mutation
