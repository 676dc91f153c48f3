"""Aggregate records into the tables a report shows. Pure, vectorised functions of the records.

One summary row is one trial configuration: dataset × features × model × device × threads ×
machine × trial key (the key fixes every other parameter, so a suite that varies the
training-set size gets one row per size; ``threads`` is set only where a thread sweep ran one
key with several CPU thread counts, and empty otherwise). Statistics use ``ok`` trials only:
failed and timed-out trials are counted, never imputed; skipped trials are counted apart;
``ok`` trials with a NaN metric are counted as missing and left out of that metric.

Choosing (:func:`choose`: the best features of a model, the best of a family, ...) goes by mean
``val_accuracy``, a validation part carved from each trial's training split, never by test
accuracy; test accuracy is then read for the chosen configuration only.
"""

from __future__ import annotations

import pandas as pd

from harness.report.paired import split_column
from harness.report.stats import t_half_width
from harness.schema import METRICS

LABELS = ["dataset", "features", "model", "family", "device"]
GROUP = LABELS + ["threads", "machine", "key"]
FAILED = ("failed", "timeout")
#: Per-configuration medians of these columns, where the records have them (deep nets add some).
MEDIANS = ("fit_s", "predict_s", "cpu_s", "peak_rss_mb", "samples_per_s", "epoch_s", "time_to_target_s",
           "peak_gpu_mb", "achieved_tflops", "n_params", "n_train", "n_test", "n_classes", "mem_growth_mb",
           "features_s")
#: The score configurations are chosen by: accuracy on a validation part of the training split.
SELECT = "val_accuracy"
#: Records written before ``val_accuracy`` have none; where a group of candidates lacks it, the
#: choice falls back to a fixed rule that reads no test score: raw input first, then by name.
FALLBACK = ("raw_input", "model", "features", "variant", "key")


def is_gpu(device: pd.Series) -> pd.Series:
    return device.astype(str).str.lower().str.startswith(("cuda", "gpu", "mps", "xpu"))


def machine_label(env: dict) -> str:
    """A short, human name for where a run ran: host and its accelerator (or CPU)."""
    if not env:
        return "unknown machine"
    gpus = [g.get("name", "GPU") for g in env.get("gpus") or [] if isinstance(g, dict)]
    what = ", ".join(sorted(set(gpus))) if gpus else env.get("cpu_model") or "CPU"
    return f"{env.get('hostname', '?')} ({what})"


def prepare(df: pd.DataFrame, machines: dict[str, str] | None = None) -> pd.DataFrame:
    """Records with the report's helper columns: machine label, filled labels, key and threads."""
    df = df.copy()
    for col in LABELS + ["status", "suite"]:
        df[col] = df[col].astype(object).where(df[col].notna(), "unknown").astype(str)
    run_dir = df["run_dir"] if "run_dir" in df else pd.Series("", index=df.index)
    df["machine"] = run_dir.astype(str).map(machines or {}).astype(object).fillna("unknown machine")
    fallback = df["dataset"] + "|" + df["features"] + "|" + df["model"]
    df["key"] = df["key"].astype(object).where(df["key"].notna(), fallback).astype(str)
    raw = df["raw_input"] if "raw_input" in df else pd.Series(False, index=df.index)
    df["raw_input"] = raw.astype(object).where(raw.notna(), False).astype(bool)
    df["threads"] = _sweep_threads(df)
    df["split"] = split_column(df)
    df["config"] = config_id(df)
    return df


def config_id(df: pd.DataFrame) -> pd.Series:
    """One string per configuration (a summary row): its ``GROUP`` values joined."""
    parts = [df[c].astype(object).where(df[c].notna(), "").astype(str) for c in GROUP]
    out = parts[0]
    for p in parts[1:]:
        out = out.str.cat(p, sep="|")
    return out


def _sweep_threads(df: pd.DataFrame) -> pd.Series:
    """The CPU thread count where one key ran with several on one machine; empty elsewhere.

    The key leaves threads out (the same computation), so without this the rows of a thread
    sweep would be pooled into one timing; elsewhere seeds stay pooled whatever their threads.
    """
    threads = pd.to_numeric(df.get("threads", pd.Series(float("nan"), index=df.index)), errors="coerce")
    cpu = ~is_gpu(df["device"]) & threads.notna()
    if df.empty or not cpu.any():
        return pd.Series(pd.NA, index=df.index, dtype="Int64")
    varies = cpu & (threads.where(cpu).groupby([df["key"], df["machine"]]).transform("nunique") > 1)
    return threads.where(varies).round().astype("Int64")


