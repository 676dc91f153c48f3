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
        r"plain script, the same 6 fits +min +\d+\.\d+ s[\s\S]*harness report \(the smoke run\) +min +\d+\.\d+ s"),
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
