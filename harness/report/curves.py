"""Training curves for the report, read through ``harness.store``.

The plot shows a few seeds per configuration: ``wanted`` picks those trials and ``load``
keeps only their points from ``store.load_curves`` (which skips torn or corrupt lines with
a warning).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from harness import store

SEEDS_PER_CONFIG = 3


def wanted(df: pd.DataFrame, per_config: int = SEEDS_PER_CONFIG) -> pd.DataFrame:
    """The ok trials whose curves the plot draws: the first seeds of each configuration."""
    ok = df[df["status"].eq("ok")]
    if ok.empty or "run_dir" not in ok:
        return ok.iloc[0:0]
    ok = ok.sort_values("seed", kind="stable")
    config = [c for c in ("machine", "dataset", "features", "model", "device", "threads", "key") if c in ok]
    return ok.groupby(config, sort=False, dropna=False).head(per_config)


def load(run_dirs, meta: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``trial_id -> (wall_s, val_accuracy)`` for the trials in ``meta`` (by run dir)."""
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for run_dir in run_dirs:
        ids = set(meta.loc[meta["run_dir"] == str(run_dir), "trial_id"].astype(str))
        if not ids or not any(Path(run_dir).glob("curves-*.jsonl")):
            continue
        points = store.load_curves(run_dir, trial_ids=ids)
        if points.empty or not {"wall_s", "val_accuracy"} <= set(points.columns):
            continue
        points = points[points["trial_id"].astype(str).isin(ids)]
        xy = points[["wall_s", "val_accuracy"]].apply(pd.to_numeric, errors="coerce")
        points = points[np.isfinite(xy).all(axis=1)].assign(wall_s=xy["wall_s"], val_accuracy=xy["val_accuracy"])
        for trial_id, g in points.groupby(points["trial_id"].astype(str), sort=False):
            out[trial_id] = (g["wall_s"].to_numpy(dtype=float), g["val_accuracy"].to_numpy(dtype=float))
    return out
