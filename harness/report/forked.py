"""Draw a report's figures in forked worker processes, a few at once.

Each figure costs a few hundred milliseconds of matplotlib layout and rendering (a PNG and the
same figure as SVG), most of a report's time, and one figure never needs another: on two cores,
two workers draw in about half the wall time. The workers are forked when a report starts, before
its tables are built, and each warms up there (``warm``: matplotlib's figure code imported and its
font loaded, about 0.4 s of one core) while the parent computes the tables, so that cost is off the
report's path. A task reaches a worker pickled (a module function and the rows it draws, never a
lambda) and comes back as text: the SVG or what went wrong.

A worker runs one thread: its native pools (BLAS, OpenMP) are limited to one as it starts. That keeps
two workers off each other's cores, and makes the fork safe after ``harness run`` has trained torch
models in this process: a forked child that enters a parallel region of GNU OpenMP served by its
parent's threads waits for them forever, and with one thread no region is parallel (a worker never
calls torch either). So the report at the end of a run is drawn in workers too.

Where ``fork`` is not there (not Linux) or there is one usable core, the tasks run here, one after
another, with the same results. A task whose worker died (a crash in a library) or that cannot be
pickled is run here too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

Task = Callable[[], "str | None"]


class Pool:
    """``workers`` forked now (each running ``warm`` first), to run tasks given later; a context
    manager that shuts them down. With fewer than two workers, or no safe fork, tasks run here."""

    def __init__(self, workers: int, warm: Callable[[], None] | None = None):
        self._executor = None
        if workers > 1 and can_fork():
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                                 initializer=_start, initargs=(os.getpid(), warm))
            for _ in range(workers):  # fork every worker now: some Pythons fork one per task on demand
                self._executor.submit(int)

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def run(self, tasks: list[Task], first: Callable[[int], float] | None = None) -> list[tuple[bool, str | None]]:
        """Each task's ``(True, its result)`` or ``(False, "Error: message")``, in the order given.

        Workers take the tasks largest ``first(index)`` first (else in the order given): the longest
        figure started last would leave one worker drawing while the other waits.
        """
        if self._executor is None or len(tasks) <= 1:
            return [_call(task) for task in tasks]
        order = sorted(range(len(tasks)), key=lambda i: -first(i)) if first else range(len(tasks))
        futures = {i: self._executor.submit(_call, tasks[i]) for i in order}
        # a worker that died (BrokenProcessPool) or a task that would not pickle: run it here
        return [futures[i].result() if futures[i].exception() is None else _call(task) for i, task in enumerate(tasks)]


def _start(parent: int, warm: Callable[[], None] | None) -> None:
    """A worker's first step: die with the parent (a killed report leaves no worker waiting for
    tasks), leave Ctrl-C to it (it shuts the pool down), run one thread, then warm up."""
    import signal

    _die_with_parent()
    if os.getppid() != parent:  # it died before we could ask
        os._exit(0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _one_thread()
    if warm is not None:
        warm()


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (``prctl(PR_SET_PDEATHSIG)``); a no-op
    where there is no such call."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _one_thread() -> None:
    """Limit every native thread pool loaded here (BLAS, OpenMP) to one thread, for good: a figure
    needs no more, and a forked OpenMP pool must not be entered (see the module's docstring). Not
    ``measure.thread_limit``: it sets torch's threads, which a forked child must not touch."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


def can_fork() -> bool:
    return sys.platform.startswith("linux")


def _call(task: Task) -> tuple[bool, str | None]:
    try:
        return True, task()
    except Exception as exc:  # the caller turns it into a note in the report
        return False, f"{exc.__class__.__name__}: {exc}"
