"""Draw every figure of a report: a PNG file beside report.md, and the same figure as SVG text for
report.html to hold inline.

A figure that cannot be drawn becomes a note in the report, never a failed report: the
tables and findings are worth having on their own.
"""

from __future__ import annotations

import warnings
from functools import partial
from pathlib import Path

from harness.report import atomic_write, safe_filename
from harness.report import curves as cv
from harness.report import plots
from harness.report.content import Figure, Report


def draw(report: Report, out_dir: Path, run_dirs: list[Path], pool) -> tuple[list[Figure], list[str]]:
    """Write ``fig-<slug>.png`` files; return them and notes on what could not be drawn.

    The figures are drawn by ``pool`` (a :class:`harness.report.forked.Pool` of :func:`workers`
    warmed by :func:`warm`, forked when the report started). A slug holds names from the records (a
    suite's name): its file name keeps only safe characters, so no name in the data can lead the
    file outside ``out_dir``; a figure is written to a temporary file and renamed over its name,
    never through a symlink.
    """
    from harness.report.cdplot import cd_diagram
    from harness.report.style import Palette

    summary = report.summary
    if summary.empty or summary["accuracy_mean"].notna().sum() == 0:
        return [], ["No trial has an accuracy, so there are no figures."]
    palette = Palette(dict(zip(summary["model"], summary["family"])))
    ci = "bars: 95% interval over trials, splits × seeds"
    jobs = [_summary_job(_suite(summary, report, a.name), a.name, palette, _reference(report, a.name), ci)
            for a in report.answers]
    # each job's drawing is a module function and its data (a worker gets it pickled), never a lambda
    jobs += [
        ("accuracy-vs-fit-time", "Accuracy against fit time", partial(plots.accuracy_vs_fit_time, summary, palette),
         f"One point per configuration (dataset × features × model × device); {ci}."),
        ("accuracy-vs-train-size", "Accuracy against training-set size",
         partial(plots.accuracy_vs_train_size, summary, palette), ci.capitalize() + "."),
        ("curves", "Validation accuracy against wall time", partial(_curves, cv.wanted(report.records), run_dirs, palette),
         f"Validation split carved from the training data; at most {cv.SEEDS_PER_CONFIG} seeds per "
         "configuration."),
        ("cpu-vs-gpu", "Fit time on GPU against CPU", partial(plots.cpu_vs_gpu, summary, palette),
         "One point per GPU configuration, against the CPU configuration of the same trial key."),
    ]
    from harness.report import ucr  # ours beside the published figures, where a run has UCR problems

    if ucr.ucr_datasets(report.records):
        jobs.append(("published", "Beside the published figures (UCR archive)", partial(ucr.figure, report, palette),
                     ucr.CAPTION))
    if report.friedman is not None:
        jobs.append(("critical-difference", "Critical-difference diagram", partial(cd_diagram, report.friedman),
                     "Demšar (2006): Friedman test, then the Nemenyi critical difference at α = 0.05."))
    names, tasks = set(), []
    for slug, _, make, _ in jobs:
        name = base = f"fig-{safe_filename(slug)}"
        n = 1
        while name in names:  # two suites whose names differ only in unsafe characters
            n += 1
            name = f"{base}-{n}"
        names.add(name)
        tasks.append(_task(make, out_dir / f"{name}.png", name))
    figures, notes = [], []
    outcomes = pool.run(tasks, first=lambda i: LONGEST_FIRST.get(jobs[i][0], 0))
    for (slug, title, _, caption), task, (ok, svg) in zip(jobs, tasks, outcomes):
        if not ok:  # a broken figure must not cost the whole report
            warnings.warn(f"report figure {slug} failed: {svg}", stacklevel=2)
            notes.append(f"The figure '{title}' could not be drawn: {svg}")
        elif svg is not None:
            figures.append(Figure(slug, title, task.path, caption, svg=svg))
    if report.speedups.empty:
        notes.append(plots.cpu_gpu_note(summary))
    return figures, notes


