"""Reports: pure functions of saved records; nothing here re-runs a model.

``write_report`` reads run dirs, computes the tables and findings once (``content``; findings
are typed values, ``wording`` puts them in words), draws the figures (``figures``, PNG) and
writes report.md and report.html (both walk ``sections.SECTIONS``), summary.csv and
summary.parquet into the first run dir or ``out``.
"""

from __future__ import annotations

from pathlib import Path


def write_report(run_dirs, out: Path | str | None = None, plots: bool = True) -> Path:
    """Write the report for one or more run dirs; return the path of ``report.md``.

    Several run dirs (say one from a CPU machine and one from a GPU machine) are combined
    and their rows labelled by machine.
    """
    from harness import store
    from harness.report.content import build
    from harness.report.html import build_html
    from harness.report.markdown import build_markdown

    dirs = store.run_dirs(run_dirs)
    out_dir = Path(out) if out else dirs[0]
    out_dir.mkdir(parents=True, exist_ok=True)
    report = build(dirs, store.load(dirs), [store.read_run_info(d) for d in dirs])
    for old in out_dir.glob("fig-*.png"):  # figures of an earlier report of other data
        old.unlink()
    if plots:
        from harness.report.figures import draw

        report.figures, notes = draw(report, out_dir, dirs)
        report.notes += notes
    write_summary(report.summary, out_dir)
    (out_dir / "report.html").write_text(build_html(report), encoding="utf-8")
    path = out_dir / "report.md"
    path.write_text(build_markdown(report), encoding="utf-8")
    return path


def write_summary(summary, out_dir: Path) -> None:
    """The aggregated table, for pandas, DuckDB, polars or a spreadsheet."""
    summary.to_csv(out_dir / "summary.csv", index=False)
    try:
        summary.to_parquet(out_dir / "summary.parquet", index=False)
    except ImportError:  # pyarrow is a dependency, but a broken install should not cost the report
        import warnings

        warnings.warn("pyarrow is not importable; summary.parquet not written", stacklevel=2)
