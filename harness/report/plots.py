"""The plots a reader would rather look at than read. Every function returns a Figure or None.

Axes carry units; times are on log scales because they span orders of magnitude; each
accuracy point carries its 95% interval over seeds where there is one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.report.style import FAMILY_ORDER, Palette, legend_below, log_axis, new_figure
from harness.report.tables import choose, is_gpu

ACC = "test accuracy (%)"
MAX_PANELS = 24
#: The summary figure stays narrow enough to read on a phone (scaled to ~400 px, its text stays ~8 px).
SUMMARY_WIDTH_IN = 5.0
#: Its row labels (dataset: model) are what a reader looks for: a point larger than other ticks.
SUMMARY_LABEL_PT = 9
#: How a published accuracy is marked: a dark bar across the row.
PUBLISHED = {"marker": "|", "markersize": 12, "markeredgewidth": 2, "color": "0.15"}


def _ok(summary: pd.DataFrame) -> pd.DataFrame:
    return summary[summary["accuracy_mean"].notna() & (summary["fit_s_median"] > 0)]


def acc_err(rows: pd.DataFrame) -> np.ndarray:
    """Asymmetric error bars in points, the upper one clipped at 100%."""
    mean, half = 100 * rows["accuracy_mean"].to_numpy(), 100 * rows["accuracy_ci"].fillna(0).to_numpy()
    return np.vstack([np.minimum(half, mean), np.minimum(half, 100 - mean)])


def pareto_front(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices of the points no other point beats on both lower ``x`` and higher ``y``, by ``x``."""
    order = np.lexsort((-y, x))
    front, best = [], -np.inf
    for i in order:
        if y[i] > best:
            front.append(i)
            best = y[i]
    return np.array(front, dtype=int)


def accuracy_vs_fit_time(summary: pd.DataFrame, palette: Palette):
    rows = _ok(summary)
    datasets = sorted(rows["dataset"].unique())[:MAX_PANELS]
    if not datasets:
        return None
    fig, axes = new_figure(len(datasets))
    for ax, dataset in zip(axes, datasets):
        g = rows[rows["dataset"] == dataset]
        for model, m in g.groupby("model", sort=False):
            colour, marker = palette(model)
            ax.errorbar(m["fit_s_median"], 100 * m["accuracy_mean"], yerr=acc_err(m),
                        fmt=marker, color=colour, markersize=5, elinewidth=0.8, alpha=0.85, linestyle="none")
        x, y = g["fit_s_median"].to_numpy(), 100 * g["accuracy_mean"].to_numpy()
        front = pareto_front(x, y)
        fx, fy = x[front], y[front]
        ax.step(np.r_[fx, fx[-1] * 3], np.r_[fy, fy[-1]], where="post", color="0.3", linewidth=1,
                linestyle="--", zorder=0, label="Pareto front")
        if len(front) <= 6:
            for i in front:
                ax.annotate(f"{g['model'].iloc[i]}/{g['features'].iloc[i]}", (x[i], y[i]), fontsize=7,
                            xytext=(3, -9), textcoords="offset points", color="0.25")
        ax.set(xscale="log", title=dataset, xlabel="fit time (s, log scale)", ylabel=ACC)
        log_axis(ax)
    legend_below(fig, palette, rows["model"].unique())
    fig.suptitle("Accuracy against fit time; dashed: Pareto front (nothing both faster and more accurate)")
    return fig


