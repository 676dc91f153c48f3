"""Append-only result files, and reading them back into pandas.

A run dir holds ``run.json`` (config and environment, written once), and per launcher job
``records-<job>.jsonl`` (one flat row per trial), ``predictions-<job>.jsonl`` (test-set labels
and predictions, for paired comparisons) and ``curves-<job>.jsonl`` (deep-net training
curves). Every line is flushed as its trial ends; readers skip a torn or corrupt line with a
warning and keep every other record. No pickle anywhere.
"""

from __future__ import annotations

import base64
import glob as globlib
import json
import math
import os
import time
import warnings
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from harness.errors import UserError
from harness.schema import RECORD_COLUMNS, SCHEMA_VERSION

RUN_FILE = "run.json"
RESUMES_FILE = "resumes.jsonl"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _clean(value):
    """JSON-safe scalars: numpy to Python, NaN/inf to None (JSON has no NaN)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def encode_labels(y: np.ndarray) -> dict:
    """Labels as compact base64 bytes of the smallest integer dtype that holds them."""
    y = np.asarray(y)
    dtype = np.uint8 if y.max(initial=0) < 256 and y.min(initial=0) >= 0 else np.int32
    return {"dtype": np.dtype(dtype).name, "n": int(y.size),
            "b64": base64.b64encode(y.astype(dtype).tobytes()).decode("ascii")}


def decode_labels(obj: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(obj["b64"]), dtype=obj["dtype"]).astype(np.int64)


class RunWriter:
    """Appends one job's lines to a run dir; safe to use from several jobs at once.

    Every line is written and flushed at once (a killed run loses nothing it wrote). The
    records file is also fsynced, at its first line and then at most every ``sync_s``
    seconds: an fsync costs 4-10 ms here, the whole harness overhead of a small trial, and
    after a power cut a trial whose record or predictions did not reach the disk is run
    again by ``resume=`` (a torn line is skipped by the readers).
    """

    def __init__(self, run_dir: Path | str, job: str = "0", sync_s: float = 1.0):
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.job = job
        self.sync_s = sync_s
        self._synced = -math.inf  # when the records file was last fsynced (time.monotonic)
        self._checked: set[str] = set()

    def _append(self, stem: str, obj: dict) -> None:
        line = json.dumps(obj, default=_clean, allow_nan=False, separators=(",", ":"))
        path = self.run_dir / f"{stem}-{self.job}.jsonl"
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | _NOFOLLOW, 0o644)  # never through a symlink
        with open(fd, "a+b") as fh:
            if stem not in self._checked:  # a killed writer may have left a torn line
                self._checked.add(stem)
                if fh.tell() > 0:
                    fh.seek(-1, os.SEEK_END)
                    if fh.read(1) != b"\n":
                        line = "\n" + line
            fh.write((line + "\n").encode("utf-8"))
            fh.flush()
            if stem == "records" and time.monotonic() - self._synced >= self.sync_s:
                os.fsync(fh.fileno())
                self._synced = time.monotonic()

    def record(self, row: dict) -> None:
        self._append("records", {k: _clean(v) for k, v in row.items()})

    def predictions(self, trial_id: str, y_true: np.ndarray, y_pred: np.ndarray) -> None:
        self._append("predictions", {"trial_id": trial_id, "y_true": encode_labels(y_true),
                                     "y_pred": encode_labels(y_pred)})

    def curve(self, trial_id: str, points: list[dict]) -> None:
        if points:
            self._append("curves", {"trial_id": trial_id, "points": [{k: _clean(v) for k, v in p.items()}
                                                                    for p in points]})

    def write_run_info(self, info: dict) -> bool:
        """Write run.json once (atomically); False when another job already wrote it."""
        path = self.run_dir / RUN_FILE
        if path.exists():
            return False
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps({"schema_version": SCHEMA_VERSION, **info}, indent=2,
                                  default=str) + "\n")
        try:
            os.link(tmp, path)  # fails if a concurrent job won the race
            return True
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)


_RUN_FILES = ("records-", "predictions-", "curves-")


def _is_run_dir(path: Path) -> bool:
    return (path / RUN_FILE).exists() or any(
        p.name.startswith(_RUN_FILES) and p.suffix == ".jsonl" for p in path.glob("*.jsonl"))


def run_dirs(paths: Iterable[str | Path] | str | Path) -> list[Path]:
    """Resolve run dirs, globs of run dirs, and parents of run dirs into a sorted list."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    found: list[Path] = []
    for p in paths:
        matches = sorted(globlib.glob(str(p))) or [str(p)]
        for m in matches:
            path = Path(m)
            if not path.exists():
                raise UserError(f"no such run dir: {path} (pass a directory written by `harness run`)")
            if path.is_file():
                path = path.parent
            if _is_run_dir(path):
                found.append(path)
            else:
                found.extend(sorted(d for d in path.rglob("*") if d.is_dir() and _is_run_dir(d)))
    if not found:
        raise UserError(f"no run dirs under {', '.join(map(str, paths))} (expected run.json or records-*.jsonl)")
    return sorted(dict.fromkeys(found))


