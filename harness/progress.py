"""What a run shows while it runs: a live display on a terminal, a plain line now and then elsewhere.

- On a terminal (and when this is the run's only job): a live line for the running trial (what it
  is, seconds so far; a deep net's epoch, step and last validation accuracy) above an overall bar
  (done/total, ok and failed counts, elapsed, an ETA), drawn by `rich <https://rich.readthedocs.io>`_;
  each finished trial leaves one line above it.
- Not a terminal (CI logs, pipes) or one of several parallel jobs (a joblib launch): a plain line
  once another tenth of the trials is done and at least ``interval_s`` (30 s) passed since the
  last, never a live display; a job's lines carry its number.
- ``progress=false``: nothing.

The ETA adds up per-trial estimates (:func:`remaining_s`): the mean seconds of finished trials of
the same model, dataset, features and variant, else of the same model and dataset, else of the
model, else of every finished trial; so one slow model seen once no longer swings the ETA as
elapsed ÷ done did.

Training loops report each evaluation through :func:`training_step`; a worker process sends them
to its parent over the executor's pipe (:mod:`harness.execution`), where :func:`training_step` is
called again. This module imports rich only when it draws a live display.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from collections import Counter
from datetime import timedelta
from typing import Callable, Sequence

#: A trial's estimate key: (model, dataset, features, variant); shorter prefixes are the fallbacks.
Key = tuple
#: The prefixes of a key tried in turn (model+dataset+features+variant, model+dataset, model, all).
_LEVELS = (4, 2, 1, 0)

_listeners: list[Callable[[dict], None]] = []


def training_step(point: dict) -> None:
    """A training loop's evaluation (``epoch``, ``epochs``, ``step``, ``steps``, ``val_accuracy``,
    ``train_loss``): passed to whoever listens (the live display, a worker's pipe); cheap when none."""
    for listener in list(_listeners):
        listener(point)


@contextlib.contextmanager
def listening(listener: Callable[[dict], None]):
    """Call ``listener`` with each :func:`training_step` point while the block runs."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


def key_of(trial) -> Key:
    return (str(trial.model.name), str(trial.dataset.name), str(trial.features.name), trial.variant)


def remaining_s(done: Sequence[tuple[Key, float]], pending: Sequence[Key], running: Key | None = None,
                running_s: float = 0.0) -> float | None:
    """Seconds the ``pending`` trials (and what is left of the ``running`` one, ``running_s`` in)
    should take, from the seconds of the ``done`` ones; None before any trial finished.

    Each trial is estimated by the mean of finished trials sharing the longest prefix of its key
    (see ``_LEVELS``); a running trial past its estimate counts as nearly done.
    """
    if not done:
        return None
    sums: dict[Key, list] = {}
    for key, seconds in done:
        for n in _LEVELS:
            acc = sums.setdefault(tuple(key[:n]), [0.0, 0])
            acc[0] += seconds
            acc[1] += 1

    def guess(key: Key) -> float:
        for n in _LEVELS:
            acc = sums.get(tuple(key[:n]))
            if acc:
                return acc[0] / acc[1]
        return 0.0  # unreachable: the empty prefix holds every finished trial

    left = sum(guess(k) for k in pending)
    if running is not None:
        left += max(guess(running) - running_s, 0.0)
    return left


def clock(seconds: float) -> str:
    """``0:03:12``."""
    return str(timedelta(seconds=int(round(seconds))))


def outcome(record: dict) -> str:
    """A finished trial in a few words: ``acc 0.962  fit 0.05 s`` or ``failed: ValueError: boom``."""
    if record["status"] != "ok":
        return f"{record['status']}: {str(record.get('error') or '')[:120]}"
    text = f"acc {record['accuracy']:.3f}"
    val = record.get("val_accuracy")
    if isinstance(val, float) and math.isfinite(val):
        text += f" (val {val:.3f})"
    return text + f"  fit {record['fit_s']:.2f} s"


def training_text(point: dict | None) -> str:
    """A deep net's last evaluation: ``epoch 3/10  step 126/420  val acc 0.953``; "" before the first."""
    if not point:
        return ""

    def num(x) -> str:
        return f"{x:.0f}" if abs(x - round(x)) < 1e-9 else f"{x:.1f}"

    parts = []
    if point.get("epoch") is not None:
        parts.append(f"epoch {num(point['epoch'])}" + (f"/{num(point['epochs'])}" if point.get("epochs") else ""))
    if point.get("step") is not None:
        parts.append(f"step {point['step']}" + (f"/{point['steps']}" if point.get("steps") else ""))
    val = point.get("val_accuracy")
    if isinstance(val, float) and math.isfinite(val):
        parts.append(f"val acc {val:.3f}")
    return "  ".join(parts)


class _Display:
    """What every display keeps: counts, finished trials' seconds, the trial running now."""

    def __init__(self, trials: Sequence, clock_fn: Callable[[], float] = time.perf_counter):
        self.now = clock_fn
        self.total = len(trials)
        self.pending = Counter(key_of(t) for t in trials)  # trials not started yet, by key
        self.done: list[tuple[Key, float]] = []
        self.counts = Counter(ok=0, failed=0, skipped=0)  # fixed keys: rich's thread sums them meanwhile
        self.t0 = self.now()
        self.current = None  # (trial, its start) while a trial runs
        self.point: dict | None = None  # its last training_step
        self.last_s = 0.0  # the seconds of the trial that ran last

    @contextlib.contextmanager
    def running(self, trial):
        """Around a trial's execution: it is the live line, training points update it."""
        key = key_of(trial)
        if self.pending[key] > 0:
            self.pending[key] -= 1  # no key added or removed: rich's thread reads it meanwhile
        self.current, self.point = (trial, self.now()), None
        try:
            with listening(self._point):
                yield
        finally:
            self.last_s = self.now() - self.current[1]
            self.current = None

    def _point(self, point: dict) -> None:
        self.point = dict(point)

    def finished(self, trial, record: dict) -> None:
        """After a trial's record is written: count it, learn its time, show it."""
        status = record["status"]
        self.counts["ok" if status == "ok" else "skipped" if status == "skipped" else "failed"] += 1
        self.done.append((key_of(trial), self.last_s))
        self.show(trial, record)

    def eta_s(self) -> float | None:
        running, running_s, current = None, 0.0, self.current
        if current is not None:
            running, running_s = key_of(current[0]), self.now() - current[1]
        return remaining_s(self.done, list(self.pending.elements()), running, running_s)

    def summary(self) -> str:
        """``3/6 trials  3 ok  0 failed  0:00:15 elapsed  ETA 0:00:40``."""
        n = sum(self.counts.values())
        text = f"{n}/{self.total} trials  {self.counts['ok']} ok  {self.counts['failed']} failed"
        if self.counts["skipped"]:
            text += f"  {self.counts['skipped']} skipped"
        text += f"  {clock(self.now() - self.t0)} elapsed"
        if n < self.total:
            eta = self.eta_s()
            if eta is not None:  # known once a trial finished
                text += f"  ETA {clock(eta)}"
        return text

    def show(self, trial, record: dict) -> None:
        pass

    def close(self) -> None:
        pass


class Quiet(_Display):
    """``progress=false``: nothing is shown, nothing is kept."""

    def __init__(self):
        super().__init__([])

    @contextlib.contextmanager
    def running(self, trial):
        yield

    def finished(self, trial, record: dict) -> None:
        pass


class Plain(_Display):
    """Not a terminal, or one of several jobs: a plain line once another tenth of the trials is
    done and at least ``interval_s`` passed since the last line (so a run of seconds prints none)."""

    def __init__(self, trials: Sequence, stream, prefix: str = "harness", interval_s: float = 30.0,
                 clock_fn: Callable[[], float] = time.perf_counter):
        super().__init__(trials, clock_fn)
        self.stream, self.prefix, self.interval_s = stream, prefix, interval_s
        self.last_t, self.last_n = self.t0, 0

    def show(self, trial, record: dict) -> None:
        n, now = sum(self.counts.values()), self.now()
        if n >= self.total:
            return  # the run's summary follows
        if n - self.last_n >= max(1, math.ceil(self.total / 10)) and now - self.last_t >= self.interval_s:
            print(f"{self.prefix}: {self.summary()}", file=self.stream, flush=True)
            self.last_t, self.last_n = now, n


class Live(_Display):
    """On a terminal: rich's live display, refreshed twice a second by rich's own thread."""

    def __init__(self, trials: Sequence, console, clock_fn: Callable[[], float] = time.perf_counter):
        from rich.live import Live as RichLive
        from rich.spinner import Spinner

        super().__init__(trials, clock_fn)
        self.console = console
        self.spinner = Spinner("dots")  # one, so that it turns
        # what a trial prints goes above the display, but only from a stream that is the terminal
        # too (a user's `> out.txt` keeps its stdout)
        self.live = RichLive(console=console, get_renderable=self.render, refresh_per_second=2,
                             redirect_stdout=_terminal(sys.stdout), redirect_stderr=_terminal(sys.stderr))
        self.live.start()

    def render(self):
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        bar = Table.grid(padding=(0, 1))
        bar.add_row(ProgressBar(total=max(self.total, 1), completed=sum(self.counts.values()), width=20),
                    Text(self.summary(), no_wrap=True, overflow="ellipsis"))
        current, point = self.current, self.point  # rich's thread draws while the trial's changes them
        if current is None:
            return bar
        trial, started = current
        detail = training_text(point)
        line = Text.assemble((trial.label, "bold"), f"  {self.now() - started:.0f} s",
                             (f"  {detail}" if detail else "", "cyan"), no_wrap=True, overflow="ellipsis")
        self.spinner.update(text=line)
        return Group(self.spinner, bar)

    def show(self, trial, record: dict) -> None:
        from rich.text import Text

        mark, style = {"ok": ("✓", "green"), "skipped": ("-", "yellow")}.get(record["status"], ("✗", "red"))
        line = Text.assemble((mark, style), " ", trial.label, f"  {self.last_s:.1f} s  ",
                             (outcome(record), "" if record["status"] == "ok" else style))
        self.live.refresh()  # rich redraws its last frame under a printed line: first make it this one
        self.console.print(line, no_wrap=True, overflow="ellipsis", crop=True)

    def close(self) -> None:
        self.live.stop()


def _terminal(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"
    except (ValueError, OSError):  # a closed stream
        return False


def display(enabled: bool, stream, trials: Sequence, jobs: int = 1, job: str = "0",
            console=None, interval_s: float = 30.0) -> _Display:
    """The display for a run: :class:`Quiet`, :class:`Plain` or :class:`Live` (see the module's doc).

    ``console``: a rich Console to draw on (tests); by default one on ``stream`` when it is a terminal.
    """
    if not enabled:
        return Quiet()
    if jobs > 1 or (console is None and not _terminal(stream)):
        prefix = f"harness[job {job}]" if jobs > 1 else "harness"
        return Plain(trials, stream, prefix, interval_s)
    if console is None:
        from rich.console import Console

        console = Console(file=stream)
        if not console.is_terminal:  # e.g. a notebook
            return Plain(trials, stream, "harness", interval_s)
    return Live(trials, console)
