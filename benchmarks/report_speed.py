"""How long does ``harness report`` take on 100,000 records? (target: at most 10 s, plots included)

    python benchmarks/report_speed.py [--records 100000] [--dir /tmp/report-speed] [--keep]

Writes a synthetic run dir (records, curves for deep trials, run.json) shaped like a real one:
datasets × features × models × devices × training-set sizes × seeds, with a few failed,
skipped and NaN rows, then times the real command (``python -m harness.cli report``) in a
subprocess, so start-up and imports are part of the figure.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

DATASETS = ["mnist1d", "digits", "moons", "circles", "spirals", "wine", "breast_cancer", "xor"]
FEATURES = ["raw", "stats", "fft", "pca"]
MODELS = {"logreg": "classical", "svm_rbf": "classical", "knn": "classical",
          "random_forest": "classical", "hist_gb": "classical", "linear_svm": "classical",
          "perceptron": "perceptron", "mlp": "deep", "cnn": "deep", "gru": "deep"}
N_TRAIN = [250, 500, 1000, 2000, 4000]


def _records(n: int, rng: np.random.Generator):
    """Yield ``n`` records and, for deep ones, their curves."""
    combos = [(d, f, m, dev, nt) for d in DATASETS for f in FEATURES for m in MODELS
              for dev in ("cpu", "cuda") for nt in N_TRAIN
              if not (dev == "cuda" and MODELS[m] == "classical")]
    seeds = -(-n // len(combos))
    i = 0
    for seed in range(seeds):
        for d, f, m, dev, nt in combos:
            if i >= n:
                return
            family = MODELS[m]
            key = f"{zlib.crc32(f'{d}/{f}/{m}/{nt}'.encode()):08x}"
            base = 0.5 + 0.4 * (zlib.crc32(f"{d}/{m}".encode()) % 100 / 100) + 0.05 * np.log10(nt / 250)
            acc = float(np.clip(base + rng.normal(0, 0.01), 0, 1))
            fit = float(10 ** rng.normal(-1 if family == "classical" else 0.5, 0.3))
            fit *= 0.1 if dev == "cuda" else 1
            status = "ok" if rng.random() > 0.01 else rng.choice(["failed", "timeout", "skipped"])
            rec = {"run_id": "bench", "suite": "bench", "key": key,
                   "trial_id": f"{key}-{dev}-s{seed}", "dataset": d, "features": f, "model": m,
                   "family": family, "device": dev, "seed": seed, "n_train": nt, "n_test": 500,
                   "n_features": 40, "n_classes": 10, "status": str(status),
                   "error": "" if status == "ok" else f"{status}: synthetic <error> & reason",
                   "accuracy": acc if status == "ok" and rng.random() > 0.005 else None,
                   "balanced_accuracy": acc - 0.01, "f1_macro": acc - 0.02, "log_loss": 1 - acc,
                   "features_s": 0.01, "fit_s": fit, "predict_s": fit / 50, "cpu_s": fit * 1.5,
                   "peak_rss_mb": 300.0, "threads": 2, "started_at": "2026-01-01T00:00:00+00:00",
                   "p_features_n": 8, "p_dataset_n_train": nt}
            curve = None
            if family == "deep":
                rec.update(n_params=12345, epochs=10, steps=400, samples_per_s=nt * 10 / fit,
                           warmup_s=0.5, peak_gpu_mb=100.0 if dev == "cuda" else None,
                           flops_per_sample=1e6, achieved_tflops=0.01, time_to_target_s=fit / 2)
                wall = np.linspace(fit / 20, fit, 20)
                curve = {"trial_id": rec["trial_id"],
                         "points": [{"wall_s": float(w), "step": 20 * k, "epoch": k // 2,
                                     "train_loss": float(2 / (k + 1)),
                                     "val_accuracy": float(acc * (1 - np.exp(-(k + 1) / 4)))}
                                    for k, w in enumerate(wall)]}
            i += 1
            yield rec, curve


def write_run(run_dir: Path, n: int, seed: int = 0) -> None:
    """A run dir with ``n`` synthetic records (one JSON Lines file, as one launcher job writes)."""
    rng = np.random.default_rng(seed)
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / "records-0.jsonl", "w") as rf, open(run_dir / "curves-0.jsonl", "w") as cf:
        for rec, curve in _records(n, rng):
            rf.write(json.dumps(rec) + "\n")
            if curve:
                cf.write(json.dumps(curve) + "\n")
    info = {"schema_version": 1, "run_id": run_dir.name, "suite": "bench", "n_trials": n,
            "config": {"suite": {"name": "bench", "question": "Does the report scale to 100,000 records?",
                                 "hypothesis": "It takes at most 10 s."}},
            "environment": {"hostname": "bench", "cpu_model": "synthetic CPU", "usable_cores": 2,
                            "gpus": [{"name": "synthetic GPU"}], "python": sys.version.split()[0],
                            "packages": {}}}
    (run_dir / "run.json").write_text(json.dumps(info, indent=2))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--dir", help="where to write the run dir (default: a temporary dir)")
    ap.add_argument("--keep", action="store_true", help="keep the run dir and report")
    ns = ap.parse_args()
    root = Path(ns.dir or tempfile.mkdtemp(prefix="report-speed-"))
    run_dir = root / "bench" / "run"
    shutil.rmtree(run_dir, ignore_errors=True)
    t0 = time.perf_counter()
    write_run(run_dir, ns.records)
    print(f"wrote {ns.records:,} records to {run_dir} in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "report", str(run_dir)],
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    print(proc.stdout.strip() or proc.stderr.strip())
    print(f"harness report on {ns.records:,} records: {elapsed:.1f} s (target <= 10 s)")
    if not ns.keep and not ns.dir:
        shutil.rmtree(root, ignore_errors=True)
    return proc.returncode or (0 if elapsed <= 10 else 1)


if __name__ == "__main__":
    sys.exit(main())
