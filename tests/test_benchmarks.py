"""The benchmark scripts the README names still run (in their smallest setting) and report."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent

CASES = {
    "overhead.py --suite smoke --rounds 1": r"overhead [+-]\d+\.\d%",
    "report_speed.py --records 500": r"harness report on 500 records: \d+\.\d s",
    "stress_resume.py --trials 20 --kills 1": r"parallel/sequential wall ratio: \d",
    "startup.py --repeats 1 --report-suite smoke": (
        r"harness --help +min +\d+\.\d+ s[\s\S]*harness plan suite=quick +min +\d+\.\d+ s[\s\S]*"
        r"its trials' own time \d+\.\d+ s: \d+\.\dx[\s\S]*over the plain script[\s\S]*"
        r"plain script, the same 6 fits +min +\d+\.\d+ s[\s\S]*harness report \(the smoke run\) +min +\d+\.\d+ s[\s\S]*"
        r"the same, as a run ends +min +\d+\.\d+ s"),
    "trainer_overhead.py --models perceptron_torch --repeats 1 --seconds 0.2": r"perceptron_torch\s+\d+\s",
    "time_to_accuracy.py --model mlp --seeds 0 --no-naive": r"test \d+\.\d ± \d+\.\d%",
}


@pytest.mark.parametrize("command", sorted(CASES))
def test_benchmark_script_runs(command):
    script, *args = command.split()
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args], capture_output=True,
                         text=True, cwd=ROOT, timeout=300, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert re.search(CASES[command], res.stdout), res.stdout[-2000:]


def test_the_plain_script_beside_the_smoke_run_does_what_the_smoke_suite_does(monkeypatch):
    """startup.py's plain script repeats the smoke suite by hand: a change to the suite's models or
    datasets must be made there too."""
    import yaml

    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import startup

    suites = ROOT / "suites"
    suite = yaml.safe_load((suites / "suite" / "smoke.yaml").read_text())
    assert (suite["splits"], suite["seeds"], suite["matrix"]["features"]) == (1, [0], ["raw"])
    assert suite["matrix"]["dataset"] == ["digits", "moons"]  # load_digits, make_moons below
    for name in suite["matrix"]["model"]:
        estimator = yaml.safe_load((suites / "model" / f"{name}.yaml").read_text())["estimator"]
        cls = estimator.pop("_target_").rpartition(".")[2]
        assert f"{cls}({', '.join(f'{k}={v!r}' for k, v in estimator.items())})" in startup.PLAIN_SMOKE, name
    for name in suite["matrix"]["dataset"]:
        loader = yaml.safe_load((suites / "dataset" / f"{name}.yaml").read_text())["loader"]
        loader.pop("_target_")
        assert f"test_size={loader.pop('test_size')}" in startup.PLAIN_SMOKE
        assert all(f"{k}={v!r}" in startup.PLAIN_SMOKE for k, v in loader.items()), name
