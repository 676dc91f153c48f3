"""asv: the configuration is valid and a quick run of a couple of benchmarks works."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow


def asv(*args, home, timeout=240):
    exe = shutil.which("asv") or os.path.join(os.path.dirname(sys.executable), "asv")
    if not os.path.exists(exe):
        pytest.skip("asv is not installed (pip install -e '.[dev]')")
    env = {**os.environ, "HOME": str(home), "HARNESS_ASV_ONLY": "moons/raw/logreg", "PYTHONWARNINGS": "ignore"}
    return subprocess.run([exe, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)


def test_benchmarks_are_generated_from_the_suite():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from asv_bench import trials
    finally:
        sys.path.pop(0)
    names = trials._names()
    assert any(n.startswith("digits/raw/logreg@cpu") for n in names)
    for method in ("time_fit", "peakmem_fit", "track_accuracy"):
        assert hasattr(trials.Trials, method)
    assert trials.Trials.track_accuracy.unit == "accuracy"
    assert hasattr(trials.Predict, "time_predict")


def test_asv_check_and_quick_run(tmp_path):
    machine = asv("machine", "--yes", "--machine", "harness-test", home=tmp_path)
    assert machine.returncode == 0, machine.stderr
    check = asv("check", "--python=same", home=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    run = asv("run", "--python=same", "--quick", "--dry-run", "--show-stderr",
              "-b", "Trials.track_accuracy", "-b", "Predict.time_predict", home=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert "moons/raw/logreg@cpux1" in out and "failed" not in out.lower()


def _trials_module():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from asv_bench import trials
    finally:
        sys.path.pop(0)
    return trials


def test_the_plan_is_made_once_and_read_back_the_same(tmp_path, monkeypatch):
    """asv imports the benchmarks in every process: the second one reads the plan, Hydra stays out."""
    from harness import api

    trials = _trials_module()
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("HARNESS_CONFIG_PATH", "")
    trials._plan.cache_clear()
    planned = trials._plan()
    (cached,) = (tmp_path / "asv-plans").glob(f"{trials.SUITE}-*.json")
    trials._plan.cache_clear()

    def no_planning(*_):
        raise AssertionError("planned again although the plan is cached")

    monkeypatch.setattr(api, "plan", no_planning)
    read = trials._plan()
    assert list(read) == list(planned) and trials._to_json(read) == trials._to_json(planned)
    assert [t.key for t in read.values()] == [t.key for t in planned.values()]
    cached.write_text("{not json")  # a damaged cache: planned again
    monkeypatch.undo()
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path))
    trials._plan.cache_clear()
    assert list(trials._plan()) == list(planned)
    trials._plan.cache_clear()


def test_documented_sequence_publishes_data(tmp_path):
    """docs/ci.md's asv commands, smallest setting: run with the commit hash, publish, data in the graphs."""
    import json

    conf = json.loads("\n".join(line for line in (ROOT / "asv.conf.json").read_text().splitlines()
                                if not line.strip().startswith("//")))
    conf.update(repo=str(ROOT), benchmark_dir=str(ROOT / conf["benchmark_dir"]),
                env_dir=str(tmp_path / "env"), results_dir=str(tmp_path / "results"),
                html_dir=str(tmp_path / "html"))
    (tmp_path / "asv.conf.json").write_text(json.dumps(conf))
    cfg = ["--config", str(tmp_path / "asv.conf.json")]
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    assert asv("machine", "--yes", "--machine", "harness-test", home=tmp_path).returncode == 0
    run = asv("run", *cfg, "--python=same", "--quick", "--set-commit-hash", head,
              "-b", "Trials.track_accuracy", home=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    publish = asv("publish", *cfg, home=tmp_path)
    assert publish.returncode == 0, publish.stdout + publish.stderr
    (graph,) = (tmp_path / "html" / "graphs").glob("branch-*/machine-harness-test/*/trials.Trials.track_accuracy.json")
    points = json.loads(graph.read_text())
    assert points and all(0.5 < value[0] <= 1 for _, value in points), points  # a commit, an accuracy


def _working_tree_as_two_commits(dest):
    """A clone whose HEAD~1 is this working tree (committed or not) and HEAD a trivial change."""
    import shutil

    git = ["git", "-c", "user.email=t@example.org", "-c", "user.name=t"]
    subprocess.run(["git", "clone", "-q", str(ROOT), str(dest)], check=True, timeout=120)
    listed = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for rel in filter(None, listed):
        src, dst = ROOT / rel, dest / rel
        if src.is_symlink():
            dst.unlink(missing_ok=True)
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.symlink_to(os.readlink(src))
        elif src.is_file():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    subprocess.run([*git, "add", "-A"], cwd=dest, check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "the working tree"], cwd=dest, check=True)
    with open(dest / "README.md", "a") as fh:
        fh.write("\n")
    subprocess.run([*git, "commit", "-q", "-am", "a trivial change"], cwd=dest, check=True)


def test_asv_continuous_then_publish(tmp_path):
    """`asv continuous HEAD~1 HEAD` builds a virtualenv per commit from the wheel (suites inside)."""
    import json

    probe = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(tmp_path / "probe"),
                            "threadpoolctl"], capture_output=True, text=True, timeout=120)
    if probe.returncode != 0:
        pytest.skip("no package index reachable: asv continuous installs harness's dependencies from it")
    repo = tmp_path / "repo"
    _working_tree_as_two_commits(repo)
    exe = shutil.which("asv") or os.path.join(os.path.dirname(sys.executable), "asv")
    env = {**os.environ, "HOME": str(tmp_path), "HARNESS_ASV_ONLY": "moons/raw/logreg",
           "HARNESS_CACHE_DIR": str(tmp_path / "cache"), "PYTHONWARNINGS": "ignore"}

    def run(*args):
        return subprocess.run([exe, *args], cwd=repo, capture_output=True, text=True, timeout=900, env=env)

    assert run("machine", "--yes", "--machine", "harness-test").returncode == 0
    cont = run("continuous", "HEAD~1", "HEAD", "-b", "Trials.track_accuracy")
    assert cont.returncode == 0 and "moons/raw/logreg@cpux1" in cont.stdout, cont.stdout + cont.stderr
    assert "failed" not in cont.stdout.lower()
    assert run("publish").returncode == 0
    (graph,) = (repo / ".asv" / "html" / "graphs").glob("branch-*/machine-harness-test/*/trials.Trials.track_accuracy.json")
    points = json.loads(graph.read_text())
    assert len(points) == 2 and all(0.5 < value[0] <= 1 for _, value in points), points  # both commits
