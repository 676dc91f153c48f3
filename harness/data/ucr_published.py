"""Published accuracies on the UCR problems harness bundles, and ours beside them.

``ucr_published.csv`` (next to this module) holds, per problem and method, the mean accuracy
(in %) on the archive's train/test split as its source reports it, the spread where the source
gives one, and the exact source (paper, repository file and commit). Only figures found in
those sources are there; a method without a row for a problem has no published figure we could
cite. Results are data: this module reads numbers, it never runs anything.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

PUBLISHED = Path(__file__).with_name("ucr_published.csv")

#: Which published method each of our pipelines reproduces, by (features, model). logreg on the
#: kernels is ROCKET with another classifier (the paper's own is the ridge).
METHODS = {
    ("rocket", "rocket_ridge"): "ROCKET", ("rocket", "logreg"): "ROCKET",
    ("series", "dtw_1nn"): "1-NN DTW",
    ("series", "fcn"): "FCN", ("series", "fcn_paper"): "FCN",
    ("series", "resnet"): "ResNet", ("series", "resnet_paper"): "ResNet",
}
#: A published mean counts as reproduced when ours is within this many points of it ...
REPRODUCED_POINTS = 2.0
#: ... or within this many of the source's standard deviations over its runs (the published
#: spread: where one run of the published method would fall 95% of the time).
SPREAD_SDS = 2.0
#: The published recipes (Ismail Fawaz et al. 2019), as in suites/model/{fcn,resnet}_paper.yaml.
PAPER_EPOCHS = {"FCN": 2000, "ResNet": 1500}
#: ROCKET's kernels in the paper (Dempster et al. 2020).
PAPER_KERNELS = 10_000

COLUMNS = ["dataset", "problem", "features", "model", "setting", "method", "archive", "archive_n", "ours", "ours_ci",
           "splits", "published", "published_std", "runs", "delta", "basis", "reproduced", "reason", "source"]


def published() -> pd.DataFrame:
    """The published figures: one row per (dataset, method), accuracy and std in %."""
    return pd.read_csv(PUBLISHED)


def problems(records: pd.DataFrame) -> pd.Series:
    """Each record's UCR problem (the loader's ``problem``, else the bundled config's), or None."""
    pub = published()
    by_name = dict(zip(pub["dataset"], pub["problem"]))
    named = records["dataset"].astype(str).map(by_name)
    if "p_dataset_problem" in records:
        given = records["p_dataset_problem"]
        return given.where(given.notna(), named).astype(object)
    return named.astype(object)


def beside(records: pd.DataFrame) -> pd.DataFrame:
    """Ours beside the published figure of the same method, one row per (dataset, features, model).

    ``archive``: our mean accuracy (%) on split 0, the archive's own train/test split where the
    figures were published (over its ok trials' seeds; ``archive_n`` of them); ``ours`` and
    ``ours_ci``: the mean over the splits that ran (each split averaged over its seeds) and its
    95% Student-t half-width (NaN for one split); ``delta``: ours minus published, in points, on
    the archive split where it ran, else on the mean over resamples (``basis`` says which).
    ``reproduced``: ``|delta|`` within :data:`REPRODUCED_POINTS`, or within
    :data:`SPREAD_SDS` of the source's standard deviations where it gives one. ``reason``: what
    we know sets our setting apart from the published one, where a figure is not reproduced.
    """
    from harness.report.stats import mean_ci

    ok = records[records["status"] == "ok"]
    ok = ok.assign(problem=problems(ok),
                   method=[METHODS.get((str(f), str(m))) for f, m in zip(ok["features"], ok["model"])])
    ok = ok[ok["method"].notna() & ok["problem"].notna() & ok["accuracy"].notna()]
    pub = published()[["problem", "method", "accuracy", "std", "runs", "source"]].rename(
        columns={"accuracy": "published", "std": "published_std"})
    ok = ok.merge(pub[["problem", "method"]], on=["problem", "method"], how="inner")
    if ok.empty:
        return pd.DataFrame(columns=COLUMNS)
    rows = []
    config = ["dataset", "problem", "features", "model", "method"]
    # one row per configuration: the same pipeline with other parameters (150 or 2,000 epochs) is another
    ok = ok.assign(key=ok["key"].astype(str) if "key" in ok else "")
    for (dataset, problem, features, model, method, _), g in ok.groupby([*config, "key"], sort=True):
        per_split = 100 * g.groupby("split")["accuracy"].mean()
        archive = g[g["split"] == 0]
        mean, half, n = mean_ci(per_split.to_numpy())
        rows.append({"dataset": dataset, "problem": problem, "features": features, "model": model,
                     "setting": _setting(g, method), "method": method, "archive": 100 * archive["accuracy"].mean() if len(archive) else math.nan,
                     "archive_n": len(archive), "ours": mean, "ours_ci": half, "splits": n,
                     "reason": "; ".join(_differences(g, method, model, has_archive=bool(len(archive))))})
    out = pd.DataFrame(rows).merge(pub, on=["problem", "method"], how="left")
    has_archive = out["archive_n"] > 0
    out["basis"] = np.where(has_archive, "archive split", "resamples")
    out["delta"] = np.where(has_archive, out["archive"], out["ours"]) - out["published"]
    spread = SPREAD_SDS * out["published_std"].fillna(0.0)
    out["reproduced"] = (out["delta"].abs() <= np.maximum(REPRODUCED_POINTS, spread)).astype(bool)
    out.loc[out["reproduced"], "reason"] = ""
    return out[COLUMNS].sort_values(["dataset", "method", "model", "setting"]).reset_index(drop=True)


def _first(g: pd.DataFrame, col: str) -> float:
    """The first finite value of a numeric parameter column, else NaN."""
    if col not in g:
        return math.nan
    values = pd.to_numeric(g[col], errors="coerce").dropna()
    return float(values.iloc[0]) if len(values) else math.nan


def _setting(g: pd.DataFrame, method: str) -> str:
    """What the published recipe varies, as our trials ran it: epochs, kernels, warping window."""
    if method in PAPER_EPOCHS and math.isfinite(epochs := _first(g, "p_epochs")):
        return f"{epochs:,.0f} epochs"
    if method == "ROCKET" and math.isfinite(kernels := _first(g, "p_features_n_kernels")):
        return f"{kernels:,.0f} kernels"
    if method == "1-NN DTW":
        window = _first(g, "p_window")
        return "full window" if not math.isfinite(window) or window >= 1 else f"{100 * window:.0f}% window"
    return ""


def _differences(g: pd.DataFrame, method: str, model: str, has_archive: bool) -> list[str]:
    """How our setting differs from the published one, as far as the records say."""
    out = [] if has_archive else ["only resamples ran; the published figure is on the archive split"]
    epochs = _first(g, "p_epochs")
    if method in PAPER_EPOCHS and math.isfinite(epochs) and epochs < PAPER_EPOCHS[method]:
        out.append(f"{epochs:,.0f} epochs against the published recipe's {PAPER_EPOCHS[method]:,}")
    kernels = _first(g, "p_features_n_kernels")
    if method == "ROCKET" and math.isfinite(kernels) and kernels < PAPER_KERNELS:
        out.append(f"{kernels:,.0f} kernels against the paper's {PAPER_KERNELS:,}")
    if method == "ROCKET" and model != "rocket_ridge":
        out.append(f"{model} on the kernels, where the paper fits a ridge")
    window = _first(g, "p_window")
    if method == "1-NN DTW" and math.isfinite(window) and window < 1:
        out.append(f"a {100 * window:.0f}% warping window, where the archive's figure warps fully")
    return out
