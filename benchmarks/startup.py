"""How fast does harness start, plan, run a tiny suite and report? Each figure against its goal.

    python benchmarks/startup.py [--repeats 5] [--report-run RUN_DIR | --report-suite quick]

Every figure is the wall time of a whole subprocess (``python -m harness.cli ...``), so the
interpreter's start and every import count; each is timed ``--repeats`` times (min and median):

- ``harness --help`` (goal: at most 0.3 s);
- ``harness plan suite=quick`` (goal: at most 1 s), with the model checks a first plan remembers
  (``harness/paramcheck.py``); that first plan's time is printed beside it;
- ``harness run suite=smoke`` (goal: at most 2x the sum of its trials' own times, ``fit_s +
  predict_s + features_s`` from its records), and the same run with ``report=false``; beside
  them, a plain scikit-learn script doing the same six fits (load, split, scale, fit, predict,
  score), which is the floor any Python tool pays: interpreter, imports, data;
- ``harness report`` of a quick run (goal: at most 3 s), and the same report as ``harness run``
  writes it when it ends: in a process where torch trained (``write_report``'s own seconds; where
  torch is installed). Without ``--report-run``, a run of the quick suite is made first through the
  API, each trial shrunk to a few steps, so that the report has a quick run's shape (its trials,
  splits, predictions and curves) in a minute or so; ``--report-suite smoke`` reports the smoke
  run instead (the smallest setting, for the tests).

The goals are for 2 idle cores: the load average is printed at the start and at the end, and
figures taken beside other work are slower. Everything is written under a temporary directory
(its own ``HARNESS_CACHE_DIR`` too), removed at the end.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

#: goals on 2 idle cores (issue 15, item 2)
HELP_GOAL_S = 0.3
PLAN_GOAL_S = 1.0
SMOKE_GOAL_RATIO = 2.0
REPORT_GOAL_S = 3.0

#: a quick run shrunk for its report's sake: per parameter a config may have, its small value
SHRINK = {"epochs": 1, "max_steps": 10, "n_estimators": 10, "max_iter": 20, "channels": 8,
          "n_kernels": 40, "num_samples": 1200, "n_samples": 300}


#: CPU seconds (user + system) of each timed subprocess, by what was timed: steadier than wall
#: time on a busy machine, which is all some machines are
CPU: dict[str, list[float]] = {}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


#: the smoke suite's six trials as a plain script: what any Python tool pays to run them (its
#: models and datasets as the suite's YAML has them, which a test checks)
PLAIN_SMOKE = """
from sklearn.datasets import load_digits, make_moons
from sklearn.linear_model import LogisticRegression, Perceptron
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

for X, y in (load_digits(return_X_y=True), make_moons(n_samples=1000, noise=0.2, random_state=0)):
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    for model in (LogisticRegression(C=1.0, max_iter=1000), Perceptron(max_iter=1000, tol=0.001),
                  KNeighborsClassifier(n_neighbors=5, weights='distance')):
        make_pipeline(StandardScaler(), model).fit(Xtr, ytr).score(Xte, yte)
"""


def _plain(env: dict, cwd: Path) -> float:
    """Seconds of wall time of the plain script in a subprocess."""
    cpu, t0 = _children_cpu(), time.perf_counter()
    subprocess.run([sys.executable, "-c", PLAIN_SMOKE], check=True, capture_output=True, env=env, cwd=cwd)
    seconds = time.perf_counter() - t0
    CPU.setdefault("plain", []).append(_children_cpu() - cpu)
    return seconds


def _harness(args: list[str], env: dict, cwd: Path) -> float:
    """Seconds of wall time of one ``harness`` subprocess; it must succeed."""
    cpu, t0 = _children_cpu(), time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True,
                         env=env, cwd=cwd)
    seconds = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(f"harness {' '.join(args)} exited {res.returncode}:\n{res.stderr[-2000:]}")
    CPU.setdefault(args[0], []).append(_children_cpu() - cpu)
    return seconds


#: the report ``harness run`` writes as it ends, in its own process: torch trained there, scikit-learn
#: and pandas imported; the seconds of ``write_report`` alone are printed
AT_RUN_END = """
import sys, time
from pathlib import Path
import sklearn.linear_model, torch
from harness.report import write_report
x = torch.randn(256, 256)
for _ in range(50):
    x = torch.tanh(x @ x.T / 256)