def read_jsonl(path: Path) -> Iterator[dict]:
    """Yield the objects of a JSON Lines file, skipping torn or corrupt lines with a warning."""
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
                if not isinstance(obj, dict):
                    raise ValueError("not an object")
            except (ValueError, UnicodeDecodeError) as exc:
                warnings.warn(f"{path}:{number}: skipped a corrupt line ({exc.__class__.__name__})",
                              stacklevel=2)
                continue
            yield obj


def read_run_info(run_dir: Path | str) -> dict:
    path = Path(run_dir) / RUN_FILE
    if not path.exists():
        return {}
    try:
        info = json.loads(path.read_text())
    except ValueError:
        raise UserError(f"{path} is not valid JSON; restore it or delete the run dir") from None
    if not isinstance(info, dict):
        raise UserError(f"{path} holds a JSON {type(info).__name__}, not an object; restore it or delete the run dir")
    if not isinstance(info.get("schema_version", 0), int):
        raise UserError(f"{path} has a schema_version that is not a number; restore it or delete the run dir")
    if info.get("schema_version", 0) > SCHEMA_VERSION:
        raise UserError(f"{path} was written by a newer harness (schema {info['schema_version']} > "
                        f"{SCHEMA_VERSION}); upgrade harness to read it")
    return info


def iter_records(paths) -> Iterator[dict]:
    for run_dir in run_dirs(paths):
        read_run_info(run_dir)  # refuses newer schemas
        for f in sorted(run_dir.glob("records-*.jsonl")):
            for row in read_jsonl(f):
                row.setdefault("run_dir", str(run_dir))
                yield row


def latest(rows: Iterable[dict]) -> list[dict]:
    """One record per trial and run: its last ok record, else its last record.

    A resumed run appends a new record for a trial that failed or was interrupted;
    readers see the trial once, as it finally ended.
    """
    best: dict[tuple, dict] = {}
    order: list[tuple] = []
    for i, row in enumerate(rows):
        ident = (row.get("run_dir"), row.get("trial_id") or f"#{i}")
        if ident not in best:
            order.append(ident)
            best[ident] = row
        elif row.get("status") == "ok" or best[ident].get("status") != "ok":
            best[ident] = row
    return [best[i] for i in order]


def load(paths, all_records: bool = False) -> "pandas.DataFrame":  # noqa: F821
    """All records of one or more run dirs (or globs) as one DataFrame, fixed columns first.

    Each trial appears once (see :func:`latest`) unless ``all_records``.
    """
    import pandas as pd

    rows = list(iter_records(paths))
    df = pd.DataFrame.from_records(rows if all_records else latest(rows))
    for col in RECORD_COLUMNS:
        if col not in df.columns:
            df[col] = np.nan
    rest = [c for c in df.columns if c not in RECORD_COLUMNS]
    df = df[list(RECORD_COLUMNS) + rest]
    numeric = ["accuracy", "balanced_accuracy", "f1_macro", "log_loss", "val_accuracy", "features_s",
               "fit_s", "predict_s", "cpu_s", "peak_rss_mb"]
    df[numeric] = df[numeric].apply(pd.to_numeric, errors="coerce")
    # Schema 1 (before splits were apart from seeds): each seed was also its split, and no
    # trial was scored on validation (val_accuracy stays NaN, as the column's fill left it).
    df["split"] = fill_split(df["split"], df["seed"])
    df["error"] = df["error"].fillna("")
    # Migration for records of schema 1 written before the raw_input and skip_reason columns
    # existed: fill them here, once, so nothing downstream goes by a features name or an error text.
    # Then the only raw input was the features set named "raw", and only CUDA trials said "CUDA".
    raw = df["raw_input"] if "raw_input" in df else pd.Series(np.nan, index=df.index, dtype=object)
    df["raw_input"] = raw.where(raw.notna(), df["features"].eq("raw")).astype(bool)
    was = np.select([df["status"].eq("interrupted"),
                     df["status"].eq("skipped") & df["error"].astype(str).str.contains("CUDA")],
                    ["interrupted", "no_cuda"], "")
    reason = df["skip_reason"] if "skip_reason" in df else pd.Series(np.nan, index=df.index, dtype=object)
    df["skip_reason"] = reason.where(reason.notna(), pd.Series(was, index=df.index, dtype=object))
    return df


