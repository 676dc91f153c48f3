"""Harness overhead: the classical trials of a suite through harness vs plain scikit-learn.

Both sides do the same work on the same data in the same process: load each split, fit
each feature transformer on the training split, fit each model, predict, score. The
harness side also plans, measures, writes records and predictions (no report). Rounds
alternate the order (plain, harness, harness, plain, ...) so drift hits both sides alike.

    python benchmarks/overhead.py [--suite quick] [--rounds 2] [--threads 1]

Target: overhead at most 5% of trial time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def classical_plan(suite: str, threads: int | None):
    """The suite's config and its plan narrowed to the classical and perceptron trials."""
    from harness import api

    over = [f"suite={suite}", "progress=false", "report=false"]
    if threads:
        over.append(f"device.threads={threads}")
    cfg = api.compose(over)
    plan = api.plan(cfg, over)
    plan.trials = [t for t in plan.trials if t.model.family in ("classical", "perceptron")]
    return cfg, plan


def plain(trials, threads: int | None) -> float:
    """What a careful notebook does: load, featurize once per split, fit/predict/score."""
    from hydra.utils import instantiate
    from sklearn.metrics import accuracy_score
    from threadpoolctl import threadpool_limits

    from harness.data import load_dataset

    t0 = time.perf_counter()
    data, feats = {}, {}
    with threadpool_limits(threads):
        for t in trials:
            dk = (t.dataset.name, t.split)
            if dk not in data:
                data[dk] = load_dataset(t.dataset, t.split)
            d = data[dk]
            fk = dk + (t.features.name,)
            if fk not in feats:
                tr = instantiate(t.features.transformer, _convert_="all")
                params = tr.get_params()
                tr.set_params(**{k: v for k, v in (("random_state", t.seed), ("input_shape", d.shape)) if k in params})
                Xtr = tr.fit_transform(d.X_train.reshape(len(d.X_train), -1), d.y_train)
                feats[fk] = (Xtr, tr.transform(d.X_test.reshape(len(d.X_test), -1)))
            Xtr, Xte = feats[fk]
            est = instantiate(t.model.estimator, _convert_="all")
            if "random_state" in est.get_params():
                est.set_params(random_state=t.seed)
            est.fit(Xtr, d.y_train)
            accuracy_score(d.y_test, est.predict(Xte))
    return time.perf_counter() - t0


def through_harness(cfg, plan, out: Path) -> float:
    """``harness run`` as the API runs it: run.json, every record and prediction, no report."""
    from harness import api

    t0 = time.perf_counter()
    api.execute(plan, cfg, out / f"run{time.perf_counter_ns()}")
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="quick")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=None,
                    help="thread pools for both sides (default: every core)")
    ns = ap.parse_args()
    cfg, plan = classical_plan(ns.suite, ns.threads)
    trials = plan.trials
    print(f"{len(trials)} classical/perceptron trials of suite {ns.suite}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        plain(trials[:1], ns.threads)  # warm imports and the data cache for both sides
        times = {"plain": [], "harness": []}
        for r in range(ns.rounds):
            order = ("plain", "harness") if r % 2 == 0 else ("harness", "plain")
            for side in order:
                s = plain(trials, ns.threads) if side == "plain" else through_harness(cfg, plan, Path(tmp))
                times[side].append(s)
                print(f"round {r + 1}: {side:<8} {s:7.2f} s", flush=True)
    p, h = np.median(times["plain"]), np.median(times["harness"])
    print(f"median plain {p:.2f} s, harness {h:.2f} s: overhead {100 * (h - p) / p:+.1f}% "
          f"({(h - p) / len(trials) * 1e3:+.1f} ms per trial)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