def accuracy_vs_train_size(summary: pd.DataFrame, palette: Palette):
    """One line per model (its features and device chosen on validation at each size), where sizes vary."""
    rows = _ok(summary).dropna(subset=["n_train_median"]) if "n_train_median" in summary else pd.DataFrame()
    if rows.empty:
        return None
    varies = rows.groupby("dataset")["n_train_median"].nunique() > 1
    datasets = sorted(varies[varies].index)[:MAX_PANELS]
    if not datasets:
        return None
    fig, axes = new_figure(len(datasets))
    for ax, dataset in zip(axes, datasets):
        best = choose(rows[rows["dataset"] == dataset], ["model", "n_train_median"]).reset_index(drop=True)
        best = best.sort_values("n_train_median")
        for model, m in best.groupby("model", sort=False):
            colour, marker = palette(model)
            ax.errorbar(m["n_train_median"], 100 * m["accuracy_mean"], yerr=acc_err(m),
                        color=colour, marker=marker, markersize=4, linewidth=1.2, elinewidth=0.8)
        ax.set(xscale="log", title=dataset, xlabel="training-set size (samples, log scale)", ylabel=ACC)
        _size_ticks(ax, sorted(best["n_train_median"].unique()))
    legend_below(fig, palette, rows["model"].unique())
    fig.suptitle("Accuracy against training-set size (each model on its features and device chosen on validation)")
    return fig


