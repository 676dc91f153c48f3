"""A figure is laid out once: settled, each save draws it once, keeps everything it holds (a title
wider than the figure too) and gives the canvas a tight save would."""

from __future__ import annotations

import io

import pytest

from harness.report.style import RC, save, settle


def _figure():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2.5, 2), layout="constrained")
    ax = fig.subplots()
    ax.plot([1, 10, 100], [3, 1, 2], marker="o")
    ax.set(xscale="log", xlabel="fit time (s, log scale)", ylabel="accuracy (%)")
    fig.legend(["a model"], loc="outside lower center")
    fig.suptitle("a title much wider than this figure of two and a half inches, which no layout shrinks")
    return fig


def _png_size(data: bytes) -> tuple[int, int]:
    from PIL import Image

    return Image.open(io.BytesIO(data)).size


def test_a_settled_figure_keeps_all_it_holds_and_the_tight_canvas():
    import matplotlib

    with matplotlib.rc_context(RC):
        fig = _figure()
        box = settle(fig)
        assert fig.get_layout_engine() is None  # savefig lays out again for any engine, "none" too
        title = fig._suptitle.get_window_extent().transformed(fig.dpi_scale_trans.inverted())
        assert box.x0 < title.x0 and title.x1 < box.x1  # the title sticks out of the figure, not the box
        settled, tight = io.BytesIO(), io.BytesIO()
        save(fig, settled, box=box)
        save(_figure(), tight)
    assert settled.getvalue() == tight.getvalue()


def test_each_save_of_a_settled_figure_draws_it_once(monkeypatch):
    import matplotlib
    from matplotlib.figure import Figure

    draws = []
    draw = Figure.draw
    monkeypatch.setattr(Figure, "draw", lambda self, renderer: draws.append(1) or draw(self, renderer))
    with matplotlib.rc_context(RC):
        fig = _figure()
        box = settle(fig)
        draws.clear()
        save(fig, io.BytesIO(), box=box)
        save(fig, io.StringIO(), "svg", box)
        assert len(draws) == 2
        draws.clear()
        save(_figure(), io.BytesIO())  # unsettled: a trial draw (the layout runs in it), then the draw
        assert len(draws) == 2


@pytest.mark.parametrize("width_in", [1.6, 6.0])
def test_log_axis_labels_never_run_together(width_in):
    """Two decades of fit times on a narrow panel (the summary figure's) once read "0.0020.0050.01"."""
    import matplotlib
    from matplotlib.figure import Figure

    from harness.report.style import log_axis

    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(width_in, 2), layout="constrained")
        ax = fig.subplots()
        ax.scatter([0.0012, 0.11], [0, 1])
        ax.set(xscale="log", xlim=(0.0012, 0.11))
        log_axis(ax)
        settle(fig)
        fig.canvas.draw()
        lo, hi = ax.get_xlim()
        shown = [t for t in ax.get_xticklabels() if t.get_text() and lo <= t.get_position()[0] <= hi]
        boxes = sorted((t.get_window_extent() for t in shown), key=lambda b: b.x0)
    assert len(boxes) >= 2
    assert all(a.x1 < b.x0 for a, b in zip(boxes, boxes[1:]))  # a gap between every two labels
    assert (len(boxes) >= 6) == (width_in > 5)  # 1-2-5 where there is room, sparser where not


def test_log_ticks_counts_the_ticks_in_range():
    from harness.report.style import log_ticks

    assert log_ticks(0.0012, 0.11, (1.0, 2.0, 5.0)) == 6  # 0.002 0.005 0.01 0.02 0.05 0.1
    assert log_ticks(0.0012, 0.11, (1.0, 3.0)) == 4  # 0.003 0.01 0.03 0.1
    assert log_ticks(0.0012, 0.11, (1.0,)) == 2