def fill_split(split, seed):
    """``split`` where recorded, else ``seed`` (schema-1 records: each seed was its own split)."""
    import pandas as pd

    split = pd.to_numeric(pd.Series(split), errors="coerce")
    out = split.where(split.notna(), pd.to_numeric(pd.Series(seed, index=split.index), errors="coerce"))
    whole = bool(np.isfinite(out).all() and (out == out.round()).all())  # inf or NaN stays float
    return out.astype("int64") if whole else out


def load_predictions(paths) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``trial_id -> (y_true, y_pred)`` for every stored prediction."""
    out = {}
    for run_dir in run_dirs(paths):
        for f in sorted(run_dir.glob("predictions-*.jsonl")):
            for obj in read_jsonl(f):
                out[obj["trial_id"]] = (decode_labels(obj["y_true"]), decode_labels(obj["y_pred"]))
    return out


def load_curves(paths, trial_ids=None) -> "pandas.DataFrame":  # noqa: F821
    """Training curves as a long DataFrame: one row per (trial_id, evaluation).

    ``trial_ids`` keeps only those trials' curves (the others are parsed but not expanded).
    """
    import pandas as pd

    keep = None if trial_ids is None else set(map(str, trial_ids))
    rows = []
    for run_dir in run_dirs(paths):
        last: dict[str, list] = {}  # a trial run again (after a kill) has its curve again: the last counts
        for f in sorted(run_dir.glob("curves-*.jsonl")):
            for obj in read_jsonl(f):
                if keep is None or str(obj.get("trial_id")) in keep:
                    last[obj["trial_id"]] = obj.get("points", [])
        rows += [{"trial_id": trial_id, **p} for trial_id, points in last.items() for p in points]
    return pd.DataFrame(rows)


def copy_run(src: Path | str, dst: Path | str) -> Path:
    """Copy a run dir's files (run.json, its records, predictions, curves and resumes) to ``dst``.

    The copy is written to a temporary sibling of ``dst`` and renamed into place, so
    ``dst`` either holds the whole run or does not exist. Symlinks are never followed: a
    symlinked run dir is refused and a symlinked file inside one is left out. ``dst`` must
    not exist yet.
    """
    src, dst = Path(src), Path(dst)
    if src.is_symlink() or not src.is_dir() or not _is_run_dir(src):
        raise UserError(f"{src} is not a run dir (a directory written by `harness run`, not a symlink)")
    if dst.exists() or dst.is_symlink():
        raise UserError(f"{dst} exists already; copy a run only to a new path")
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp{os.getpid()}")
    tmp.mkdir()
    try:
        with os.scandir(src) as entries:
            names = sorted(e.name for e in entries if e.is_file(follow_symlinks=False) and (
                e.name in (RUN_FILE, RESUMES_FILE) or (e.name.startswith(_RUN_FILES) and e.name.endswith(".jsonl"))))
        for name in names:
            fd = os.open(src / name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            with os.fdopen(fd, "rb") as fin, open(tmp / name, "xb") as fout:
                while chunk := fin.read(1 << 20):
                    fout.write(chunk)
                fout.flush()
                os.fsync(fout.fileno())
        os.rename(tmp, dst)
    except BaseException:
        for f in tmp.iterdir():
            f.unlink()
        tmp.rmdir()
        raise
    return dst


def ok_trial_ids(run_dir: Path | str) -> set[str]:
    """Trials done: recorded with status ok *and* with a whole predictions line (what a resume skips).

    The runner writes a trial's predictions before its record, but a full disk or a crash
    mid-write can still leave a torn predictions line: such a trial counts as not done, so a
    resume runs it again. (A run dir with no predictions file at
    all, written before predictions were stored, is judged by its records alone.)
    """
    run_dir = Path(run_dir)
    ok = {r["trial_id"] for f in run_dir.glob("records-*.jsonl") for r in read_jsonl(f)
          if r.get("status") == "ok" and "trial_id" in r}
    files = sorted(run_dir.glob("predictions-*.jsonl"))
    if not files:
        return ok
    predicted = {p["trial_id"] for f in files for p in read_jsonl(f)
                 if "trial_id" in p and "y_pred" in p and "y_true" in p}
    return ok & predicted


def record_resume(run_dir: Path | str, entry: dict) -> None:
    """Append one resume of a run (time, harness commit, overrides) to its resumes.jsonl."""
    line = json.dumps(entry, default=str, separators=(",", ":")) + "\n"
    fd = os.open(Path(run_dir) / RESUMES_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NOFOLLOW, 0o644)
    with open(fd, "ab") as fh:
        fh.write(line.encode("utf-8"))
        fh.flush()
        os.fsync(fh.fileno())


def read_resumes(run_dir: Path | str) -> list[dict]:
    """The resumes of a run, oldest first (empty for a run never resumed)."""
    path = Path(run_dir) / RESUMES_FILE
    return list(read_jsonl(path)) if path.is_file() else []
