"""The two sides of a comparison: records, predictions and machines, matched into groups.

A side is one or more run dirs (globs too, or a parent such as a baseline dir written by
``harness baseline save``), read through :mod:`harness.store`: each trial of a run counts
once, as it finally ended (a trial that failed and then succeeded on resume is ok).
Records pair up across sides by **group**: the trial's ``key`` (what it computes), the
device and the thread count. Within a group, seeds and repeated runs are the samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.errors import UserError

GROUP = ("key", "device", "threads")
NUMERIC = ("accuracy", "balanced_accuracy", "f1_macro", "log_loss", "features_s", "fit_s",
           "predict_s", "cpu_s", "peak_rss_mb", "samples_per_s", "seed", "threads")


@dataclass
class Side:
    """One side of a comparison."""

    name: str                      # what the user passed, for the report
    records: "pandas.DataFrame"    # noqa: F821 - one row per record; `round` 0 = original runs
    predictions: dict = field(default_factory=dict)   # trial_id -> (y_true, y_pred)
    runs: dict = field(default_factory=dict)          # run_id -> run.json
    files: list[Path] = field(default_factory=list)   # the run dirs

    @property
    def fingerprints(self) -> set:
        """Fingerprint ids of the machines this side ran on (None where a run has none)."""
        return {(info.get("fingerprint") or {}).get("id") for info in self.runs.values()} or {None}

    def calibration(self, run_id: str) -> float:
        """The calibration score (seconds) of a run, NaN when it has none."""
        cal = (self.runs.get(run_id) or {}).get("calibration") or {}
        value = cal.get("score_s")
        return float(value) if isinstance(value, (int, float)) else math.nan

    def first_run(self) -> dict:
        return next(iter(self.runs.values()), {})


def frame(rows) -> "pandas.DataFrame":  # noqa: F821
    """Records (a DataFrame or dicts) with the columns compare needs, typed.

    ``threads`` is a column of every record; records written before it was filled for
    failed and skipped trials get -1 (unknown), which :func:`adopt_threads` resolves.
    """
    import pandas as pd

    df = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame.from_records(rows)
    for col in ("run_id", "key", "trial_id", "dataset", "features", "model", "device", "status", "error"):
        if col not in df.columns:
            df[col] = None
    for col in NUMERIC:
        df[col] = pd.to_numeric(df[col], errors="coerce") if col in df.columns else np.nan
    if "round" not in df.columns:
        df["round"] = 0
    df["error"] = df["error"].fillna("")
    df["threads"] = df["threads"].fillna(-1).astype(int)  # -1: unknown
    return df.reset_index(drop=True)


def adopt_threads(a: "pandas.DataFrame", b: "pandas.DataFrame") -> None:  # noqa: F821
    """Give rows of unknown thread count (-1) the count the other side has for that key and device."""
    for this, other in ((a, b), (b, a)):
        unknown = this["threads"] < 0
        if not unknown.any():
            continue
        known = other[other["threads"] >= 0].groupby(["key", "device"])["threads"].agg(
            lambda s: s.iloc[0] if s.nunique() == 1 else -1)
        for idx in this.index[unknown]:
            this.at[idx, "threads"] = int(known.get((this.at[idx, "key"], this.at[idx, "device"]), -1))


def load_side(spec: str | Path | list, name: str | None = None) -> Side:
    """A side from run dirs, globs of them, or their parents (a baseline dir)."""
    from harness import store
    from harness.compare.baseline import is_old_format, old_format_error

    specs = [spec] if isinstance(spec, (str, Path)) else list(spec)
    if not specs:
        raise UserError("nothing to compare: pass run dirs, globs of run dirs, or a baseline dir")
    name = name or " ".join(map(str, specs))
    for s in specs:
        if is_old_format(s):
            raise old_format_error(s)
    dirs = store.run_dirs(specs)
    records = store.load(dirs)  # each trial of a run once, as it finally ended
    if records.empty:
        raise UserError(f"{name}: no records in {', '.join(map(str, dirs))}")
    runs = {}
    for d in dirs:
        info = store.read_run_info(d)
        runs[info.get("run_id", d.name)] = info
    return Side(name=name, records=frame(records), predictions=store.load_predictions(dirs), runs=runs,
                files=dirs)


def add_records(side: Side, records, runs: dict, predictions: dict, round_: int) -> None:
    """Append re-run records (``--confirm``; a DataFrame or dicts) to a side, tagged with their round."""
    import pandas as pd

    extra = frame(records)
    extra["round"] = round_
    side.records = pd.concat([side.records, extra], ignore_index=True)
    side.runs.update(runs)
    for trial_id, pair in predictions.items():
        side.predictions.setdefault(trial_id, pair)


def group_label(rows) -> str:
    first = rows.iloc[0]
    return f"{first['dataset']}/{first['features']}/{first['model']}"


def where(device, threads) -> str:
    return f"{device}" + (f"x{threads}" if threads is not None and threads >= 0 else "")
