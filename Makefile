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

.PHONY: setup demo test test-fast test-oldest deadcode bench clean regress baseline

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

# The fast tier for working on the code (about a minute on 2 cores): no end-to-end suite runs.
test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

# The floors in pyproject.toml, tested: a venv with the oldest allowed versions (.ci/oldest.txt)
# runs the fast tier. torch is the build installed first, as in `setup`.
OLD_VENV ?= .venv-oldest
test-oldest:
	test -x $(OLD_VENV)/bin/python || $(PYTHON) -m venv $(OLD_VENV)
	$(OLD_VENV)/bin/python -c "import torch" 2>/dev/null || $(OLD_VENV)/bin/python -m pip install -q "$(TORCH)"
	$(OLD_VENV)/bin/python -m pip install -q -c .ci/oldest.txt -e ".[dev]"
	$(OLD_VENV)/bin/python -m pytest -q -m "not slow" -p no:cacheprovider

# Dead code: names nothing uses, at vulture's high confidence (unused imports, variables, code
# after a return); lower-confidence hits are mostly what scikit-learn, asv and pytest call by name.
deadcode: setup
	$(BIN)/vulture harness benchmarks docs tests --min-confidence 80

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

# A single-node Slurm cluster on loopback (root, apt-get: Debian's slurm-wlm and munge), then the
# test that shards a suite over it with hydra/launcher=submitit_slurm (README: Slurm).
.PHONY: slurm-up test-slurm
slurm-up:
	bash .ci/slurm-up

test-slurm: setup slurm-up
	$(BIN)/python -m pytest -q tests/test_slurm.py::test_sharded_over_slurm_records_every_trial_once

# Ray in its own venv: hydra-ray-launcher pins cloudpickle<3, which joblib>=1.6 (in .venv) cannot
# have; pip takes joblib 1.5.3 there. The versions below are the ones checked (README: Ray).
RAY_VENV ?= .venv-ray
RAY      ?= "ray[default]==2.60.0" hydra-ray-launcher==1.2.2
.PHONY: ray-venv test-ray
ray-venv: $(RAY_VENV)/.installed

$(RAY_VENV)/.installed: pyproject.toml
	test -x $(RAY_VENV)/bin/python || $(PYTHON) -m venv $(RAY_VENV)
	$(RAY_VENV)/bin/python -c "import torch" 2>/dev/null || $(RAY_VENV)/bin/python -m pip install -q "$(TORCH)"
	$(RAY_VENV)/bin/python -m pip install -q -e . $(RAY)
	touch $@

test-ray: setup ray-venv
	$(BIN)/python -m pytest -q tests/test_slurm.py::test_sharded_over_ray_in_its_own_venv_records_every_trial_once

bench: setup
	$(BIN)/python benchmarks/overhead.py

clean:
	rm -rf $(VENV) $(OLD_VENV) .pytest_cache
