"""The thread policy: usable cores (affinity, cgroup quota), the load at the start of a run,
short OpenMP spins in trial workers, and the contention benchmark."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness import api, cpus, environment
from harness.errors import UserError
from tests.conftest import ROOT, run_cli


@pytest.fixture(autouse=True)
def _keep_run_state(monkeypatch):
    """A run's observation (cpus.at_start) is process state, and so is the OpenMP wait policy it
    may set in os.environ: put both back after each test."""
    monkeypatch.setattr(cpus, "_current", cpus._current)
    monkeypatch.setattr(cpus, "_warned", False)
    monkeypatch.setattr(cpus, "_saved", cpus._saved)
    monkeypatch.setattr(cpus, "_ours", dict(cpus._ours))
    for k in cpus.USER_POOL_ENV:
        if k in os.environ:
            monkeypatch.setenv(k, os.environ[k])
        else:
            monkeypatch.delenv(k, raising=False)


def _affinity(n):
    return lambda pid: set(range(n))


def _cgroup(tmp_path, proc_line: str, files: dict[str, str]) -> tuple[Path, Path]:
    """A fake cgroup tree under tmp_path/cg and a fake /proc/self/cgroup."""
    root = tmp_path / "cg"
    root.mkdir()
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text + "\n")
    proc = tmp_path / "proc-cgroup"
    proc.write_text(proc_line + "\n")
    return root, proc


# --- usable cores ---------------------------------------------------------------------------

def test_cgroup_v2_quota_caps_the_affinity(tmp_path):
    root, proc = _cgroup(tmp_path, "0::/", {"cpu.max": "150000 100000"})
    assert cpus.quota_cores(root, proc) == 1.5
    assert cpus.usable_cores(root, proc, _affinity(8)) == 1  # rounded down: 1.5 cores run one thread


def test_cgroup_v2_without_a_limit_leaves_the_affinity(tmp_path):
    root, proc = _cgroup(tmp_path, "0::/", {"cpu.max": "max 100000"})
    assert cpus.quota_cores(root, proc) is None
    assert cpus.usable_cores(root, proc, _affinity(6)) == 6


def test_cgroup_v2_a_parents_quota_limits_too(tmp_path):
    root, proc = _cgroup(tmp_path, "0::/kubepods/pod1", {"kubepods/cpu.max": "300000 100000",
                                                         "kubepods/pod1/cpu.max": "max 100000"})
    assert cpus.quota_cores(root, proc) == 3.0
    assert cpus.usable_cores(root, proc, _affinity(16)) == 3
    assert cpus.usable_cores(root, proc, _affinity(2)) == 2  # the affinity is tighter


def test_cgroup_v1_cfs_quota(tmp_path):
    files = {"cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "400000",
             "cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000"}
    root, proc = _cgroup(tmp_path, "4:cpu,cpuacct:/docker/abc\n2:memory:/docker/abc", files)
    assert cpus.quota_cores(root, proc) == 4.0
    assert cpus.usable_cores(root, proc, _affinity(32)) == 4


def test_cgroup_v1_unlimited_and_missing_files_mean_no_quota(tmp_path):
    root, proc = _cgroup(tmp_path, "3:cpu:/", {"cpu/cpu.cfs_quota_us": "-1", "cpu/cpu.cfs_period_us": "100000"})
    assert cpus.quota_cores(root, proc) is None
    assert cpus.quota_cores(tmp_path / "nowhere", tmp_path / "no-proc-file") is None
    assert cpus.usable_cores(tmp_path / "nowhere", tmp_path / "no-proc-file", _affinity(3)) == 3


def test_a_quota_under_one_core_still_runs_one_thread(tmp_path):
    root, proc = _cgroup(tmp_path, "0::/", {"cpu.max": "50000 100000"})
    assert cpus.usable_cores(root, proc, _affinity(4)) == 1


def test_usable_cores_follow_the_affinity_mask_not_the_host():
    assert cpus.affinity_cores(lambda pid: {0, 5}) == 2
    if hasattr(os, "sched_getaffinity"):
        assert cpus.usable_cores() <= len(os.sched_getaffinity(0))


# --- how busy the cores are ------------------------------------------------------------------

def _stat(path: Path, rows: dict[int, tuple[int, int]]) -> None:
    """A /proc/stat with ``cpuN user nice system idle iowait ...`` from (busy, idle) ticks."""
    lines = ["cpu  0 0 0 0 0 0 0 0 0 0"] + [f"cpu{n} {busy} 0 0 {idle} 0 0 0 0 0 0" for n, (busy, idle) in rows.items()]
    path.write_text("\n".join(lines) + "\nintr 1 2 3\n")


def test_load_probe_counts_other_work_on_our_cpus_only(tmp_path, monkeypatch):
    stat = tmp_path / "stat"
    _stat(stat, {0: (100, 900), 1: (100, 900), 2: (100, 900)})
    monkeypatch.setattr(cpus, "_own_cpu_s", lambda: 0.0)
    probe = cpus.LoadProbe(stat=str(stat), getaffinity=lambda pid: {0, 1})
    # cpu0 fully busy, cpu1 idle, cpu2 (not ours) fully busy
    _stat(stat, {0: (110, 900), 1: (100, 910), 2: (110, 900)})
    assert probe.busy(min_s=0.01) == 1.0


def test_load_probe_leaves_out_our_own_cpu_time(tmp_path, monkeypatch):
    stat = tmp_path / "stat"
    _stat(stat, {0: (0, 100), 1: (0, 100)})
    own = iter([0.0, 10.0])  # far more than the window: all of the busy time was ours
    monkeypatch.setattr(cpus, "_own_cpu_s", lambda: next(own))
    probe = cpus.LoadProbe(stat=str(stat), getaffinity=lambda pid: {0, 1})
    _stat(stat, {0: (10, 100), 1: (10, 100)})
    assert probe.busy(min_s=0.01) == 0.0


def test_load_probe_counts_the_runnable_tasks_of_others(tmp_path, monkeypatch):
    """procs_running, less the probe's own process, at the lower median of the window's counts."""
    stat, read = tmp_path / "stat", cpus._procs_running
    counts = iter([3, 9, 3, 3, 3, 3, 3, 3, 3, 3])  # one spike among the window's readings
    monkeypatch.setattr(cpus, "_procs_running", lambda path: next(counts))
    _stat(stat, {0: (0, 100), 1: (0, 100)})
    probe = cpus.LoadProbe(stat=str(stat), getaffinity=lambda pid: {0, 1})
    probe.busy(min_s=0.02)
    assert probe.runnable(host_cpus=2) == 2.0
    assert probe.runnable(host_cpus=8) is None  # our 2 CPUs of 8: the host's count says nothing of ours
    _stat(stat, {0: (0, 100)})
    (stat.parent / "real").write_text(stat.read_text() + "procs_running 5\nprocs_blocked 0\n")
    assert read(str(stat.parent / "real")) == 5 and read(str(stat)) is None


def test_torch_waits_passively_only_among_many_runnable_tasks():
    """Beside a hog of one task per core, one thread did better; among many, every core did."""
    hog = cpus.CpuState(usable=2, load_1m=2.0, busy=2.0, runnable=2.0)
    assert hog.oversubscribed and not hog.crowded
    assert cpus.CpuState(usable=2, load_1m=9.0, busy=2.0, runnable=8.0).crowded
    assert cpus.CpuState(usable=2, load_1m=9.0, busy=2.0).crowded  # count unknown: as before
    assert not cpus.CpuState(usable=2, load_1m=0.1, busy=0.0, runnable=9.0).crowded  # idle cores


def test_load_probe_without_proc_stat_is_unknown(tmp_path):
    assert cpus.LoadProbe(stat=str(tmp_path / "none"), getaffinity=lambda pid: {0}).busy(0.0) is None


@pytest.mark.parametrize("state, threads", [
    (cpus.CpuState(usable=2, load_1m=0.1, busy=0.0), 2),     # idle: every usable core
    (cpus.CpuState(usable=2, load_1m=0.3, busy=0.3), 2),     # a little noise changes nothing
    (cpus.CpuState(usable=2, load_1m=6.5, busy=2.0), 1),     # an all-core hog: one thread
    (cpus.CpuState(usable=2, load_1m=1.0, busy=1.0), 1),
    (cpus.CpuState(usable=8, load_1m=3.0, busy=2.4), 6),     # the cores others leave free
    (cpus.CpuState(usable=4, load_1m=9.0, busy=None), 1),    # no /proc/stat: the load average, when
    (cpus.CpuState(usable=8, load_1m=3.0, busy=None), 8),    # ... it is at least the cores
    (cpus.CpuState(usable=4, load_1m=9.0, busy=4.0, policy="all"), 4),  # the old policy
])
def test_threads_follow_the_free_cores(state, threads):
    assert state.threads() == threads
    assert state.record()["threads_default"] == threads


def test_parallel_jobs_share_the_usable_cores():
    assert cpus.CpuState(usable=8, busy=0.0).threads(n_jobs=2) == 4
    assert cpus.CpuState(usable=2, busy=0.0).threads(n_jobs=4) == 1


def test_busy_machine_warns_in_one_line():
    assert cpus.CpuState(usable=2, load_1m=0.2, busy=0.1).warning() is None
    line = cpus.CpuState(usable=2, load_1m=6.5, busy=2.0).warning()
    assert line and "\n" not in line and "load 6.5" in line and "1 thread" in line
    assert "all 4" in cpus.CpuState(usable=4, load_1m=9.0, busy=4.0, policy="all").warning()


def test_torch_trials_take_every_core_when_their_pool_waits_passively():
    busy = cpus.CpuState(usable=4, load_1m=9.0, busy=4.0, torch_wait=cpus.PASSIVE)
    assert busy.threads() == 1 and busy.threads(torch=True) == 4
    assert busy.record()["threads_default_torch"] == 4 and busy.record()["torch_wait"] == "passive"
    assert "torch ones on 4, waiting passively" in busy.warning()
    spinning = cpus.CpuState(usable=4, load_1m=9.0, busy=4.0)  # torch loaded before the wait policy was set
    assert spinning.threads(torch=True) == 1 and "torch" not in spinning.warning()
    free = cpus.CpuState(usable=4, busy=4.0, policy="free", torch_wait=cpus.PASSIVE)
    assert free.threads(torch=True) == 1  # HARNESS_THREADS=free: the free cores for every family
    assert cpus.CpuState(usable=4, busy=4.0, torch_wait=cpus.PASSIVE).threads(n_jobs=2, torch=True) == 2


def test_uses_torch_reads_the_estimators_module():
    assert cpus.uses_torch({"_target_": "harness.models.torch.TorchClassifier"})
    assert not cpus.uses_torch({"_target_": "sklearn.linear_model.LogisticRegression"})
    assert not cpus.uses_torch(None) and not cpus.uses_torch({})


def test_each_start_sets_how_torch_will_wait_from_what_was_there_before(monkeypatch):
    monkeypatch.delitem(sys.modules, "torch", raising=False)  # torch's runtime not loaded yet
    for k in (*cpus.USER_POOL_ENV, "HARNESS_THREADS"):
        monkeypatch.delenv(k, raising=False)
    cpus.set_pool_env()
    assert cpus.torch_wait_env(cpus.PASSIVE) == "passive"  # crowded
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE" and os.environ["GOMP_SPINCOUNT"] == "0"
    assert cpus.torch_wait_env(cpus.RUNTIME) == "runtime"  # idle: the runtime's own spin
    assert not any(k in os.environ for k in cpus.USER_POOL_ENV)
    assert cpus.torch_wait_env(cpus.RUNTIME) == "runtime"  # a second idle start: still so
    assert cpus.torch_wait_env(cpus.SPIN) == "spin"  # busy: the short spin is back, and nothing else
    assert os.environ["GOMP_SPINCOUNT"] == "10000" and "OMP_WAIT_POLICY" not in os.environ
    assert cpus.torch_wait_env(cpus.PASSIVE) == "passive"
    assert cpus.torch_wait_env(cpus.SPIN) == "spin" and "OMP_WAIT_POLICY" not in os.environ


def test_at_start_records_how_torch_will_wait(monkeypatch):
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    for k in (*cpus.USER_POOL_ENV, "HARNESS_THREADS"):
        monkeypatch.delenv(k, raising=False)
    cpus.set_pool_env()
    monkeypatch.setattr(cpus, "observe", lambda: cpus.CpuState(usable=2, busy=0.0, runnable=0.0))
    idle = cpus.at_start()
    assert idle.torch_wait == "runtime" and idle.record()["torch_wait"] == "runtime"
    assert "GOMP_SPINCOUNT" not in os.environ
    monkeypatch.setattr(cpus, "observe", lambda: cpus.CpuState(usable=2, busy=2.0, runnable=2.0))
    hog = cpus.at_start()  # beside a hog of one task per core: short spins, not passive
    assert hog.torch_wait == "spin" and not hog.passive_torch
    assert os.environ["GOMP_SPINCOUNT"] == "10000"
    monkeypatch.setattr(cpus, "observe", lambda: cpus.CpuState(usable=2, busy=2.0, runnable=9.0))
    assert cpus.at_start().passive_torch and os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setattr(cpus, "observe", lambda: cpus.CpuState(usable=2, busy=2.0, policy="free"))
    assert cpus.at_start().torch_wait == "passive"  # not auto: recorded as the environment has it


def test_a_start_leaves_the_users_wait_policy_and_a_loaded_torch_alone(monkeypatch):
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.setenv("GOMP_SPINCOUNT", "500")  # the user's
    for wait in cpus.TORCH_WAITS:
        assert cpus.torch_wait_env(wait) == "spin" and os.environ["GOMP_SPINCOUNT"] == "500"
    assert "OMP_WAIT_POLICY" not in os.environ
    monkeypatch.setenv("OMP_WAIT_POLICY", "passive")
    monkeypatch.delenv("GOMP_SPINCOUNT")
    assert cpus.torch_wait_env(cpus.RUNTIME) == "passive"  # the user's own passive waits count
    assert os.environ["OMP_WAIT_POLICY"] == "passive"
    monkeypatch.delenv("OMP_WAIT_POLICY")
    monkeypatch.setitem(sys.modules, "torch", object())  # loaded: its runtime read the env already
    assert cpus.torch_wait_env(cpus.PASSIVE) == "runtime" and "OMP_WAIT_POLICY" not in os.environ


def test_pinned_threads_win_over_the_policy(monkeypatch):
    monkeypatch.setattr(cpus, "_current", cpus.CpuState(usable=2, busy=2.0))
    assert cpus.trial_threads(2) == 2 and cpus.trial_threads(None) == 1


# --- the environment: policy name and how OpenMP threads wait ---------------------------------

def test_policy_names(monkeypatch):
    assert cpus.policy({}) == "auto" and cpus.policy({"HARNESS_THREADS": "ALL"}) == "all"
    assert cpus.policy({"HARNESS_THREADS": "free"}) == "free"
    with pytest.raises(UserError, match="HARNESS_THREADS='many'"):
        cpus.policy({"HARNESS_THREADS": "many"})


def test_pool_env_defaults_short_spins_and_the_users_setting_wins():
    env = {}
    assert cpus.set_pool_env(env) == {"GOMP_SPINCOUNT": "10000"} and env["GOMP_SPINCOUNT"] == "10000"
    env = {"GOMP_SPINCOUNT": "300000"}
    assert cpus.set_pool_env(env) == {} and env["GOMP_SPINCOUNT"] == "300000"
    env = {"OMP_WAIT_POLICY": "ACTIVE"}  # a spin count would override the user's wait policy
    assert cpus.set_pool_env(env) == {} and env == {"OMP_WAIT_POLICY": "ACTIVE"}
    env = {"HARNESS_THREADS": "all"}
    assert cpus.set_pool_env(env) == {} and "GOMP_SPINCOUNT" not in env


def test_pool_env_is_restored_after_the_block(monkeypatch):
    for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "HARNESS_THREADS"):
        monkeypatch.delenv(k, raising=False)
    with cpus.pool_env():
        assert os.environ["GOMP_SPINCOUNT"] == "10000"
    assert "GOMP_SPINCOUNT" not in os.environ


def test_cli_sets_the_spin_count_before_numpy_loads():
    code = ("import sys; from harness import cli; import harness.cpus as c; "
            "c.set_pool_env = (lambda f: lambda *a: (print('numpy' in sys.modules), f(*a))[1])(c.set_pool_env); "
            "cli.main(['list', 'devices']); import os; print(os.environ.get('GOMP_SPINCOUNT'))")
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "HARNESS_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split()
    assert lines[0] == "False"  # numpy (and its OpenMP/BLAS) not loaded yet when the default is set
    assert lines[-1] == "10000"


# --- a run: the warning, run.json, the records, the worker's environment --------------------

def _run(compose, tmp_path, name="run", *extra):
    over = ["suite=smoke", "dataset=moons", "model=logreg", "progress=false", "report=false", *extra]
    cfg = compose(*over)
    stream = io.StringIO()
    result = api.execute(api.plan(cfg, over), cfg, tmp_path / name, stream=stream)
    info = json.loads((tmp_path / name / "run.json").read_text())
    records = [json.loads(x) for x in (tmp_path / name / "records-0.jsonl").read_text().splitlines()]
    return result, stream.getvalue(), info["environment"], records


def test_an_oversubscribed_start_warns_once_records_the_load_and_runs_on_free_cores(compose, tmp_path, monkeypatch):
    monkeypatch.setattr(cpus, "observe", lambda: cpus.CpuState(usable=4, load_1m=9.5, busy=3.0))
    result, err, env, records = _run(compose, tmp_path)
    assert result.exit_code == 0
    assert err.count("warning: the machine is busy") == 1 and "load 9.5" in err
    assert (env["usable_cores"], env["load_at_start"], env["busy_cores_at_start"]) == (4, 9.5, 3.0)
    assert env["threads_default"] == 1 and env["thread_policy"] == "auto"
    assert {r["threads"] for r in records} == {1}
    _, again, _, _ = _run(compose, tmp_path, "again")
    assert "warning" not in again  # once per process, not once per run of a multirun


def test_a_busy_start_runs_torch_trials_on_every_usable_core(compose, tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_THREADS", "auto")
    monkeypatch.setattr(cpus, "observe", lambda: cpus.CpuState(usable=3, load_1m=9.5, busy=3.0))
    monkeypatch.setattr(cpus, "torch_wait_env", lambda wait: wait)  # as if torch were not loaded yet
    _, err, env, records = _run(compose, tmp_path, "torch", "model=perceptron_torch")
    assert "torch ones on 3, waiting passively" in err
    assert env["threads_default"] == 1 and env["threads_default_torch"] == 3 and env["torch_wait"] == "passive"
    assert {r["threads"] for r in records} == {3}
    _, _, _, classical = _run(compose, tmp_path, "logreg")
    assert {r["threads"] for r in classical} == {1}


def test_beside_a_hog_of_one_task_per_core_torch_trials_take_the_free_cores(compose, tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_THREADS", "auto")
    monkeypatch.setattr(cpus, "observe", lambda: cpus.CpuState(usable=3, load_1m=3.0, busy=3.0, runnable=3.0))
    monkeypatch.setattr(cpus, "torch_wait_env", lambda wait: wait)  # as if torch were not loaded yet
    _, err, env, records = _run(compose, tmp_path, "torch", "model=perceptron_torch")
    assert "warning: the machine is busy" in err and "passively" not in err
    assert env["threads_default_torch"] == 1 and env["torch_wait"] == "spin" and env["runnable_at_start"] == 3.0
    assert {r["threads"] for r in records} == {1}


def test_an_idle_start_is_quiet_and_uses_every_usable_core(compose, tmp_path, monkeypatch):
    monkeypatch.setattr(cpus, "observe", lambda: cpus.CpuState(usable=3, load_1m=0.05, busy=0.0))
    result, err, env, records = _run(compose, tmp_path)
    assert "warning" not in err
    assert env["load_at_start"] == 0.05 and env["threads_default"] == 3
    assert {r["threads"] for r in records} == {3}
    _, _, _, pinned = _run(compose, tmp_path, "pinned", "device.threads=1")
    assert {r["threads"] for r in pinned} == {1}


def test_environment_outside_a_run_still_names_the_usable_cores():
    assert environment.capture()["usable_cores"] == cpus.current().usable >= 1


ENV_MODEL = '''
import os
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


class EnvProbe(BaseEstimator, ClassifierMixin):
    """Predicts the majority class; reports the OpenMP spin count its process was started with."""

    def fit(self, X, y):
        self.classes_, counts = np.unique(y, return_counts=True)
        self.label_ = self.classes_[np.argmax(counts)]
        self.trial_info_ = {"gomp_spincount": os.environ.get("GOMP_SPINCOUNT", "unset"), "pid": os.getpid()}
        return self

    def predict(self, X):
        return np.full(len(X), self.label_)
'''


@pytest.fixture
def env_probe(tmp_path, monkeypatch):
    """A user model that records the GOMP_SPINCOUNT its process sees."""
    (tmp_path / "probepkg").mkdir()
    (tmp_path / "probepkg" / "__init__.py").write_text("")
    (tmp_path / "probepkg" / "models.py").write_text(ENV_MODEL)
    conf = tmp_path / "probeconf" / "model"
    conf.mkdir(parents=True)
    (conf / "envprobe.yaml").write_text("name: envprobe\ndescription: reports GOMP_SPINCOUNT\nfamily: classical\n"
                                        "estimator:\n  _target_: probepkg.models.EnvProbe\n")
    monkeypatch.setenv("PYTHONPATH", f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    monkeypatch.syspath_prepend(str(tmp_path))
    for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "HARNESS_THREADS"):
        monkeypatch.delenv(k, raising=False)
    return tmp_path


def _worker_spins(results: Path) -> set[str]:
    return {json.loads(x)["gomp_spincount"] for f in results.rglob("records-*.jsonl")
            for x in f.read_text().splitlines()}


@pytest.mark.slow
@pytest.mark.parametrize("user_env, seen", [({"HARNESS_THREADS": "free"}, "10000"), ({"GOMP_SPINCOUNT": "500"}, "500"),
                                            ({"OMP_WAIT_POLICY": "PASSIVE"}, "unset"),
                                            ({"HARNESS_THREADS": "all"}, "unset")])
def test_trial_worker_spins_briefly_unless_the_user_says(env_probe, tmp_path, monkeypatch, user_env, seen):
    # free: short spins whatever the load (auto would make them passive on a busy machine)
    for k, v in user_env.items():
        monkeypatch.setenv(k, v)
    res = run_cli("run", "--config-dir", str(env_probe / "probeconf"), "suite=smoke", "model=envprobe",
                  "dataset=moons", "suite.trial_timeout_s=60", "report=false", f"results_dir={tmp_path / 'res'}")
    assert res.returncode == 0, res.stderr
    assert _worker_spins(tmp_path / "res") == {seen}


@pytest.mark.slow
@pytest.mark.parametrize("busy, seen", [(0.0, "10000"), (2.0, "0")])
def test_a_busy_cli_run_starts_its_worker_with_passive_waits(env_probe, tmp_path, busy, seen):
    code = ("import sys; from harness import cli, cpus; "
            f"cpus.observe = lambda: cpus.CpuState(usable=2, load_1m=5.0, busy={busy}); "
            f"sys.exit(cli.main(['run', '--config-dir', {str(env_probe / 'probeconf')!r}, 'suite=smoke', "
            f"'model=envprobe', 'dataset=moons', 'suite.trial_timeout_s=60', 'report=false', "
            f"'results_dir={tmp_path / 'res'}']))")
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "HARNESS_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert _worker_spins(tmp_path / "res") == {seen}


@pytest.mark.slow
def test_api_worker_spins_briefly_and_the_callers_env_is_left_alone(env_probe, tmp_path, monkeypatch):
    monkeypatch.setattr(cpus, "observe", lambda: cpus.CpuState(usable=2, load_1m=0.1, busy=0.0))
    over = ["suite=smoke", "model=envprobe", "dataset=moons", "suite.trial_timeout_s=60", "progress=false",
            "report=false"]
    cfg = api.compose([f"results_dir={tmp_path / 'res'}", *over], config_dirs=[str(env_probe / "probeconf")])
    result = api.execute(api.plan(cfg, over), cfg, tmp_path / "run")
    assert result.exit_code == 0
    assert _worker_spins(tmp_path / "run") == {"10000"}
    assert "GOMP_SPINCOUNT" not in os.environ  # set for the worker only


# --- the benchmark ---------------------------------------------------------------------------

@pytest.mark.slow
def test_contention_benchmark_runs_idle_and_loaded_and_prints_the_ratio():
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "contention.py"), "--suite", "smoke",
                          "--override", "dataset=moons", "--override", "model=logreg", "--policy", "new",
                          "--hog", "1"], capture_output=True, text=True, cwd=ROOT, timeout=300,
                         env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert "idle   new: wall" in res.stdout and "loaded new: wall" in res.stdout
    row = [line for line in res.stdout.splitlines() if line.startswith("new ")][-1].split()
    idle, loaded, ratio = map(float, row[1:4])
    assert ratio == pytest.approx(loaded / idle, rel=0.1)  # the walls are printed rounded to 0.1 s
    assert "load average now" in res.stdout


def test_an_unknown_policy_stops_the_run_before_its_dir_exists(compose, tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_THREADS", "many")
    cfg = compose("suite=smoke", "progress=false", "report=false")
    with pytest.raises(UserError, match="HARNESS_THREADS='many' is not a thread policy"):
        api.execute(api.plan(cfg), cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()
