"""End to end: real suites run on CPU, records read back, failures recorded, not fatal."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from harness import store
from harness import api
from harness.schema import RECORD_COLUMNS, SKIP_REASONS, STATUSES
from tests.conftest import run_cli

pytestmark = pytest.mark.slow


def test_smoke_suite_records_every_trial(compose, tmp_path):
    cfg = compose("suite=smoke", "progress=false")
    result = api.execute(api.plan(cfg), cfg, tmp_path / "run")
    assert result.exit_code == 0
    df = store.load(tmp_path / "run")
    assert len(df) == result.counts["ok"] == 6
    assert set(RECORD_COLUMNS) <= set(df.columns)
    assert (df["status"] == "ok").all() and (df["error"] == "").all()
    assert df["accuracy"].between(0.5, 1).all()
    assert (df["fit_s"] > 0).all() and (df["peak_rss_mb"] > 0).all() and (df["threads"] >= 1).all()
    assert (df["mem_growth_mb"] >= 0).all() and (df["mem_growth_mb"] < df["peak_rss_mb"]).all()
    assert set(df["family"]) == {"classical", "perceptron"}
    assert df["raw_input"].all() and (df["skip_reason"] == "").all()  # features=raw: the input itself
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
    a = store.load(api.execute(api.plan(cfg, ["model=perceptron"]), cfg, tmp_path / "a").run_dir)
    b = store.load(api.execute(api.plan(cfg, ["model=perceptron"]), cfg, tmp_path / "b").run_dir)
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
    assert set(df["status"]) <= set(STATUSES) and (broken["threads"] >= 1).all()  # threads even when failed
    run_dir = df["run_dir"].iloc[0]
    assert "ValueError" in open(os.path.join(run_dir, "errors-0.log")).read()
    assert "failed" in open(os.path.join(run_dir, "report.md")).read()


def test_a_cuda_trial_without_a_gpu_is_skipped_with_its_reason(compose, tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    cfg = compose("suite=smoke", "progress=false", "report=false", "device=cuda", "model=knn",
                  "dataset=digits", "features=pca")
    result = api.execute(api.plan(cfg, ["device=cuda", "model=knn", "dataset=digits", "features=pca"]), cfg,
                         tmp_path / "run")
    df = store.load(result.run_dir)
    assert set(df["status"]) == {"skipped"} and set(df["skip_reason"]) == {"no_cuda"} <= set(SKIP_REASONS)
    assert not df["raw_input"].any() and (df["threads"] >= 1).all()
    assert df["error"].str.contains("CUDA is not available").all()
