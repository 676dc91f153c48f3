"""Critical-difference diagram (Demšar 2006, Fig. 1): average ranks on one axis, models whose
ranks differ by less than the Nemenyi critical difference joined by a thick bar. Models that did
not run on every dataset are not in the test; the title names them."""

from __future__ import annotations

from harness.report.render import fmt_p
from harness.report.stats import ALPHA, Friedman, cliques


def cd_diagram(fried: Friedman):
    from matplotlib.figure import Figure

    ranks = fried.ranks.sort_values()
    k = len(ranks)
    half = (k + 1) // 2
    groups = cliques(ranks, fried.cd) if fried.significant else [list(ranks.index)]
    rows = max(half, k - half)
    height = 1.6 + 0.28 * rows + 0.12 * len(groups)
    fig = Figure(figsize=(5.2, height + 0.2 * bool(fried.left_out)), layout="constrained")
    ax = fig.add_subplot()
    ax.set_axis_off()
    lo, hi = 1, max(k, 2)
    ax.set_xlim(lo - 0.9 * (hi - lo) / 2.5, hi + 0.9 * (hi - lo) / 2.5)
    top = 0.0
    ax.plot([lo, hi], [top, top], color="black", linewidth=1)
    for r in range(lo, hi + 1):
        ax.plot([r, r], [top, top + 0.15], color="black", linewidth=1)
        ax.text(r, top + 0.25, str(r), ha="center", va="bottom", fontsize=8)
    ax.text((lo + hi) / 2, top + 0.75, "average rank (1 = most accurate)", ha="center", fontsize=9)
    # CD scale bar at the top left
    ax.plot([lo, lo + fried.cd], [top + 1.3, top + 1.3], color="black", linewidth=1.5)
    ax.text(lo + fried.cd / 2, top + 1.4, f"CD = {fried.cd:.2f}", ha="center", va="bottom", fontsize=8)
    # clique bars just under the axis
    for i, g in enumerate(groups):
        y = top - 0.35 - 0.3 * i
        ax.plot([ranks[g[0]] - 0.03, ranks[g[-1]] + 0.03], [y, y], color="black", linewidth=4,
                solid_capstyle="round")
    base = top - 0.55 - 0.3 * len(groups)
    ax.set_ylim(base - 0.45 * rows - 0.1, top + 1.8)
    for i, (model, r) in enumerate(ranks.items()):
        left = i < half
        row = i if left else k - 1 - i
        y = base - 0.45 * row
        x_end = lo - 0.2 if left else hi + 0.2
        ax.plot([r, r, x_end], [top, y, y], color="0.3", linewidth=0.8)
        ax.text(x_end + (-0.05 if left else 0.05), y, f"{model} ({r:.2f})", ha="right" if left else "left",
                va="center", fontsize=8)
    verdict = ("bars join models the Nemenyi test does not separate" if fried.significant
               else "the Friedman test does not reject equal ranks, so no pair is separated")
    lines = [f"Critical-difference diagram over {fried.n_datasets} datasets, "
             f"Friedman {fmt_p(fried.p_value, ALPHA)}", f"({verdict})"]
    if fried.left_out:
        lines.append(f"left out, not run on every dataset: {', '.join(fried.left_out)}")
    fig.suptitle("\n".join(lines), fontsize=9)
    return fig
