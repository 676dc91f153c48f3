"""Reports: pure functions of saved records; nothing here re-runs a model.

``write_report`` reads run dirs, computes the tables and findings once (``content``; findings
are typed values, ``wording`` puts them in words), draws the figures (``figures``: a PNG beside
report.md, the same figure as inline SVG in report.html) and writes report.md and report.html
(both walk ``sections.SECTIONS``; the HTML through the Jinja2 templates in ``templates/``),
summary.csv and summary.parquet into the first run dir or ``out``.

Every file is written to a temporary file in its directory and renamed over its name, so a
symlink planted at a report's name is replaced, never written through, and a reader never
sees half a report.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

from harness.errors import UserError


def safe_filename(name: str) -> str:
    """``name`` as one harmless file-name part: only ``[A-Za-z0-9_.-]``, no leading dot."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", str(name)).lstrip(".")[:120] or "_"


def _file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_write(path: Path | str, mode: str = "wb"):
    """A file object for ``path``: written to a temporary sibling, then renamed over ``path``.

    ``os.replace`` replaces a symlink at ``path`` itself, not the file it points to.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{safe_filename(path.name)}.", suffix=".tmp")
    try:
        os.fchmod(fd, _file_mode())
        text = {} if "b" in mode else {"encoding": "utf-8", "newline": ""}
        with os.fdopen(fd, mode, **text) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_report(run_dirs, out: Path | str | None = None, plots: bool = True) -> Path:
    """Write the report for one or more run dirs; return the path of ``report.md``.

    Several run dirs (say one from a CPU machine and one from a GPU machine) are combined
    and their rows labelled by machine. A run dir or ``out`` that can't be read or written
    is a UserError naming the path.
    """
    from harness import store
    from harness.report import figures, forked
    from harness.report.content import build

    try:
        dirs = store.run_dirs(run_dirs)
    except OSError as exc:
        raise _cannot_read(exc, run_dirs) from None
    # the figure workers fork now and warm up while the tables are built (see forked.Pool)
    with forked.Pool(figures.workers() if plots else 0, figures.warm) as pool:
        try:
            records, infos = store.load(dirs), [store.read_run_info(d) for d in dirs]
            report = build(dirs, records, infos)
            report.notes += unfinished(dirs, records, infos)
        except OSError as exc:
            raise _cannot_read(exc, run_dirs) from None
        out_dir = Path(out) if out else dirs[0]
        try:
            return _write(report, out_dir, dirs, plots, pool)
        except OSError as exc:
            where = exc.filename or out_dir
            raise UserError(f"cannot write the report to {out_dir} ({where}: {exc.strerror or exc}); "
                            "pass --out with a writable directory") from None


def _cannot_read(exc: OSError, run_dirs) -> UserError:
    return UserError(f"cannot read {exc.filename or ', '.join(map(str, run_dirs))}: {exc.strerror or exc}")


def unfinished(dirs: list[Path], records, infos: list[dict]) -> list[str]:
    """A note for each run with planned trials that have no result yet, and how to run them."""
    notes = []
    for run_dir, info in zip(dirs, infos):
        planned = info.get("n_trials")
        if not isinstance(planned, int) or planned <= 0:
            continue
        mine = records[records["run_dir"].astype(str) == str(run_dir)]
        finished = mine.loc[mine["status"] != "interrupted", "trial_id"].nunique()
        if finished < planned:
            config_dirs = (info.get("config") or {}).get("config_dirs") or []
            overrides = " ".join([*(f"--config-dir {d}" for d in config_dirs[:1]),
                                  *(str(o) for o in info.get("overrides") or [] if not str(o).startswith("resume="))])
            notes.append(f"Run {run_dir.name}: {planned - finished} of {planned} planned trials never ran "
                         "(the run was interrupted, or is still running); run them with: "
                         f"harness run {overrides + ' ' if overrides else ''}resume={run_dir}")
    return notes


def _write(report, out_dir: Path, dirs: list[Path], plots: bool, pool) -> Path:
    from harness.report.html import build_html
    from harness.report.markdown import build_markdown

    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("fig-*.png"):  # figures of an earlier report of other data
        if old.is_symlink() or old.is_file():
            old.unlink()  # a symlink goes, not what it points to
    if plots:
        from harness.report.figures import draw

        report.figures, notes = draw(report, out_dir, dirs, pool)
        report.notes += notes
    write_summary(report.summary, out_dir)
    with atomic_write(out_dir / "report.html", "w") as fh:
        fh.write(build_html(report))
    path = out_dir / "report.md"
    with atomic_write(path, "w") as fh:
        fh.write(build_markdown(report))
    return path


def write_summary(summary, out_dir: Path) -> None:
    """The aggregated table, for pandas, DuckDB, polars or a spreadsheet."""
    with atomic_write(Path(out_dir) / "summary.csv", "w") as fh:
        summary.to_csv(fh, index=False)
    try:
        with atomic_write(Path(out_dir) / "summary.parquet", "wb") as fh:
            summary.to_parquet(fh, index=False)
    except ImportError:  # pyarrow is a dependency, but a broken install should not cost the report
        import warnings

        warnings.warn("pyarrow is not importable; summary.parquet not written", stacklevel=2)
