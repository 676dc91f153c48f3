"""Plan expansion: matrix, include/exclude, compatibility, keys, command-line axes."""

from __future__ import annotations

import json
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
    assert plan.missing_extras() == ['model cnn needs torch, which is not installed: pip install "harness[deep]"']


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


# -- planning reads plain options directly and remembers passed model checks ------------------
def test_an_option_hydra_must_compose_is_left_to_hydra(tmp_path):
    """An option with a defaults list (here: extending logreg) is composed by Hydra, not read as is."""
    from harness.config import plain_option

    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "logreg_l2.yaml").write_text(
        "defaults:\n  - logreg\n  - _self_\nname: logreg_l2\nestimator:\n  C: 0.25\n")
    (tmp_path / "model" / "pkg.yaml").write_text("# @package _global_\nname: pkg\n")
    assert plain_option("model", "logreg_l2", [tmp_path]) is None
    assert plain_option("model", "pkg", [tmp_path]) is None
    node = api.option("model", "logreg_l2", [tmp_path])
    assert (node.name, node.family, node.estimator.C, node.estimator.max_iter) == ("logreg_l2", "classical", 0.25, 1000)


def test_plain_options_are_searched_in_hydras_order(tmp_path):
    """The later config dir wins, as in Hydra's own composition of the same option."""
    for name, c in (("a", 0.5), ("b", 0.25)):
        (tmp_path / name / "model").mkdir(parents=True)
        (tmp_path / name / "model" / "logreg.yaml").write_text(
            "name: logreg\nfamily: classical\n"
            f"estimator:\n  _target_: sklearn.linear_model.LogisticRegression\n  C: {c}\n")
    dirs = [tmp_path / "a", tmp_path / "b"]
    assert api.option("model", "logreg", dirs).estimator.C == 0.25
    assert api.option("model", "logreg", dirs[::-1]).estimator.C == 0.5
    assert api.compose(["model=logreg"], dirs).model.estimator.C == 0.25
    assert api.option("model", "knn", dirs).estimator.n_neighbors == 5  # the bundled one, where no dir has it


@pytest.mark.slow  # Hydra composes the primary config once per bundled option
def test_every_bundled_option_reads_as_hydra_composes_it():
    from hydra import compose as hydra_compose

    from harness.config import GROUPS, plain_option, suites_dir, validate

    with api.hydra_context():
        for group in GROUPS:
            for path in sorted((suites_dir() / group).glob("*.yaml")):
                plain = plain_option(group, path.stem, [suites_dir()])
                assert plain is not None, path
                composed = hydra_compose(config_name="config", overrides=[f"{group}={path.stem}"])[group]
                assert OmegaConf.to_yaml(validate(group, plain)) == OmegaConf.to_yaml(validate(group, composed)), path


@pytest.fixture
def check_cache(tmp_path, monkeypatch):
    """A fresh cache of passed model checks, and a count of the full checks made."""
    from harness import trial

    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    calls = []
    real = trial.check_estimator_config

    def counted(node, name):
        calls.append(name)
        return real(node, name)

    monkeypatch.setattr(trial, "check_estimator_config", counted)
    return calls


def test_a_passed_model_check_is_remembered_and_a_failed_one_never(check_cache):
    from harness.paramcheck import cache_file, check_model

    node = api.option("model", "logreg").estimator
    check_model(node, "logreg")
    check_model(node, "logreg")
    assert check_cache == ["logreg"] and cache_file().is_file()
    bad = node.copy()
    bad.C = -1.0
    for _ in range(2):  # checked in full each time, with the same one line
        with pytest.raises(UserError, match=r"^model logreg: The 'C' parameter of LogisticRegression must be"):
            check_model(bad, "logreg")
    assert check_cache == ["logreg"] * 3


ESTIMATOR_MODULE = '''
from numbers import Integral

from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval


class Est(BaseEstimator):
    _parameter_constraints = {{"k": [Interval(Integral, {low}, None, closed="left")], "module": [callable, None]}}

    def __init__(self, k=5, module=None):
        self.k = k
        self.module = module


def make(k=5):
    return Est(k)
'''


def test_a_changed_estimator_module_is_checked_again(check_cache, tmp_path, monkeypatch):
    import os
    import sys

    from harness.paramcheck import check_model

    module = tmp_path / "my_estimators.py"
    module.write_text(ESTIMATOR_MODULE.format(low=1))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "my_estimators", raising=False)
    node = OmegaConf.create({"_target_": "my_estimators.Est", "k": 3})
    check_model(node, "mine")
    check_model(node, "mine")
    assert check_cache == ["mine"]
    module.write_text(ESTIMATOR_MODULE.format(low=4))  # k=3 is no longer allowed
    os.utime(module, ns=(module.stat().st_atime_ns, module.stat().st_mtime_ns + 10**9))
    monkeypatch.delitem(sys.modules, "my_estimators")
    with pytest.raises(UserError, match="'k' parameter of Est must be an int in the range"):
        check_model(node, "mine")


def test_a_class_named_as_a_partial_is_remembered_with_its_module(check_cache, tmp_path, monkeypatch):
    """A network's class given to TorchClassifier as ``module`` (fcn, resnet): named, not called."""
    import sys

    from harness.paramcheck import cache_file, check_model

    for name in ("my_models", "my_nets"):
        (tmp_path / f"{name}.py").write_text(ESTIMATOR_MODULE.format(low=1))
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    node = OmegaConf.create({"_target_": "my_models.Est", "k": 3,
                             "module": {"_target_": "my_nets.make", "_partial_": True, "k": 2}})
    check_model(node, "net")
    check_model(node, "net")
    assert check_cache == ["net"]
    files = [f for entry in json.loads(cache_file().read_text()).values() for f, *_ in entry["files"]]
    assert str(tmp_path / "my_nets.py") in files


def test_a_factory_is_checked_every_time(check_cache, tmp_path, monkeypatch):
    """A factory may need an optional library (dtw_1nn, xgboost): its check is never skipped."""
    import sys

    from harness.paramcheck import check_model

    (tmp_path / "my_factories.py").write_text(ESTIMATOR_MODULE.format(low=1))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "my_factories", raising=False)
    for node in (OmegaConf.create({"_target_": "my_factories.make", "k": 3}),
                 OmegaConf.create({"_target_": "my_factories.Est", "k": {"_target_": "builtins.int", "_args_": [3]}})):
        check_model(node, "made")
        check_model(node, "made")
    assert check_cache == ["made"] * 4


def test_planning_again_imports_no_estimator_library(tmp_path):
    """The first plan builds every model (without torch); the next one needs neither scikit-learn nor torch."""
    import os
    import subprocess
    import sys

    code = ("import sys; from harness.cli import main; assert main(['plan', 'suite=quick']) == 0; "
            "print(sorted(m for m in ('sklearn', 'torch', 'pandas', 'matplotlib') if m in sys.modules))")
    env = {**os.environ, "HARNESS_CACHE_DIR": str(tmp_path)}
    first, again = (subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
                    for _ in range(2))
    loaded = first.stdout.strip().splitlines()[-1]
    assert "sklearn" in loaded and "torch" not in loaded, first.stderr[-2000:]
    assert again.stdout.strip().splitlines()[-1] == "[]", again.stderr[-2000:]
