"""A suite idle and beside an all-core CPU hog, under the thread policies old and new.

Runs ``harness run`` on the suite with nothing else of ours running (idle), then again with
one busy-loop process per usable core started beside it (loaded), and prints both wall times,
the loaded/idle ratio, the trials' own time (features + fit + predict) and the load averages.
Each phase runs the policies one after the other, so they are measured side by side:

- ``old`` (``HARNESS_THREADS=all``): every usable core whatever the load, the OpenMP runtimes'
  own spin before they sleep;
- ``free`` (``HARNESS_THREADS=free``): the cores other work leaves free for every trial, short
  OpenMP spins;
- ``new`` (the default, ``auto``): as ``free``, but on a busy machine torch trials get every
  usable core with passive OpenMP waits (harness/cpus.py).

    python benchmarks/contention.py                        # suite=quick, old and new
    python benchmarks/contention.py --slice --policy free,new --repeats 2
    python benchmarks/contention.py --suite smoke --override dataset=digits --override model=mlp

``--slice`` runs five quick trials (mnist1d cnn and mlp, digits logreg and svm_rbf, mnist1d
rocket features with logreg) on one split: minutes instead of the full quick's quarter hour,
for comparing policies on a machine that is not yours alone. ``--repeats`` alternates the
idle and loaded phases that many times and reports medians.

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

POLICIES = {"old": {"HARNESS_THREADS": "all"}, "free": {"HARNESS_THREADS": "free"}, "new": {}}
#: A slice of quick: its torch nets, two classical models and the heaviest feature transformer.
SLICE = ["suite.matrix.dataset=[mnist1d]", "suite.matrix.model=[cnn,mlp]", "suite.splits=1",
         "suite.include=[{dataset:digits,model:[logreg,svm_rbf]},{dataset:mnist1d,features:rocket,model:logreg}]"]
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
            name = r["model"] if r.get("features") in ("raw", None) else f"{r['features']}+{r['model']}"
            by_model[name] = by_model.get(name, 0.0) + sum(
                r.get(k) or 0.0 for k in ("features_s", "fit_s", "predict_s"))
    return {"wall_s": wall, "trial_s": sum(by_model.values()), "by_model": by_model, "n": len(records),
            "load_before": load,
            "threads": sorted({r.get("threads") for r in records if r.get("threads")}),
            "failed": sum(r.get("status") in ("failed", "timeout") for r in records),
            "busy_at_start": environment.get("busy_cores_at_start"),
            "warned": "warning: the machine is busy" in res.stderr}


def _policies(text: str) -> list[str]:
    names = ["old", "new"] if text == "both" else [p.strip() for p in text.split(",") if p.strip()]
    unknown = [p for p in names if p not in POLICIES]
    if unknown or not names:
        raise SystemExit(f"contention: unknown policy {', '.join(unknown) or text!r}; "
                         f"use both or a comma list of: {', '.join(POLICIES)}")
    return names


def _median(xs: list[float]) -> float:
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="quick")
    ap.add_argument("--override", action="append", default=[], metavar="KEY=VALUE",
                    help="a Hydra override for the suite's runs (repeatable), e.g. model=mlp")
    ap.add_argument("--slice", action="store_true",
                    help="five trials of quick (mnist1d cnn/mlp/rocket+logreg, digits logreg/svm_rbf), one split")
    ap.add_argument("--policy", default="both",
                    help="both (old,new) or a comma list of: " + ", ".join(POLICIES))
    ap.add_argument("--repeats", type=int, default=1, help="alternate idle and loaded this many times (medians)")
    ap.add_argument("--hog", type=int, default=None, help="busy-loop processes (default: one per usable core)")
    ns = ap.parse_args()

    from harness.cpus import usable_cores

    cores = usable_cores()
    n_hog = ns.hog if ns.hog is not None else cores
    policies = _policies(ns.policy)
    suite, overrides = ("quick", [*SLICE, *ns.override]) if ns.slice else (ns.suite, ns.override)
    label = " ".join([f"suite={suite}", *(["(slice)"] if ns.slice else []), *ns.override])
    print(f"{label}: {cores} usable cores; hog: {n_hog} busy-loop processes; policies {', '.join(policies)}; "
          f"{ns.repeats} repeat(s)", flush=True)
    runs: dict[tuple[str, str], list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(ns.repeats):
            for phase in ("idle", "loaded"):
                hog = start_hog(n_hog) if phase == "loaded" else []
                try:
                    order = policies if rep % 2 == 0 else policies[::-1]
                    for policy in order:
                        r = run_suite(suite, overrides, policy, Path(tmp))
                        runs.setdefault((phase, policy), []).append(r)
                        print(f"{phase:<6} {policy}: wall {r['wall_s']:7.1f} s, trials {r['trial_s']:7.1f} s, "
                              f"{r['n']} trials ({r['failed']} failed), threads {r['threads']}, "
                              f"load before {r['load_before']:.2f}, busy cores at start {r['busy_at_start']}"
                              + (", warned" if r["warned"] else ""), flush=True)
                finally:
                    stop_hog(hog)
    print(f"load average now: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    med = {k: {"wall_s": _median([r["wall_s"] for r in v]), "trial_s": _median([r["trial_s"] for r in v]),
               "by_model": {m: _median([r["by_model"].get(m, float("nan")) for r in v]) for m in v[0]["by_model"]}}
           for k, v in runs.items()}
    print(f"{'policy':<7}{'idle s':>9}{'loaded s':>10}{'loaded/idle':>13}{'trials idle s':>15}{'trials loaded s':>17}")
    for policy in policies:
        i, lo = med["idle", policy], med["loaded", policy]
        print(f"{policy:<7}{i['wall_s']:9.1f}{lo['wall_s']:10.1f}{lo['wall_s'] / i['wall_s']:13.2f}"
              f"{i['trial_s']:15.1f}{lo['trial_s']:17.1f}")
    print("trial seconds by model, idle -> loaded (loaded/idle):")
    for policy in policies:
        idle, loaded = med["idle", policy]["by_model"], med["loaded", policy]["by_model"]
        parts = [f"{m} {idle[m]:.2f} -> {loaded.get(m, float('nan')):.2f} ({loaded.get(m, float('nan')) / idle[m]:.1f}x)"
                 for m in sorted(idle, key=idle.get, reverse=True) if idle[m] > 0]
        print(f"  {policy}: " + ", ".join(parts))
    if "old" in policies and "new" in policies:
        old, new = med["idle", "old"]["wall_s"], med["idle", "new"]["wall_s"]
        print(f"idle new/old: {new / old:.2f}; loaded new/old: "
              f"{med['loaded', 'new']['wall_s'] / med['loaded', 'old']['wall_s']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
