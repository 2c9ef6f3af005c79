# The two commands of the README:
#   make demo   set everything up, then scan, check, train on a tiny model, and verify the bundle
#   make test   set everything up, then run the tests
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
# This machine keeps the CPU build of torch 2.13.0 on disk; pip takes it from there in seconds.
# Elsewhere pip takes the same release from PyPI; on a GPU machine set TORCH_SPEC as you need.
TORCH_SPEC ?= torch==2.13.0

.PHONY: setup demo test lint format bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first, pinned, so the train extra's range is already satisfied and pulls nothing more
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[train,attest,ray,dev]"
	touch $@

demo: setup
	PATH="$(abspath $(VENV))/bin:$$PATH" bash examples/demo.sh

test: setup
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check provenance tests benchmarks examples
	$(VENV)/bin/ruff format --check provenance tests benchmarks examples
	$(VENV)/bin/mypy

format: setup
	$(VENV)/bin/ruff format provenance tests benchmarks examples
	$(VENV)/bin/ruff check --fix provenance tests benchmarks examples

# The side-by-side benchmarks behind docs/benchmarks.md (about an hour on 2 cores; see each page).
bench: setup
	$(PY) benchmarks/pii_accuracy.py
	$(PY) benchmarks/pii_throughput.py --repeat 2
	$(PY) benchmarks/minhash_signatures.py
	$(PY) benchmarks/containment.py --records 1000
	$(PY) benchmarks/containment_code.py
	$(PY) benchmarks/duplicates.py
	$(PY) benchmarks/license_resolution.py
	$(PY) benchmarks/gate_overhead.py demo
	$(PY) benchmarks/scan_memory.py --small 20 --large 200 --detectors pii --workers 2

clean:
	rm -rf $(VENV) .provenance build *.egg-info .pytest_cache .mypy_cache .ruff_cache
