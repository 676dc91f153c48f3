"""Figure conventions shared by every plot: colour-blind-safe colours, markers, sizes.

Figures are built with ``matplotlib.figure.Figure`` directly, never ``pyplot``: no global
state, no GUI backend, safe inside a user's notebook or a worker process (PNG goes through
Agg, SVG through its own backend). Each model keeps its colour *and* marker in every figure, so a
reader who cannot tell two colours apart can still tell the markers apart.
"""

from __future__ import annotations

import math

from harness.schema import FAMILIES

#: Okabe & Ito (2008) colours without their yellow (faint on white), then further colours that
#: stay apart from them and from each other (Tol's wine, indigo, olive; brown, grey, purple).
COLOURS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000",
           "#882255", "#332288", "#999933", "#8C564B", "#7F7F7F", "#AA4499"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X"]
FAMILY_ORDER = {f: i for i, f in enumerate(FAMILIES)}
RC = {"font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 8,
      "xtick.labelsize": 8, "ytick.labelsize": 8, "axes.grid": True, "grid.alpha": 0.3,
      "axes.spines.top": False, "axes.spines.right": False, "savefig.dpi": 110,
      "svg.fonttype": "none", "svg.hashsalt": "harness-report"}
#: Legend columns take about this many inches each, so a legend never runs past its figure.
LEGEND_COLUMN_IN = 2.0


def colours(n: int) -> list[str]:
    """``n`` distinct colours: ``COLOURS`` first, then hues spread round the colour wheel at a
    darkness that reads on white (never a pale yellow)."""
    import colorsys

    out = list(COLOURS[:n])
    extra = n - len(out)
    for i in range(extra):
        r, g, b = colorsys.hls_to_rgb((i + 0.5) / extra, 0.32 + 0.1 * (i % 2), 0.75)
        out.append("#{:02X}{:02X}{:02X}".format(*(round(255 * c) for c in (r, g, b))))
    taken: set[str] = set()
    for i, c in enumerate(out):  # two hues that round to one hex code: nudge the second
        while c in taken:
            c = "#{:06X}".format((int(c[1:], 16) + 0x010203) % 0x1000000)
        out[i] = c
        taken.add(c)
    return out


class Palette:
    """Model -> (colour, marker), fixed for the whole report (models sorted by family, name):
    every model its own colour, whatever the number of models."""

    def __init__(self, models: dict[str, str]):
        order = sorted(models, key=lambda m: (FAMILY_ORDER.get(models[m], 9), m))
        self.style = {m: (c, MARKERS[i % len(MARKERS)]) for i, (m, c) in enumerate(zip(order, colours(len(order))))}
        self.family = models

    def __call__(self, model: str) -> tuple[str, str]:
        return self.style.get(model, ("#777777", "o"))

    def handles(self, models) -> tuple[list, list[str]]:
        """Legend handles for ``models`` (in palette order)."""
        from matplotlib.lines import Line2D

        shown = [m for m in self.style if m in set(models)]
        return ([Line2D([], [], color=self(m)[0], marker=self(m)[1], linestyle="", markersize=6) for m in shown],
                [f"{m} ({self.family.get(m, '?')})" for m in shown])


def new_figure(n_panels: int, ncols: int = 2, width: float = 3.6, height: float = 3.0):
    """A figure with ``n_panels`` axes in a grid; unused cells removed."""
    from matplotlib.figure import Figure

    ncols = max(1, min(ncols, n_panels))
    nrows = math.ceil(n_panels / ncols)
    fig = Figure(figsize=(width * ncols, height * nrows + 0.9), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[n_panels:]:
        ax.remove()
    return fig, list(axes[:n_panels])


def legend_below(fig, palette: Palette, models, extra=()) -> None:
    """One legend under the panels: ``model (family)`` for each of ``models``, then ``extra``
    entries as ``(Line2D keyword arguments, label)``."""
    from matplotlib.lines import Line2D

    handles, labels = palette.handles(models)
    for style, label in extra:
        handles.append(Line2D([], [], **{"linestyle": "", **style}))
        labels.append(label)
    if handles:
        fit = max(1, int(fig.get_figwidth() // LEGEND_COLUMN_IN))
        fig.legend(handles, labels, loc="outside lower center", ncols=min(len(handles), fit), frameon=False)


def count_label(v: float) -> str:
    """A count in few characters, never in scientific notation: 500, 20k, 1.5M, 3G."""
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:g}{suffix}"
    return f"{v:g}"


#: Labelled ticks on a log axis that spans less than two decades, densest first: the densest
#: whose labels fit the axis's length (1-2-5 on a narrow panel ran "0.0020.0050.01" together).
LOG_SUBS = ((1.0, 2.0, 5.0), (1.0, 3.0), (1.0,))


def log_ticks(lo: float, hi: float, subs) -> int:
    """How many of the ticks ``10**i * s`` (``s`` in ``subs``) lie in ``[lo, hi]``."""
    decades = range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
    return sum(lo <= 10.0**i * s <= hi for i in decades for s in subs)


def log_axis(ax, which: str = "x", count: bool = False) -> None:
    """Log scale with plain labels: 1-2-5 ticks (or 1-3, or decades, whichever fit) where the data
    span less than two decades, and never minor-tick labels (they collide, as in "3×10¹4×10¹");
    ``count``: 10k, 1M."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis = ax.xaxis if which == "x" else ax.yaxis
    lo, hi = ax.get_xlim() if which == "x" else ax.get_ylim()
    if lo > 0 and hi / lo < 100:
        lo, hi = min(lo, hi), max(lo, hi)
        room = axis.get_tick_space()  # labels of about 3 em that fit the axis's length
        usable = [s for s in LOG_SUBS if log_ticks(lo, hi, s) >= 2] or [LOG_SUBS[0]]
        subs = next((s for s in usable if log_ticks(lo, hi, s) <= room), usable[-1])
        axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda v, _: count_label(v) if count else f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


#: blank margin round a saved figure's contents, in inches
PAD_IN = 0.08


def settle(fig):
    """Lay ``fig`` out once and fix it there; return the box, in inches, round all it holds.

    Left to itself, each save of a constrained-layout figure makes a trial draw (the layout runs in
    it) and measures the contents for ``bbox_inches="tight"``, then draws: a PNG and an SVG of one
    figure cost two layouts, two measures and four draws. Settled at the PNG's resolution, with no
    layout engine left (the positions stay where the layout put them; savefig makes a trial draw for
    any engine, "none" too), they cost one layout, one measure and two draws, and give the PNG's
    pixels a tight save gives.
    """
    import matplotlib

    dpi = matplotlib.rcParams["savefig.dpi"]
    if dpi != "figure":
        fig.set_dpi(dpi)  # text is measured at the resolution it is drawn in
    engine = fig.get_layout_engine()
    if engine is not None and fig.axes:  # as a draw would, first thing
        engine.execute(fig)
    box = fig.get_tightbbox().padded(PAD_IN)
    with matplotlib.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
        fig.set_layout_engine(None)
    return box


def save(fig, fh, fmt: str = "png", box=None) -> None:
    """Write ``fig`` to ``fh`` as PNG or SVG, the canvas cut to ``box`` (from :func:`settle`), else grown
    to whatever it holds (``tight``), so no title, label or legend is cut off; no date or software
    stamp, so the bytes depend on the data only."""
    meta = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
    extra = {"pil_kwargs": {"compress_level": 3}} if fmt == "png" else {}
    fig.savefig(fh, format=fmt, metadata=meta, bbox_inches="tight" if box is None else box, pad_inches=PAD_IN,
                **extra)
