"""A figure is laid out once: settled, each save draws it once, keeps everything it holds (a title
wider than the figure too) and gives the canvas a tight save would."""

from __future__ import annotations

import io

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
