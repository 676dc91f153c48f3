"""Which machine a run ran on, and how fast it was at the time: for comparing times.

The **fingerprint** names the hardware a time was measured on: CPU model, core counts,
memory, architecture, GPUs. Times are only comparable between runs with the same
fingerprint; the hostname is left out on purpose, so two CI runners of the same type match.

The **calibration** is a short, fixed workload timed at the start of a run (a few hundred
milliseconds at most): a float64 matrix product and a small scikit-learn fit, each on one
thread. ``harness compare --cross-machine`` divides times by it to compare runs of different
machines, and ``harness compare`` shows it so a reader sees when a machine was busier.
Each piece is repeated and summarised by its median (what the machine delivered then) and
its minimum (what the hardware can do).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import time
import warnings

#: Bump when the calibration workload changes: calibrations of different versions don't compare.
CALIBRATION_VERSION = 1


def fingerprint() -> dict:
    """The hardware identity of this machine, and a short hash of it (``id``)."""
    from harness.environment import cpu_model, gpu_info, memory_gb
    from harness.measure import usable_cores

    parts = {
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "usable_cores": usable_cores(),
        "memory_gb": round(memory_gb() or 0),
        "machine": platform.machine(),
        "system": platform.system(),
        "gpus": sorted(g["name"] for g in gpu_info()),
    }
    blob = json.dumps(parts, sort_keys=True)
    return {"id": hashlib.sha1(blob.encode()).hexdigest()[:12], **parts}


def _timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def calibrate(repeats: int = 5) -> dict:
    """Time the fixed workloads; seconds (median and min over ``repeats``) and their total."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    a = rng.standard_normal((256, 256))
    b = rng.standard_normal((256, 256))
    X = rng.standard_normal((1500, 30))
    y = np.digitize(X[:, :5].sum(axis=1) + rng.standard_normal(1500), [-2.0, 0.0, 2.0])

    def matmul():  # about 15 ms on one core of a 2020s server
        for _ in range(24):
            a @ b

    def fit():  # about 15 ms: lbfgs on 1,500 x 30, 4 classes, to a fixed iteration cap
        LogisticRegression(max_iter=50, tol=1e-12).fit(X, y)

    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fit stops at its iteration cap on purpose
        matmul(), fit()  # warm-up: first calls pay for imports and page faults
        mm = _timed(matmul, repeats)
        sk = _timed(fit, repeats)
    med = lambda xs: float(np.median(xs))  # noqa: E731
    out = {"version": CALIBRATION_VERSION, "repeats": repeats,
           "matmul_s": med(mm), "matmul_min_s": min(mm), "sklearn_fit_s": med(sk),
           "sklearn_fit_min_s": min(sk)}
    # One figure for "how fast was this machine": geometric mean of the two medians.
    out["score_s"] = float(np.sqrt(out["matmul_s"] * out["sklearn_fit_s"]))
    return out


def capture(calibration: bool = True) -> dict:
    """What ``harness run`` stores in run.json: ``{"fingerprint": ..., "calibration": ...}``."""
    out = {"fingerprint": fingerprint()}
    if calibration:
        try:
            out["calibration"] = calibrate()
        except Exception as exc:  # noqa: BLE001 - a run never fails for want of a calibration
            out["calibration"] = {"error": f"{type(exc).__name__}: {exc}"}
    return out
