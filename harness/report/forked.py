"""Run a report's figure drawing in forked child processes, a few at once.

Each figure costs a few hundred milliseconds of matplotlib layout and rendering (a PNG and the
same figure as SVG), most of a report's time, and one figure never needs another: on two cores,
two children draw in about half the wall time. A child inherits the report's data by ``fork``
(nothing is pickled) and hands back only text (the SVG, or what went wrong) through a JSON file
it writes in a private temporary directory.

Where ``fork`` is not safe or not there (not Linux; torch already imported, whose OpenMP pool does
not survive a fork; one usable core), the tasks run here, one after another, with the same
results.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

#: a child that has not finished after this long is stopped, and its task run here instead
CHILD_TIMEOUT_S = 300.0


def run(tasks: list[Callable[[], str | None]], workers: int) -> list[tuple[bool, str | None]]:
    """Each task's ``(True, its result)`` or ``(False, "Error: message")``, in the order given."""
    if workers <= 1 or len(tasks) <= 1 or not can_fork():
        return [_call(task) for task in tasks]
    import multiprocessing
    from multiprocessing.connection import wait

    ctx = multiprocessing.get_context("fork")
    results: list[tuple[bool, str | None] | None] = [None] * len(tasks)
    with tempfile.TemporaryDirectory(prefix="harness-figures-") as tmp:
        pending, running = list(range(len(tasks))), {}
        while pending or running:
            while pending and len(running) < workers:
                i = pending.pop(0)
                proc = ctx.Process(target=_child, args=(tasks[i], Path(tmp) / f"{i}.json"), daemon=True)
                proc.start()
                running[proc.sentinel] = (i, proc)
            done = wait(list(running), timeout=CHILD_TIMEOUT_S)
            for sentinel in done or list(running):  # nothing done in time: stop them all
                i, proc = running.pop(sentinel)
                proc.join(timeout=1)
                late = proc.is_alive()
                if late:
                    proc.kill()
                    proc.join()
                results[i] = _read(Path(tmp) / f"{i}.json") or (
                    (False, f"TimeoutError: drawing took longer than {CHILD_TIMEOUT_S:g} s") if late else None)
    # a child that died without a word (a crash in a library) gets its task run here, as without fork
    return [res if res is not None else _call(tasks[i]) for i, res in enumerate(results)]


def can_fork() -> bool:
    return sys.platform.startswith("linux") and "torch" not in sys.modules


def _call(task) -> tuple[bool, str | None]:
    try:
        return True, task()
    except Exception as exc:  # the caller turns it into a note in the report
        return False, f"{exc.__class__.__name__}: {exc}"


def _child(task, out: Path) -> None:
    ok, value = _call(task)
    out.write_text(json.dumps([ok, value]), encoding="utf-8")


def _read(path: Path) -> tuple[bool, str | None] | None:
    try:
        ok, value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return bool(ok), value
