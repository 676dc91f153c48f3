# Two commands do all the set-up on a fresh machine:
#   make demo   install, run the default suite (quick), write its report
#   make test   install, run the tests
VENV    ?= .venv
PYTHON  ?= python3
# A CPU build of torch is installed first where none is present, so that pip doesn't pull
# a multi-GB CUDA build; set TORCH=... to choose another (e.g. a CUDA build on a GPU box).
TORCH   ?= torch==2.13.0
BIN      = $(VENV)/bin
SUITE   ?= quick

.PHONY: setup demo test bench clean regress baseline

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $@

demo: setup
	$(BIN)/harness run suite=$(SUITE)

test: setup
	-@bash .ci/install-chromium
	$(BIN)/python -m pytest -q

# Regression tracking (docs/ci.md): run suite=ci, compare it with the committed baseline
# (accuracy always, time where the machine fingerprint matches), re-running flagged groups
# 3 times; exit 1 on a regression. `make baseline` re-records the baseline (then commit it).
REGRESS ?= results/regress
regress: setup
	rm -rf $(REGRESS)/ci/candidate $(REGRESS)/ci/candidate.confirm
	$(BIN)/harness run suite=ci results_dir=$(REGRESS) run_id=candidate report=false progress=false
	$(BIN)/harness compare --baseline suite=ci $(REGRESS)/ci/candidate --confirm 3 --json $(REGRESS)/compare.json

baseline: setup
	$(BIN)/harness baseline save suite=ci progress=false --repeats 3

bench: setup
	$(BIN)/python benchmarks/overhead.py

clean:
	rm -rf $(VENV) .pytest_cache
