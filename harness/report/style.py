"""Figure conventions shared by every plot: colour-blind-safe colours, markers, sizes.

Figures are built with ``matplotlib.figure.Figure`` directly, never ``pyplot``: no global
state, no GUI backend, safe inside a user's notebook or a worker process (PNG goes through
Agg). Each model keeps its colour *and* marker in every figure, so a reader who cannot
tell two colours apart can still tell the markers apart.
"""

from __future__ import annotations

import math

from harness.schema import FAMILIES

#: Okabe & Ito (2008) colours, yellow last (weak on white paper).
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X"]
FAMILY_ORDER = {f: i for i, f in enumerate(FAMILIES)}
FAMILY_STYLE = dict(zip(FAMILIES, [("#0072B2", "o"), ("#E69F00", "s"), ("#009E73", "^")]))
RC = {"font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 8,
      "xtick.labelsize": 8, "ytick.labelsize": 8, "axes.grid": True, "grid.alpha": 0.3,
      "axes.spines.top": False, "axes.spines.right": False, "savefig.dpi": 110,
      "svg.fonttype": "none"}


class Palette:
    """Model -> (colour, marker), fixed for the whole report (models sorted by family, name)."""

    def __init__(self, models: dict[str, str]):
        order = sorted(models, key=lambda m: (FAMILY_ORDER.get(models[m], 9), m))
        self.style = {m: (OKABE_ITO[i % len(OKABE_ITO)], MARKERS[i % len(MARKERS)]) for i, m in enumerate(order)}
        self.family = models

    def __call__(self, model: str) -> tuple[str, str]:
        return self.style.get(model, ("#777777", "o"))

    def handles(self, models) -> tuple[list, list[str]]:
        """Legend handles for ``models`` (in palette order)."""
        from matplotlib.lines import Line2D

        shown = [m for m in self.style if m in set(models)]
        return ([Line2D([], [], color=self(m)[0], marker=self(m)[1], linestyle="", markersize=6) for m in shown],
                [f"{m} ({self.family.get(m, '?')})" for m in shown])


def new_figure(n_panels: int, ncols: int = 3, width: float = 4.0, height: float = 3.2):
    """A figure with ``n_panels`` axes in a grid; unused cells removed."""
    from matplotlib.figure import Figure

    ncols = max(1, min(ncols, n_panels))
    nrows = math.ceil(n_panels / ncols)
    fig = Figure(figsize=(width * ncols, height * nrows + 0.9), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[n_panels:]:
        ax.remove()
    return fig, list(axes[:n_panels])


def legend_below(fig, palette: Palette, models) -> None:
    handles, labels = palette.handles(models)
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=min(len(handles), 5), frameon=False)


def log_axis(ax, which: str = "x") -> None:
    """Log scale with plain labels: 1-2-5 ticks where the data span less than two decades,
    and never minor-tick labels (they collide, as in "3×10¹4×10¹")."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis = ax.xaxis if which == "x" else ax.yaxis
    lo, hi = ax.get_xlim() if which == "x" else ax.get_ylim()
    if lo > 0 and hi / lo < 100:
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def save(fig, path) -> None:
    fig.savefig(path, format="png", metadata={"Software": None}, pil_kwargs={"compress_level": 3})
