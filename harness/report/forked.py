"""Run a report's figure drawing in forked worker processes, a few at once.

Each figure costs a few hundred milliseconds of matplotlib layout and rendering (a PNG and the
same figure as SVG), most of a report's time, and one figure never needs another: on two cores,
two workers draw in about half the wall time. The workers are forked once the tasks exist, so
they inherit the tasks and the report's data (nothing of them is pickled: a worker gets a task's
index and hands back text, the SVG or what went wrong).

Where ``fork`` is not safe or not there (not Linux; torch already imported, whose OpenMP pool does
not survive a fork; one usable core), the tasks run here, one after another, with the same
results. A task whose worker died (a crash in a library) is run here too.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

_TASKS: list[Callable[[], str | None]] = []  # what the forked workers inherit, by index


def run(tasks: list[Callable[[], str | None]], workers: int) -> list[tuple[bool, str | None]]:
    """Each task's ``(True, its result)`` or ``(False, "Error: message")``, in the order given."""
    global _TASKS
    if workers <= 1 or len(tasks) <= 1 or not can_fork():
        return [_call(task) for task in tasks]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    results: list[tuple[bool, str | None] | None] = [None] * len(tasks)
    _TASKS = tasks
    try:
        with ProcessPoolExecutor(min(workers, len(tasks)), mp_context=multiprocessing.get_context("fork")) as pool:
            futures = [pool.submit(_by_index, i) for i in range(len(tasks))]
            for i, future in enumerate(futures):
                if future.exception() is None:  # else its worker died: BrokenProcessPool
                    results[i] = future.result()
    finally:
        _TASKS = []
    return [res if res is not None else _call(tasks[i]) for i, res in enumerate(results)]


def can_fork() -> bool:
    return sys.platform.startswith("linux") and "torch" not in sys.modules


def _call(task) -> tuple[bool, str | None]:
    try:
        return True, task()
    except Exception as exc:  # the caller turns it into a note in the report
        return False, f"{exc.__class__.__name__}: {exc}"


def _by_index(i: int) -> tuple[bool, str | None]:
    return _call(_TASKS[i])
