"""Records round-trip through JSON Lines; damaged files lose only the damaged line."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from harness import store
from harness.errors import UserError
from harness.schema import RECORD_COLUMNS, SCHEMA_VERSION


def row(i, **kw):
    r = {c: None for c in RECORD_COLUMNS}
    r.update(run_id="r", suite="s", key=f"k{i}", trial_id=f"k{i}-cpu-s0", dataset="d", features="raw",
             model="m", family="classical", device="cpu", seed=0, status="ok", error="",
             accuracy=0.5 + i / 100, log_loss=float("nan"), fit_s=0.1, p_C=1.0)
    r.update(kw)
    return r


def test_round_trip_and_fixed_columns(tmp_path):
    w = store.RunWriter(tmp_path / "run")
    assert w.write_run_info({"run_id": "run"}) is True
    assert w.write_run_info({"run_id": "other"}) is False  # written once
    for i in range(3):
        w.record(row(i))
    df = store.load(tmp_path / "run")
    assert list(df.columns[: len(RECORD_COLUMNS)]) == list(RECORD_COLUMNS)
    assert len(df) == 3 and df["accuracy"].tolist() == pytest.approx([0.5, 0.51, 0.52])
    assert df["log_loss"].isna().all()  # NaN written as null, read back as NaN
    assert (df["p_C"] == 1.0).all()


def test_torn_last_line_and_corrupt_line_are_skipped_with_warning(tmp_path):
    w = store.RunWriter(tmp_path / "run")
    w.record(row(0))
    w.record(row(1))
    path = tmp_path / "run" / "records-0.jsonl"
    with open(path, "a") as fh:
        fh.write("this is not json\n")
    w.record(row(2))
    with open(path, "a") as fh:
        fh.write(json.dumps(row(3))[:40])  # torn: the process died mid-write
    with pytest.warns(UserWarning, match=r"records-0.jsonl:3"):
        df = store.load(tmp_path / "run")
    assert sorted(df["key"]) == ["k0", "k1", "k2"]


def test_many_jobs_and_globs_merge(tmp_path):
    for job in ("0", "1"):
        store.RunWriter(tmp_path / "a" / "run1", job=job).record(row(int(job)))
    store.RunWriter(tmp_path / "a" / "run2").record(row(5))
    assert len(store.load(tmp_path / "a" / "run1")) == 2
    assert len(store.load(str(tmp_path / "a" / "run*"))) == 3
    assert len(store.load(tmp_path / "a")) == 3  # a parent of run dirs


def test_newer_schema_is_refused(tmp_path):
    run = tmp_path / "run"
    store.RunWriter(run).record(row(0))
    (run / "run.json").write_text(json.dumps({"schema_version": SCHEMA_VERSION + 1}))
    with pytest.raises(UserError, match="newer harness"):
        store.load(run)


def test_missing_run_dir_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no such run dir"):
        store.load(tmp_path / "nope")


def test_predictions_are_compact_and_exact(tmp_path):
    w = store.RunWriter(tmp_path / "run")
    y = np.arange(1000) % 10
    w.predictions("t1", y, y[::-1])
    w.predictions("t2", np.array([0, 300, 7]), np.array([1, 2, 3]))
    got = store.load_predictions(tmp_path / "run")
    np.testing.assert_array_equal(got["t1"][0], y)
    np.testing.assert_array_equal(got["t1"][1], y[::-1])
    np.testing.assert_array_equal(got["t2"][0], [0, 300, 7])
    assert (tmp_path / "run" / "predictions-0.jsonl").stat().st_size < 3000  # ~1 byte per label, base64


def test_curves_round_trip(tmp_path):
    w = store.RunWriter(tmp_path / "run")
    w.curve("t", [{"wall_s": 0.1, "step": 10, "val_accuracy": 0.5}, {"wall_s": 0.2, "step": 20, "val_accuracy": math.nan}])
    df = store.load_curves(tmp_path / "run")
    assert df["step"].tolist() == [10, 20] and df["val_accuracy"].isna().tolist() == [False, True]


def test_ok_trial_ids(tmp_path):
    w = store.RunWriter(tmp_path / "run")
    w.record(row(0))
    w.record(row(1, status="failed"))
    assert store.ok_trial_ids(tmp_path / "run") == {"k0-cpu-s0"}


def test_a_resumed_trial_is_read_once_as_it_finally_ended(tmp_path):
    w = store.RunWriter(tmp_path / "run")
    w.record(row(0, status="interrupted"))
    w.record(row(1))
    w.record(row(0, status="ok", accuracy=0.9))
    w.record(row(2, status="failed"))
    w.record(row(2, status="failed", error="again"))
    df = store.load(tmp_path / "run")
    assert sorted(df["trial_id"]) == ["k0-cpu-s0", "k1-cpu-s0", "k2-cpu-s0"]
    assert df.set_index("trial_id").loc["k0-cpu-s0", "accuracy"] == 0.9
    assert df.set_index("trial_id").loc["k2-cpu-s0", "error"] == "again"
    assert len(store.load(tmp_path / "run", all_records=True)) == 5


def test_appending_after_a_torn_line_keeps_the_new_record(tmp_path):
    w = store.RunWriter(tmp_path / "run")
    w.record(row(0))
    with open(tmp_path / "run" / "records-0.jsonl", "a") as fh:
        fh.write('{"torn": ')
    store.RunWriter(tmp_path / "run").record(row(1))  # a resumed writer
    with pytest.warns(UserWarning, match="records-0.jsonl:2"):
        df = store.load(tmp_path / "run")
    assert sorted(df["key"]) == ["k0", "k1"]
