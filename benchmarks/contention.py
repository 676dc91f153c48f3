"""A suite idle and beside an all-core CPU hog, under the thread policy old and new.

Runs ``harness run`` on the suite with nothing else of ours running (idle), then again with
one busy-loop process per usable core started beside it (loaded), and prints both wall times,
the loaded/idle ratio, the trials' own time (features + fit + predict) and the load averages.
Each phase runs the old policy (``HARNESS_THREADS=all``: every usable core whatever the load,
the OpenMP runtimes' own spin before they sleep) and the new one (the default: the cores other work
leaves free, short OpenMP spins) one after the other, so the two are measured side by side.

    python benchmarks/contention.py                        # suite=quick, both policies
    python benchmarks/contention.py --suite smoke --policy new
    python benchmarks/contention.py --suite smoke --override dataset=digits --override model=mlp

Goal (issue 15): the new policy's loaded/idle ratio on quick is at most 2, and its idle time
is no slower than the old policy's. "Idle" means no hog of ours: note the machine's own load,
which the script prints before each run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

POLICIES = {"old": {"HARNESS_THREADS": "all"}, "new": {}}
HOG = "while True:\n    pass\n"


def load_1m() -> float:
    return os.getloadavg()[0]


def start_hog(n: int) -> list[subprocess.Popen]:
    """``n`` busy-loop processes (they inherit our affinity, so they compete for our cores)."""
    procs = [subprocess.Popen([sys.executable, "-c", HOG], stdin=subprocess.DEVNULL) for _ in range(n)]
    time.sleep(0.3)  # running before the suite starts
    return procs


def stop_hog(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.kill()
    for p in procs:
        p.wait(10)


def run_suite(suite: str, overrides: list[str], policy: str, results: Path) -> dict:
    """One ``harness run`` in a subprocess under ``policy``: its wall time and its records' sums."""
    env = {k: v for k, v in os.environ.items() if k not in ("HARNESS_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env.update(POLICIES[policy])
    env.setdefault("PYTHONWARNINGS", "ignore")
    out = results / f"{policy}-{time.perf_counter_ns()}"
    cmd = [sys.executable, "-m", "harness.cli", "run", f"suite={suite}", *overrides, "report=false",
           "progress=false", f"results_dir={out}"]
    load = load_1m()
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if res.returncode not in (0, 1):  # 1: some trial failed, still a timing
        sys.exit(f"contention: harness run failed ({res.returncode}):\n{res.stderr[-3000:]}")
    records = [json.loads(line) for f in sorted(out.rglob("records-*.jsonl")) for line in f.read_text().splitlines()
               if line.strip()]
    run_json = next(out.rglob("run.json"), None)
    environment = json.loads(run_json.read_text()).get("environment", {}) if run_json else {}
    by_model: dict[str, float] = {}
    for r in records:
        if r.get("status") == "ok":
            by_model[r["model"]] = by_model.get(r["model"], 0.0) + sum(
                r.get(k) or 0.0 for k in ("features_s", "fit_s", "predict_s"))
    return {"wall_s": wall, "trial_s": sum(by_model.values()), "by_model": by_model, "n": len(records),
            "load_before": load,
            "threads": sorted({r.get("threads") for r in records if r.get("threads")}),
            "failed": sum(r.get("status") in ("failed", "timeout") for r in records),
            "busy_at_start": environment.get("busy_cores_at_start"),
            "warned": "warning: the machine is busy" in res.stderr}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="quick")
    ap.add_argument("--override", action="append", default=[], metavar="KEY=VALUE",
                    help="a Hydra override for the suite's runs (repeatable), e.g. model=mlp")
    ap.add_argument("--policy", choices=("both", "old", "new"), default="both")
    ap.add_argument("--hog", type=int, default=None, help="busy-loop processes (default: one per usable core)")
    ns = ap.parse_args()

    from harness.cpus import usable_cores

    cores = usable_cores()
    n_hog = ns.hog if ns.hog is not None else cores
    policies = ["old", "new"] if ns.policy == "both" else [ns.policy]
    label = " ".join([f"suite={ns.suite}", *ns.override])
    print(f"{label}: {cores} usable cores; hog: {n_hog} busy-loop processes", flush=True)
    runs: dict[tuple[str, str], dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for phase in ("idle", "loaded"):
            hog = start_hog(n_hog) if phase == "loaded" else []
            try:
                for policy in policies:
                    r = runs[phase, policy] = run_suite(ns.suite, ns.override, policy, Path(tmp))
                    print(f"{phase:<6} {policy}: wall {r['wall_s']:7.1f} s, trials {r['trial_s']:7.1f} s, "
                          f"{r['n']} trials ({r['failed']} failed), threads {r['threads']}, "
                          f"load before {r['load_before']:.2f}, busy cores at start {r['busy_at_start']}"
                          + (", warned" if r["warned"] else ""), flush=True)
            finally:
                stop_hog(hog)
    print(f"load average now: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'policy':<7}{'idle s':>9}{'loaded s':>10}{'loaded/idle':>13}{'trials idle s':>15}{'trials loaded s':>17}")
    for policy in policies:
        i, lo = runs["idle", policy], runs["loaded", policy]
        print(f"{policy:<7}{i['wall_s']:9.1f}{lo['wall_s']:10.1f}{lo['wall_s'] / i['wall_s']:13.2f}"
              f"{i['trial_s']:15.1f}{lo['trial_s']:17.1f}")
    print("trial seconds by model, idle -> loaded (loaded/idle):")
    for policy in policies:
        idle, loaded = runs["idle", policy]["by_model"], runs["loaded", policy]["by_model"]
        parts = [f"{m} {idle[m]:.2f} -> {loaded.get(m, float('nan')):.2f} ({loaded.get(m, float('nan')) / idle[m]:.1f}x)"
                 for m in sorted(idle, key=idle.get, reverse=True) if idle[m] > 0]
        print(f"  {policy}: " + ", ".join(parts))
    if len(policies) == 2:
        old, new = runs["idle", "old"]["wall_s"], runs["idle", "new"]["wall_s"]
        print(f"idle new/old: {new / old:.2f}; loaded new/old: "
              f"{runs['loaded', 'new']['wall_s'] / runs['loaded', 'old']['wall_s']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