def _size_ticks(ax, sizes: list[float]) -> None:
    """Label the sizes a suite used (plain numbers), not log-axis minor ticks that collide."""
    from matplotlib.ticker import NullLocator

    if len(sizes) > 8:
        sizes = sizes[:: -(-len(sizes) // 8)]
    ax.set_xticks(sizes, [f"{n:,.0f}" for n in sizes])
    ax.xaxis.set_minor_locator(NullLocator())


def curves_vs_wall_time(curves: dict, meta: pd.DataFrame, palette: Palette):
    """Validation accuracy against wall time, one thin line per trial, coloured by model."""
    from matplotlib.collections import LineCollection

    if not curves or meta.empty:
        return None
    meta = meta[meta["trial_id"].isin(curves.keys())]
    datasets = sorted(meta["dataset"].unique())[:MAX_PANELS]
    if not datasets:
        return None
    fig, axes = new_figure(len(datasets))
    for ax, dataset in zip(axes, datasets):
        for model, m in meta[meta["dataset"] == dataset].groupby("model", sort=False):
            lines = [np.column_stack(curves[t]) for t in m["trial_id"] if len(curves[t][0])]
            if not lines:
                continue
            lines = [np.column_stack([ln[:, 0], 100 * ln[:, 1]]) for ln in lines]
            ax.add_collection(LineCollection(lines, colors=palette(model)[0], linewidths=1, alpha=0.7))
            ends = np.array([ln[-1] for ln in lines])
            ax.scatter(ends[:, 0], ends[:, 1], color=palette(model)[0], marker=palette(model)[1], s=14, zorder=3)
        ax.autoscale()
        ax.set(title=dataset, xlabel="wall time since training start (s)", ylabel="validation accuracy (%)")
    legend_below(fig, palette, meta["model"].unique())
    fig.suptitle("Validation accuracy against wall time (one line per trial; marker: last evaluation)")
    return fig


def cpu_vs_gpu(summary: pd.DataFrame, palette: Palette):
    """Each GPU configuration against the CPU configuration of the same trial key."""
    rows = summary[summary["gpu_speedup"].notna() & (summary["fit_s_median"] > 0)]
    if rows.empty:
        return None
    fig, (ax,) = new_figure(1, width=5.5, height=4.5)
    cpu_fit = rows["gpu_speedup"] * rows["fit_s_median"]
    for model, idx in rows.groupby("model", sort=False).groups.items():
        colour, marker = palette(model)
        ax.scatter(cpu_fit[idx], rows.loc[idx, "fit_s_median"], color=colour, marker=marker, s=22, alpha=0.8)
    lo = float(min(cpu_fit.min(), rows["fit_s_median"].min())) / 2
    hi = float(max(cpu_fit.max(), rows["fit_s_median"].max())) * 2
    for k, style in ((1, "-"), (10, ":")):
        ax.plot([lo, hi], [lo / k, hi / k], color="0.4", linestyle=style, linewidth=0.8,
                label="same time" if k == 1 else "GPU 10× faster")
    ax.set(xscale="log", yscale="log", xlim=(lo, hi), ylim=(lo / 10, hi),
           xlabel="CPU fit time (s, log scale)", ylabel="GPU fit time (s, log scale)",
           title="Fit time: GPU against CPU, same trial key (below the line: GPU faster)")
    log_axis(ax, "x")
    log_axis(ax, "y")
    ax.legend(loc="upper left", frameon=False)
    legend_below(fig, palette, rows["model"].unique())
    return fig


#: How a throughput figure tells where a configuration ran: one marker fill per place.
WHERE_STYLE = {"1 CPU thread": {"markerfacecolor": "white"}, "CPU, more threads": {}, "CPU": {}, "GPU": {}}
BATCH = r"(?:^|, )batch_size=(\d+)"


def is_throughput_sweep(summary: pd.DataFrame) -> bool:
    """Whether rows answer a speed question: throughput recorded, and within a model on one dataset
    both its size and how it ran (place or batch size) vary. Sizes alone are an architecture
    question (the perceptron suite's one to three hidden layers), whose summary is accuracy."""
    if "samples_per_s_median" not in summary or "n_params_median" not in summary:
        return False
    rows = summary[summary["samples_per_s_median"].notna() & summary["n_params_median"].notna()]
    if len(rows) < 3:
        return False
    how = _where(rows) + "|" + _batch(rows)
    by = rows.assign(how=how).groupby(["dataset", "model"])
    return bool(((by["n_params_median"].nunique() > 1) & (by["how"].nunique() > 1)).any())


def _batch(rows: pd.DataFrame) -> pd.Series:
    """The batch size where it varies between a model's configurations (its variant says so), else ""."""
    return rows["variant"].astype(str).str.extract(BATCH, expand=False).fillna("")


def _where(rows: pd.DataFrame) -> pd.Series:
    """Where each row ran; the threads column is set only where a thread sweep ran (else "CPU")."""
    threads = pd.to_numeric(rows.get("threads", pd.Series(np.nan, index=rows.index)), errors="coerce")
    threads = threads.astype("float64").to_numpy()
    cpu = np.where(threads == 1, "1 CPU thread", np.where(threads > 1, "CPU, more threads", "CPU"))
    return pd.Series(np.where(is_gpu(rows["device"]), "GPU", cpu), index=rows.index)


def throughput(summary: pd.DataFrame, suite: str, palette: Palette):
    """Samples per second and achieved GFLOP/s against model size: one line per model, place
    (1 CPU thread, more threads, GPU) and batch size, so each of the sweep's axes shows."""
    rows = summary[summary["samples_per_s_median"].notna() & summary["n_params_median"].notna()].copy()
    if rows.empty:
        return None
    rows["where"] = _where(rows)
    rows["batch"] = _batch(rows)
    fig, (sps, flops) = new_figure(2, width=3.3, height=3.0)
    batches = sorted(b for b in rows["batch"].unique() if b)
    dashes = {b: ("-", "--", ":", "-.")[i % 4] for i, b in enumerate(batches)}
    for (model, where, batch), g in rows.groupby(["model", "where", "batch"], sort=True):
        g = g.sort_values("n_params_median")
        colour, marker = palette(model)
        style = dict(color=colour, marker=marker, markersize=5, linewidth=1.1, linestyle=dashes.get(batch, "-"),
                     markeredgecolor=colour, **WHERE_STYLE[where])
        sps.plot(g["n_params_median"], g["samples_per_s_median"], **style)
        if "achieved_tflops_median" in g and g["achieved_tflops_median"].notna().any():
            flops.plot(g["n_params_median"], 1000 * g["achieved_tflops_median"], **style)
    sps.set(xscale="log", yscale="log", xlabel="parameters (log scale)", ylabel="samples/s (log scale)",
            title="Training throughput")
    flops.set(xscale="log", yscale="log", xlabel="parameters (log scale)", ylabel="GFLOP/s (log scale)",
              title="Achieved compute")
    for ax in (sps, flops):
        log_axis(ax, "x", count=True)
        log_axis(ax, "y", count=True)
    extra = [({"marker": "o", "color": "0.3", **WHERE_STYLE[w]}, w) for w in WHERE_STYLE if w in set(rows["where"])]
    extra += [({"marker": "", "color": "0.3", "linestyle": dashes[b]}, f"batch {b}") for b in batches]
    legend_below(fig, palette, rows["model"].unique(), extra)
    fig.suptitle(f"Suite {suite}: throughput against model size, by place and batch size")
    return fig


def how_chosen(summary: pd.DataFrame) -> str:
    """How :func:`suite_summary` picked each family's model: on validation, or by name where the
    runs scored no validation split (a suite with ``val_fraction: 0``)."""
    on = set(choose(_ok(summary), ["dataset", "family"])["chosen_on"])
    if on <= {"validation"}:
        return "the model each family chose on validation"
    if "validation" not in on:
        return "each family's model, by name (no validation split)"
    return "the model each family chose, on validation where scored, else by name"


def suite_summary(summary: pd.DataFrame, suite: str, palette: Palette, reference: dict | None = None):
    """The configuration per dataset and family chosen on validation: its test accuracy and its fit
    time, side by side, one row per dataset and family labelled with the model it chose.

    Where the suite names published accuracies (``reference``: model -> %) and runs one dataset,
    each of those models gets its own row too, with its published figure marked beside it.
    """
    ok = _ok(summary)
    best = choose(ok, ["dataset", "family"]).reset_index(drop=True)
    if best.empty:
        return None
    published = {str(m): float(v) for m, v in (reference or {}).items()} if ok["dataset"].nunique() == 1 else {}
    if published:
        per_model = choose(ok[ok["model"].isin(published)], ["dataset", "model"]).reset_index(drop=True)
        best = pd.concat([best, per_model[~per_model["model"].isin(best["model"])]], ignore_index=True)
    best = best.assign(_order=best["family"].map(FAMILY_ORDER).fillna(len(FAMILY_ORDER)))
    best = best.sort_values(["dataset", "_order", "family", "model"], ascending=False, ignore_index=True)
    from matplotlib.figure import Figure

    n = len(best)
    fig = Figure(figsize=(SUMMARY_WIDTH_IN, 0.24 * n + 1.5), layout="constrained")
    acc, fit = fig.subplots(1, 2, sharey=True, width_ratios=[3, 2])
    for i, row in enumerate(best.itertuples(index=False)):
        colour, marker = palette(row.model)
        one = best.iloc[[i]]
        acc.errorbar(100 * one["accuracy_mean"], [i], xerr=acc_err(one), fmt=marker, color=colour,
                     markersize=6, elinewidth=1)
        fit.scatter([row.fit_s_median], [i], marker=marker, color=colour, s=30)
    marks = [(published[m], i) for i, m in enumerate(best["model"]) if m in published]
    if marks:
        acc.scatter(*zip(*marks), marker="|", s=160, linewidths=2, color="0.15", zorder=3)
    acc.set_yticks(range(n), [f"{d}: {m}" for d, m in zip(best["dataset"], best["model"])])
    acc.set_ylim(-0.6, n - 0.4)
    for i in range(1, n):  # a rule between datasets
        if best["dataset"].iloc[i] != best["dataset"].iloc[i - 1]:
            for ax in (acc, fit):
                ax.axhline(i - 0.5, color="0.6", linewidth=0.6)
    acc.set(xlabel=ACC, title="Test accuracy, 95% interval")
    fit.set(xscale="log", xlabel="seconds, log scale", title="Fit time")
    fit.tick_params(labelleft=False)
    acc.tick_params(axis="y", labelsize=SUMMARY_LABEL_PT)
    log_axis(fit)
    legend_below(fig, palette, best["model"].unique(), [(PUBLISHED, "published figure")] if marks else [])
    fig.suptitle(f"Suite {suite}: {how_chosen(summary)}"
                 + ("; | the published figure" if marks else ""))
    return fig


def cpu_gpu_note(summary: pd.DataFrame) -> str:
    """Why there is no CPU/GPU figure, for the report to say."""
    if not is_gpu(summary["device"]).any():
        return "No GPU trials in these runs, so there is no CPU-against-GPU figure."
    return "GPU trials have no CPU counterpart with the same trial key, so there is no CPU-against-GPU figure."
