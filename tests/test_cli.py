"""The command line: listings, plans, and one clear line with exit code 2 for bad input."""

from __future__ import annotations

import pytest

from tests.conftest import run_cli


def test_help_lists_commands():
    res = run_cli("--help")
    assert res.returncode == 0
    for cmd in ("run", "plan", "list", "report", "compare", "baseline", "init", "completion"):
        assert f"  {cmd}" in res.stdout


def test_help_does_not_import_heavy_libraries():
    import subprocess
    import sys

    code = ("import sys, harness.cli as c; c.main(['--help']); "
            "print(sorted(m for m in ('torch','sklearn','pandas','hydra','matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("group", ["models", "datasets", "features", "suites", "devices"])
def test_list_group_shows_descriptions(group):
    res = run_cli("list", group)
    assert res.returncode == 0, res.stderr
    lines = [line for line in res.stdout.splitlines()[1:] if line.strip()]
    assert lines and all(len(line.split(None, 1)) == 2 for line in lines)


def test_list_all():
    res = run_cli("list")
    assert res.returncode == 0
    for title in ("models:", "datasets:", "features:", "suites:", "devices:"):
        assert title in res.stdout
    assert "svm_rbf" in res.stdout and "mnist1d" in res.stdout


@pytest.mark.slow
def test_plan_prints_trials_without_running(tmp_path):
    res = run_cli("plan", "suite=quick", f"results_dir={tmp_path}")
    assert res.returncode == 0, res.stderr
    assert "# suite quick:" in res.stdout and "mnist1d/raw/logreg@cpu split=2 seed=0" in res.stdout
    assert not any(tmp_path.iterdir())


@pytest.mark.slow  # one harness subprocess per case
@pytest.mark.parametrize("args, expect", [
    (["run", "model=nope"], "unknown model 'nope'; choose one of:"),
    (["run", "dataset=nope"], "unknown dataset 'nope'"),
    (["run", "seed=abc"], "invalid override seed=abc"),
    (["run", "suite=smoke", "foo=1"], "invalid override foo=1"),
    (["plan", "suite=nope"], "unknown suite 'nope'"),
    (["run", "suite=smoke", "model=knn", "model.estimator.n_neighbors=abc"], "'n_neighbors' parameter"),
    (["run", "suite=smoke", "model=knn", "model.estimator.bogus=3"], "Key 'bogus' is not in struct"),
    (["run", "suite=smoke", "dataset=csv"], "dataset.loader.path is required"),
    (["list", "nope"], "unknown group 'nope'"),
    (["report", "/nonexistent/run"], "no such run dir"),
    (["frobnicate"], "unknown command"),
    (["run", "suite=smoke", "--config-dir", "/no/such/dir"], "config dir /no/such/dir does not exist"),
    (["plan", "suite=smoke", "--config-dir"], "--config-dir needs a directory"),
    (["compare", "a", "b", "--config-dir", "/no/such/dir"], "config dir /no/such/dir does not exist"),
    (["baseline", "save", "suite=smoke", "--config-dir", "/no/such/dir"], "does not exist"),
    (["run", "dataset=csv", "suite=smoke", "dataset.loader.path=/no/such.csv", "dataset.loader.target=y"],
     "/no/such.csv"),
])
def test_bad_input_one_clear_line_exit_2(args, expect, tmp_path):
    res = run_cli(*args, f"results_dir={tmp_path}") if args[0] == "run" else run_cli(*args)
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = [line for line in res.stderr.strip().splitlines() if line.startswith("harness: error")]
    assert len(lines) == 1 and expect in lines[0], res.stderr
    assert "Traceback" not in res.stderr


def test_hydra_options_pass_through(tmp_path):
    res = run_cli("run", "suite=smoke", "--cfg", "job")
    assert res.returncode == 0 and "suite:" in res.stdout and "name: smoke" in res.stdout
    res = run_cli("run", "--help")
    assert res.returncode == 0 and "harness run" in res.stdout


def test_list_config_dir_bad_input_is_one_line(tmp_path, capsys):
    from harness.cli import main

    assert main(["list", "--config-dir"]) == 2
    assert "--config-dir needs a directory" in capsys.readouterr().err
    assert main(["list", "--config-dir", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "listy.yaml").write_text("- a\n- b\n")
    assert main(["list", "models", "--config-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "listy" in out and "not a config: the file holds a YAML list" in out


@pytest.mark.slow  # harness subprocesses, one of them a multirun through @hydra.main
def test_run_takes_config_dirs_repeated_later_wins(tmp_path):
    """`--config-dir` repeated (Hydra's own parser keeps one): plain runs and multiruns alike."""
    import json

    for name, c in (("a", 0.5), ("b", 0.25)):
        (tmp_path / name / "model").mkdir(parents=True)
        (tmp_path / name / "model" / "logreg.yaml").write_text(
            f"name: logreg\nfamily: classical\nestimator:\n  _target_: sklearn.linear_model.LogisticRegression\n"
            f"  C: {c}\n  max_iter: 200\n")
    dirs = ["--config-dir", str(tmp_path / "a"), "--config-dir", str(tmp_path / "b")]
    res = run_cli("run", *dirs, "suite=smoke", "dataset=moons", "model=logreg", "report=false",
                  "run_id=plain", f"results_dir={tmp_path / 'r'}")
    assert res.returncode == 0, res.stderr
    res = run_cli("run", "-m", *dirs, "suite=smoke", "dataset=moons", "model=logreg", "seed=0,1",
                  "report=false", "run_id=multi", f"results_dir={tmp_path / 'r'}")
    assert res.returncode == 0, res.stderr
    for run_id in ("plain", "multi"):
        info = json.loads((tmp_path / "r" / "smoke" / run_id / "run.json").read_text())
        assert info["config"]["config_dirs"] == [str(tmp_path / "a"), str(tmp_path / "b")]
        records = [json.loads(line) for f in (tmp_path / "r" / "smoke" / run_id).glob("records-*.jsonl")
                   for line in f.read_text().splitlines()]
        assert records and all(r["status"] == "ok" for r in records)
    cfg = json.loads((tmp_path / "r" / "smoke" / "plain" / "run.json").read_text())["config"]
    assert cfg["model"]["estimator"]["C"] == 0.25
