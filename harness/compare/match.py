"""The two sides of a comparison: records, predictions and machines, matched into groups.

A side is one or more run dirs (globs too, or a parent such as a baseline dir written by
``harness baseline save``), read through :mod:`harness.store`: each trial of a run counts
once, as it finally ended (a trial that failed and then succeeded on resume is ok).
Records pair up across sides by **group**: the trial's ``key`` (what it computes), the
device and the thread count. Within a group, the samples are the ``(split, seed)`` pairs
(:data:`PAIR`) and repeated runs of them; records written before splits were apart from
seeds count each seed as its own split, so old baselines pair with new runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.errors import UserError

GROUP = ("key", "device", "threads")
#: What pairs two records within a group: the same train/test split and the same model seed.
PAIR = ("split", "seed")
NUMERIC = ("accuracy", "balanced_accuracy", "f1_macro", "log_loss", "val_accuracy", "features_s", "fit_s",
           "predict_s", "cpu_s", "peak_rss_mb", "samples_per_s", "split", "seed", "threads")


@dataclass
class Side:
    """One side of a comparison."""

    name: str                      # what the user passed, for the report
    records: "pandas.DataFrame"    # noqa: F821 - one row per record; `round` 0 = original runs
    predictions: dict = field(default_factory=dict)   # trial_id -> (y_true, y_pred)
    runs: dict = field(default_factory=dict)          # run_id -> run.json
    files: list[Path] = field(default_factory=list)   # the run dirs

    @property
    def fingerprints(self) -> set:
        """Fingerprint ids of the machines this side ran on (None where a run has none)."""
        return {(info.get("fingerprint") or {}).get("id") for info in self.runs.values()} or {None}

    def calibration(self, run_id: str) -> float:
        """The calibration score (seconds) of a run, NaN when it has none."""
        return calibration_of(self.runs.get(run_id) or {})

    def first_run(self) -> dict:
        return next(iter(self.runs.values()), {})


def calibration_of(info: dict) -> float:
    """A run.json's calibration score (seconds): a positive finite number, else NaN."""
    value = (info.get("calibration") or {}).get("score_s")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    return float(value) if math.isfinite(value) and value > 0 else math.nan


#: run.json fields compare reads, and the types they must have when present (None: absent).
_INFO_TYPES = {"run_id": (str, int), "suite": str, "fingerprint": dict, "calibration": dict,
               "environment": dict, "config": dict, "overrides": list}
_JSON_TYPE = {dict: "object", list: "list", str: "string"}


def read_info(run_dir: Path) -> dict:
    """A run dir's run.json through :func:`harness.store.read_run_info` (which refuses newer
    schemas), checked to be what compare can read: a JSON object with fields of the right types."""
    from harness import store

    path = Path(run_dir) / store.RUN_FILE
    try:
        info = store.read_run_info(run_dir)
    except (AttributeError, TypeError):  # a list, a string...; or a schema_version that isn't a number
        raise UserError(f"{path} is not a run.json: expected a JSON object with a numeric schema_version; "
                        "restore it or delete the run dir") from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    for name, types in _INFO_TYPES.items():
        if info.get(name) is not None and not isinstance(info[name], types):
            raise UserError(f"{path}: its {name!r} is not a JSON {_JSON_TYPE.get(types, 'string')}; "
                            "restore the run.json or delete the run dir")
    for name, sub in (("fingerprint", "id"), ("environment", "packages")):
        value = (info.get(name) or {}).get(sub)
        if value is not None and not isinstance(value, str if sub == "id" else dict):
            raise UserError(f"{path}: its {name}.{sub} is malformed; restore the run.json or delete the run dir")
    return info


def suites_of(side: "Side") -> set:
    """The suites a side's runs and records name (what run.json and each record say)."""
    named = {info.get("suite") for info in side.runs.values()}
    if "suite" in side.records:
        named |= set(side.records["suite"].dropna().astype(str))
    return {s for s in named if s}


def check_same_suite(base: "Side", cand: "Side") -> None:
    """Refuse to compare runs of different suites: every group of one would be 'missing'."""
    b, c = suites_of(base), suites_of(cand)
    if b and c and b != c:
        raise UserError(f"the baseline holds suite {', '.join(sorted(b))} and the candidate suite "
                        f"{', '.join(sorted(c))}: compare runs of the same suite")


