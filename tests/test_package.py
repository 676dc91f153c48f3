"""A real package: the suites ship in the wheel, config dirs layer over them, `harness init` scaffolds."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from harness import configdirs
from harness.errors import UserError
from tests.conftest import ROOT, run_cli


def _model_yaml(d: Path, name: str, c: float) -> None:
    (d / "model").mkdir(parents=True, exist_ok=True)
    (d / "model" / f"{name}.yaml").write_text(
        f"name: {name}\ndescription: C={c}\nfamily: classical\nestimator:\n"
        f"  _target_: sklearn.linear_model.LogisticRegression\n  C: {c}\n")


def copy_source(dest: Path) -> Path:
    """What a wheel is built from, copied (links kept) so that builds don't touch the checkout."""
    import shutil

    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("harness", "suites"):
        shutil.copytree(ROOT / name, dest / name, symlinks=True, ignore=ignore)
    (dest / "docs").mkdir()
    shutil.copy(ROOT / "docs" / "ci-workflow.yml", dest / "docs")
    for name in ("pyproject.toml", "README.md", "MANIFEST.in"):
        shutil.copy(ROOT / name, dest)
    return dest


def build_wheel(tmp: Path) -> Path:
    """``pip wheel . --no-deps`` of a copy of the checkout (offline: the venv's setuptools)."""
    src = copy_source(tmp / "src")
    out = tmp / "wheel"
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "-w", str(out), "--no-deps",
                          "--no-build-isolation", "-q"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    (wheel,) = out.glob("harness-*.whl")
    return wheel


