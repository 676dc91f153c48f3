"""Planted differences (``harness.models.corrupt``) and the verdict-quality benchmark that uses them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from harness import api
from harness.models.corrupt import CorruptedClassifier, corrupt

ROOT = Path(__file__).resolve().parent.parent


def test_corrupt_with_labels_turns_exactly_that_many_right_predictions_wrong():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 5, 1000)
    y_pred = np.where(rng.random(1000) < 0.8, y_true, (y_true + 1) % 5)
    bad = corrupt(y_pred, 0.03, seed=7, y_true=y_true)
    assert np.mean(y_pred == y_true) - np.mean(bad == y_true) == pytest.approx(0.03)
    changed = bad != y_pred
    assert changed.sum() == 30 and np.all(y_pred[changed] == y_true[changed])  # only right ones, now wrong
    assert np.isin(bad, np.arange(5)).all()
    assert np.array_equal(bad, corrupt(y_pred, 0.03, seed=7, y_true=y_true))  # seeded
    assert not np.array_equal(bad, corrupt(y_pred, 0.03, seed=8, y_true=y_true))
    assert np.array_equal(corrupt(y_pred, 0.0, seed=7, y_true=y_true), y_pred)
    # fewer right predictions than asked for: all of them turn wrong, no more
    assert np.mean(corrupt(y_pred, 0.95, seed=1, y_true=y_true) == y_true) == 0


def test_corrupt_without_labels_changes_that_many_predictions_to_another_class():
    y_pred = np.repeat(np.array([3, 5, 9]), 100)
    bad = corrupt(y_pred, 0.1, seed=0, classes=[3, 5, 9])
    assert (bad != y_pred).sum() == 30 and set(np.unique(bad)) <= {3, 5, 9}


@pytest.mark.parametrize("kwargs", [{"share": 1.5}, {"share": -0.1}, {"share": 0.1, "classes": [1]},
                                    {"share": 0.1, "y_true": [0, 1]}])
def test_corrupt_refuses_what_it_cannot_do(kwargs):
    with pytest.raises(ValueError):
        corrupt(np.array([0, 1, 1]), **kwargs)


def test_corrupted_classifier_stands_in_for_the_model_it_wraps():
    from sklearn.datasets import load_digits
    from sklearn.ensemble import RandomForestClassifier

    X, y = load_digits(return_X_y=True)
    wrapped = CorruptedClassifier(RandomForestClassifier(n_estimators=10), share=0.2)
    wrapped.set_params(random_state=3)  # a trial's seed reaches the wrapped model
    assert wrapped.get_params()["random_state"] == 3 and wrapped.estimator.random_state == 3
    wrapped.fit(X[:1200], y[:1200])
    plain = wrapped.estimator.predict(X[1200:])
    pred = wrapped.predict(X[1200:])
    assert (pred != plain).sum() == round(0.2 * len(plain))
    assert np.array_equal(pred, wrapped.predict(X[1200:]))
    assert np.array_equal(wrapped.classes_, np.arange(10))
    assert not hasattr(wrapped, "predict_proba")  # it would disagree with the corrupted predictions
    with pytest.raises(ValueError):
        CorruptedClassifier(RandomForestClassifier(), share=2)


@pytest.mark.slow
def test_a_suite_plants_a_worse_model_with_the_wrapper(tmp_path):
    """Through harness: a model YAML wrapping logreg, run beside logreg, scores lower by about its share."""
    conf = tmp_path / "conf"
    (conf / "model").mkdir(parents=True)
    (conf / "model" / "logreg_minus10.yaml").write_text(
        "name: logreg_minus10\ndescription: logreg with 10% of its predictions made wrong\nfamily: classical\n"
        "estimator:\n  _target_: harness.models.corrupt.CorruptedClassifier\n  share: 0.1\n"
        "  estimator:\n    _target_: sklearn.linear_model.LogisticRegression\n    max_iter: 1000\n")
    overrides = ["suite=smoke", "dataset=digits", f"results_dir={tmp_path}", "report=false", "progress=false",
                 "suite.matrix.model=[logreg,logreg_minus10]"]
    cfg = api.compose(overrides, [conf])
    plan = api.plan(cfg, overrides)
    rows = api.load(api.execute(plan, cfg).run_dir).set_index("model")
    assert rows.loc[["logreg", "logreg_minus10"], "status"].eq("ok").all()
    drop = rows.loc["logreg", "accuracy"] - rows.loc["logreg_minus10", "accuracy"]
    assert 0.08 <= drop <= 0.1 + 1e-9  # right ones turn wrong; a wrong one rarely turns right
    assert np.isnan(rows.loc["logreg_minus10", "log_loss"])
    assert rows.loc["logreg_minus10", "val_accuracy"] < rows.loc["logreg", "val_accuracy"]


@pytest.mark.slow
def test_verdict_quality_benchmark_runs_in_its_smallest_setting():
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "verdict_quality.py"), "--smallest"],
                         capture_output=True, text=True, cwd=ROOT, timeout=300,
                         env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    out = res.stdout
    row = re.search(r"^\| digits \| (\d+) \(default\) \| (\d+) \| +([\d.]+)% \[([\d.]+), ([\d.]+)\] \| "
                    r"([\d.]+)% \| +([\d.]+)% \[([\d.]+), ([\d.]+)\] \|", out, re.M)
    assert row, out
    j, draws = int(row[1]), int(row[2])
    false, lo, hi, equivalent, power, plo, phi = (float(row[i]) / 100 for i in range(3, 10))
    assert j >= 2 and draws > 0
    for share in (false, lo, hi, equivalent, power, plo, phi):
        assert 0 <= share <= 1
    assert lo <= false <= hi and plo <= power <= phi
    # a planted 3-point difference is found far more often than A/A "finds" one: the verdict reads the data
    assert power > false + 0.3
    assert re.search(r"^digits: false verdicts ≤ 5% .*met.*\(J tried: \d+; default \d+: (met|not met)\)$", out,
                     re.M), out
    assert re.search(r"wall \d+\.\d s .*load average [\d.]+", out), out


def test_a_share_rounds_to_the_nearest_row_halves_up():
    from harness.models.corrupt import rows_for

    assert [rows_for(0.01, 450), rows_for(0.02, 450), rows_for(0.03, 450), rows_for(0.02, 1000)] == [5, 9, 14, 20]
    assert rows_for(0.0, 10) == 0 and rows_for(1.0, 10) == 10


def _benchmark():
    import importlib.util

    spec = importlib.util.spec_from_file_location("verdict_quality", ROOT / "benchmarks" / "verdict_quality.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # dataclasses look their module up there
    spec.loader.exec_module(sys.modules[spec.name])
    return sys.modules[spec.name]


def test_simulated_draws_count_the_planted_side_as_the_one_to_lose():
    vq = _benchmark()
    rng = np.random.default_rng(0)
    acc = 0.9 + rng.normal(0, 0.002, (20, 4))  # seeds differ a little; splits alike
    pool = vq.Pool("toy", np.arange(20), np.arange(4), acc, {3: acc - 0.03, 0: acc.copy()}, ratio=0.25)
    t = vq.simulate(pool, 10, 2, 300, np.random.default_rng(1))
    assert t.draws == 300 and sum(t.aa.values()) == 300
    assert t.planted[3]["right"] == 300 and t.planted[3]["wrong"] == 0 and t.drop[3] == pytest.approx(3.0)
    assert t.planted[0]["right"] == t.planted[0]["wrong"] == 0  # nothing planted: nothing to find
    assert vq.false_rate(t) == 0 and vq.meets(t)  # without 2 points planted only false verdicts count
    pool.planted[2] = acc.copy()  # "2 points" that are none: never found, so the power goal fails
    assert not vq.meets(vq.simulate(pool, 10, 2, 100, np.random.default_rng(2)))


def test_the_splits_that_meet_the_goals_are_those_from_which_every_larger_j_meets_them():
    vq = _benchmark()
    good, bad = vq.Tally(draws=100, planted={2: Counter(right=90)}), vq.Tally(draws=100, planted={2: Counter(right=50)})
    assert vq.smallest_from({3: bad, 5: good, 8: bad, 10: good, 15: good}) == 10
    assert vq.smallest_from({3: good, 5: good}) == 3 and vq.smallest_from({3: good, 5: bad}) is None
    alarm = vq.Tally(draws=100, aa=Counter(a_better=4, b_better=2), planted={2: Counter(right=99)})
    assert not vq.meets(alarm)
