"""Equal tuning budgets: search spaces checked at plan time, a tuned trial beside every default
one, the search on validation only and seeded, its columns, and the default-vs-tuned report."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from omegaconf import OmegaConf

from harness import api, store
from harness.config import validate
from harness.errors import UserError
from harness.plan import expand
from harness.report import content
from harness.schema import RECORD_COLUMNS, TUNING_COLUMNS
from harness.tuning import check_space, search

C_SPACE = {"C": {"type": "float", "low": 0.01, "high": 100.0, "log": True}}


def suite(tuning=None, models=("logreg", "knn"), **kw):
    base = {"name": "t", "seeds": [0], "splits": 2, "matrix": {"dataset": ["digits"], "features": ["raw"],
            "model": list(models), "device": ["cpu"]}, "include": [], "exclude": []}
    if tuning is not None:
        base["tuning"] = tuning
    base.update(kw)
    return OmegaConf.create(base)


def with_space(name: str, space) -> OmegaConf:
    node = api.option("model", name).copy()
    node.search_space = space
    return node


@pytest.mark.parametrize("space, says", [
    ({"bogus": {"type": "float", "low": 1, "high": 2}}, "search_space.bogus is not a parameter of LogisticRegression"),
    ({"C": {"type": "float", "low": 10, "high": 1}}, "low=10 must be below high=1"),
    ({"C": {"type": "float", "low": 0, "high": 1, "log": True}}, "a log range needs low > 0"),
    ({"max_iter": {"type": "int", "low": 1.5, "high": 20}}, "must be whole numbers"),
    ({"C": {"type": "normal", "low": 1, "high": 2}}, "give {type: float|int|categorical"),
    ({"C": {"type": "float", "low": 1, "high": 2, "step": 1}}, "unknown key 'step'"),
    ({"solver": {"type": "categorical", "choices": ["lbfgs"]}}, "at least two values"),
    ({"random_state": {"type": "int", "low": 0, "high": 3}}, "set by the trial"),
    ({"C": {"type": "float", "low": -1, "high": 1}}, "-1 is not a value the estimator takes"),
    ({"solver": {"type": "categorical", "choices": ["lbfgs", "newton"]}}, "'newton' is not a value"),
])
def test_a_bad_search_space_is_one_line_naming_the_parameter(compose, space, says):
    compose()
    with pytest.raises(UserError) as err:
        check_space(with_space("logreg", space))
    msg = str(err.value)
    assert says in msg and "model logreg: search_space." in msg and "\n" not in msg


def test_the_shape_of_a_space_is_checked_when_the_model_config_is_loaded():
    node = OmegaConf.create({"name": "m", "family": "classical", "estimator": {"_target_": "x.Y"},
                             "search_space": {"C": {"type": "float", "low": 2, "high": 1}}})
    with pytest.raises(UserError, match="model m: search_space.C: low=2 must be below high=1"):
        validate("model", node, "m")


def test_every_bundled_space_is_valid(compose):
    compose()
    for name in ("logreg", "svm_rbf", "random_forest", "hist_gb", "mlp", "cnn"):
        model = api.option("model", name)
        assert model.search_space, name
        check_space(model)
        assert "epochs" not in model.search_space  # a candidate costs about what the default does


def test_a_suite_with_tuning_plans_a_default_and_a_tuned_trial_for_models_with_a_space(compose):
    compose()
    plain = expand(suite(), api.option).trials
    trials = expand(suite({"budget_trials": 3}), api.option).trials
    tuned = [t for t in trials if t.tuning]
    assert {t.model.name for t in tuned} == {"logreg"}  # knn declares no space: defaults only
    assert len(trials) == len(plain) + 2 and len(tuned) == 2  # one tuned trial per split
    assert len({t.trial_id for t in trials}) == len(trials)
    assert all(t.trial_id.endswith("-tuned") for t in tuned)
    # default trials keep their keys, so runs from before tuning still pair with them
    assert {t.trial_id for t in trials if not t.tuning} == {t.trial_id for t in plain}
    default_key = next(t.key for t in plain if t.model.name == "logreg")
    assert all(t.key != default_key and t.tuning["of"] == default_key for t in tuned)
    assert tuned[0].tuning["budget_trials"] == 3
    assert tuned[0].tuning["space"] == OmegaConf.to_container(api.option("model", "logreg").search_space)
    # the budget is part of what a tuned trial computes
    other = expand(suite({"budget_trials": 4}), api.option).trials
    assert {t.key for t in other if t.tuning} != {t.key for t in tuned}


@pytest.mark.parametrize("tuning, says", [
    ({"budget_trials": 0}, "tuning.budget_trials=0 is not a number of candidates"),
    ({"budget_s": -1.0}, "tuning.budget_s=-1.0 is not a time"),
])
def test_a_bad_budget_is_one_line(compose, tuning, says):
    compose()
    with pytest.raises(UserError, match=says):
        expand(suite(tuning), api.option)


def test_tuning_without_a_validation_carve_is_refused(compose):
    compose()
    with pytest.raises(UserError, match="val_fraction is 0"):
        expand(suite({"budget_trials": 3}, val_fraction=0.0), api.option)


def test_a_suite_that_tunes_without_optuna_says_how_to_install_it(compose, monkeypatch):
    compose()
    monkeypatch.setitem(sys.modules, "optuna", None)  # `import optuna` fails, as where it is not installed
    with pytest.raises(UserError) as err:
        expand(suite({"budget_trials": 3}), api.option)
    assert 'pip install "harness[tune]"' in str(err.value) and "\n" not in str(err.value)
    assert expand(suite({"budget_trials": 3}, models=("knn",)), api.option).trials  # nothing to tune: fine
    assert expand(suite(), api.option).trials  # no tuning asked: fine


def test_optuna_is_not_imported_with_harness():
    code = ("import sys, harness.api, harness.plan, harness.trial, harness.tuning, harness.report.tuning; "
            "assert 'optuna' not in sys.modules, 'optuna imported'")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).returncode == 0


def test_the_search_is_seeded_keeps_to_its_budget_and_its_space():
    pytest.importorskip("optuna", reason='tuning needs the tune extra: pip install "harness[tune]"')
    space = {"C": {"type": "float", "low": 0.01, "high": 100.0, "log": True},
             "k": {"type": "int", "low": 1, "high": 9},
             "hidden": {"type": "categorical", "choices": [[8], [8, 8], None]}}
    tuning = {"space": space, "budget_trials": 6, "budget_s": None}
    seen = []

    def make(params):
        seen.append(params)
        return params

    def score(params) -> float:  # best near C = 3, k = 4, hidden = [8, 8]
        return -abs(params["C"] - 3) - abs(params["k"] - 4) - (params["hidden"] != [8, 8])

    first = search(tuning, 0, make, score, defaults={"C": 1.0, "k": 2, "hidden": None})
    again = search(tuning, 0, make, score, defaults={"C": 1.0, "k": 2, "hidden": None})
    assert first.params == again.params and first.candidates == 6
    assert seen[:6] == seen[6:]  # the same candidates in the same order
    assert seen[0] == {"C": 1.0, "k": 2, "hidden": None}  # the defaults go first
    for params in seen:
        assert 0.01 <= params["C"] <= 100 and params["k"] in range(1, 10) and params["hidden"] in ([8], [8, 8], None)
    assert first.best_val == max(score(p) for p in seen[:6])
    search(tuning, 1, make, score, defaults={})
    assert seen[12:18] != seen[:6]  # another seed draws other candidates


def test_the_search_leaves_out_failing_candidates_and_fails_when_all_do():
    pytest.importorskip("optuna", reason='tuning needs the tune extra: pip install "harness[tune]"')
    tuning = {"space": C_SPACE, "budget_trials": 4, "budget_s": None}

    def picky(params):
        if params["C"] < 1:
            raise ValueError("diverged")
        return params

    found = search(tuning, 0, picky, lambda p: p["C"], defaults={"C": 0.5})
    assert found.params["C"] >= 1 and found.candidates == 4
    with pytest.raises(RuntimeError, match="every one of the 4 candidates failed; the first: ValueError: diverged"):
        search(tuning, 0, lambda p: picky({"C": 0.0}), lambda p: 0.0, defaults={})


def test_a_tuned_trial_records_its_search_and_the_report_shows_default_against_tuned(compose, tmp_path):
    """A planted bad default (C = 1e-6): the tuned trial's C lies in the space, and on validation
    it does at least as well; the report has the default-vs-tuned table and its sentence."""
    pytest.importorskip("optuna", reason='tuning needs the tune extra: pip install "harness[tune]"')
    overrides = ["suite=smoke", "dataset=digits", "model=logreg", "model.estimator.C=1e-6",
                 "model.estimator.max_iter=200", "suite.tuning.budget_trials=3", "suite.splits=1",
                 "report=false", "progress=false"]
    cfg = compose(*overrides)
    cfg.model.search_space = C_SPACE
    result = api.execute(api.plan(cfg, overrides), cfg, tmp_path / "run")
    assert result.exit_code == 0
    df = store.load(tmp_path / "run")
    assert set(TUNING_COLUMNS) <= set(df.columns) and set(RECORD_COLUMNS) <= set(df.columns)
    default, tuned = (df[df["tuning"] == kind].iloc[0] for kind in ("default", "tuned"))
    assert (default["status"], tuned["status"]) == ("ok", "ok")
    params = json.loads(tuned["tuned_params"])
    assert set(params) == {"C"} and 0.01 <= params["C"] <= 100
    assert tuned["val_accuracy"] >= default["val_accuracy"] + 0.1  # the default is planted bad
    assert tuned["tuning_s"] > 0 and tuned["fit_s"] < tuned["tuning_s"]  # the search is timed apart
    assert (tuned["tuning_budget"], tuned["tuning_candidates"], tuned["tuning_of"]) == (3, 3, default["key"])
    assert default["tuned_params"] == "" and default["tuning_of"] == ""

    report = content.build([tmp_path / "run"], df, [store.read_run_info(tmp_path / "run")])
    from harness.report.markdown import build_markdown
    from harness.report.render import sig

    text = build_markdown(report)
    assert "## Default vs tuned" in text
    row = next(line for line in text.splitlines() if line.startswith("| digits | logreg |"))
    assert f"C={sig(params['C'], trim=True)}" in row
    assert "digits: tuning does not change who wins: logreg" in text  # the only model


def _rec(model, split, val, acc, tuning="default", of="", dataset="d", fit_s=1.0):
    r = {c: None for c in RECORD_COLUMNS}
    key = f"{dataset}-{model}-{tuning}"
    r.update(run_id="run", suite="syn", key=key, trial_id=f"{key}-cpu-p{split}-s0", dataset=dataset, features="raw",
             model=model, family="classical", device="cpu", split=split, seed=0, status="ok", error="",
             skip_reason="", accuracy=acc, f1_macro=acc, val_accuracy=val, fit_s=fit_s, raw_input=True,
             n_train=100, n_test=50, tuning=tuning, tuning_of=of, tuned_params=json.dumps({"C": 2.0}) if of else "",
             tuning_s=5.0 if of else float("nan"), tuning_budget=20.0 if of else float("nan"))
    return r


def test_the_report_says_when_tuning_changes_who_wins_on_validation(tmp_path):
    # on d, a wins on validation on defaults; b, tuned, wins on validation; b's default is best on test.
    # On e, b tuned ties a on validation: no change that validation can tell
    rows = []
    for split in range(3):
        rows += [_rec("a", split, 0.90, 0.80), _rec("b", split, 0.85, 0.95),
                 _rec("b", split, 0.95, 0.90 + 0.01 * split, tuning="tuned", of="d-b-default"),
                 _rec("a", split, 0.90, 0.80, dataset="e"), _rec("b", split, 0.85, 0.95, dataset="e"),
                 _rec("b", split, 0.90, 0.90, tuning="tuned", of="e-b-default", dataset="e", fit_s=0.5)]
    w = store.RunWriter(tmp_path / "run")
    w.write_run_info({"run_id": "run", "suite": "syn", "config": {"suite": {"name": "syn"}}})
    for r in rows:
        w.record(r)
    from harness.report.tuning import table, winners
    from harness.report.wording import sentence

    report = content.build([tmp_path / "run"], store.load(tmp_path / "run"), [store.read_run_info(tmp_path / "run")])
    t = table(report.summary, report.records)
    assert list(t["dataset"]) == ["d", "e"] and list(t["model"]) == ["b", "b"]
    assert t["points"].iloc[0] == pytest.approx(100 * (0.91 - 0.95))
    assert t["verdict"].iloc[0] == "default better" and t["params"].iloc[0] == "C=2"
    found = winners(report.summary, report.records)
    assert [(f.kind, f.dataset, f.verdict) for f in found] == [("tuning_winner", "d", "changed"),
                                                               ("tuning_winner", "e", "tie")]
    assert (found[0].one("default").model, found[0].one("tuned").model) == ("a", "b")
    said = [sentence(f) for f in found]
    assert said == ["d: tuning changes who wins: on defaults a is chosen on validation (validation 90.0%, test 80.0%); "
                    "with tuning, b (tuned) (validation 95.0%, test 91.0%).",
                    "e: tuning does not change who wins that validation can tell: b (tuned) ties a on validation "
                    "(validation 90.0%, test 90.0%), and the faster fit is chosen."]


@pytest.mark.slow
def test_the_trial_timeout_covers_the_whole_search(plugin_dir, tmp_path):
    """The search runs inside the trial's worker: six candidates of 0.4 s pass a 1.5 s limit
    that the default (0.3 s) keeps to."""
    pytest.importorskip("optuna", reason='tuning needs the tune extra: pip install "harness[tune]"')
    from tests.conftest import run_cli

    (plugin_dir / "myconf" / "model" / "sleepy_space.yaml").write_text(
        "name: sleepy_space\nfamily: classical\nestimator:\n  _target_: userpkg.models.Majority\n  sleep_s: 0.3\n"
        "search_space:\n  sleep_s: {type: categorical, choices: [0.4, 0.5]}\n")
    res = run_cli("run", "--config-dir", str(plugin_dir / "myconf"), "suite=smoke", "model=sleepy_space",
                  "dataset=moons", "suite.tuning.budget_trials=6", "suite.trial_timeout_s=1.5",
                  f"results_dir={tmp_path}", "report=false", timeout=180)
    assert res.returncode == 1, res.stderr
    df = store.load(str(tmp_path / "smoke" / "*"))
    status = dict(zip(df["tuning"], df["status"]))
    assert status == {"default": "ok", "tuned": "timeout"}
