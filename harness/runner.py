"""Execute a plan: run its trials, append a record as each ends, resume, report.

``execute`` is the plain function behind ``harness run``; callers reach it through
:func:`harness.api.execute`, with a plan from :func:`harness.api.plan`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from harness import cpus, environment, fingerprint, progress
from harness.errors import UserError
from harness.execution import make_executor
from harness.plan import Plan, Trial
from harness.schema import INTERRUPTED, NO_CUDA
from harness.rundir import claim, note_resume, os_problem, run_dir_of
from harness.store import RunWriter, ok_trial_ids, read_run_info
from harness.trial import Outcome, skipped


@dataclass
class RunResult:
    run_dir: Path
    counts: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    report: Path | None = None
    interrupted: str = ""  # the signal's name when a run was stopped early
    resumed: int = 0  # trials already ok in the run dir, not run again
    planned: int = 0  # trials of this plan (this shard of it), resumed ones included
    not_run: int = 0  # trials of this execute that ended without a record (or were stopped mid-way)

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        return 1 if self.counts["failed"] or self.counts["timeout"] else 0


class Interrupted(KeyboardInterrupt):
    """Raised from a SIGINT/SIGTERM handler so the current trial stops where it is."""


class _Devices:
    """Resolves a trial's device once per type; imports torch only when a GPU is asked for."""

    def __init__(self):
        self._cuda = None

    def cuda_available(self) -> bool:
        if self._cuda is None:
            try:
                import torch
                self._cuda = bool(torch.cuda.is_available())
            except ImportError:
                self._cuda = False
        return self._cuda

    def resolve(self, trial: Trial) -> tuple[str, str | None]:
        """(device the trial runs on, reason to skip or None)."""
        kind = str(trial.device.type)
        if kind == "cpu":
            return "cpu", None
        has_gpu = self.cuda_available()
        if kind == "auto":
            kind = "cuda" if has_gpu else "cpu"
        if kind == "cuda" and not has_gpu:
            return "cuda", "CUDA is not available on this machine; run this trial on a GPU machine or use device=cpu"
        return kind, None


def execute(cfg: DictConfig, plan: Plan, run_dir: Path | str | None = None, job: str = "0",
            stream=None, shared_dir: bool = False) -> RunResult:
    """Run the plan's trials not yet ok, record each, and write the report.

    ``cfg.resume`` (a run dir) appends to that run and skips its ok trials; ``cfg.shard``
    of ``cfg.n_shards`` runs every n-th trial, for launchers that spread a plan over jobs.
    Raises UserError for problems with the user's input; records already written stay.
    """
    stream = stream or sys.stderr
    cpus.at_start(stream, int(cfg.get("n_shards") or 1))  # thread policy: usable cores vs. load; warns if busy
    resume = cfg.get("resume")
    run_dir = Path(run_dir) if run_dir and not resume else run_dir_of(cfg)
    lock = claim(run_dir, cfg, bool(resume), shared_dir, job, plan.overrides)
    try:
        return _execute(cfg, plan, run_dir, job, stream, shared_dir, bool(resume))
    finally:
        os.close(lock)  # releases the run dir to the next writer


def _execute(cfg: DictConfig, plan: Plan, run_dir: Path, job: str, stream, shared_dir: bool,
             resume: bool) -> RunResult:
    """:func:`execute` once the run dir is claimed."""
    n_shards, shard = int(cfg.get("n_shards") or 1), int(cfg.get("shard") or 0)
    trials = plan.trials[shard::n_shards]
    result = RunResult(run_dir=run_dir, planned=len(trials))
    try:
        if resume:
            info = read_run_info(run_dir)
            done = ok_trial_ids(run_dir)
            result.resumed = sum(t.trial_id in done for t in trials)
            trials = [t for t in trials if t.trial_id not in done]
            note_resume(run_dir, info, plan.overrides, job, stream, bool(cfg.progress))
        writer = RunWriter(run_dir, job=job)
        writer.write_run_info({
            "run_id": run_dir.name, "suite": cfg.suite.name, "overrides": list(plan.overrides),
            "chosen": dict(plan.chosen), "n_trials": len(plan.trials), "dropped": plan.dropped,
            "config": OmegaConf.to_container(cfg, resolve=True),
            "environment": environment.capture(load_torch=any(str(t.device.type) != "cpu" for t in plan.trials)),
            **fingerprint.capture(),  # machine fingerprint and calibration, for `harness compare`
        })
    except OSError as exc:
        if not (resume or shared_dir):
            _discard_if_empty(run_dir)
        raise os_problem("write the run dir", run_dir, exc) from None
    if cfg.progress:
        print(f"harness: {len(trials)} trials of suite {cfg.suite.name} -> {run_dir}"
              + (f" (shard {shard + 1}/{n_shards})" if n_shards > 1 else "")
              + (f" ({result.resumed} already ok, skipped)" if resume else "")
              + (f" ({len(plan.dropped)} incompatible combinations left out)" if plan.dropped else ""),
              file=stream, flush=True)
    for why in plan.missing_extras():  # an extra the user may not know they lack: say it even without progress
        print(f"harness: left out: {why}", file=stream or sys.stderr, flush=True)
    try:
        with _signals_interrupt() as guard:
            _run_trials(trials, cfg, run_dir, writer, result, job, stream, n_shards, guard)
    except UserError:
        if not (resume or shared_dir):  # a dir other jobs share, or the user's run, stays
            _discard_if_empty(run_dir)
        raise
    except Interrupted as exc:
        result.interrupted = str(exc)
    finally:
        result.not_run = len(trials) - sum(result.counts.values())
    if cfg.report and n_shards == 1 and not shared_dir:
        from harness.report import write_report
        result.report = write_report([run_dir])
    return result


