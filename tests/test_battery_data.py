"""Unlucky input: timeouts that time the trial, workers that die (or outlive their parent),
limits and loader parameters that make no sense, and data that is quietly wrong."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from harness.config import validate
from harness.data import load_dataset
from harness.errors import UserError
from tests.conftest import ROOT, run_cli
from tests.conftest import dataset_spec as spec

SUITES = Path(__file__).resolve().parents[1] / "suites"

BATTERY_PKG = '''
import os
import signal
import time
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from harness.data.synthetic import moons


def slow_moons(sleep_s=3.0, n_samples=200, seed=0):
    time.sleep(sleep_s)
    return moons(n_samples=n_samples, seed=seed)


class Crash(BaseEstimator, ClassifierMixin):
    def __init__(self, how="sigkill"):
        self.how = how

    def fit(self, X, y):
        if self.how == "sigkill":
            os.kill(os.getpid(), signal.SIGKILL)
        os._exit(3)


class Marker(BaseEstimator, ClassifierMixin):
    """Writes its pid to ``path`` when fit starts, then hangs."""

    def __init__(self, path="", sleep_s=60.0):
        self.path = path
        self.sleep_s = sleep_s

    def fit(self, X, y):
        Path(self.path).write_text(str(os.getpid()))
        time.sleep(self.sleep_s)
        return self
'''


@pytest.fixture
def battery(plugin_dir, monkeypatch):
    """``plugin_dir`` plus a package ``batterypkg`` and its model and dataset configs."""
    pkg = plugin_dir / "batterypkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(BATTERY_PKG)
    conf = plugin_dir / "myconf"
    models = {
        "crash_kill": ("batterypkg.Crash", {"how": "sigkill"}),
        "crash_exit": ("batterypkg.Crash", {"how": "exit"}),
        "marker": ("batterypkg.Marker", {"path": str(plugin_dir / "fit-started"), "sleep_s": 60}),
    }
    for name, (target, params) in models.items():
        lines = [f"name: {name}", "description: a test model", "family: classical", "estimator:",
                 f"  _target_: {target}"] + [f"  {k}: {v}" for k, v in params.items()]
        (conf / "model" / f"{name}.yaml").write_text("\n".join(lines) + "\n")
    (conf / "dataset").mkdir()
    (conf / "dataset" / "slowmoons.yaml").write_text(
        "name: slowmoons\ndescription: moons after a nap\nkind: points\n"
        "loader:\n  _target_: batterypkg.slow_moons\n  sleep_s: 3\n  n_samples: 200\n")
    (conf / "suite").mkdir()
    (conf / "suite" / "halfbad.yaml").write_text(  # moons is fine; xor (run second) has a bad test_size
        "name: halfbad\ndescription: one good dataset, one bad\nseeds: [0]\n"
        "matrix:\n  dataset: [moons]\n  features: [raw]\n  model: [knn]\n  device: [cpu]\n"
        "include:\n  - dataset: xor\n    dataset.loader.test_size: 1.5\n")
    monkeypatch.syspath_prepend(str(plugin_dir))  # the spawned worker inherits sys.path
    return plugin_dir


def _plan(battery, tmp_path, *overrides):
    from harness import api

    overrides = [f"results_dir={tmp_path / 'results'}", "report=false", "progress=false", *overrides]
    cfg = api.compose(overrides, [battery / "myconf"])
    return cfg, api.plan(cfg, overrides)


def _error_lines(res) -> list[str]:
    return [line for line in res.stderr.strip().splitlines() if line.startswith("harness: error")]


def _one_line_exit_2(res, *expect: str) -> str:
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr, res.stderr
    lines = _error_lines(res)
    assert len(lines) == 1, res.stderr
    for text in expect:
        assert text in lines[0], lines[0]
    return lines[0]


# -- 1. the trial timeout times the trial --------------------------------------------------
@pytest.mark.slow
def test_trial_timeout_counts_the_trial_not_start_up_or_data_loading(battery, tmp_path):
    """Loading takes 3 s, each trial a moment: with trial_timeout_s=2 every trial is ok."""
    from harness import api

    cfg, plan = _plan(battery, tmp_path, "suite=smoke", "dataset=slowmoons", "model=knn",
                      "suite.seeds=[0,1]", "suite.trial_timeout_s=2")
    result = api.execute(plan, cfg)
    df = api.load(result.run_dir)
    assert len(df) == 2 and (df["status"] == "ok").all(), df[["status", "error"]].to_string()


@pytest.mark.slow
def test_slow_start_up_and_loading_have_their_own_limit(battery, tmp_path):
    from harness.execution import Isolated, setup_limit

    assert setup_limit(2) == 60 and setup_limit(30) == 300 and setup_limit(None) is None
    _, plan = _plan(battery, tmp_path, "suite=smoke", "dataset=slowmoons", "model=knn")
    executor = Isolated(timeout_s=1, max_memory_gb=None, setup_s=1.5)
    try:
        out = executor.run(plan.trials[0], {})
    finally:
        executor.close()
    assert out.record["status"] == "timeout"
    assert "start-up and data loading exceeded 1.5 s" in out.record["error"]
    assert "trial never started" in out.record["error"]


# -- 2. a dead worker says how it died --------------------------------------------------
@pytest.mark.slow
def test_a_dead_worker_reports_its_real_exit_code_or_signal(battery, tmp_path):
    from harness.execution import Isolated

    executor = Isolated(timeout_s=60, max_memory_gb=None)
    try:
        errors = {}
        for model in ("crash_kill", "crash_exit"):
            _, plan = _plan(battery, tmp_path, "suite=smoke", "dataset=moons", f"model={model}")
            out = executor.run(plan.trials[0], {})
            assert out.record["status"] == "failed"
            errors[model] = out.record["error"]
    finally:
        executor.close()
    assert "worker process died: killed by SIGKILL (out of memory?)" in errors["crash_kill"]
    assert "worker process died: exit code 3" in errors["crash_exit"]


def test_exit_reason_names_the_signal():
    from harness.execution import exit_reason

    assert exit_reason(-signal.SIGSEGV) == "killed by SIGSEGV"
    assert exit_reason(-signal.SIGKILL) == "killed by SIGKILL (out of memory?)"
    assert exit_reason(1) == "exit code 1"


# -- 3. limits that are no limits -------------------------------------------------------
@pytest.mark.parametrize("key, value", [("trial_timeout_s", -1), ("trial_timeout_s", 0),
                                        ("max_memory_gb", 0), ("max_memory_gb", -2.5)])
def test_nonpositive_limits_are_rejected_by_the_suite_schema(key, value):
    from harness.execution import make_executor

    node = OmegaConf.create({"name": "smoke", key: value})
    with pytest.raises(UserError, match=f"suite smoke: {key}={value} is not a limit"):
        validate("suite", node, where="smoke")
    with pytest.raises(UserError, match=f"{key}={value} is not a limit"):
        make_executor(**{"timeout_s": None, "max_memory_gb": None,
                         {"trial_timeout_s": "timeout_s"}.get(key, key): value})
    assert validate("suite", OmegaConf.create({"name": "smoke", key: 1.5}), where="smoke")[key] == 1.5


@pytest.mark.slow
def test_a_negative_timeout_is_one_line_and_exit_2(tmp_path):
    res = run_cli("run", "suite=smoke", "model=knn", "suite.trial_timeout_s=-1", f"results_dir={tmp_path}")
    _one_line_exit_2(res, "trial_timeout_s=-1", "positive number")
    assert not list(tmp_path.glob("*/*/records-*.jsonl"))


# -- 4. loader errors keep their cause; bad loader parameters are bad input ---------------------
@pytest.mark.parametrize("key, value, expect", [
    ("n_samples", 0, "dataset moons: dataset.loader.n_samples=0 is invalid"),
    ("test_size", 1.5, "dataset moons: dataset.loader.test_size=1.5 is invalid"),
    ("noise", -0.1, "dataset.loader.noise=-0.1 is invalid"),
    ("n_samples", 3, "cannot split 3 samples with test_size=0.25"),
])
def test_bad_loader_parameters_are_user_errors_that_say_why(key, value, expect):
    with pytest.raises(UserError, match=expect.replace(".", r"\.")):
        load_dataset(spec("moons", **{key: value}), split=0)


def test_bad_loader_parameters_fail_at_planning():
    with pytest.raises(UserError, match=r"dataset moons: dataset\.loader\.test_size=1\.5 is invalid"):
        validate("dataset", spec("moons", test_size=1.5), where="moons")
    with pytest.raises(UserError, match=r"n_classes=1 is invalid"):
        validate("dataset", spec("tabular_synth", n_classes=1), where="tabular_synth")
    for path in sorted((SUITES / "dataset").glob("*.yaml")):  # every bundled config passes
        validate("dataset", OmegaConf.load(path), where=path.stem)


def test_generator_parameters_that_dont_fit_together_are_user_errors():
    with pytest.raises(UserError, match="don't fit together.*n_classes"):
        load_dataset(spec("tabular_synth", n_informative=1, n_classes=3, n_samples=100), split=0)


def broken_loader(seed=0):
    raise RuntimeError("the disk is on fire")


def test_an_unexpected_loader_error_keeps_its_cause():
    cfg = OmegaConf.create({"name": "hot", "kind": "tabular",
                            "loader": {"_target_": f"{__name__}.broken_loader"}})
    with pytest.raises(Exception) as info:
        load_dataset(cfg, split=0)
    assert not isinstance(info.value, UserError)  # not the user's input: the trials on it fail, the suite goes on
    text = str(info.value)
    assert "RuntimeError: the disk is on fire" in text and "dataset hot" in text
    assert "Error in call to target" not in text and "\n" not in text


def test_a_loader_bug_is_a_failed_trial_that_names_the_cause():
    from harness.execution import InProcess
    from harness.plan import Trial

    nodes = {axis: OmegaConf.load(SUITES / axis / f"{name}.yaml")
             for axis, name in (("features", "raw"), ("model", "knn"), ("device", "cpu"))}
    dataset = OmegaConf.create({"name": "hot", "kind": "tabular",
                                "loader": {"_target_": f"{__name__}.broken_loader"}})
    out = InProcess().run(Trial(dataset=dataset, seed=0, key="k", **nodes), {})
    assert out.record["status"] == "failed"
    assert "RuntimeError: the disk is on fire" in out.record["error"]
    assert "the disk is on fire" in out.detail  # the traceback, for the run's error log


@pytest.mark.slow
def test_a_bad_loader_parameter_is_exit_2_before_any_trial(tmp_path):
    res = run_cli("run", "suite=smoke", "dataset=moons", "model=knn", "dataset.loader.test_size=1.5",
                  f"results_dir={tmp_path}")
    _one_line_exit_2(res, "test_size=1.5")
    assert not list(tmp_path.glob("*/*/records-*.jsonl"))


@pytest.mark.slow
def test_a_bad_parameter_mid_suite_is_exit_2_and_keeps_the_records_written(battery, tmp_path):
    res = run_cli("run", "--config-dir", str(battery / "myconf"), "suite=halfbad", "suite.trial_timeout_s=60",
                  f"results_dir={tmp_path}")
    _one_line_exit_2(res, "dataset xor", "test_size=1.5")
    from harness import store

    df = store.load(str(tmp_path / "halfbad" / "*"))
    assert list(df["dataset"]) == ["moons"] and (df["status"] == "ok").all()


@pytest.fixture
def npz_split():
    rng = np.random.default_rng(0)
    return {"X_train": rng.normal(size=(20, 3)), "y_train": np.arange(20) % 2,
            "X_test": rng.normal(size=(6, 3)), "y_test": np.arange(6) % 2}


def test_a_damaged_npz_file_says_so(tmp_path, npz_split):
    from harness.data.files import load_npz

    path = tmp_path / "split.npz"
    path.write_bytes(b"this is not an archive at all" * 4)
    with pytest.raises(UserError, match="is not an NPZ file") as info:
        load_npz(path)
    assert "pickle" not in str(info.value)
    np.savez(path, **npz_split)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # truncated
    with pytest.raises(UserError, match="not a readable NPZ file"):
        load_dataset(spec("npz", path=str(path)), split=0)
    np.save(tmp_path / "one.npy", npz_split["X_train"])
    with pytest.raises(UserError, match=r"holds one array \(an \.npy file\)"):
        load_npz(tmp_path / "one.npy")


# -- 5. quietly wrong data ----------------------------------------------------------------
def _csv(tmp_path, text: str) -> Path:
    path = tmp_path / "data.csv"
    path.write_text(text)
    return path


def _rows(labels) -> str:
    return "a,b,label\n" + "".join(f"{i},{i % 3},{y}\n" for i, y in enumerate(labels))


def test_float_labels_in_a_csv_are_a_user_error(tmp_path):
    path = _csv(tmp_path, _rows([0.5, 1.5] * 10))
    with pytest.raises(UserError, match=r"target column 'label' of data\.csv holds non-integer numbers \(0\.5, 1\.5\)"):
        load_dataset(spec("csv", path=str(path), target="label"), split=0)


def test_whole_float_labels_are_classes(tmp_path):
    path = _csv(tmp_path, _rows([1.0, 2.0] * 10))
    ds = load_dataset(spec("csv", path=str(path), target="label"), split=0)
    assert ds.n_classes == 2 and ds.y_train.dtype == np.int64


def test_a_single_class_is_a_user_error(tmp_path, npz_split):
    path = _csv(tmp_path, _rows(["cat"] * 12))
    with pytest.raises(UserError, match=r"target column 'label' of data\.csv has a single class \(cat\)"):
        load_dataset(spec("csv", path=str(path), target="label"), split=0)
    npz = tmp_path / "one-class.npz"
    np.savez(npz, **{**npz_split, "y_train": np.zeros(20, np.int64)})
    with pytest.raises(UserError, match="training split holds a single class"):
        load_dataset(spec("npz", path=str(npz)), split=0)


def test_float_labels_from_any_loader_are_a_user_error(tmp_path, npz_split):
    npz = tmp_path / "float.npz"
    np.savez(npz, **{**npz_split, "y_train": np.arange(20) * 0.1})
    with pytest.raises(UserError, match="y_train holds non-integer labels"):
        load_dataset(spec("npz", path=str(npz)), split=0)


def test_a_csv_with_a_header_and_no_rows_says_so(tmp_path):
    path = _csv(tmp_path, "a,b,label\n")
    with pytest.raises(UserError, match=r"data\.csv has a header \(a, b, label\) but no data rows"):
        load_dataset(spec("csv", path=str(path), target="label"), split=0)


def unseen_loader(seed=0):
    X = np.arange(20.0).reshape(10, 2)
    return X[:6], np.array([0, 1, 0, 1, 0, 1]), X[6:], np.array([0, 1, 2, 2])


def test_a_test_class_unseen_in_training_warns_once():
    cfg = OmegaConf.create({"name": "unseen", "kind": "tabular",
                            "loader": {"_target_": f"{__name__}.unseen_loader"}})
    with pytest.warns(UserWarning, match=r"dataset unseen: test class\(es\) 2 never appear in training"):
        ds = load_dataset(cfg, split=0)
    assert ds.n_classes == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_dataset(cfg, split=1)  # once is enough


@pytest.mark.slow
def test_float_labels_are_one_line_and_exit_2_on_the_command_line(tmp_path):
    path = _csv(tmp_path, _rows([0.5, 1.5] * 10))
    res = run_cli("run", "suite=smoke", "dataset=csv", "model=knn", f"dataset.loader.path={path}",
                  "dataset.loader.target=label", f"results_dir={tmp_path / 'results'}")
    _one_line_exit_2(res, "data.csv", "'label'", "non-integer")


# -- 6. a worker never outlives its parent -----------------------------------------------
def _kill_main_and_watch_worker(battery, tmp_path, *overrides: str) -> None:
    """Start a run whose trial hangs, ``kill -9`` harness's own pid alone, assert the worker goes."""
    import psutil

    marker = battery / "fit-started"
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "run", "--config-dir", str(battery / "myconf"), "suite=smoke",
         "dataset=moons", "model=marker", *overrides, f"results_dir={tmp_path}"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        t0 = time.time()
        while not marker.exists() or not marker.read_text():
            assert proc.poll() is None, "the run ended before its trial hung"
            assert time.time() - t0 < 120, "the trial never started"
            time.sleep(0.1)
        worker = int(marker.read_text())
        assert worker != proc.pid and worker in {p.pid for p in psutil.Process(proc.pid).children(recursive=True)}
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        t0 = time.time()
        while _alive(worker) and time.time() - t0 < 5:
            time.sleep(0.1)
        assert not _alive(worker), "the worker outlived its parent"
    finally:
        if proc.poll() is None:
            proc.kill()
        if marker.exists() and marker.read_text() and _alive(int(marker.read_text())):
            os.kill(int(marker.read_text()), signal.SIGKILL)


