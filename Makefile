# Quick start: `make demo` and `make test`. Both install what is missing first and are
# fast when everything is already there.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
COLBENCH := $(VENV)/bin/colbench
STAMP := $(VENV)/.colbench-installed

.PHONY: setup system venv sandbox demo test bench clean

setup: system venv sandbox

# Debian packages and a running Docker engine (needs root to install; says what is missing otherwise).
system:
	@bash scripts/setup-system.sh

venv: $(STAMP)

$(STAMP): pyproject.toml agents/example_adapter/pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@# torch is pinned: an unpinned torch pulls gigabytes of CUDA packages on this machine.
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q "torch==2.13.0"
	@$(PY) -m pip install -q -e ".[dev]"
	@# The example third-party adapter, so its entry point is live (and tested).
	@$(PY) -m pip install -q -e agents/example_adapter
	@bash scripts/fetch-tailwind.sh $(VENV)/share/colbench
	@touch $(STAMP)

sandbox: system venv
	@$(COLBENCH) sandbox build

demo: setup
	@bash scripts/demo.sh

test: setup
	@$(PY) -m ruff check -q colbench tests benchmarks
	@$(PY) -m mypy
	@COLBENCH_REQUIRE_DOCKER=1 $(PY) -m pytest -q

# Scores the real ColBench sample ($COLBENCH_SAMPLE_DIR, default ../shared/colbench-sample) when it is there,
# else the bundled backend tasks (it says so).
bench: setup
	@$(PY) benchmarks/sandbox_throughput.py

clean:
	rm -rf $(VENV) .pytest_cache build dist
