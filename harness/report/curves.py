"""Training curves for the report, read selectively.

A suite of deep nets can leave hundreds of thousands of curve points; the plot shows a few
seeds per configuration, so only those lines are parsed (the trial id leads every line, as
``store.RunWriter.curve`` writes it). Torn or corrupt lines are skipped with a warning, as
``store.read_jsonl`` does.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

SEEDS_PER_CONFIG = 3
_TRIAL_ID = re.compile(rb'^\s*\{\s*"trial_id"\s*:\s*"((?:[^"\\]|\\.)*)"')


def wanted(df: pd.DataFrame, per_config: int = SEEDS_PER_CONFIG) -> pd.DataFrame:
    """The ok trials whose curves the plot draws: the first seeds of each configuration."""
    ok = df[df["status"].eq("ok")]
    if ok.empty or "run_dir" not in ok:
        return ok.iloc[0:0]
    ok = ok.sort_values("seed", kind="stable")
    return ok.groupby(["machine", "dataset", "features", "model", "device", "key"], sort=False).head(per_config)


def load(run_dirs, meta: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``trial_id -> (wall_s, val_accuracy)`` for the trials in ``meta`` (by run dir)."""
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for run_dir in run_dirs:
        ids = set(meta.loc[meta["run_dir"] == str(run_dir), "trial_id"].astype(str))
        if not ids:
            continue
        for path in sorted(Path(run_dir).glob("curves-*.jsonl")):
            with open(path, "rb") as fh:
                for number, raw in enumerate(fh, 1):
                    m = _TRIAL_ID.match(raw)
                    if m and m.group(1).decode("utf-8", "replace") not in ids:
                        continue
                    obj = _parse(raw, path, number)
                    if obj and str(obj.get("trial_id")) in ids:
                        out[str(obj["trial_id"])] = _points(obj.get("points") or [])
    return out


def _parse(raw: bytes, path: Path, number: int) -> dict | None:
    if not raw.strip():
        return None
    try:
        obj = json.loads(raw)
        return obj if isinstance(obj, dict) else None
    except (ValueError, UnicodeDecodeError) as exc:
        warnings.warn(f"{path}:{number}: skipped a corrupt line ({exc.__class__.__name__})", stacklevel=3)
        return None


def _points(points: list) -> tuple[np.ndarray, np.ndarray]:
    xy = np.array([(p.get("wall_s"), p.get("val_accuracy")) for p in points if isinstance(p, dict)],
                  dtype=float).reshape(-1, 2)
    xy = xy[np.isfinite(xy).all(axis=1)]
    return xy[:, 0], xy[:, 1]
