"""Runs that survive: kill and resume, interrupts, timeouts, memory limits, parallel jobs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness import store
from tests.conftest import ROOT, run_cli

pytestmark = pytest.mark.slow

SEEDS = "suite.seeds=[0,1,2,3,4]"


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "harness.cli", "run", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_records(results: Path, n: int, proc: subprocess.Popen, limit: float = 60) -> Path:
    t0 = time.time()
    while time.time() - t0 < limit:
        files = list(results.glob("*/*/records-*.jsonl"))
        if files and sum(1 for _ in open(files[0])) >= n:
            return files[0].parent
        if proc.poll() is not None:
            raise AssertionError(f"run ended early: {proc.communicate()}")
        time.sleep(0.05)
    raise AssertionError("no records appeared")


def _planned(args) -> set[str]:
    res = run_cli("plan", *args)
    assert res.returncode == 0, res.stderr
    return {line.split()[0] for line in res.stdout.splitlines() if not line.startswith("#")}


def test_sigkill_then_resume_records_each_planned_trial_once(plugin_dir, tmp_path):
    args = ["--config-dir", str(plugin_dir / "myconf"), "suite=smoke", "model=sleepy", SEEDS,
            f"results_dir={tmp_path}"]
    proc = _start(*args)
    run_dir = _wait_for_records(tmp_path, 3, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = store.load(run_dir, all_records=True)
    done = store.ok_trial_ids(run_dir)  # ok with their predictions: the kill may tear the last one
    assert 3 <= len(before) < 10 and len(done) >= len(before) - 1
    res = run_cli("run", *args, f"resume={run_dir}")
    assert res.returncode == 0, res.stderr
    assert f"{len(done)} trials were already ok" in res.stderr
    rows = store.load(run_dir, all_records=True)
    ok = rows[rows["status"] == "ok"]["trial_id"]
    assert set(ok) == _planned(args)
    # only a trial whose predictions line the kill cut off ran again
    assert set(ok[ok.duplicated()]) <= set(before.loc[before["status"] == "ok", "trial_id"]) - done
    assert len(list(tmp_path.glob("smoke/*"))) == 1  # resumed in place, no new run dir


def test_sigint_finishes_cleanly_and_says_how_to_resume(plugin_dir, tmp_path):
    args = ["--config-dir", str(plugin_dir / "myconf"), "suite=smoke", "model=sleepy", SEEDS,
            f"results_dir={tmp_path}"]
    proc = _start(*args)
    run_dir = _wait_for_records(tmp_path, 2, proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    hint = next(line for line in err.splitlines() if "resume with:" in line)
    assert f"resume={run_dir}" in hint
    rows = store.load(run_dir, all_records=True)
    assert (rows["status"] == "interrupted").sum() <= 1  # 0 when the signal came between trials
    res = run_cli(*hint.split("resume with: harness ", 1)[1].split())
    assert res.returncode == 0, res.stderr
    df = store.load(run_dir)
    assert (df["status"] == "ok").all() and len(df) == len(_planned(args))


def test_a_hanging_model_times_out_and_the_run_goes_on(plugin_dir, tmp_path):
    res = run_cli("run", "--config-dir", str(plugin_dir / "myconf"), "suite=smoke", "-m",
                  "model=hang,knn", "suite.trial_timeout_s=3", f"results_dir={tmp_path}", timeout=120)
    assert res.returncode == 1, res.stderr
    df = store.load(str(tmp_path / "smoke" / "*"))
    hang = df[df["model"] == "hang"]
    assert (hang["status"] == "timeout").all() and len(hang) == 2
    assert hang["error"].str.contains("trial_timeout_s=3").all()
    assert (df[df["model"] == "knn"]["status"] == "ok").all()


def test_out_of_memory_is_a_failed_trial_that_says_so(plugin_dir, tmp_path):
    res = run_cli("run", "--config-dir", str(plugin_dir / "myconf"), "suite=smoke", "model=hog",
                  "dataset=moons", "suite.max_memory_gb=2", f"results_dir={tmp_path}", timeout=120)
    assert res.returncode == 1, res.stderr
    df = store.load(str(tmp_path / "smoke" / "*"))
    assert (df["status"] == "failed").all()
    assert df["error"].str.contains("out of memory").all()


def test_parallel_run_matches_sequential(tmp_path):
    seq = run_cli("run", "suite=smoke", f"results_dir={tmp_path / 'seq'}")
    par = run_cli("run", "suite=smoke", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
                  f"results_dir={tmp_path / 'par'}")
    assert seq.returncode == 0 and par.returncode == 0, par.stderr
    a = store.load(str(tmp_path / "seq" / "smoke" / "*")).set_index("trial_id")
    b = store.load(str(tmp_path / "par" / "smoke" / "*")).set_index("trial_id")
    assert sorted(a.index) == sorted(b.index)
    assert (a["accuracy"] == b.loc[a.index, "accuracy"]).all()
    assert sorted(f.name for f in b["run_dir"].map(Path).iloc[0].glob("records-*.jsonl")) == \
        ["records-0.jsonl", "records-1.jsonl"]
    assert (b["parallel_jobs"] == 2).all() and (b["threads"] == max(1, len(os.sched_getaffinity(0)) // 2)).all()


def test_two_runs_never_share_a_run_dir(tmp_path):
    args = ["suite=smoke", "model=knn", f"results_dir={tmp_path}", "run_id=fixed"]
    assert run_cli("run", *args).returncode == 0
    res = run_cli("run", *args)
    assert res.returncode == 2 and "already holds a run" in res.stderr


def test_submitit_local_launcher_runs_the_same_code_path(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher",
                        reason="hydra-submitit-launcher is not installed (pip install -e .[dev])")
    res = run_cli("run", "suite=smoke", "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=5",
                  f"results_dir={tmp_path}", timeout=300)
    assert res.returncode == 0, res.stderr
    run_dir = next(tmp_path.glob("smoke/*"))
    assert sorted(f.name for f in run_dir.glob("records-*.jsonl")) == ["records-0.jsonl", "records-1.jsonl"]
    assert len(store.load(run_dir)) == 6 and (run_dir / "report.md").exists()
