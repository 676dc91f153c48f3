"""Stress: many tiny trials on 2 parallel workers, killed at random points and resumed.

Four faults, each checked to end with every planned trial recorded ok exactly once:

1. the whole process group killed (SIGKILL) at random points, resumed each time;
2. the main process alone killed (SIGKILL to its pid, joblib workers left to notice): no
   worker may write after its parent is gone, then the resume completes the run;
3. two `harness run ... run_id=X` started at the same moment: one is refused, one runs;
4. (timing) the same trials uninterrupted, parallel and sequential, for the per-trial overhead.

    python benchmarks/stress_resume.py [--trials 1000] [--kills 3] [--races 3] [--jobs 2]
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


def wait_for(results: Path, n: int, proc: subprocess.Popen) -> None:
    while count_records(results) < n and proc.poll() is None:
        time.sleep(0.02)


def exactly_once(run_dir: Path, n_trials: int) -> tuple[bool, str]:
    """Whether every planned trial has one ok record and no trial two; and the counts."""
    from harness import store

    rows = store.load(run_dir, all_records=True)
    ok = rows[rows["status"] == "ok"]["trial_id"]
    exact = ok.is_unique and len(ok) == n_trials
    lost, dup = n_trials - ok.nunique(), len(ok) - ok.nunique()
    return exact, f"{ok.nunique()} of {n_trials} trials ok, {lost} lost, {dup} duplicated ({len(rows)} lines)"


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def kill_main_alone(base: list[str], results: Path, n_trials: int, rng: random.Random) -> bool:
    """SIGKILL the main pid only; its joblib workers must stop writing, the resume finishes."""
    proc = harness(base + [f"results_dir={results}"])
    wait_for(results, rng.randint(n_trials // 10, n_trials // 3), proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    at_kill = count_records(results)
    t0 = time.perf_counter()
    while group_alive(proc.pid) and time.perf_counter() - t0 < 30:
        time.sleep(0.05)
    gone_s, at_gone = time.perf_counter() - t0, count_records(results)
    time.sleep(2)
    wrote_after = count_records(results) - at_gone
    orphans = group_alive(proc.pid)
    print(f"main pid alone: SIGKILL at {at_kill} records; its workers finished {at_gone - at_kill} trials "
          f"in hand and were gone after {gone_s:.1f} s ({'ORPHANS LEFT' if orphans else 'none left'}); "
          f"{wrote_after} records written after that", flush=True)
    run_dir = next(results.glob("stress/*"))
    resume = harness(base + [f"results_dir={results}", f"resume={run_dir}"])
    err = resume.communicate()[1]
    if resume.returncode != 0:
        print(err, file=sys.stderr)
        return False
    exact, counts = exactly_once(run_dir, n_trials)
    print(f"  after the resume: {counts}", flush=True)
    return exact and not orphans and wrote_after == 0


def race(base: list[str], results: Path, n_trials: int, i: int) -> bool:
    """Two starters of one run id at the same moment: one refused (exit 2), one complete run."""
    args = base + [f"results_dir={results}", f"run_id=race{i}"]
    procs = [harness(args), harness(args)]
    outs = [(p.communicate()[1], p.returncode) for p in procs]
    codes = sorted(rc for _, rc in outs)
    refusal = next((err.strip().splitlines()[-1] for err, rc in outs if rc == 2 and err.strip()), "")
    exact, counts = exactly_once(results / "stress" / f"race{i}", n_trials)
    print(f"race {i + 1}: exit codes {codes}; {counts}; refused with: {refusal[:110]}", flush=True)
    return exact and codes == [0, 2]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=1000)
    ap.add_argument("--kills", type=int, default=3)
    ap.add_argument("--races", type=int, default=3)
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
        exact, counts = exactly_once(run_dir, ns.trials)
        print(f"after {ns.kills} kills of the process group and resumes: {counts}; wall {wall_killed:.1f} s")
        exact &= kill_main_alone(base, tmp / "main-alone", ns.trials, rng)
        for i in range(ns.races):
            exact &= race(base, tmp / "races", ns.trials, i)

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
        print("all faults: every trial recorded exactly once" if exact else "FAILED: see above")
        return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