@pytest.mark.slow
def test_a_hung_worker_dies_with_its_parent(battery, tmp_path):
    _kill_main_and_watch_worker(battery, tmp_path, "suite.trial_timeout_s=120")


@pytest.mark.slow
def test_a_joblib_worker_dies_when_the_main_process_alone_is_killed(battery, tmp_path):
    _kill_main_and_watch_worker(battery, tmp_path, "hydra/launcher=joblib")


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False



# --------------------------------------------------------------------------- a full disk


def _with_file_size_limit(limit: int, *args: str) -> subprocess.CompletedProcess:
    """Run harness with a kernel limit on the size of any file it writes (RLIMIT_FSIZE): a write
    past it fails with EFBIG, as a write to a full disk fails with ENOSPC, torn mid-line."""
    import resource

    def limit_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {**os.environ, "PYTHONWARNINGS": "ignore", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, env=env, preexec_fn=limit_files)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*skipped a corrupt line")
def test_a_disk_that_fills_mid_run_is_one_line_and_the_resume_loses_nothing(tmp_path):
    from harness import store

    run_args = ["suite=smoke", "model=knn", "suite.seeds=[0,1,2]", "report=false", "progress=false"]
    assert run_cli("run", *run_args, f"results_dir={tmp_path / 'free'}", "run_id=a").returncode == 0
    free = tmp_path / "free" / "smoke" / "a"
    info, preds = (free / "run.json").stat().st_size, (free / "predictions-0.jsonl").stat().st_size
    assert info + 400 < preds, "the run's files no longer suit this test's limit"
    limit = (info + 400 + preds) // 2  # run.json fits, the predictions outgrow it mid-run

    out = _with_file_size_limit(limit, "run", *run_args, f"results_dir={tmp_path / 'full'}", "run_id=a")
    run = tmp_path / "full" / "smoke" / "a"
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    line = next(ln for ln in out.stderr.splitlines() if ln.startswith("harness: error"))
    assert "File too large" in line and "records so far are kept" in line and f"resume={run}" in line, line
    with pytest.warns(UserWarning, match="skipped a corrupt line"):  # the line torn by the full disk
        kept = store.ok_trial_ids(run)
    assert 0 < len(kept) < 6  # some trials were recorded before the disk filled

    again = run_cli("run", *run_args, f"results_dir={tmp_path / 'full'}", f"resume={run}")
    assert again.returncode == 0, again.stderr
    rows = store.load(run, all_records=True)
    ok = rows[rows["status"] == "ok"]["trial_id"]
    assert len(ok) == 6 and ok.is_unique  # nothing lost, nothing counted twice
    assert store.ok_trial_ids(run) == set(ok)  # every ok trial has its predictions


@pytest.mark.slow
def test_a_disk_that_fills_while_writing_the_figures_is_one_line_and_leaves_no_partial_file(tmp_path):
    run_args = ["suite=smoke", "model=knn", "report=false", "progress=false"]
    assert run_cli("run", *run_args, f"results_dir={tmp_path}", "run_id=a").returncode == 0
    out_dir = tmp_path / "report"
    out_dir.mkdir()
    out = _with_file_size_limit(16_000, "report", str(tmp_path / "smoke" / "a"), "--out", str(out_dir))
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    line = next(ln for ln in out.stderr.splitlines() if ln.startswith("harness: error"))
    assert "cannot write the report" in line and "File too large" in line, line
    assert not [p.name for p in out_dir.iterdir() if p.name.endswith(".tmp")]  # no half-written file
    assert not [p for p in out_dir.glob("*.png") if p.stat().st_size >= 16_000]