t0 = time.perf_counter()
write_report([Path(sys.argv[1])], out=sys.argv[2])
print(time.perf_counter() - t0)
"""


def _at_run_end(run_dir: Path, out: Path, env: dict, cwd: Path) -> float:
    res = subprocess.run([sys.executable, "-c", AT_RUN_END, str(run_dir), str(out)], capture_output=True,
                         text=True, env=env, cwd=cwd, check=True)
    return float(res.stdout.split()[-1])


def _timed(args: list[str], env: dict, cwd: Path, repeats: int) -> list[float]:
    return [_harness(args, env, cwd) for _ in range(repeats)]


def _trial_seconds(run_dir: Path) -> float:
    """The trials' own time: fit, predict and features seconds summed over the run's records."""
    total = 0.0
    for path in run_dir.glob("records-*.jsonl"):
        for line in path.read_text().splitlines():
            rec = json.loads(line)
            total += sum(float(rec.get(k) or 0.0) for k in ("fit_s", "predict_s", "features_s"))
    return total


def _shrink(trial) -> None:
    from omegaconf import open_dict

    for inner in (trial.dataset.loader, trial.features.transformer, trial.model.estimator):
        if not hasattr(inner, "keys"):
            continue
        with open_dict(inner):
            for key, value in SHRINK.items():
                if key in inner and inner[key] is not None:
                    inner[key] = value
            if inner.get("hidden"):  # [] is the perceptron
                inner.hidden = [16]
            if inner.get("n_train"):
                inner.n_train = min(int(inner.n_train), 600)


def make_quick_run(results: Path) -> Path:
    """A run of the quick suite with every trial shrunk (records, predictions and curves as a real one)."""
    from harness import api

    overrides = ["suite=quick", f"results_dir={results}", "run_id=quick", "report=false", "progress=false"]
    cfg = api.compose(overrides)
    plan = api.plan(cfg, overrides)
    for trial in plan.trials:
        for axis in ("dataset", "features", "model"):
            setattr(trial, axis, getattr(trial, axis).copy())
        _shrink(trial)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shrunk fits stop early on purpose
        return api.execute(plan, cfg).run_dir


def _line(what: str, times: list[float], goal: str, met: bool, extra: str = "") -> None:
    """One figure: wall min and median, the median's CPU time, the goal and whether the median meets it."""
    key = what.split()[1] if what.startswith("harness") else "plain" if what.startswith("plain") else "run"
    cpu = CPU.get(key, [])[-len(times):]
    print(f"{what:<32} min {min(times):6.2f} s  median {statistics.median(times):6.2f} s  "
          f"(cpu {statistics.median(cpu):5.2f} s)   goal {goal:<18} {'met' if met else 'NOT met'}"
          f"{('   ' + extra) if extra else ''}", flush=True)


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs of each command (default 5)")
    parser.add_argument("--report-run", type=Path, help="a quick run dir to time `harness report` on")
    parser.add_argument("--report-suite", choices=["quick", "smoke"], default="quick",
                        help="without --report-run: make a shrunk quick run (default), or report the smoke run")
    ns = parser.parse_args(argv)
    if ns.repeats < 1:
        parser.error("--repeats must be 1 or more")
    tmp = Path(tempfile.mkdtemp(prefix="harness-startup-"))
    os.environ["HARNESS_CACHE_DIR"] = str(tmp / "cache")  # this process's own quick run, and every subprocess
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    try:
        print(f"load average at the start: {_load()}", flush=True)
        times = _timed(["--help"], env, tmp, ns.repeats)
        _line("harness --help", times, f"<= {HELP_GOAL_S} s", statistics.median(times) <= HELP_GOAL_S)

        first = _harness(["plan", "suite=quick"], env, tmp)  # remembers the model checks in the cache
        times = _timed(["plan", "suite=quick"], env, tmp, ns.repeats)
        _line("harness plan suite=quick", times, f"<= {PLAN_GOAL_S} s", statistics.median(times) <= PLAN_GOAL_S,
              f"(first plan, checks not yet remembered: {first:.2f} s)")

        results = tmp / "results"
        plain = [_plain(env, tmp) for _ in range(ns.repeats)]
        walls, own = [], []
        for i in range(ns.repeats):
            walls.append(_harness(["run", "suite=smoke", f"results_dir={results}", f"run_id=smoke{i}",
                                   "progress=false"], env, tmp))
            own.append(_trial_seconds(results / "smoke" / f"smoke{i}"))
        ratio = statistics.median(walls) / max(statistics.median(own), 1e-9)
        _line("harness run suite=smoke", walls, f"<= {SMOKE_GOAL_RATIO:g}x its trials", ratio <= SMOKE_GOAL_RATIO,
              f"(its trials' own time {statistics.median(own):.2f} s: {ratio:.1f}x)")
        bare = _timed(["run", "suite=smoke", f"results_dir={results}", "report=false", "progress=false"],
                      env, tmp, ns.repeats)
        ratio = statistics.median(bare) / max(statistics.median(own), 1e-9)
        _line("  the same, report=false", bare, f"<= {SMOKE_GOAL_RATIO:g}x its trials", ratio <= SMOKE_GOAL_RATIO,
              f"({ratio:.1f}x; {statistics.median(bare) - statistics.median(plain):.2f} s over the plain script)")
        ratio = statistics.median(plain) / max(statistics.median(own), 1e-9)
        _line("plain script, the same 6 fits", plain, f"<= {SMOKE_GOAL_RATIO:g}x its trials", ratio <= SMOKE_GOAL_RATIO,
              f"({ratio:.1f}x: the floor)")

        if ns.report_run:
            run_dir, label = ns.report_run.resolve(), "a quick run"
        elif ns.report_suite == "smoke":
            run_dir, label = results / "smoke" / "smoke0", "the smoke run"
        else:
            t0 = time.perf_counter()
            run_dir, label = make_quick_run(results), "a quick run"
            print(f"(made a shrunk quick run to report, in {time.perf_counter() - t0:.0f} s: {run_dir})", flush=True)
        times = [_harness(["report", str(run_dir), "--out", str(tmp / f"report{i}")], env, tmp)
                 for i in range(ns.repeats)]
        _line(f"harness report ({label})", times, f"<= {REPORT_GOAL_S} s", statistics.median(times) <= REPORT_GOAL_S)
        if importlib.util.find_spec("torch") is not None:
            ends = [_at_run_end(run_dir, tmp / f"end{i}", env, tmp) for i in range(ns.repeats)]
            print(f"{'  the same, as a run ends':<32} min {min(ends):6.2f} s  median {statistics.median(ends):6.2f} s"
                  "  (write_report in a process where torch trained, as `harness run` writes it)", flush=True)
        print(f"load average at the end: {_load()}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