def _threads_per_job(trial: Trial, n_jobs: int):
    """``device.threads`` when pinned; else parallel jobs share the usable cores (cores ÷ jobs)
    and a single job takes the cores other work leaves free, torch ones more (:mod:`harness.cpus`).
    A re-run keeps its original's count (``trial.threads``), so its rows pair with the original's."""
    if trial.threads:
        return trial.threads
    return cpus.trial_threads(trial.device.get("threads"), n_jobs, trial.model.get("estimator"))


def _run_trials(trials: list[Trial], cfg: DictConfig, run_dir: Path, writer: RunWriter,
                result: RunResult, job: str, stream, n_jobs: int = 1, guard=None) -> None:
    """The loop of :func:`execute`: run each trial, write its record, count it."""
    guard = guard or _signals_interrupt()
    devices = _Devices()
    executor = make_executor(cfg.suite.get("trial_timeout_s"), cfg.suite.get("max_memory_gb"))
    show = progress.display(bool(cfg.progress), stream, trials, jobs=n_jobs, job=job)
    try:
        for trial in trials:
            device, skip = devices.resolve(trial)
            ctx = {"run_id": run_dir.name, "suite": cfg.suite.name, "device": device,
                   "target_accuracy": cfg.suite.get("target_accuracy"), "parallel_jobs": n_jobs,
                   "threads": _threads_per_job(trial, n_jobs)}
            try:
                with show.running(trial):
                    out = skipped(trial, ctx, skip, NO_CUDA) if skip else executor.run(trial, ctx)
            except Interrupted as exc:
                out = skipped(trial, ctx, f"interrupted by {exc} before it finished", INTERRUPTED,
                              status="interrupted")
                with guard.deferred():
                    _write(writer, run_dir, job, trial, out)
                raise
            with guard.deferred():  # a signal now waits until the record is whole
                try:
                    _write(writer, run_dir, job, trial, out)
                except OSError as exc:  # disk full, dir removed: the records so far stay
                    raise UserError(f"cannot write the record of trial {trial.trial_id} to {run_dir}: "
                                    f"{exc.strerror or exc}; records so far are kept; free the disk and "
                                    f"resume with resume={run_dir}") from None
                result.counts[out.record["status"]] += 1
                if out.record["status"] in ("failed", "timeout"):
                    result.failures.append(f"{trial.label}: {out.record['error']}")
                show.finished(trial, out.record)
    finally:
        show.close()
        executor.close()


def _write(writer: RunWriter, run_dir: Path, job: str, trial: Trial, out: Outcome) -> None:
    """A trial's lines, its record last: a kill in between leaves a trial without a record
    (run again on resume, its stray lines superseded), never a record without its predictions."""
    if out.y_pred is not None and out.y_true is not None:
        writer.predictions(trial.trial_id, out.y_true, out.y_pred)
    writer.curve(trial.trial_id, out.curve)
    writer.record(out.record)
    if out.detail:
        fd = os.open(run_dir / f"errors-{job}.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT
                     | getattr(os, "O_NOFOLLOW", 0), 0o644)
        with open(fd, "a") as fh:
            fh.write(f"--- {trial.trial_id} {trial.label}\n{out.detail}\n")


class _signals_interrupt:
    """Turn SIGINT and SIGTERM into :class:`Interrupted` while trials run.

    Inside ``deferred()`` (writing a record) a signal is held until the block ends, so
    a record is either written whole or not at all.
    """

    def __init__(self):
        self.holding, self.pending = False, None

    @contextlib.contextmanager
    def deferred(self):
        self.holding = True
        try:
            yield
        finally:
            self.holding = False
            if self.pending:
                raise Interrupted(self.pending)

    def __enter__(self):
        def handler(signum, frame):
            name = signal.Signals(signum).name
            if self.holding:
                self.pending = name
            else:
                raise Interrupted(name)

        self.saved = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self.saved[sig] = signal.signal(sig, handler)
            except ValueError:  # not the main thread: leave signals alone
                pass
        return self

    def __exit__(self, *exc):
        for sig, old in self.saved.items():
            signal.signal(sig, old)


def _discard_if_empty(run_dir: Path) -> None:
    """Remove a run dir that a user error stopped before any trial was recorded."""
    if not any(run_dir.glob("records-*.jsonl")):
        shutil.rmtree(run_dir, ignore_errors=True)
