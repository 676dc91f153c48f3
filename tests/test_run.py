"""End to end: real suites run on CPU, records read back, failures recorded, not fatal."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from harness import store
from harness.runner import execute
from harness.schema import RECORD_COLUMNS
from tests.conftest import run_cli

pytestmark = pytest.mark.slow


def test_smoke_suite_records_every_trial(compose, tmp_path):
    cfg = compose("suite=smoke", "progress=false")
    result = execute(cfg, run_dir=tmp_path / "run")
    assert result.exit_code == 0
    df = store.load(tmp_path / "run")
    assert len(df) == result.counts["ok"] == 6
    assert set(RECORD_COLUMNS) <= set(df.columns)
    assert (df["status"] == "ok").all() and (df["error"] == "").all()
    assert df["accuracy"].between(0.5, 1).all()
    assert (df["fit_s"] > 0).all() and (df["peak_rss_mb"] > 0).all() and (df["threads"] >= 1).all()
    assert (df["mem_growth_mb"] >= 0).all() and (df["mem_growth_mb"] < df["peak_rss_mb"]).all()
    assert set(df["family"]) == {"classical", "perceptron"}
    digits = df[df["dataset"] == "digits"].iloc[0]
    assert (digits["n_train"], digits["n_test"], digits["n_features"], digits["n_classes"]) == (1347, 450, 64, 10)
    # predictions are stored and agree with the recorded accuracy
    preds = store.load_predictions(tmp_path / "run")
    for r in df.itertuples():
        y_true, y_pred = preds[r.trial_id]
        assert np.mean(y_true == y_pred) == pytest.approx(r.accuracy)
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["config"]["suite"]["name"] == "smoke" and info["n_trials"] == 6
    assert "scikit-learn" in info["environment"]["packages"]
    assert (tmp_path / "run" / "report.md").exists()


def test_same_seed_same_accuracy(compose, tmp_path):
    cfg = compose("suite=smoke", "progress=false", "report=false", "model=perceptron")
    a = store.load(execute(cfg, {"model": "perceptron"}, run_dir=tmp_path / "a").run_dir)
    b = store.load(execute(cfg, {"model": "perceptron"}, run_dir=tmp_path / "b").run_dir)
    assert a["accuracy"].tolist() == b["accuracy"].tolist()


def test_user_model_from_config_dir(plugin_dir, tmp_path):
    res = run_cli("run", "--config-dir", str(plugin_dir / "myconf"), "suite=smoke", "model=majority",
                  f"results_dir={tmp_path / 'res'}")
    assert res.returncode == 0, res.stderr
    df = store.load(str(tmp_path / "res" / "smoke" / "*"))
    assert set(df["model"]) == {"majority"} and (df["p_boost"] == 2).all()
    assert (df["status"] == "ok").all()
    assert df["log_loss"].isna().all()  # no predict_proba: NaN, not a failure


def test_failing_model_is_recorded_and_run_goes_on(plugin_dir, tmp_path):
    res = run_cli("run", "--config-dir", str(plugin_dir / "myconf"), "suite=smoke", "-m",
                  "model=broken,knn", f"results_dir={tmp_path / 'res'}")
    assert res.returncode == 1, res.stderr
    assert "boom: this model always fails" in res.stderr
    assert "Traceback" not in res.stderr
    df = store.load(str(tmp_path / "res" / "smoke" / "*"))
    broken = df[df["model"] == "broken"]
    assert len(broken) == 2 and (broken["status"] == "failed").all()
    assert broken["error"].str.contains("ValueError: boom").all()
    assert (df[df["model"] == "knn"]["status"] == "ok").all()
    run_dir = df["run_dir"].iloc[0]
    assert "ValueError" in open(os.path.join(run_dir, "errors-0.log")).read()
    assert "failed" in open(os.path.join(run_dir, "report.md")).read()