def _variants(df: pd.DataFrame) -> pd.Series:
    """``key -> label`` of the parameters that vary between keys of one dataset/features/model."""
    params = [c for c in df.columns if c.startswith("p_") or c in ("n_train", "tuning")]
    keyed = df.drop_duplicates("key").set_index("key")
    labels = pd.Series("", index=keyed.index, dtype=object)
    if not params or keyed.empty:
        return labels
    dfm = ["dataset", "features", "model"]
    varying = keyed.groupby(dfm)[params].transform("nunique") > 1
    if "n_train" in params:  # a dataset parameter that varies with n_train says the same thing
        for c in params:
            if c.startswith("p_dataset_") and "n_" in c:
                varying[c] &= ~varying["n_train"]
    for c in params:
        if varying[c].any():
            part = (c.removeprefix("p_") + "=" + keyed[c].map(_short)).where(varying[c], "")
            labels = labels.str.cat(part, sep=", ").str.strip(", ")
    return labels


def _short(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def summarize(df: pd.DataFrame, machines: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per configuration with counts, mean/std/95% CI of every metric and medians."""
    if "machine" not in df:
        df = prepare(df, machines)
    if df.empty:
        return pd.DataFrame(columns=GROUP + ["raw_input", "variant", "n_trials", "n_ok", "accuracy_mean"])
    ok = df["status"].eq("ok")
    work = df[GROUP].copy()
    work["n_trials"] = 1
    work["n_ok"] = ok.astype(int)
    work["n_failed"] = df["status"].isin(FAILED).astype(int)
    work["n_skipped"] = df["status"].eq("skipped").astype(int)
    work["n_missing"] = (ok & df["accuracy"].isna()).astype(int)
    aggs = {c: (c, "sum") for c in ("n_trials", "n_ok", "n_failed", "n_skipped", "n_missing")}
    for m in METRICS:
        work[m] = pd.to_numeric(df[m], errors="coerce").where(ok)
        aggs.update({f"{m}_mean": (m, "mean"), f"{m}_std": (m, "std"), f"{m}_n": (m, "count")})
    work[SELECT] = pd.to_numeric(df[SELECT], errors="coerce").where(ok) if SELECT in df else float("nan")
    aggs.update({f"{SELECT}_mean": (SELECT, "mean"), f"{SELECT}_n": (SELECT, "count")})
    work["config"] = df["config"]
    aggs["config"] = ("config", "first")
    work["n_splits"] = df["split"].where(ok)
    aggs["n_splits"] = ("n_splits", "nunique")
    for c in MEDIANS:
        if c in df:
            work[c] = pd.to_numeric(df[c], errors="coerce").where(ok)
            aggs[f"{c}_median"] = (c, "median")
    work["raw_input"] = df["raw_input"]
    aggs["raw_input"] = ("raw_input", "any")
    out = work.groupby(GROUP, dropna=False, sort=False).agg(**aggs).reset_index()
    out.insert(LABELS.index("features") + 1, "raw_input", out.pop("raw_input"))
    for m in METRICS:
        out[f"{m}_ci"] = t_half_width(out[f"{m}_std"], out[f"{m}_n"])
    out.insert(out.columns.get_loc("key") + 1, "variant", out["key"].map(_variants(df)).fillna(""))
    out["fit_vs_fastest"] = out["fit_s_median"] / out.groupby("dataset")["fit_s_median"].transform("min")
    out["gpu_speedup"] = _gpu_speedup(out)
    return out.sort_values(["dataset", "accuracy_mean", "fit_s_median"], ascending=[True, False, True],
                           na_position="last", ignore_index=True)


def _gpu_speedup(out: pd.DataFrame) -> pd.Series:
    """CPU over GPU median fit time for the same key, on GPU rows.

    The CPU row of the same machine is used where there is one, else the fastest CPU row
    of that key on any machine (so a GPU box is compared with the best CPU seen).
    """
    gpu = is_gpu(out["device"])
    cpu = out[~gpu & out["fit_s_median"].notna()]
    same = cpu.groupby(["key", "machine"])["fit_s_median"].min()  # the fastest thread count
    best = cpu.groupby("key")["fit_s_median"].min()
    idx = pd.MultiIndex.from_frame(out[["key", "machine"]])
    cpu_fit = pd.Series(same.reindex(idx).to_numpy(), index=out.index)
    cpu_fit = cpu_fit.fillna(out["key"].map(best))
    return (cpu_fit / out["fit_s_median"]).where(gpu)


def choose(summary: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """The chosen configuration per group of ``by``, indexed by ``by``, with ``chosen_on``.

    Among the configurations with a result, the highest mean ``val_accuracy`` wins (ties: the
    faster fit, then ``FALLBACK`` order); ``chosen_on`` is ``validation``. Where some candidate
    of a group has no validation score (records from before it was recorded) the whole group
    falls back to ``FALLBACK`` order (raw input first, then by name), ``chosen_on`` ``fallback``.
    Test accuracy is never read here.
    """
    rows = summary[summary["accuracy_n"] > 0] if "accuracy_n" in summary else summary
    val_col = f"{SELECT}_mean"
    val = pd.to_numeric(rows[val_col], errors="coerce") if val_col in rows else pd.Series(float("nan"),
                                                                                          index=rows.index)
    if rows.empty:
        return rows.assign(chosen_on=pd.Series(dtype=object)).set_index(by, drop=False)
    groups = [rows[c].astype(object).where(rows[c].notna(), "") for c in by]
    full = val.notna().groupby(groups).transform("all")
    fit = pd.to_numeric(rows.get("fit_s_median", pd.Series(float("nan"), index=rows.index)), errors="coerce")
    order = pd.DataFrame({"_val": (-val).where(full, 0.0), "_fit": fit.where(full, 0.0).fillna(float("inf")),
                          "_raw": (~rows["raw_input"].astype(bool)).astype(int) if "raw_input" in rows else 0},
                         index=rows.index)
    for c in FALLBACK[1:]:
        order[f"_{c}"] = rows[c].astype(str) if c in rows else ""
    order = order.sort_values(list(order.columns), kind="stable")
    first = order.index[~rows.loc[order.index, by].duplicated().to_numpy()]  # the best of each group
    picked = rows.loc[first].assign(chosen_on=full.loc[first].map({True: "validation", False: "fallback"}))
    return picked.set_index(by, drop=False).sort_index()


def model_scores(summary: pd.DataFrame) -> pd.DataFrame:
    """datasets × models: the test accuracy of each model's configuration chosen on validation
    (``choose``) on each dataset (NaN where it did not run)."""
    rows = choose(summary, ["dataset", "model"])
    if rows.empty:
        return pd.DataFrame()
    return rows.reset_index(drop=True).pivot_table(index="dataset", columns="model", values="accuracy_mean",
                                                   aggfunc="first")


def speedups_by_model(summary: pd.DataFrame) -> pd.DataFrame:
    """Median, min and max GPU-over-CPU speedup per model over its trial keys."""
    rows = summary[summary["gpu_speedup"].notna()]
    if rows.empty:
        return pd.DataFrame(columns=["model", "median", "min", "max", "n_keys"])
    g = rows.groupby("model")["gpu_speedup"]
    return pd.DataFrame({"median": g.median(), "min": g.min(), "max": g.max(),
                         "n_keys": g.size()}).reset_index().sort_values("median", ascending=False)


def status_counts(df: pd.DataFrame) -> dict[str, int]:
    return {str(k): int(v) for k, v in df["status"].value_counts().items()}


def failures(df: pd.DataFrame) -> pd.DataFrame:
    """Failed, timed-out and skipped trials grouped by what went wrong, most frequent first."""
    bad = df[df["status"].isin(FAILED + ("skipped",))]
    if bad.empty:
        return pd.DataFrame(columns=["status", "dataset", "features", "model", "device", "error", "n",
                                     "seeds"])
    cols = ["status", "dataset", "features", "model", "device", "error"]
    bad = bad.assign(error=bad["error"].astype(str).str.strip().str.slice(0, 300))
    g = bad.groupby(cols, dropna=False, sort=False)
    out = g.size().rename("n").reset_index()
    out["seeds"] = g["seed"].agg(lambda s: ", ".join(map(_short, sorted(s.dropna().unique())[:8]))).to_numpy()
    return out.sort_values(["status", "n"], ascending=[True, False], ignore_index=True)

