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

.PHONY: setup demo test bench clean

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

bench: setup
	$(BIN)/python benchmarks/overhead.py

clean:
	rm -rf $(VENV) .pytest_cache
