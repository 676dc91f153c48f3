"""Every bundled suite, shrunk (one seed, tiny data, few steps), runs end to end on CPU and
produces its findings."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import open_dict

from harness import store
from harness.api import execute, plan as make_plan

pytestmark = pytest.mark.slow

SUITES = sorted(p.stem for p in (Path(__file__).parent.parent / "suites" / "suite").glob("*.yaml"))

#: what "shrunk" means, per parameter a config may have
SHRINK = {
    "dataset": {"num_samples": 1200, "train_split": 0.8, "n_samples": 300},
    "model": {"epochs": 1, "max_steps": 20, "n_estimators": 10, "max_iter": 20,
              "hidden": [16], "channels": 8},
    "features": {"n_kernels": 40, "n_components": 10},
}


def shrink(trial):
    for axis, params in SHRINK.items():
        node = getattr(trial, axis).copy()
        inner = node.loader if axis == "dataset" else node.estimator if axis == "model" else node.transformer
        with open_dict(inner):
            for key, value in params.items():
                if key in inner and (key != "hidden" or inner[key]):  # [] is the perceptron
                    inner[key] = value
            if "n_train" in inner and inner.n_train:
                inner.n_train = min(int(inner.n_train), 600)
        setattr(trial, axis, node)
    return trial


@pytest.mark.parametrize("name", SUITES)
def test_suite_runs_shrunk_and_answers_its_question(compose, tmp_path, name):
    if name == "ucr":
        pytest.importorskip("aeon", reason='the UCR problems need the ts extra: pip install "harness[ts]"')
    cfg = compose(f"suite={name}", "progress=false")
    if cfg.suite.tuning.budget_trials:  # a suite that tunes, shrunk: two candidates per search
        cfg.suite.tuning.budget_trials = 2
    plan = make_plan(cfg, ["seed=0"])
    seen, trials = set(), []
    for t in plan.trials:  # one trial per key and device, shrunk
        if (t.key, t.where) not in seen:
            seen.add((t.key, t.where))
            trials.append(shrink(t))
    plan.trials = trials
    result = execute(plan, cfg, tmp_path / "run")
    df = store.load(tmp_path / "run")
    assert len(df) == len(trials)
    assert set(df["status"]) <= {"ok", "skipped"}, df[df["status"] != "ok"][["model", "error"]].to_string()
    assert result.exit_code == 0
    report = (tmp_path / "run" / "report.md").read_text()
    assert f"## Findings: suite {name}" in report and cfg.suite.question in report
    if (df["status"] == "skipped").any():  # GPU rows on a machine without one
        assert "GPU trials were skipped" in report
