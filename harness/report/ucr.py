"""The report's section on the UCR problems: our accuracies beside the published ones.

Only a run with UCR problems gets it (records whose dataset is one of aeon's bundled problems,
:mod:`harness.data.ucr`). One row per dataset and pipeline that reproduces a published method
(:data:`harness.data.ucr_published.METHODS`): ours on the archive's own split and over all
splits, the published figure with its source, and whether it is reproduced, or why not where the
records say. The numbers come from :func:`harness.data.ucr_published.beside`; nothing here
reads a model or runs anything.
"""

from __future__ import annotations

import pandas as pd

from harness.data import ucr_published as up
from harness.report import render as rd
from harness.report.sections import Block, Bullets, Fig, Para, Table

RULE = (f"*archive split*: our mean on split 0, the archive's own train/test split, where the figures "
        f"were published; *all splits*: the mean over the splits that ran (each averaged over its seeds) "
        f"with its 95% interval. *Δ*: ours on the archive split minus the published mean, in points (on "
        f"the resamples where the archive split did not run). *reproduced*: within "
        f"{up.REPRODUCED_POINTS:g} points of the published mean, or within {up.SPREAD_SDS:g} of the "
        f"source's standard deviations over its runs where it gives one; else *not reproduced*, with "
        f"what sets our setting apart from the published one where the records say.")


def short_source(source: str) -> str:
    """``Dempster et al. 2020``: the paper part of a source, before its repository and file."""
    return str(source).split(";", 1)[0].strip()


def verdict(row) -> str:
    """``reproduced``, or ``not reproduced: <reason>`` (the reason where one is known)."""
    if row.reproduced:
        return "reproduced"
    return "not reproduced" + (f": {row.reason}" if row.reason else "")


def _published(r) -> tuple[str, object]:
    std = f" ± {r.published_std:.1f}" if pd.notna(r.published_std) else ""
    runs = f" ({float(r.runs):.0f} runs)" if pd.notna(r.runs) and r.runs > 1 else ""
    return f"{r.published:.1f}{std}{runs}", float(r.published)


def columns() -> list[rd.Column]:
    """The table's columns (the same in report.md and report.html)."""
    pct = lambda x: f"{x:.1f}" if rd.finite(x) else "—"  # noqa: E731
    return [rd.text("dataset", "dataset"), rd.text("method", "method"), rd.text("model", "model"),
            rd.text("features", "features"), rd.text("setting", "setting"), rd.number("archive split %", "archive", pct),
            ("all splits % (95% CI)", "r",
             lambda r: (rd.fmt_pct(r.ours / 100, r.ours_ci / 100) + f" ({r.splits} split{'s' * (r.splits != 1)})",
                        float(r.ours))),
            ("published %", "r", _published), rd.number("Δ points", "delta", rd.signed),
            ("verdict", "w", lambda r: (verdict(r),) * 2),
            ("source", "l", lambda r: (short_source(r.source),) * 2)]


def ucr_datasets(records: pd.DataFrame) -> list[str]:
    """The datasets of these records that are UCR problems: the bundled configs (``ucr``, ``ucr_*``)
    and any whose problem has a published figure."""
    if records.empty or "dataset" not in records:
        return []
    names = records["dataset"].astype(str)
    known = up.problems(records).isin(set(up.published()["problem"])).to_numpy()
    return sorted(set(names[known | (names == "ucr").to_numpy() | names.str.startswith("ucr_").to_numpy()]))


