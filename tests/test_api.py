"""The one way in: harness.api composes, plans, executes, re-runs; nobody else touches Hydra."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from harness import api, store
from harness.errors import UserError

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(p for d in ("harness", "benchmarks", "docs", "tests") for p in (ROOT / d).rglob("*.py"))


def test_compose_plan_execute_load(tmp_path):
    cfg = api.compose(["suite=smoke", "model=knn", f"results_dir={tmp_path}", "report=false", "progress=false"])
    plan = api.plan(cfg, ["model=knn"])
    assert {t.model.name for t in plan.trials} == {"knn"}
    assert plan.chosen == {"model": "knn"}
    result = api.execute(plan, cfg)
    df = api.load(result.run_dir)
    assert len(df) == len(plan.trials) and set(df["status"]) == {"ok"}
    assert result.run_dir == tmp_path / "smoke" / cfg.run_id
    info = store.read_run_info(result.run_dir)
    assert info["overrides"] == ["model=knn"] and info["chosen"] == {"model": "knn"}


def test_a_bad_override_is_one_user_error():
    with pytest.raises(UserError, match="unknown model 'nope'"):
        api.compose(["model=nope"])
    with pytest.raises(UserError, match="seed must be an integer"):
        api.plan(api.compose(["suite=smoke"]), ["seed=x"])


def _model_yaml(path: Path, name: str, extra: str = "", C: float = 1.0) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / f"{name}.yaml").write_text(
        f"name: {name}\n{extra}family: classical\nestimator:\n"
        f"  _target_: sklearn.linear_model.LogisticRegression\n  C: {C}\n  max_iter: 200\n")


def test_trial_key_hashes_only_what_computes(tmp_path):
    """Planning metadata (name, description, kinds) leaves the key alone; a parameter changes it."""
    conf = tmp_path / "conf"
    _model_yaml(conf / "model", "plain_lr")
    _model_yaml(conf / "model", "described_lr", "description: the same model, described\n"
                                                "kinds: [tabular, image, points, signal]\n")
    _model_yaml(conf / "model", "other_lr", C=0.5)

    def keys(model):
        cfg = api.compose(["suite=smoke", f"model={model}"], [conf])
        return {t.dataset.name: t.key for t in api.plan(cfg, [f"model={model}"]).trials}

    assert keys("plain_lr") == keys("described_lr")
    assert set(keys("other_lr").values()).isdisjoint(keys("plain_lr").values())


def test_rerun_rebuilds_trials_from_the_checkout_not_from_results(tmp_path):
    cfg = api.compose(["suite=smoke", "model=knn", f"results_dir={tmp_path}", "report=false", "progress=false"])
    first = api.execute(api.plan(cfg, ["model=knn"]), cfg)
    info = store.read_run_info(first.run_dir)
    # A crafted run.json: its config would run arbitrary code if it were instantiated.
    info["config"]["model"]["estimator"] = {"_target_": "os.system", "command": "touch pwned"}
    info["overrides"] = ["model=knn", "model.estimator._target_=os.system"]
    wanted = set(api.load(first.run_dir)["trial_id"])
    again = api.rerun(info, wanted, tmp_path / "again" / "r1")
    assert set(api.load(again.run_dir)["trial_id"]) == wanted
    assert not (ROOT / "pwned").exists() and not Path("pwned").exists()
    with pytest.raises(UserError, match="no longer planned"):
        api.rerun(info, {"000000000000-cpu-s0"}, tmp_path / "again" / "r2")


def test_a_rerun_keeps_the_thread_count_its_original_ran_with(tmp_path):
    """compare --confirm re-runs a group; the thread policy must not move the re-run to another group."""
    from harness import cpus

    cfg = api.compose(["suite=smoke", "model=knn", f"results_dir={tmp_path}", "report=false", "progress=false"])
    first = api.execute(api.plan(cfg, ["model=knn"]), cfg)
    df = api.load(first.run_dir)
    other = cpus.trial_threads(None) + 1  # a count the policy would not give now
    again = api.rerun(store.read_run_info(first.run_dir), dict.fromkeys(df["trial_id"], other),
                      tmp_path / "again" / "r1")
    redone = api.load(again.run_dir)
    assert set(redone["trial_id"]) == set(df["trial_id"]) and set(redone["threads"]) == {other}


def _calls(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            fn = node.func
            names.add(fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", ""))
    return names


def test_only_the_api_initialises_hydra():
    offenders = [p.relative_to(ROOT) for p in SOURCES if p.name != "api.py"
                 and _calls(ast.parse(p.read_text())) & {"initialize_config_dir", "initialize",
                                                         "initialize_config_module"}]
    assert offenders == []
    mains = [p.relative_to(ROOT) for p in SOURCES if p.name != "test_api.py" and "hydra.main(" in p.read_text()]
    assert mains == [Path("harness/app.py")]


def test_no_module_imports_another_modules_private_names():
    offenders = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("harness"):
                offenders += [f"{path.relative_to(ROOT)}: {node.module}.{a.name}" for a in node.names
                              if a.name.startswith("_") and not a.name.startswith("__")]
    assert offenders == []


def test_no_private_attribute_of_a_harness_module_is_reached_into():
    pattern = re.compile(r"\b(?:runner|trial|app|store|plan|config|api|confirm|verdict|match|stats)\._[a-z]\w*")
    offenders = [f"{p.relative_to(ROOT)}: {m}" for p in SOURCES if p.parent.name != "tests"
                 for m in pattern.findall(p.read_text())]
    assert offenders == []


@pytest.mark.parametrize("yaml, message", [
    ("name: noest\nfamily: classical\n", "has no `estimator`"),
    ("name: noest\nfamily: quantum\nestimator:\n  _target_: sklearn.linear_model.LogisticRegression\n",
     "family 'quantum' is not one of"),
])
def test_an_option_chosen_on_the_command_line_is_checked_like_a_matrix_option(tmp_path, yaml, message):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "noest.yaml").write_text(yaml)
    with pytest.raises(UserError, match=message):
        api.compose(["suite=smoke", "model=noest"], [tmp_path])
