"""asv: the configuration is valid and a quick run of a couple of benchmarks works."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow


def asv(*args, home, timeout=240):
    exe = shutil.which("asv") or os.path.join(os.path.dirname(sys.executable), "asv")
    if not os.path.exists(exe):
        pytest.skip("asv is not installed (pip install -e '.[dev]')")
    env = {**os.environ, "HOME": str(home), "HARNESS_ASV_ONLY": "moons/raw/logreg", "PYTHONWARNINGS": "ignore"}
    return subprocess.run([exe, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)


def test_benchmarks_are_generated_from_the_suite():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from asv_bench import trials
    finally:
        sys.path.pop(0)
    names = trials._names()
    assert any(n.startswith("digits/raw/logreg@cpu") for n in names)
    for method in ("time_fit", "peakmem_fit", "track_accuracy"):
        assert hasattr(trials.Trials, method)
    assert trials.Trials.track_accuracy.unit == "accuracy"
    assert hasattr(trials.Predict, "time_predict")


def test_asv_check_and_quick_run(tmp_path):
    machine = asv("machine", "--yes", "--machine", "harness-test", home=tmp_path)
    assert machine.returncode == 0, machine.stderr
    check = asv("check", "--python=same", home=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    run = asv("run", "--python=same", "--quick", "--dry-run", "--show-stderr",
              "-b", "Trials.track_accuracy", "-b", "Predict.time_predict", home=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert "moons/raw/logreg@cpux1" in out and "failed" not in out.lower()
