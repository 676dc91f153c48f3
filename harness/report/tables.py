"""Aggregate records into the tables a report shows. Pure functions of the records."""

from __future__ import annotations

import pandas as pd

from harness.report.stats import mean_ci

GROUP = ["dataset", "features", "model", "family", "device"]


def summarize(df: pd.DataFrame, metric: str = "accuracy") -> pd.DataFrame:
    """One row per dataset × features × model × device.

    Statistics use ``ok`` trials only; failed and timed-out trials are counted, never
    imputed, and skipped trials are counted apart.
    """
    rows = []
    for keys, g in df.groupby(GROUP, dropna=False, sort=True):
        ok = g[g["status"] == "ok"]
        mean, half, n = mean_ci(ok[metric])
        rows.append({
            **dict(zip(GROUP, keys)),
            f"{metric}_mean": mean, f"{metric}_ci": half, "n_ok": n,
            "fit_s_median": ok["fit_s"].median(), "predict_s_median": ok["predict_s"].median(),
            "n_trials": len(g), "n_failed": int(g["status"].isin(["failed", "timeout"]).sum()),
            "n_skipped": int((g["status"] == "skipped").sum()),
        })
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    return out.sort_values(["dataset", f"{metric}_mean"], ascending=[True, False], na_position="last")


def status_counts(df: pd.DataFrame) -> dict[str, int]:
    return {k: int(v) for k, v in df["status"].value_counts().items()}
