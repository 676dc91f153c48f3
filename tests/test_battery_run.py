"""`harness run` and `harness report` against hostile and unlucky input.

Crafted run dirs (symlinks, names that are paths), two writers of one run, a resume with
other overrides, a torn predictions line, an interrupt, paths that can't be written: each is
one line and exit 2 (or a run that goes on), never a traceback, and never a lost record.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness import api, store
from harness.errors import UserError
from harness.report import write_report
from harness.schema import RECORD_COLUMNS
from tests.conftest import ROOT, run_cli

SEEDS = "suite.seeds=[0,1,2,3,4]"  # smoke with model=sleepy: 10 trials of 0.3 s


def _error_line(res: subprocess.CompletedProcess) -> str:
    """The one `harness: error:` line of a run that exited 2, without a traceback."""
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr, res.stderr
    lines = [line for line in res.stderr.splitlines() if line.startswith("harness: error")]
    assert len(lines) == 1, res.stderr
    return lines[0]


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def _record(i: int, suite: str) -> dict:
    r = {c: None for c in RECORD_COLUMNS}
    key = f"k{i % 4}"
    r.update(run_id="crafted", suite=suite, key=key, trial_id=f"{key}-cpu-s{i // 4}", dataset=f"d{i % 2}",
             features="raw", model=f"m{i % 4 // 2}", family=("classical", "perceptron")[i % 4 // 2],
             device="cpu", seed=i // 4, status="ok", error="", accuracy=0.6 + i / 100, f1_macro=0.6,
             fit_s=0.1 * (1 + i % 4), predict_s=0.001, raw_input=True, skip_reason="")
    return r


def _crafted_run(path: Path, suite: str = "syn") -> Path:
    w = store.RunWriter(path)
    w.write_run_info({"run_id": path.name, "suite": suite, "environment": {"hostname": "box", "gpus": []},
                      "config": {"suite": {"name": suite}}})
    for i in range(8):
        w.record(_record(i, suite))
    return path


def _start(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.Popen([sys.executable, "-m", "harness.cli", "run", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _quick_run(tmp_path: Path, *extra: str) -> tuple:
    """A real smoke run of knn (6 trials, about a second); its overrides and run dir."""
    overrides = ["suite=smoke", "model=knn", "suite.seeds=[0,1,2]", *extra]
    cfg = api.compose([*overrides, f"results_dir={tmp_path / 'res'}", "report=false", "progress=false"])
    result = api.execute(api.plan(cfg, overrides), cfg)
    return overrides, result.run_dir


def _resume_cfg(overrides: list[str], run_dir: Path):
    cfg = api.compose([*overrides, f"resume={run_dir}", "report=false", "progress=false"])
    return cfg, api.plan(cfg, overrides)


# --------------------------------------------------------------------------- 1. symlinks, names as paths


def test_report_replaces_planted_symlinks_and_never_writes_through_them(tmp_path):
    run = _crafted_run(tmp_path / "crafted")
    victims = {}
    for name in ("report.md", "report.html", "summary.csv", "summary.parquet", "fig-accuracy-vs-fit-time.png"):
        victim = tmp_path / f"victim-{name}"
        victim.write_text("precious\n")
        (run / name).symlink_to(victim)
        victims[name] = victim
    write_report(run)
    for name, victim in victims.items():
        assert victim.read_text() == "precious\n", name
        assert not (run / name).is_symlink() and (run / name).stat().st_size > 0, name
    assert (run / "fig-accuracy-vs-fit-time.png").read_bytes()[:4] == b"\x89PNG"
    assert not list(run.glob(".*.tmp"))  # no temporary files left behind


def test_a_suite_name_in_the_records_cannot_put_a_figure_outside_the_report(tmp_path):
    run = _crafted_run(tmp_path / "crafted", suite="../../../escaped")
    (run / "fig-summary-..").mkdir()  # so that the unsanitised path would resolve
    before = _files(tmp_path)
    md = write_report(run).read_text()
    new = _files(tmp_path) - before
    assert new and all(run in p.parents for p in new), sorted(new)
    assert not (tmp_path / "escaped.png").exists()
    figs = sorted(p.name for p in run.glob("fig-summary-*.png"))
    assert figs == ["fig-summary-.._.._.._escaped.png"] and f"]({figs[0]})" in md


@pytest.mark.slow
@pytest.mark.parametrize("args", [
    ["run_id=../../outside"],
    ["run_id=a/b"],
    ["run_id=.hidden"],
    ["suite.name=../../outside"],
    ["-m", "model=knn,logreg", "run_id=../../outside"],
])
def test_a_run_id_or_suite_name_that_is_a_path_is_refused(tmp_path, args):
    results = tmp_path / "a" / "results"
    results.mkdir(parents=True)
    res = run_cli("run", "suite=smoke", "model=knn", *args, f"results_dir={results}")
    line = _error_line(res)
    assert "can't name a directory" in line and ("run_id=" in line or "suite=" in line), line
    assert _files(tmp_path) == {tmp_path / "a", results}  # nothing written anywhere


def test_resume_refuses_a_records_file_that_is_a_symlink(tmp_path):
    overrides, run = _quick_run(tmp_path)
    lines = (run / "records-0.jsonl").read_text().splitlines(keepends=True)
    (run / "records-1.jsonl").write_text("".join(lines[:3]))  # the run's records, three trials to go
    (run / "records-0.jsonl").unlink()
    victim = tmp_path / "victim.jsonl"
    victim.write_text("precious\n")
    (run / "records-0.jsonl").symlink_to(victim)
    cfg, plan = _resume_cfg(overrides, run)
    with pytest.raises(UserError, match="records-0.jsonl is a symlink"):
        api.execute(plan, cfg)
    assert victim.read_text() == "precious\n"
    assert (run / "records-1.jsonl").read_text() == "".join(lines[:3])


# --------------------------------------------------------------------------- 2. one writer per run


@pytest.mark.slow
def test_two_runs_of_one_run_id_started_together_one_writes_the_other_is_refused(plugin_dir, tmp_path):
    args = ["--config-dir", str(plugin_dir / "myconf"), "suite=smoke", "model=sleepy", SEEDS,
            "run_id=same", f"results_dir={tmp_path / 'res'}", "report=false"]
    procs = [_start(*args), _start(*args)]
    outs = [p.communicate(timeout=180) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 2], outs
    err = next(e for p, (_, e) in zip(procs, outs) if p.returncode == 2)
    assert "Traceback" not in err
    line = next(ln for ln in err.splitlines() if ln.startswith("harness: error"))
    assert "run same is being written by another harness process (pid " in line, err
    rows = store.load(tmp_path / "res" / "smoke" / "same", all_records=True)
    assert len(rows) == 10 and rows["trial_id"].is_unique and (rows["status"] == "ok").all()


@pytest.mark.slow
def test_two_resumes_of_one_run_at_once_run_each_missing_trial_once(plugin_dir, tmp_path):
    args = ["--config-dir", str(plugin_dir / "myconf"), "suite=smoke", "model=sleepy", SEEDS,
            f"results_dir={tmp_path / 'res'}", "report=false", "progress=false"]
    assert run_cli("run", *args, "run_id=r").returncode == 0
    run = tmp_path / "res" / "smoke" / "r"
    for stem in ("records", "predictions"):  # as if killed after two trials
        path = run / f"{stem}-0.jsonl"
        path.write_text("".join(path.read_text().splitlines(keepends=True)[:2]))
    procs = [_start(*args, f"resume={run}"), _start(*args, f"resume={run}")]
    outs = [p.communicate(timeout=180) for p in procs]
    assert sorted(p.returncode for p in procs) == [0, 2], outs
    assert any("is being written by another harness process" in e for _, e in outs), outs
    rows = store.load(run, all_records=True)
    assert len(rows) == 10 and rows["trial_id"].is_unique


@pytest.mark.slow
def test_two_joblib_launches_of_one_run_id_one_writes_the_other_is_refused(plugin_dir, tmp_path):
    args = ["--config-dir", str(plugin_dir / "myconf"), "suite=smoke", "model=sleepy", SEEDS,
            "run_id=same", f"results_dir={tmp_path / 'res'}", "report=false", "progress=false",
            "hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]
    procs = [_start(*args), _start(*args)]
    outs = [p.communicate(timeout=240) for p in procs]
    assert sorted(p.returncode for p in procs) == [0, 2], outs
    err = next(e for p, (_, e) in zip(procs, outs) if p.returncode == 2)
    assert "Traceback" not in err and "run same is being written by another harness process" in err, err
    rows = store.load(tmp_path / "res" / "smoke" / "same", all_records=True)
    assert len(rows) == 10 and rows["trial_id"].is_unique and (rows["status"] == "ok").all()
    again = run_cli("run", *args)  # a new launch into the finished run: refused, nothing appended
    assert again.returncode == 2 and "already holds a run" in again.stderr, again.stderr
    assert len(store.load(tmp_path / "res" / "smoke" / "same", all_records=True)) == 10


def _hold(run_dir: Path, mode: int) -> int:
    fd = os.open(run_dir / ".lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, mode | fcntl.LOCK_NB)
    return fd


def test_jobs_of_one_launch_share_the_run_dir_but_a_resume_waits_for_them(tmp_path):
    overrides, run = _quick_run(tmp_path)
    cfg, plan = _resume_cfg(overrides, run)
    fd = _hold(run, fcntl.LOCK_SH)  # a launcher job of this run, still writing
    try:
        with pytest.raises(UserError, match=f"run {run.name} is being written by another harness process"):
            api.execute(plan, cfg)
        plain = api.compose([*overrides, f"results_dir={tmp_path / 'res'}", f"run_id={run.name}",
                             "report=false", "progress=false"])
        with pytest.raises(UserError, match="is being written by another harness process"):
            api.execute(plan, plain)
        job = api.execute(plan, plain, run, job="1", shared_dir=True)  # another job of the launch: fine
        assert job.counts["ok"] == 6, (job.counts, job.failures)
    finally:
        os.close(fd)
    fd = _hold(run, fcntl.LOCK_EX)  # a plain run or a resume writing it
    try:
        with pytest.raises(UserError, match="is being written by another harness process"):
            api.execute(plan, plain, run, job="2", shared_dir=True)
    finally:
        os.close(fd)
    assert api.execute(plan, cfg).resumed == 6  # the lock is free again: the resume goes ahead


# --------------------------------------------------------------------------- 3. resume with other overrides


def test_a_resume_with_other_overrides_is_refused_and_shows_the_difference(tmp_path):
    overrides, run = _quick_run(tmp_path, "dataset=digits")
    before = len(store.load(run, all_records=True))
    cfg, plan = _resume_cfg(["suite=smoke", "model=logreg", "suite.seeds=[0,1,2]", "dataset=digits"], run)
    with pytest.raises(UserError, match=r"only in the run: model=knn; only now: model=logreg") as err:
        api.execute(plan, cfg)
    assert "\n" not in str(err.value)
    assert len(store.load(run, all_records=True)) == before and not (run / "resumes.jsonl").exists()
    cfg, plan = _resume_cfg(["dataset=digits", "suite.seeds=[0,1,2]", "model=knn", "suite=smoke", "progress=true"],
                            run)  # the same plan, in another order
    assert api.execute(plan, cfg).resumed == before


def test_each_resume_is_recorded_with_its_commit_and_overrides(tmp_path):
    overrides, run = _quick_run(tmp_path)
    assert store.read_resumes(run) == []
    for _ in range(2):
        cfg, plan = _resume_cfg(overrides, run)
        api.execute(plan, cfg)
    resumes = store.read_resumes(run)
    assert len(resumes) == 2 and [r["overrides"] for r in resumes] == [overrides, overrides]
    started = store.read_run_info(run)["environment"]["git_harness"]
    assert resumes[0]["git_harness"] == started and resumes[0]["time"] <= resumes[1]["time"]
    assert {"time", "git_harness", "overrides"} <= set(json.loads((run / "resumes.jsonl").read_text().split("\n")[0]))
    assert store.read_resumes(store.copy_run(run, tmp_path / "copy")) == resumes  # a baseline keeps them


@pytest.mark.slow
def test_cli_resume_with_other_overrides_is_one_line_exit_2(tmp_path):
    overrides, run = _quick_run(tmp_path)
    res = run_cli("run", "suite=smoke", "model=logreg", "suite.seeds=[0,1,2]", f"resume={run}")
    line = _error_line(res)
    assert "only in the run: model=knn" in line and "only now: model=logreg" in line
    assert len(store.load(run, all_records=True)) == 6


# --------------------------------------------------------------------------- 4. a torn predictions line


def test_a_trial_whose_predictions_line_is_torn_runs_again_on_resume(tmp_path):
    overrides, run = _quick_run(tmp_path)
    preds = run / "predictions-0.jsonl"
    lines = preds.read_text().splitlines(keepends=True)
    preds.write_text(lines[0] + lines[1][: len(lines[1]) // 2])  # disk full after the record
    ids = set(store.load(run)["trial_id"])
    whole = json.loads(lines[0])["trial_id"]
    with pytest.warns(UserWarning, match="corrupt line"):
        assert store.ok_trial_ids(run) == {whole}
    cfg, plan = _resume_cfg(overrides, run)
    with pytest.warns(UserWarning, match="corrupt line"):
        result = api.execute(plan, cfg)
    assert result.resumed == 1 and result.counts["ok"] == 5
    df = store.load(run)
    assert set(df["trial_id"]) == ids and df["trial_id"].is_unique and (df["status"] == "ok").all()
    with pytest.warns(UserWarning, match="corrupt line"):
        assert set(store.load_predictions(run)) == ids


# --------------------------------------------------------------------------- 5. an interrupt says what is left


@pytest.mark.slow
def test_sigint_says_how_many_trials_never_ran_and_how_to_resume(plugin_dir, tmp_path):
    args = ["--config-dir", str(plugin_dir / "myconf"), "suite=smoke", "model=sleepy", SEEDS,
            f"results_dir={tmp_path}"]
    proc = _start(*args)
    t0 = time.time()
    while not list(tmp_path.glob("smoke/*/records-0.jsonl")) and time.time() - t0 < 60:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    time.sleep(0.4)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err, err
    run = next(tmp_path.glob("smoke/*"))
    df = store.load(run)
    never = 10 - int((df["status"] != "interrupted").sum())
    assert 0 < never < 10
    line = next(ln for ln in err.splitlines() if ln.startswith("harness: interrupted"))
    assert f"{never} of 10 trials never ran" in line and f"kept in {run}" in line, err
    assert f"resume={run}" in next(ln for ln in err.splitlines() if "resume with: harness run" in ln)
    md = (run / "report.md").read_text()  # the partial report says it too
    assert f"{never} of 10 planned trials never ran" in md and "resume=" in md


def test_a_report_of_an_unfinished_run_says_how_many_trials_never_ran(tmp_path):
    run = _crafted_run(tmp_path / "crafted")
    info = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**info, "n_trials": 12, "overrides": ["suite=syn", "seed=1"]}))
    md = write_report(run, plots=False).read_text()
    assert "4 of 12 planned trials never ran" in md and f"seed=1 resume={run}" in md


# --------------------------------------------------------------------------- 6. paths that can't be used


@pytest.mark.slow
@pytest.mark.parametrize("where, extra", [("file", []), ("under-file", []), ("file", ["-m", "seed=0,1"])])
def test_a_results_dir_that_cannot_hold_runs_is_one_line(tmp_path, where, extra):
    blocker = tmp_path / "blocker"
    blocker.write_text("a regular file\n")
    results = blocker if where == "file" else blocker / "results"
    res = run_cli("run", "suite=smoke", "model=knn", *extra, f"results_dir={results}")
    line = _error_line(res)
    assert str(blocker) in line and "Not a directory" in line, line
    assert blocker.read_text() == "a regular file\n"


def test_api_run_into_an_unwritable_results_dir_is_a_user_error(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    cfg = api.compose(["suite=smoke", "model=knn", f"results_dir={blocker}", "report=false", "progress=false"])
    with pytest.raises(UserError, match="cannot create the run dir .*blocker"):
        api.execute(api.plan(cfg, ["model=knn"]), cfg)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only dirs")
def test_a_read_only_results_dir_is_a_user_error(tmp_path):
    results = tmp_path / "ro"
    results.mkdir()
    results.chmod(0o500)
    try:
        cfg = api.compose(["suite=smoke", "model=knn", f"results_dir={results}", "report=false"])
        with pytest.raises(UserError, match="Permission denied"):
            api.execute(api.plan(cfg, ["model=knn"]), cfg)
    finally:
        results.chmod(0o700)


@pytest.mark.slow
def test_report_out_that_cannot_be_written_is_one_line(tmp_path):
    run = _crafted_run(tmp_path / "crafted")
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    line = _error_line(run_cli("report", str(run), "--no-plots", "--out", str(blocker / "out")))
    assert "cannot write the report" in line and str(blocker) in line
    (run / "report.md").mkdir()  # a name the report can't take
    line = _error_line(run_cli("report", str(run), "--no-plots"))
    assert "report.md" in line
    assert len(store.load(run)) == 8


def test_report_into_a_path_under_a_file_is_a_user_error(tmp_path):
    run = _crafted_run(tmp_path / "crafted")
    (tmp_path / "blocker").write_text("x")
    with pytest.raises(UserError, match="cannot write the report to .*blocker"):
        write_report(run, tmp_path / "blocker" / "out", plots=False)


@pytest.mark.parametrize("content", ["[1, 2]", '"text"', '{"schema_version": "x"}'])
def test_a_run_json_that_is_not_an_object_is_a_user_error(tmp_path, content):
    run = _crafted_run(tmp_path / "crafted")
    (run / "run.json").write_text(content)
    with pytest.raises(UserError, match="run.json"):
        store.read_run_info(run)
    with pytest.raises(UserError, match="run.json"):
        write_report(run, plots=False)


@pytest.mark.slow
def test_cli_report_on_a_run_json_list_is_one_line(tmp_path):
    run = _crafted_run(tmp_path / "crafted")
    (run / "run.json").write_text("[]")
    line = _error_line(run_cli("report", str(run), "--no-plots"))
    assert "run.json holds a JSON list, not an object" in line


def test_suites_whose_names_differ_only_in_unsafe_characters_get_a_figure_each(tmp_path):
    a = _crafted_run(tmp_path / "a", suite="x/y")
    b = _crafted_run(tmp_path / "b", suite="x:y")
    out = tmp_path / "out"
    md = write_report([a, b], out).read_text()
    figs = sorted(p.name for p in out.glob("fig-summary-*.png"))
    assert figs == ["fig-summary-x_y-2.png", "fig-summary-x_y.png"]
    assert all(f"]({f})" in md for f in figs)
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == []
