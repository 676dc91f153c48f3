"""The plots a reader would rather look at than read. Every function returns a Figure or None.

Axes carry units; times are on log scales because they span orders of magnitude; each
accuracy point carries its 95% interval over seeds where there is one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.report.style import FAMILY_STYLE, Palette, legend_below, log_axis, new_figure
from harness.report.tables import is_gpu

ACC = "test accuracy (%)"
MAX_PANELS = 24


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
    """One line per model (its best features and device at each size), where sizes vary."""
    rows = _ok(summary).dropna(subset=["n_train_median"]) if "n_train_median" in summary else pd.DataFrame()
    if rows.empty:
        return None
    varies = rows.groupby("dataset")["n_train_median"].nunique() > 1
    datasets = sorted(varies[varies].index)[:MAX_PANELS]
    if not datasets:
        return None
    fig, axes = new_figure(len(datasets))
    for ax, dataset in zip(axes, datasets):
        g = rows[rows["dataset"] == dataset].sort_values("accuracy_mean", ascending=False)
        best = g.drop_duplicates(["model", "n_train_median"]).sort_values("n_train_median")
        for model, m in best.groupby("model", sort=False):
            colour, marker = palette(model)
            ax.errorbar(m["n_train_median"], 100 * m["accuracy_mean"], yerr=acc_err(m),
                        color=colour, marker=marker, markersize=4, linewidth=1.2, elinewidth=0.8)
        ax.set(xscale="log", title=dataset, xlabel="training-set size (samples, log scale)", ylabel=ACC)
        _size_ticks(ax, sorted(best["n_train_median"].unique()))
    legend_below(fig, palette, rows["model"].unique())
    fig.suptitle("Accuracy against training-set size (each model on its best features and device)")
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


def suite_summary(summary: pd.DataFrame, suite: str):
    """Best configuration per dataset and family: its accuracy and its fit time, side by side."""
    from harness.report.tables import best_of

    best = best_of(_ok(summary), ["dataset", "family"]).reset_index(drop=True)
    if best.empty:
        return None
    datasets = sorted(best["dataset"].unique())
    ypos = {d: i for i, d in enumerate(datasets)}
    fig, (acc, fit) = new_figure(2, ncols=2, width=4.6, height=0.45 * len(datasets) + 1.4)
    present = set(best["family"])
    families = [f for f in FAMILY_STYLE if f in present] + sorted(present - set(FAMILY_STYLE))
    for j, family in enumerate(families):
        colour, marker = FAMILY_STYLE.get(family, ("#777777", "D"))
        b = best[best["family"] == family]
        y = b["dataset"].map(ypos) + (j - (len(families) - 1) / 2) * 0.18
        acc.errorbar(100 * b["accuracy_mean"], y, xerr=acc_err(b), fmt=marker,
                     color=colour, label=family, markersize=6, elinewidth=1)
        fit.scatter(b["fit_s_median"], y, marker=marker, color=colour, s=30)
    for ax in (acc, fit):
        ax.set_yticks(range(len(datasets)), datasets)
        ax.set_ylim(-0.6, len(datasets) - 0.4)
    acc.set(xlabel=ACC + ", 95% interval", title="Best accuracy per family")
    fit.set(xscale="log", xlabel="fit time (s, log scale)", title="Fit time of those models")
    log_axis(fit)
    fig.legend(*acc.get_legend_handles_labels(), loc="outside lower center", ncols=len(families), frameon=False)
    fig.suptitle(f"Suite {suite}: the best model of each family on each dataset")
    return fig


def cpu_gpu_note(summary: pd.DataFrame) -> str:
    """Why there is no CPU/GPU figure, for the report to say."""
    if not is_gpu(summary["device"]).any():
        return "No GPU trials in these runs, so there is no CPU-against-GPU figure."
    return "GPU trials have no CPU counterpart with the same trial key, so there is no CPU-against-GPU figure."
