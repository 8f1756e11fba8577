# voxlab: `make demo` and `make test` work on a fresh machine (they install on first use).
VENV      ?= .venv
PY        := $(VENV)/bin/python
STAMP     := $(VENV)/.voxlab-installed
FIXTURES  := $(abspath ../shared/fixtures)
# Published checkpoints from ../shared (when present) are found without downloading.
MODEL_DIR := $(if $(wildcard $(FIXTURES)/pretrained),$(FIXTURES)/pretrained,)
export VOXLAB_MODEL_DIR ?= $(MODEL_DIR)
PYTEST_ARGS ?=

.PHONY: install demo test test-fast lint format bench clean data

install: $(STAMP)

$(STAMP): pyproject.toml scripts/install.sh
	bash scripts/install.sh
	touch $@

# Real human speech from Debian packages (voxlab.data.sources): install, check, manifest.
data: $(STAMP)
	APT_ONLY=1 bash scripts/install.sh
	$(PY) -m voxlab sources prepare --no-progress

# Real human speech vs today's spoofs, sized to the machine (make demo DEMO_ARGS="--size full").
DEMO_ARGS ?=
demo: $(STAMP)
	$(PY) -m voxlab demo $(DEMO_ARGS)

test: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

format: $(STAMP)
	$(VENV)/bin/ruff format src tests benchmarks
	$(VENV)/bin/ruff check --fix src tests benchmarks

bench: $(STAMP)
	@for script in benchmarks/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache build dist src/*.egg-info