def published_blocks(report) -> list[Block]:
    """The section's blocks: the table, the rule, the sources in full; none without UCR data."""
    records = report.records
    datasets = ucr_datasets(records)
    if not datasets:
        return []
    table = up.beside(records)
    blocks: list[Block] = []
    if len(table):
        n, k = int(table["reproduced"].sum()), len(table)
        each = table.groupby("method", sort=True)["reproduced"].agg(["sum", "size"])
        per = "; ".join(f"{m} {int(r['sum'])} of {int(r['size'])}" for m, r in each.iterrows())
        blocks += [Para(f"{n} of {k} published figure{'s' * (k != 1)} reproduced ({per}).", lead="Reproduction."),
                   Table(table, columns()), Para(RULE, style="note", markup=True),
                   *(Fig(f) for f in report.figures if f.slug == "published")]
    missing = sorted(set(datasets) - set(table["dataset"]))
    if missing:
        blocks.append(Para(f"No published figure is stored for {', '.join(missing)} with the pipelines that ran "
                           f"(harness/data/ucr_published.csv holds only figures read from a cited source).",
                           style="note"))
    if len(table):
        sources = table.groupby(["method", "source"], sort=True)["dataset"].agg(lambda d: ", ".join(sorted(set(d))))
        blocks += [Para("Sources.", style="note"),
                   Bullets([f"{method} ({names}): {source}" for (method, source), names in sources.items()])]
    return blocks


#: The figure's caption (report.md, report.html and the README).
CAPTION = (f"One row per dataset and pipeline that reproduces a published method: ours on the archive split "
           f"(marker), our mean over all splits with its 95% interval (thin bar), and the published mean "
           f"(dark bar) with ±{up.SPREAD_SDS:g} of its standard deviations (grey), the reach within which a "
           f"figure counts as reproduced (at least ±{up.REPRODUCED_POINTS:g} points).")


def figure(report, palette):
    """Ours beside the published accuracies per dataset, or None without a published figure to show."""
    table = up.beside(report.records) if ucr_datasets(report.records) else pd.DataFrame()
    if table.empty:
        return None
    from matplotlib.figure import Figure

    from harness.report.plots import ACC, PUBLISHED, SUMMARY_LABEL_PT, SUMMARY_WIDTH_IN
    from harness.report.style import legend_below

    rows = table.sort_values(["dataset", "method", "model", "setting"], ascending=False, ignore_index=True)
    fig = Figure(figsize=(SUMMARY_WIDTH_IN, 0.26 * len(rows) + 1.6), layout="constrained")
    ax = fig.subplots()
    for i, r in enumerate(rows.itertuples(index=False)):
        colour, marker = palette(r.model)
        reach = max(up.REPRODUCED_POINTS, up.SPREAD_SDS * (r.published_std if rd.finite(r.published_std) else 0.0))
        ax.plot([r.published - reach, r.published + reach], [i, i], color="0.8", linewidth=5,
                solid_capstyle="butt", zorder=1)
        ax.plot([r.published], [i], linestyle="", zorder=3, **PUBLISHED)
        if rd.finite(r.ours_ci):
            ax.plot([r.ours - r.ours_ci, r.ours + r.ours_ci], [i - 0.22] * 2, color=colour, linewidth=1, zorder=2)
        ax.plot([r.ours], [i - 0.22], marker="|", color=colour, markersize=5, linestyle="", zorder=2)
        if rd.finite(r.archive):
            ax.plot([r.archive], [i], marker=marker, color=colour, markersize=6, linestyle="", zorder=4)
    ax.set_yticks(range(len(rows)), [f"{r.problem}: {r.method} ({r.model}{', ' + r.setting if r.setting else ''})"
                                     for r in rows.itertuples(index=False)])
    ax.set_ylim(-0.7, len(rows) - 0.4)
    for i in range(1, len(rows)):  # a rule between datasets
        if rows["dataset"].iloc[i] != rows["dataset"].iloc[i - 1]:
            ax.axhline(i - 0.5, color="0.6", linewidth=0.6)
    ax.set(xlabel=ACC, title="Ours beside the published accuracies")
    ax.tick_params(axis="y", labelsize=SUMMARY_LABEL_PT)
    legend_below(fig, palette, rows["model"].unique(),
                 [(PUBLISHED, "published mean"), ({"marker": "s", "color": "0.8", "markersize": 8},
                                                  "reproduced within")])
    return fig
