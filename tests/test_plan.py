"""Plan expansion: matrix, include/exclude, compatibility, keys, command-line axes."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from harness import api
from harness.errors import UserError
from harness.plan import expand


def suite(**kw):
    base = {"name": "t", "seeds": [0, 1], "matrix": {"dataset": ["digits", "moons"],
            "features": ["raw"], "model": ["logreg", "knn"], "device": ["cpu"]},
            "include": [], "exclude": []}
    base.update(kw)
    return OmegaConf.create(base)


def test_matrix_product_times_seeds(compose):
    compose()
    plan = expand(suite(), api.option)
    assert len(plan.trials) == 2 * 2 * 2
    assert {t.seed for t in plan.trials} == {0, 1}
    assert len({t.trial_id for t in plan.trials}) == len(plan.trials)


def test_exclude_and_include(compose):
    compose()
    s = suite(exclude=[{"dataset": "moons", "model": "knn"}],
              include=[{"dataset": "digits", "features": "pca", "model": ["svm_rbf", "logreg"]}])
    labels = {(t.dataset.name, t.features.name, t.model.name) for t in expand(s, api.option).trials}
    assert ("moons", "raw", "knn") not in labels
    assert ("digits", "pca", "svm_rbf") in labels and ("digits", "pca", "logreg") in labels
    assert ("moons", "raw", "logreg") in labels


def test_incompatible_combinations_are_dropped_with_a_reason(compose):
    compose()
    s = suite(matrix={"dataset": ["digits", "moons"], "features": ["hog"], "model": ["logreg"],
                      "device": ["cpu"]})
    plan = expand(s, api.option)
    assert {t.dataset.name for t in plan.trials} == {"digits"}
    assert any("moons/hog/logreg" in d and "image" in d for d in plan.dropped)


def test_a_torch_model_without_torch_is_dropped_with_how_to_install_it(compose, monkeypatch):
    from harness import plan as plan_module

    compose()
    s = suite(matrix={"dataset": ["digits"], "features": ["raw"], "model": ["logreg", "cnn"], "device": ["cpu"]})
    assert {t.model.name for t in expand(s, api.option).trials} == {"logreg", "cnn"}
    monkeypatch.setattr(plan_module, "_has_torch", lambda: False)
    plan = expand(s, api.option)
    assert {t.model.name for t in plan.trials} == {"logreg"}  # classical models need no torch
    assert plan.dropped == ['digits/raw/cnn: model cnn needs torch, which is not installed: '
                            'pip install "harness[deep]"']


def test_key_is_stable_ignores_seed_and_device_and_changes_with_params(compose):
    compose()
    a = expand(suite(), api.option).trials
    b = expand(suite(matrix={**suite().matrix, "device": ["cuda"]}), api.option).trials
    assert [t.key for t in a] == [t.key for t in b]  # same computation, other device
    assert a[0].trial_id != b[0].trial_id
    same = [t for t in a if t.dataset.name == "digits" and t.model.name == "logreg"]
    assert len({t.key for t in same}) == 1 and len(same) == 2
    c = expand(suite(matrix={**suite().matrix, "model.estimator.C": [0.5]}), api.option).trials
    assert not {t.key for t in c} & {t.key for t in a}
    assert all(t.model.estimator.get("C") == 0.5 for t in c if t.model.name == "logreg")


def test_chosen_axes_replace_the_matrix(compose):
    cfg = compose("suite=smoke", "model=svm_rbf", "seed=3")
    plan = api.plan(cfg, ["model=svm_rbf", "seed=3"])
    assert {t.model.name for t in plan.trials} == {"svm_rbf"}
    assert {t.seed for t in plan.trials} == {3}
    assert {t.dataset.name for t in plan.trials} == {"digits", "moons"}


def test_command_line_param_edits_reach_the_selected_option(compose):
    cfg = compose("suite=smoke", "model=svm_rbf", "model.estimator.C=3.5")
    plan = api.plan(cfg, ["model=svm_rbf", "model.estimator.C=3.5"])
    assert all(t.model.estimator.C == 3.5 for t in plan.trials)


def test_unknown_option_in_a_suite_names_the_choices(compose):
    compose()
    with pytest.raises(UserError, match="unknown model 'nope'.*logreg"):
        expand(suite(matrix={**suite().matrix, "model": ["nope"]}), api.option)


def test_bad_matrix_key(compose):
    compose()
    with pytest.raises(UserError, match="neither an axis"):
        expand(suite(matrix={**suite().matrix, "bogus": [1]}), api.option)


SUITES = sorted(p.stem for p in (Path(__file__).parent.parent / "suites" / "suite").glob("*.yaml"))


@pytest.mark.parametrize("name", SUITES)
def test_every_bundled_suite_plans(compose, name):
    if name == "ucr":
        pytest.importorskip("aeon", reason='the UCR problems need the ts extra: pip install "harness[ts]"')
    cfg = compose(f"suite={name}")
    plan = api.plan(cfg)
    assert plan.trials
    assert all(t.seed in list(cfg.suite.seeds) for t in plan.trials)
    assert cfg.suite.name == name and cfg.suite.question and cfg.suite.description


def test_a_list_of_options_on_the_command_line_says_how_to_run_each():
    from harness.plan import chosen_axes

    with pytest.raises(UserError, match=r"model=\[mlp,svm_rbf\]: a list merges several model configs into one; "
                                        r"to run each, use `harness run -m model=mlp,svm_rbf`"):
        chosen_axes(["suite=smoke", "model=[mlp,svm_rbf]"])
    assert chosen_axes(["model=knn", "split=1"]) == {"model": "knn", "split": 1}
