"""Baselines: copies of a suite's run dirs under ``results/baselines/<suite>/``, meant to be committed.

``harness baseline save suite=ci --repeats 3`` runs the suite three times and copies each
run dir, as it is (run.json, records, predictions, curves), to
``results/baselines/ci/<run-id>/``. A baseline is read like any other run dirs, by
:mod:`harness.store`; several runs give time comparisons the spread between runs. Saving
again replaces the whole suite dir.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from harness.errors import UserError

DEFAULT_DIR = Path("results") / "baselines"

#: Run files inside a run dir: a ``.jsonl`` path named otherwise is a baseline of the old format.
_RUN_FILE_PREFIXES = ("records-", "predictions-", "curves-")


def old_format_error(path: Path | str) -> UserError:
    """The one message for a baseline file of the old format (``<suite>.jsonl``)."""
    suite = Path(path).name.removesuffix(".jsonl")
    return UserError(f"{path} is a baseline file of the old format, which harness no longer reads: a "
                     f"baseline is now a directory of run dirs, {DEFAULT_DIR}/{suite}/; save it again with "
                     f"`harness baseline save suite={suite} --repeats 3` (or `--from RUN_DIR...`)")


def is_old_format(path: Path | str) -> bool:
    path = Path(path)
    return path.name.endswith(".jsonl") and not path.name.startswith(_RUN_FILE_PREFIXES)


def resolve(spec: str, directory: Path | str = DEFAULT_DIR) -> Path:
    """``suite=ci``, ``ci`` or a path to a baseline dir -> that dir (which must exist)."""
    spec = str(spec)
    if is_old_format(spec):
        raise old_format_error(spec)
    if os.sep in spec:
        path = Path(spec)
        suite = path.name
    else:
        suite = spec.split("=", 1)[1] if spec.startswith("suite=") else spec
        path = Path(directory) / suite
        old = Path(directory) / f"{suite}.jsonl"
        if not path.is_dir() and old.is_file():
            raise old_format_error(old)
    if not path.is_dir():
        raise UserError(f"no baseline for suite {suite} at {path}; create one with "
                        f"`harness baseline save suite={suite}` (and commit it)")
    return path


def save(run_dirs, directory: Path | str = DEFAULT_DIR, suite: str | None = None) -> Path:
    """Copy run dirs (globs too) to ``<directory>/<suite>/<run-id>/``, replacing that suite's
    baseline as a whole; returns the suite dir."""
    from harness import store
    from harness.compare.match import read_info

    dirs = store.run_dirs(run_dirs)
    infos = {d: read_info(d) for d in dirs}
    records = store.load(dirs)
    suites = {info.get("suite") for info in infos.values()} - {None}
    suites |= {s for s in records["suite"].dropna().unique() if s}
    if suite is None:
        if len(suites) != 1:
            raise UserError(f"the runs hold suites {', '.join(sorted(suites)) or '(none)'}; "
                            "a baseline holds one suite: pass runs of one suite")
        suite = suites.pop()
    elif suites - {suite}:
        raise UserError(f"the runs hold suite(s) {', '.join(sorted(suites))}, not {suite}")
    if records.empty:
        raise UserError(f"no records in {', '.join(map(str, dirs))}")
    names = [str(infos[d].get("run_id") or d.name) for d in dirs]
    for d, name in zip(dirs, names):  # the copy is named by the run id: it must stay inside the suite dir
        if name in (".", "..") or Path(name).name != name or "\\" in name:
            raise UserError(f"{d / store.RUN_FILE}: its run_id {name!r} can't name a directory; restore the run.json")
    if len(set(names)) < len(names):
        raise UserError(f"two of the runs have the same run id ({', '.join(names)}); a baseline "
                        "holds each run once")

    target = Path(directory) / suite
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{suite}.tmp{os.getpid()}")
    old = target.with_name(f".{suite}.old{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        for d, name in zip(dirs, names):
            store.copy_run(d, tmp / name)
        if target.is_symlink():
            raise UserError(f"{target} is a symlink; remove it, then save the baseline")
        if target.exists():  # the old baseline goes only once the new one is complete
            os.rename(target, old)
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not target.exists():
            os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return target