@pytest.mark.slow  # builds a wheel (a few seconds)
def test_wheel_carries_every_suite_and_the_templates(tmp_path):
    names = set(zipfile.ZipFile(build_wheel(tmp_path)).namelist())
    suites = {f"harness/_suites/{p.relative_to(ROOT / 'suites')}" for p in (ROOT / "suites").rglob("*.yaml")}
    assert len(suites) > 40 and suites <= names, sorted(suites - names)
    for name in ("ci-workflow.yml", "my_models.py", "model.yaml", "dataset.yaml", "suite-ci.yaml"):
        assert f"harness/templates/{name}" in names
    assert not any(n.startswith(("suites/", "tests/", "results/")) for n in names)
    package = {str(p.relative_to(ROOT)) for p in (ROOT / "harness").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    assert package <= names, sorted(package - names)  # every file of the package: code, templates, tables


def test_bundled_suites_found_in_the_package_and_the_checkout(tmp_path, monkeypatch):
    from harness.config import suites_dir

    monkeypatch.delenv("HARNESS_SUITES", raising=False)
    assert suites_dir() == (ROOT / "suites").resolve()  # harness/_suites links there
    assert (ROOT / "harness" / "_suites").is_symlink()
    assert (ROOT / "harness" / "templates" / "ci-workflow.yml").resolve() == (ROOT / "docs" / "ci-workflow.yml")
    monkeypatch.setenv("HARNESS_SUITES", str(tmp_path))
    with pytest.raises(UserError, match="no suites found"):
        suites_dir()


def test_config_dirs_from_env_then_flags_later_wins(tmp_path, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    monkeypatch.setenv(configdirs.ENV, os.pathsep.join([str(b), "", str(a)]))
    assert configdirs.resolve([b]) == [str(a), str(b)]  # b named again: it moves to the end (wins)
    assert configdirs.resolve([], env=False) == []
    with pytest.raises(UserError, match="does not exist"):
        configdirs.resolve([tmp_path / "nope"])
    dirs, rest = configdirs.split_args(["--config-dir", "x", "suite=ci", "--config-dir=y", "-cd", "z", "-m"])
    assert dirs == ["x", "y", "z"] and rest == ["suite=ci", "-m"]
    with pytest.raises(UserError, match="needs a directory"):
        configdirs.split_args(["suite=ci", "--config-dir"])


def test_user_options_override_bundled_ones_later_dir_first(tmp_path, monkeypatch):
    from harness import api

    monkeypatch.delenv(configdirs.ENV, raising=False)
    a, b = tmp_path / "a", tmp_path / "b"
    _model_yaml(a, "logreg", 0.5)
    _model_yaml(b, "logreg", 0.25)
    _model_yaml(b, "mine", 3.0)
    assert api.compose(["model=logreg"]).model.estimator.C == 1.0
    assert api.compose(["model=logreg"], [a]).model.estimator.C == 0.5
    assert api.compose(["model=logreg"], [a, b]).model.estimator.C == 0.25
    assert api.compose(["model=logreg"], [b, a]).model.estimator.C == 0.5
    assert api.option("model", "logreg", [a]).estimator.C == 0.5
    cfg = api.compose(["suite=smoke"], [a])  # a suite's matrix finds the user's option too
    plan = api.plan(cfg, ["suite=smoke"])
    assert {t.model.estimator.get("C") for t in plan.trials if t.model.name == "logreg"} == {0.5}
    monkeypatch.setenv(configdirs.ENV, str(b))  # the environment's dirs come before the flags'
    assert api.compose(["model=mine"]).model.estimator.C == 3.0
    assert api.compose(["model=logreg"], [a]).model.estimator.C == 0.5


def test_list_takes_config_dirs_repeated(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _model_yaml(a, "logreg", 0.5)
    _model_yaml(b, "logreg", 0.25)
    res = run_cli("list", "--config-dir", str(a), f"--config-dir={b}", "models")
    assert res.returncode == 0, res.stderr
    assert "C=0.25" in res.stdout and "C=0.5" not in res.stdout
    env = {**os.environ, configdirs.ENV: str(a)}
    res = subprocess.run([sys.executable, "-m", "harness.cli", "list", "models"], capture_output=True,
                         text=True, env=env, cwd=ROOT)
    assert "C=0.5" in res.stdout
    res = run_cli("list", "--config-dir", str(tmp_path / "nope"))
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "does not exist" in res.stderr


def test_init_scaffolds_a_project_and_never_overwrites(tmp_path, monkeypatch):
    from harness import api
    from harness.scaffold import init_command

    root = tmp_path / "proj"
    assert init_command([str(root)]) == 0
    conf = root / "harness-config"
    for rel in ("my_models.py", "model/my_model.yaml", "dataset/my_data.yaml", "suite/ci.yaml",
                "data/my_data.csv"):
        assert (conf / rel).is_file(), rel
    flow = yaml.safe_load((root / ".github" / "workflows" / "regression.yml").read_text())
    assert flow["env"]["HARNESS_CONFIG_PATH"] == "harness-config"
    assert flow["env"]["HARNESS_INSTALL"].startswith("harness==")
    assert (root / "results" / ".gitignore").read_text().count("baselines") == 2

    # the scaffold composes and plans as it is, from the project's root, its estimator imported
    monkeypatch.chdir(root)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the config dir goes on it: undone after
    monkeypatch.delenv(configdirs.ENV, raising=False)
    cfg = api.compose(["suite=ci"], ["harness-config"])
    plan = api.plan(cfg, ["suite=ci"])
    assert {t.model.name for t in plan.trials} == {"my_model", "logreg"} and len(plan.trials) == 6
    assert cfg.suite.description.startswith("Regression tracking of my model")  # the user's ci won

    # again: nothing is written, one line, exit 2
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}
    res = run_cli("init", str(root))
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "never overwrites" in res.stderr
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()} == before
    res = run_cli("init", str(tmp_path / "other"), "--config-dir", "../out")
    assert res.returncode == 2 and "inside DIR" in res.stderr


def test_example_estimator_learns_the_example_table_and_its_knobs_matter(tmp_path):
    import importlib.util

    import numpy as np
    from sklearn.model_selection import train_test_split

    from harness.scaffold import TEMPLATES, example_table

    spec = importlib.util.spec_from_file_location("my_models_example", TEMPLATES / "my_models.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = tmp_path / "t.csv"
    path.write_text(example_table())
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    X, y = data[:, :-1], data[:, -1].astype(int)
    a, b, c, d = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    good = (module.SoftmaxRegression(random_state=0).fit(a, c).predict(b) == d).mean()
    worse = (module.SoftmaxRegression(l2=0.01, random_state=0).fit(a, c).predict(b) == d).mean()
    assert good > 0.9 and good - worse > 0.03, (good, worse)


def test_workflow_template_keeps_what_init_sets_and_no_dead_paths():
    from harness.scaffold import WORKFLOW_CONFIG, WORKFLOW_INSTALL

    text = (ROOT / "docs" / "ci-workflow.yml").read_text()
    assert WORKFLOW_CONFIG in text and WORKFLOW_INSTALL in text
    flow = yaml.safe_load(text)
    steps = {s.get("name", s.get("uses")): s for s in flow["jobs"]["regression"]["steps"]}
    assert "figures/" not in text  # report figures are fig-*.png in the run dir
    assert "pull-requests" in flow["permissions"]
    comment = steps["Post or update the PR comment"]
    assert comment["uses"].startswith("actions/github-script") and "updateComment" in comment["with"]["script"]
    runs = steps["Runs, base and candidate on this same runner"]["run"]
    assert "pull_request.base.sha" in runs and runs.count("run_base ") == 2  # base, candidate, base
    assert "GITHUB_STEP_SUMMARY" in steps["Compare"]["run"]


def test_report_figure_links_follow_the_base_url(monkeypatch):
    from harness.report.markdown import FIGURE_BASE_URL, figure_image

    monkeypatch.delenv(FIGURE_BASE_URL, raising=False)
    assert figure_image("Accuracy", "fig-a.png") == "![Accuracy](fig-a.png)"
    monkeypatch.setenv(FIGURE_BASE_URL, "https://example.org/run 1/")
    assert figure_image("Accuracy", "fig-a.png") == "![Accuracy](https://example.org/run%201/fig-a.png)"
    monkeypatch.setenv(FIGURE_BASE_URL, "")
    line = figure_image("Accuracy", "fig-a.png")
    assert "![" not in line and "fig-a.png" in line
