"""Harness overhead: the classical trials of a suite through harness vs plain scikit-learn.

Both sides do the same work on the same data in the same process: load each split, carve
the validation part, fit each feature transformer on the rest, fit each model, predict the
test split, score it (accuracy, balanced accuracy, macro F1, log loss from predict_proba) and
the validation carve. The harness side also plans, measures, writes run.json, every record
and prediction (no report). ``--plain bare`` makes the plain side a minimal notebook instead
(no carve, accuracy only), so the protocol's own work counts as overhead too. Rounds
alternate the order (plain, harness, harness, plain, ...) so drift hits both sides alike.

Wall time is what a user waits; on a shared machine it is noisy, so the CPU time of this
process (and its reaped children, e.g. git) is printed as well: with one thread per side it
counts the work itself and barely moves with other jobs' load.

Without ``--threads`` the two sides also differ in thread policy: the plain side leaves every
thread pool as the libraries set it, and where numpy and scipy each load their own OpenBLAS
(PyPI wheels) their two pools fight over the cores, which harness avoids
(``measure._one_openblas_pool``), so harness can come out faster than the plain side. ``--threads
1`` gives both sides one thread everywhere: that is the like-for-like overhead.

    python benchmarks/overhead.py [--suite quick] [--rounds 2] [--threads 1] [--dataset digits]

Target (issue 15): overhead at most 2% of trial time.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def classical_plan(suite: str, threads: int | None, datasets: list[str] | None = None):
    """The suite's config and its plan narrowed to the classical and perceptron trials
    (and to ``datasets`` when given)."""
    from harness import api

    over = [f"suite={suite}", "progress=false", "report=false"]
    if threads:
        over.append(f"device.threads={threads}")
    cfg = api.compose(over)
    plan = api.plan(cfg, over)
    plan.trials = [t for t in plan.trials if t.model.family in ("classical", "perceptron")
                   and (not datasets or t.dataset.name in datasets)]
    return cfg, plan


def _scores(est, X_test, y_test, X_val, y_val) -> None:
    """What the harness scores: the test split four ways and the validation carve."""
    from sklearn import metrics

    y_pred = est.predict(X_test)
    metrics.accuracy_score(y_test, y_pred)
    metrics.balanced_accuracy_score(y_test, y_pred)
    metrics.f1_score(y_test, y_pred, average="macro", zero_division=0)
    if hasattr(est, "predict_proba"):
        try:
            metrics.log_loss(y_test, est.predict_proba(X_test), labels=getattr(est, "classes_", None))
        except Exception:  # noqa: BLE001 - as the harness: no usable probabilities, no log loss
            pass
    if len(y_val):
        (est.predict(X_val) == y_val).mean()


def plain(trials, threads: int | None, bare: bool = False, target_accuracy=None) -> float:
    """What a careful notebook does: load, carve, featurize once per split, fit/predict/score,
    giving models the context the harness gives (seed, device, input shape, the suite's target
    accuracy, the carve to torch nets). ``bare``: no validation carve, accuracy only."""
    from hydra.utils import instantiate
    from sklearn.metrics import accuracy_score
    from threadpoolctl import threadpool_limits

    from harness.data import load_dataset
    from harness.data.splits import split_validation

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
                X, y = d.X_train.reshape(len(d.X_train), -1), d.y_train
                fit_idx, val_idx = (split_validation(y, t.val_fraction, t.split) if not bare
                                    else (np.arange(len(y)), np.arange(0)))
                tr = instantiate(t.features.transformer, _convert_="all")
                params = tr.get_params()
                tr.set_params(**{k: v for k, v in (("random_state", t.seed), ("input_shape", d.shape)) if k in params})
                Xfit = tr.fit_transform(X[fit_idx], y[fit_idx])
                Xval = tr.transform(X[val_idx]) if len(val_idx) else Xfit[:0]
                Xte = tr.transform(d.X_test.reshape(len(d.X_test), -1))
                f32 = lambda a: np.asarray(a, dtype=np.float32)  # noqa: E731 - as the harness stores features
                feats[fk] = (f32(Xfit), y[fit_idx], f32(Xval), y[val_idx], f32(Xte))
            Xfit, yfit, Xval, yval, Xte = feats[fk]
            est = instantiate(t.model.estimator, _convert_="all")
            if threads and "torch" in sys.modules:  # its intra-op pool, as the harness pins it
                sys.modules["torch"].set_num_threads(threads)
            params = est.get_params()
            est.set_params(**{k: v for k, v in (("random_state", t.seed), ("device", "cpu"),
                                                ("input_shape", tuple(d.shape) if t.features.keeps_shape
                                                 else (Xfit.shape[1],)),
                                                ("target_accuracy", target_accuracy)) if k in params})
            if getattr(est, "accepts_validation", False) is True and not bare:  # torch: the carve for its curve
                est.fit(Xfit, yfit, X_val=Xval, y_val=yval)
            else:
                est.fit(Xfit, yfit)
            if bare:
                accuracy_score(d.y_test, est.predict(Xte))
            else:
                _scores(est, Xte, d.y_test, Xval, yval)
    return time.perf_counter() - t0


def cpu_s() -> float:
    """CPU seconds of this process, its threads and its reaped children (git, ...)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


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
                    help="thread pools for both sides (default: the harness's thread policy)")
    ap.add_argument("--dataset", action="append", default=[], help="only this dataset's trials (repeatable)")
    ap.add_argument("--plain", choices=("protocol", "bare"), default="protocol",
                    help="protocol: the plain side carves and scores as the harness does (default); "
                         "bare: fit on every training row, accuracy only")
    ns = ap.parse_args()
    cfg, plan = classical_plan(ns.suite, ns.threads, ns.dataset)
    trials = plan.trials
    bare = ns.plain == "bare"
    print(f"{len(trials)} classical/perceptron trials of suite {ns.suite}; plain side: {ns.plain}; "
          f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        target = cfg.suite.get("target_accuracy")
        # Warm imports (torch's among them), compiled code and the data cache for both sides:
        # each model and features once, so neither side's first round pays for them.
        warm = {(t.dataset.name, t.features.name, t.model.name): t for t in trials}
        plain(list(warm.values()), ns.threads, bare, target)
        times = {"plain": [], "harness": []}
        cpu = {"plain": [], "harness": []}
        for r in range(ns.rounds):
            order = ("plain", "harness") if r % 2 == 0 else ("harness", "plain")
            for side in order:
                c0 = cpu_s()
                s = plain(trials, ns.threads, bare, target) if side == "plain" else through_harness(cfg, plan, Path(tmp))
                times[side].append(s)
                cpu[side].append(cpu_s() - c0)
                print(f"round {r + 1}: {side:<8} {s:7.2f} s wall, {cpu[side][-1]:7.2f} s CPU", flush=True)
    for what, got in (("wall", times), ("CPU", cpu)):
        p, h = np.median(got["plain"]), np.median(got["harness"])
        print(f"{what}: median plain {p:.2f} s, harness {h:.2f} s: overhead {100 * (h - p) / p:+.1f}% "
              f"({(h - p) / len(trials) * 1e3:+.1f} ms per trial)")
    print(f"load average now: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
