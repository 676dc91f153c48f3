"""Stress: many tiny trials on 2 parallel workers, killed at random points and resumed.

Checks that every planned trial ends up recorded ok exactly once, and reports the wall
time and the per-trial overhead of the parallel path against the sequential one.

    python benchmarks/stress_resume.py [--trials 1000] [--kills 3] [--jobs 2]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def write_configs(conf: Path, n_trials: int) -> None:
    (conf / "suite").mkdir(parents=True)
    (conf / "model").mkdir()
    (conf / "model" / "dummy.yaml").write_text(
        "name: dummy\ndescription: Predicts the prior (scikit-learn DummyClassifier)\n"
        "family: classical\nestimator:\n  _target_: sklearn.dummy.DummyClassifier\n")
    seeds = ", ".join(str(i) for i in range(n_trials))
    (conf / "suite" / "stress.yaml").write_text(
        "name: stress\ndescription: Many tiny trials\nseeds: [" + seeds + "]\n"
        "matrix:\n  dataset: [moons]\n  features: [raw]\n  model: [dummy]\n  device: [cpu]\n"
        "  dataset.loader.n_samples: [200]\n")


def harness(args: list[str], **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "harness.cli", *args], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, **kw)


def count_records(results: Path) -> int:
    return sum(sum(1 for _ in open(f)) for f in results.glob("stress/*/records-*.jsonl"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=1000)
    ap.add_argument("--kills", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ns = ap.parse_args()
    rng = random.Random(ns.seed)
    from harness import store

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write_configs(tmp / "conf", ns.trials)
        base = ["run", "--config-dir", str(tmp / "conf"), "suite=stress", "report=false",
                "progress=false", "hydra/launcher=joblib", f"hydra.launcher.n_jobs={ns.jobs}"]

        # 1. killed at random points, resumed each time
        results = tmp / "killed"
        args = base + [f"results_dir={results}"]
        t0 = time.perf_counter()
        proc, run_dir = harness(args), None
        for k in range(ns.kills):
            done = count_records(results)  # kill somewhere in what is left to run
            target = done + rng.randint(1, max(1, (ns.trials - done) // (ns.kills - k + 1)))
            while count_records(results) < min(target, ns.trials - 1) and proc.poll() is None:
                time.sleep(0.02)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            run_dir = run_dir or next(results.glob("stress/*"))
            print(f"kill {k + 1}: SIGKILL after {count_records(results)} records", flush=True)
            proc = harness(args + [f"resume={run_dir}"])
        err = proc.communicate()[1]
        wall_killed = time.perf_counter() - t0
        if proc.returncode != 0:
            print(err, file=sys.stderr)
            return 1
        rows = store.load(run_dir, all_records=True)
        ok = rows[rows["status"] == "ok"]["trial_id"]
        exact = ok.is_unique and len(ok) == ns.trials
        print(f"after {ns.kills} kills and resumes: {len(ok)} ok records for {ns.trials} planned trials, "
              f"{'each exactly once' if exact else 'MISMATCH'} ({len(rows)} lines in all); "
              f"wall {wall_killed:.1f} s")

        # 2. uninterrupted: parallel and sequential, for the per-trial overhead
        walls = {}
        for label, extra in (("parallel", []), ("sequential", None)):
            cmd = (base if extra is not None else base[:-2]) + [f"results_dir={tmp / label}"]
            t0 = time.perf_counter()
            p = harness(cmd)
            p.communicate()
            walls[label] = time.perf_counter() - t0
            df = store.load(next((tmp / label).glob("stress/*")))
            work = float((df["fit_s"] + df["predict_s"] + df["features_s"]).sum())
            print(f"{label:<10}: {ns.trials} trials in {walls[label]:.1f} s wall "
                  f"({walls[label] / ns.trials * 1e3:.1f} ms per trial; timed work {work:.1f} s)")
        print(f"parallel/sequential wall ratio: {walls['parallel'] / walls['sequential']:.2f} "
              f"with {ns.jobs} jobs")
        return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