#: Columns that name things: kept as text, whatever JSON type a (damaged) record gave them.
_TEXT = ("run_id", "suite", "key", "trial_id", "dataset", "features", "model", "device", "status", "error")


def frame(rows) -> "pandas.DataFrame":  # noqa: F821
    """Records (a DataFrame or dicts) with the columns compare needs, typed.

    ``threads`` is a column of every record; records written before it was filled for
    failed and skipped trials get -1 (unknown), which :func:`adopt_threads` resolves.
    ``split`` is the seed where a record has none (schema 1).
    """
    import pandas as pd

    from harness.store import fill_split

    df = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame.from_records(rows)
    for col in _TEXT:
        if col not in df.columns:
            df[col] = None
        else:  # a list or a number where a name belongs must not break grouping
            df[col] = df[col].astype(object).where(df[col].isna(), df[col].astype(str))
    for col in NUMERIC:
        df[col] = pd.to_numeric(df[col], errors="coerce") if col in df.columns else np.nan
        df[col] = df[col].where(np.isfinite(df[col]))  # inf (1e999 in JSON) is no measurement
    df["split"] = fill_split(df["split"], df["seed"])  # schema 1: each seed was its own split
    if "round" not in df.columns:
        df["round"] = 0
    df["error"] = df["error"].fillna("")
    df["threads"] = df["threads"].fillna(-1).astype(int)  # -1: unknown
    return df.reset_index(drop=True)


def adopt_threads(a: "pandas.DataFrame", b: "pandas.DataFrame") -> None:  # noqa: F821
    """Give rows of unknown thread count (-1) the count the other side has for that key and device."""
    for this, other in ((a, b), (b, a)):
        unknown = this["threads"] < 0
        if not unknown.any():
            continue
        known = other[other["threads"] >= 0].groupby(["key", "device"])["threads"].agg(
            lambda s: s.iloc[0] if s.nunique() == 1 else -1)
        for idx in this.index[unknown]:
            this.at[idx, "threads"] = int(known.get((this.at[idx, "key"], this.at[idx, "device"]), -1))


def load_side(spec: str | Path | list, name: str | None = None) -> Side:
    """A side from run dirs, globs of them, or their parents (a baseline dir)."""
    from harness import store
    from harness.compare.baseline import is_old_format, old_format_error

    specs = [spec] if isinstance(spec, (str, Path)) else list(spec)
    if not specs:
        raise UserError("nothing to compare: pass run dirs, globs of run dirs, or a baseline dir")
    name = name or " ".join(map(str, specs))
    for s in specs:
        if is_old_format(s):
            raise old_format_error(s)
    dirs = store.run_dirs(specs)
    runs = {}
    for d in dirs:  # every run.json first: a damaged or newer one is refused in one line
        info = read_info(d)
        runs[str(info.get("run_id") or d.name)] = info
    records = store.load(dirs)  # each trial of a run once, as it finally ended
    if records.empty:
        raise UserError(f"{name}: no records in {', '.join(map(str, dirs))}")
    df = frame(records)
    df["round"] = 0  # records on disk are original runs, whatever a `round` field in them says
    try:
        predictions = store.load_predictions(dirs)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UserError(f"{name}: a predictions-*.jsonl file is damaged ({exc.__class__.__name__}); "
                        "restore it or delete it") from None
    return Side(name=name, records=df, predictions=predictions, runs=runs, files=dirs)


def add_records(side: Side, records, runs: dict, predictions: dict, round_: int) -> None:
    """Append re-run records (``--confirm``; a DataFrame or dicts) to a side, tagged with their round."""
    import pandas as pd

    extra = frame(records)
    extra["round"] = round_
    side.records = pd.concat([side.records, extra], ignore_index=True)
    side.runs.update(runs)
    for trial_id, pair in predictions.items():
        side.predictions.setdefault(trial_id, pair)


def samples(rows) -> list[list[int]]:
    """The ``[split, seed]`` samples of some records, sorted (a group's ``seeds_base``/``seeds_cand``)."""
    pairs = rows[list(PAIR)].dropna().drop_duplicates()
    return sorted([int(a), int(b)] for a, b in pairs.itertuples(index=False))


def group_label(rows) -> str:
    first = rows.iloc[0]
    return f"{first['dataset']}/{first['features']}/{first['model']}"


def where(device, threads) -> str:
    return f"{device}" + (f"x{threads}" if threads is not None and threads >= 0 else "")
