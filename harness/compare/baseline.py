"""Baseline files: a suite's records, predictions and run info, meant to be committed.

``results/baselines/<suite>.jsonl`` holds the records (one per trial and run, as in a run
dir), ``<suite>.predictions.jsonl`` the test labels and predictions (for paired accuracy
tests), and ``<suite>.run.json`` the first run's run.json plus, under ``baseline.runs``, the
machine fingerprint, calibration and environment of every run the baseline was made from.
Saving from several runs (``--repeats``) gives time comparisons the spread between runs.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from harness.errors import UserError

DEFAULT_DIR = Path("results") / "baselines"


def paths(suite: str, directory: Path | str = DEFAULT_DIR) -> dict[str, Path]:
    d = Path(directory)
    return {"records": d / f"{suite}.jsonl", "predictions": d / f"{suite}.predictions.jsonl",
            "run": d / f"{suite}.run.json"}


def resolve(spec: str, directory: Path | str = DEFAULT_DIR) -> Path:
    """``suite=ci``, ``ci`` or a path to a baseline ``.jsonl`` file -> that file (which must exist)."""
    spec = str(spec)
    if spec.endswith(".jsonl") or os.sep in spec:
        path = Path(spec)
        suite = path.name.removesuffix(".jsonl")
    else:
        suite = spec.split("=", 1)[1] if spec.startswith("suite=") else spec
        path = paths(suite, directory)["records"]
    if not path.is_file():
        raise UserError(f"no baseline for suite {suite} at {path}; create one with "
                        f"`harness baseline save suite={suite}` (and commit it)")
    return path


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def save(run_dirs, directory: Path | str = DEFAULT_DIR, suite: str | None = None) -> dict[str, Path]:
    """Write the baseline of ``suite`` from run dirs (globs too); returns the files written."""
    from harness import store

    dirs = store.run_dirs(run_dirs)
    infos = {d: store.read_run_info(d) for d in dirs}
    suites = {info.get("suite") for info in infos.values()} - {None}
    rows = list(store.iter_records(dirs))
    suites |= {r.get("suite") for r in rows} - {None, ""}
    if suite is None:
        if len(suites) != 1:
            raise UserError(f"the runs hold suites {', '.join(sorted(suites)) or '(none)'}; "
                            "a baseline holds one suite: pass runs of one suite")
        suite = suites.pop()
    elif suites - {suite}:
        raise UserError(f"the runs hold suite(s) {', '.join(sorted(suites))}, not {suite}")
    if not rows:
        raise UserError(f"no records in {', '.join(map(str, dirs))}")
    for row in rows:
        row.pop("run_dir", None)

    out = paths(suite, directory)
    out["records"].parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(out["records"], "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))

    lines, seen = [], set()
    for d in dirs:
        for f in sorted(d.glob("predictions-*.jsonl")):
            for obj in store.read_jsonl(f):
                if obj.get("trial_id") not in seen:  # repeats of a trial: the first one is enough
                    seen.add(obj.get("trial_id"))
                    lines.append(json.dumps(obj, separators=(",", ":")) + "\n")
    _write_atomic(out["predictions"], "".join(lines))

    first = infos[dirs[0]]
    runs = {info.get("run_id", d.name): {k: info.get(k) for k in
                                         ("run_id", "fingerprint", "calibration", "environment")}
            for d, info in infos.items()}
    run = {**first, "baseline": {"suite": suite, "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                                 "from": [str(d) for d in dirs], "runs": runs}}
    _write_atomic(out["run"], json.dumps(run, indent=2, default=str) + "\n")
    return out


def read_baseline(path: Path | str) -> tuple[list[dict], dict, dict]:
    """(records, predictions by trial_id, run info by run_id) of a baseline file."""
    from harness import store

    path = Path(path)
    suite = path.name.removesuffix(".jsonl")
    files = paths(suite, path.parent)
    try:
        rows = list(store.read_jsonl(path))
    except OSError as exc:
        raise UserError(f"cannot read the baseline {path}: {exc.strerror}") from None
    predictions = {}
    if files["predictions"].is_file():
        for obj in store.read_jsonl(files["predictions"]):
            try:
                predictions[obj["trial_id"]] = (store.decode_labels(obj["y_true"]),
                                                store.decode_labels(obj["y_pred"]))
            except (KeyError, TypeError, ValueError):
                continue
    runs = {}
    if files["run"].is_file():
        try:
            info = json.loads(files["run"].read_text())
        except ValueError:
            raise UserError(f"{files['run']} is not valid JSON; save the baseline again") from None
        saved = (info.get("baseline") or {}).get("runs") or {info.get("run_id", suite): info}
        for run_id, summary in saved.items():
            runs[run_id] = {**summary, "config": info.get("config"), "chosen": info.get("chosen"),
                            "overrides": info.get("overrides"), "suite": info.get("suite")}
    for row in rows:  # records whose run isn't described still count, without a machine
        runs.setdefault(row.get("run_id"), {"run_id": row.get("run_id")})
    return rows, predictions, runs