#: figures drawn at once, each in its own process (see :mod:`harness.report.forked`)
MAX_WORKERS = 4
#: the figures with a panel per dataset take longest (each panel's ticks and text laid out): they
#: start first. On a quick run's report, 2 workers: accuracy-vs-fit-time 0.8 s, curves 0.6 s, the
#: summary 0.45 s, the rest under 0.15 s each.
LONGEST_FIRST = {"accuracy-vs-fit-time": 3, "curves": 2, "accuracy-vs-train-size": 2}


def workers() -> int:
    """How many figures to draw at once: a worker per usable core, at most ``MAX_WORKERS``."""
    from harness.cpus import usable_cores

    return min(usable_cores(), MAX_WORKERS)


def warm() -> None:
    """What every figure needs first, done by a worker before its first figure (while the report's
    tables are built): matplotlib's figure code and both backends imported, the font loaded."""
    import io

    import matplotlib
    from matplotlib.figure import Figure as MplFigure

    from harness.report.style import RC

    with matplotlib.rc_context(RC):
        fig = MplFigure(figsize=(1, 1))
        fig.text(0.5, 0.5, "0.1 s")
        fig.savefig(io.BytesIO(), format="png")
        fig.savefig(io.StringIO(), format="svg")


class _task:
    """Draw one figure: write its PNG to ``path`` and return it as SVG text (None: nothing to draw)."""

    def __init__(self, make, path: Path, name: str):
        self.make, self.path, self.name = make, path, name

    def __call__(self) -> str | None:
        import matplotlib

        from harness.report.style import RC, save, settle

        with matplotlib.rc_context(RC):
            fig = self.make()
            if fig is None:
                return None
            box = settle(fig)
            with atomic_write(self.path) as fh:
                save(fig, fh, box=box)
            return _svg(fig, self.name, box)


#: On a wide screen a figure may grow this much past its drawn size (SVG stays sharp), no more.
UPSCALE = 1.25


def _svg(fig, prefix: str, box=None) -> str:
    """The figure as an SVG element for report.html to hold inline: sharp at any width, its text
    selectable; without the XML prolog, and sized by the page (down to any width, up to ``UPSCALE``). Its ids
    (clip paths, markers) take ``prefix``, so two figures on one page never share one."""
    import io
    import re

    from harness.report.style import save

    buf = io.StringIO()
    save(fig, buf, "svg", box)
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    head_end = text.index(">")
    head = text[:head_end]
    width = re.search(r'\swidth="([0-9.]+)pt"', head)
    head = re.sub(r'\s(width|height)="[^"]*"', "", head)
    style = f' style="max-width: {float(width.group(1)) * UPSCALE:.0f}pt"' if width else ""
    text = f'{head} width="100%"{style} role="img"{text[head_end:]}'
    text = re.sub(r'(\sid=")', rf"\g<1>{prefix}-", text)
    return re.sub(r'(href="#|url\(#)', rf"\g<1>{prefix}-", text)


def _summary_job(rows, suite: str, palette, reference: dict, ci: str):
    """A suite's summary figure: throughput against model size for a speed sweep, else the model
    each family chose on validation."""
    title = f"Summary of suite {suite}"
    if plots.is_throughput_sweep(rows):
        return (f"summary-{suite}", title, partial(plots.throughput, rows, suite, palette),
                "One line per model, place (1 CPU thread, more threads, GPU) and batch size: median samples "
                "per second in training and the compute it achieves, against the model's parameter count.")
    return (f"summary-{suite}", title, partial(plots.suite_summary, rows, suite, palette, reference),
            f"One row per dataset and family: {plots.how_chosen(rows)}, at its test accuracy ({ci}) "
            "and its median fit time.")


def _reference(report: Report, suite: str) -> dict:
    """The published accuracies a suite compares with (``reference:``), from its run info."""
    return next((r["reference"] for r in report.runs if r["suite"] == suite and r.get("reference")), {})


def _suite(summary, report: Report, suite: str):
    if len(report.answers) == 1:
        return summary
    keys = set(report.records.loc[report.records["suite"] == suite, "key"])
    return summary[summary["key"].isin(keys)]


def _curves(meta, run_dirs: list[Path], palette):
    if meta.empty or not any(any(Path(d).glob("curves-*.jsonl")) for d in run_dirs):
        return None
    return plots.curves_vs_wall_time(cv.load(run_dirs, meta), meta, palette)
