"""Reports: pure functions of saved records (STYLE.md #11); nothing here re-runs a model."""

from __future__ import annotations

from pathlib import Path

from harness.report.markdown import build_markdown


def write_report(run_dirs, out: Path | str | None = None) -> Path:
    """Write ``report.md`` for one or more run dirs; return its path."""
    from harness import store

    dirs = store.run_dirs(run_dirs)
    out_dir = Path(out) if out else dirs[0]
    out_dir.mkdir(parents=True, exist_ok=True)
    df = store.load(dirs)
    infos = [store.read_run_info(d) for d in dirs]
    path = out_dir / "report.md"
    path.write_text(build_markdown(df, infos), encoding="utf-8")
    return path
