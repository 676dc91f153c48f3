"""Figures drawn in forked children: the same bytes as drawn here, errors kept as notes, a child
that dies or a task that will not pickle costs nothing, the workers warmed before their first
task, the longest tasks handed out first, no worker left behind by a killed report, workers on one
thread (so a fork after torch trained here is safe), and no fork where there is none."""

from __future__ import annotations

import os
import sys
from functools import partial

import pytest

from harness.report import forked, write_report
from harness.report import figures as figs
from test_report_layout import report_dir  # noqa: F401  (a fixture: a run of ten models)

PARENT = os.getpid()


def _where(i):
    return f"figure {i} from {'a child' if os.getpid() != PARENT else 'here'}"


def _value(i):  # a task as figures makes one: a module function and its data, which pickle
    return partial(_where, i)


WARMED = []


def _warm():
    WARMED.append(os.getpid())


def _warmed():
    return f"warmed {WARMED == [os.getpid()]}"


def _fails():
    raise ValueError("no data to draw")


def _dies_in_a_child():
    if os.getpid() != PARENT:
        os._exit(3)  # as a crash in a library would
    return "drawn here"


def _run(tasks, workers):
    with forked.Pool(workers) as pool:
        return pool.run(tasks)


@pytest.fixture
def forking(monkeypatch):
    monkeypatch.setattr(forked, "can_fork", lambda: True)  # fork wherever the tests run


@pytest.mark.usefixtures("forking")
def test_results_come_back_in_order_from_children():
    got = _run([_value(i) for i in range(5)], workers=2)
    assert got == [(True, f"figure {i} from a child") for i in range(5)]


@pytest.mark.usefixtures("forking")
def test_an_error_is_returned_not_raised_and_a_dead_child_is_redone_here():
    got = _run([_fails, _dies_in_a_child, partial(type(None))], workers=2)
    assert got == [(False, "ValueError: no data to draw"), (True, "drawn here"), (True, None)]


@pytest.mark.usefixtures("forking")
def test_a_task_that_will_not_pickle_is_drawn_here():
    got = _run([_value(0), lambda: _where(1)], workers=2)
    assert got == [(True, "figure 0 from a child"), (True, "figure 1 from here")]


@pytest.mark.usefixtures("forking")
def test_workers_fork_at_once_and_warm_up_before_the_first_task():
    with forked.Pool(2, _warm) as pool:
        assert WARMED == []  # the warm-up runs in the children, not here
        got = pool.run([_warmed, _warmed, _warmed])
    assert got == [(True, "warmed True")] * 3


class _Recorder:
    """An executor that runs each task here when submitted, and keeps the order it got them in."""

    def __init__(self):
        self.order = []

    def submit(self, fn, task):
        from concurrent.futures import Future

        self.order.append(task.args[0])
        future = Future()
        future.set_result(fn(task))
        return future


def test_the_longest_tasks_are_handed_out_first():
    pool = forked.Pool(0)
    pool._executor = _Recorder()
    weight = {0: 0, 1: 3, 2: 0, 3: 2}
    got = pool.run([_value(i) for i in range(4)], first=weight.get)
    assert pool._executor.order == [1, 3, 0, 2]  # by weight, then as given
    assert got == [(True, f"figure {i} from here") for i in range(4)]  # results in the order given


def test_one_worker_or_no_fork_runs_here(monkeypatch):
    assert _run([_value(0), _value(1)], workers=1) == [(True, "figure 0 from here"), (True, "figure 1 from here")]
    monkeypatch.setattr(forked, "can_fork", lambda: False)
    assert _run([_value(0), _fails], workers=4) == [(True, "figure 0 from here"),
                                                    (False, "ValueError: no data to draw")]


def test_no_fork_off_linux(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert not forked.can_fork()
    monkeypatch.setattr(sys, "platform", "linux")
    assert forked.can_fork()


AFTER_TORCH = """
import json
import numpy as np
import torch
from threadpoolctl import threadpool_info
from harness.report import forked

torch.set_num_threads(2)  # the parent's OpenMP pool serves a few parallel regions, as a run's training does
x = torch.randn(256, 256)
for _ in range(20):
    x = torch.tanh(x @ x.T / 256)

def work():  # in a worker: a product big enough for a threaded BLAS, and the pools it sees
    a = np.ones((600, 600))
    return json.dumps([float((a @ a).sum()), sorted({p["num_threads"] for p in threadpool_info()})])

with forked.Pool(2) as pool:
    print(json.dumps([json.loads(svg) for ok, svg in pool.run([work, work, work])]))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork is Linux's here")
def test_workers_run_one_thread_and_fork_safely_after_torch_trained():
    """``harness run`` trains torch models in the process that then draws the report: its workers are
    forked after an OpenMP pool ran, and must neither hang nor run more than one thread each."""
    import json
    import subprocess

    pytest.importorskip("torch")
    out = subprocess.run([sys.executable, "-c", AFTER_TORCH], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    results = json.loads(out.stdout.strip().splitlines()[-1])
    assert results == [[600.0**3, [1]]] * 3  # every native pool of every worker: one thread


def test_a_report_drawn_in_children_is_the_one_drawn_here(report_dir, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setattr(figs, "MAX_WORKERS", 1)
    write_report([report_dir], tmp_path / "here")
    monkeypatch.setattr(figs, "MAX_WORKERS", 4)
    monkeypatch.setattr("harness.cpus.usable_cores", lambda: 2)
    monkeypatch.setattr(forked, "can_fork", lambda: True)
    write_report([report_dir], tmp_path / "children")
    here = sorted(p.name for p in (tmp_path / "here").iterdir())
    assert here == sorted(p.name for p in (tmp_path / "children").iterdir())
    assert any(name.endswith(".png") for name in here)
    for name in here:
        assert (tmp_path / "here" / name).read_bytes() == (tmp_path / "children" / name).read_bytes(), name


KILLED = """
import os, sys, time
from harness.report import forked
forked.can_fork = lambda: True
pool = forked.Pool(3)
print(" ".join(str(p.pid) for p in pool._executor._processes.values()), flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl and /proc are Linux's")
def test_workers_die_with_a_killed_report():
    """A report killed mid-way (SIGKILL, or SIGTERM with no handler) leaves no worker behind, waiting for tasks."""
    import contextlib
    import signal
    import subprocess
    import time

    proc = subprocess.Popen([sys.executable, "-c", KILLED], stdout=subprocess.PIPE, text=True)
    pids = []
    try:
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert len(pids) == 3
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(p) for p in pids):
            time.sleep(0.05)
        assert not any(_alive(p) for p in pids)
    finally:  # whatever failed, leave nothing running
        for pid in [proc.pid, *pids]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"  # a zombie is dead, waiting to be reaped
    except FileNotFoundError:
        return False
