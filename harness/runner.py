"""Execute a plan: run its trials, append a record as each ends, resume, report.

``execute`` is the plain function behind ``harness run``; callers reach it through
:func:`harness.api.execute`, with a plan from :func:`harness.api.plan`.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from harness import environment, fingerprint
from harness.errors import UserError
from harness.execution import make_executor
from harness.measure import usable_cores
from harness.plan import Plan, Trial
from harness.schema import INTERRUPTED, NO_CUDA
from harness.store import RUN_FILE, RunWriter, ok_trial_ids, read_run_info
from harness.trial import Outcome, skipped


@dataclass
class RunResult:
    run_dir: Path
    counts: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    report: Path | None = None
    interrupted: str = ""  # the signal's name when a run was stopped early
    resumed: int = 0  # trials already ok in the run dir, not run again

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


def _progress(i: int, n: int, out: Outcome, t0: float, stream) -> None:
    r = out.record
    elapsed = time.perf_counter() - t0
    eta = elapsed / i * (n - i)
    score = f"acc={r['accuracy']:.3f} fit={r['fit_s']:.2f}s" if r["status"] == "ok" else r["error"][:90]
    print(f"[{i:>{len(str(n))}}/{n}] {r['dataset']}/{r['features']}/{r['model']}@{r['device']} "
          f"seed={r['seed']} {r['status']} {score}  (elapsed {elapsed:.0f}s, eta {eta:.0f}s)",
          file=stream, flush=True)


def _claim(run_dir: Path, cfg: DictConfig, resume: bool, shared: bool) -> None:
    """Refuse to write into another run's dir unless resuming it (or sharing one launch)."""
    if resume:
        if not (run_dir / RUN_FILE).exists():
            raise UserError(f"resume={run_dir}: not a run dir (no {RUN_FILE}); pass a dir written by `harness run`")
        suite = read_run_info(run_dir).get("suite")
        if suite and suite != cfg.suite.name:
            raise UserError(f"resume={run_dir} is a run of suite {suite}, not {cfg.suite.name}; "
                            f"pass suite={suite} with the same overrides")
    elif (run_dir / RUN_FILE).exists() and not shared:
        raise UserError(f"{run_dir} already holds a run; pick another run_id, or resume it with resume={run_dir}")


def execute(cfg: DictConfig, plan: Plan, run_dir: Path | str | None = None, job: str = "0",
            stream=None, shared_dir: bool = False) -> RunResult:
    """Run the plan's trials not yet ok, record each, and write the report.

    ``cfg.resume`` (a run dir) appends to that run and skips its ok trials; ``cfg.shard``
    of ``cfg.n_shards`` runs every n-th trial, for launchers that spread a plan over jobs.
    Raises UserError for problems with the user's input; records already written stay.
    """
    stream = stream or sys.stderr
    resume = cfg.get("resume")
    run_dir = Path(resume or run_dir or Path(cfg.results_dir) / cfg.suite.name / cfg.run_id)
    _claim(run_dir, cfg, bool(resume), shared_dir)
    n_shards, shard = int(cfg.get("n_shards") or 1), int(cfg.get("shard") or 0)
    trials = plan.trials[shard::n_shards]
    result = RunResult(run_dir=run_dir)
    if resume:
        done = ok_trial_ids(run_dir)
        result.resumed = sum(t.trial_id in done for t in trials)
        trials = [t for t in trials if t.trial_id not in done]
    writer = RunWriter(run_dir, job=job)
    writer.write_run_info({
        "run_id": run_dir.name, "suite": cfg.suite.name, "overrides": list(plan.overrides),
        "chosen": dict(plan.chosen), "n_trials": len(plan.trials), "dropped": plan.dropped,
        "config": OmegaConf.to_container(cfg, resolve=True),
        "environment": environment.capture(load_torch=any(str(t.device.type) != "cpu" for t in plan.trials)),
        **fingerprint.capture(),  # machine fingerprint and calibration, for `harness compare`
    })
    if cfg.progress:
        print(f"harness: {len(trials)} trials of suite {cfg.suite.name} -> {run_dir}"
              + (f" (shard {shard + 1}/{n_shards})" if n_shards > 1 else "")
              + (f" ({result.resumed} already ok, skipped)" if resume else "")
              + (f" ({len(plan.dropped)} incompatible combinations left out)" if plan.dropped else ""),
              file=stream, flush=True)
    try:
        with _signals_interrupt() as guard:
            _run_trials(trials, cfg, run_dir, writer, result, job, stream, n_shards, guard)
    except UserError:
        _discard_if_empty(run_dir)
        raise
    except Interrupted as exc:
        result.interrupted = str(exc)
    if cfg.report and n_shards == 1 and not shared_dir:
        from harness.report import write_report
        result.report = write_report([run_dir])
    return result


def _threads_per_job(trial: Trial, n_jobs: int):
    """Parallel jobs share the cores: each gets cores/jobs threads unless the device pins them."""
    if n_jobs <= 1 or trial.device.get("threads"):
        return trial.device.get("threads")
    return max(1, usable_cores() // n_jobs)


def _run_trials(trials: list[Trial], cfg: DictConfig, run_dir: Path, writer: RunWriter,
                result: RunResult, job: str, stream, n_jobs: int = 1, guard=None) -> None:
    """The loop of :func:`execute`: run each trial, write its record, count it."""
    guard = guard or _signals_interrupt()
    devices = _Devices()
    executor = make_executor(cfg.suite.get("trial_timeout_s"), cfg.suite.get("max_memory_gb"))
    t0 = time.perf_counter()
    try:
        for i, trial in enumerate(trials, 1):
            device, skip = devices.resolve(trial)
            ctx = {"run_id": run_dir.name, "suite": cfg.suite.name, "device": device,
                   "target_accuracy": cfg.suite.get("target_accuracy"), "parallel_jobs": n_jobs,
                   "threads": _threads_per_job(trial, n_jobs)}
            try:
                out = skipped(trial, ctx, skip, NO_CUDA) if skip else executor.run(trial, ctx)
            except Interrupted as exc:
                out = skipped(trial, ctx, f"interrupted by {exc} before it finished", INTERRUPTED,
                              status="interrupted")
                with guard.deferred():
                    _write(writer, run_dir, job, trial, out)
                raise
            with guard.deferred():  # a signal now waits until the record is whole
                _write(writer, run_dir, job, trial, out)
                result.counts[out.record["status"]] += 1
                if out.record["status"] in ("failed", "timeout"):
                    result.failures.append(f"{trial.label}: {out.record['error']}")
                if cfg.progress:
                    _progress(i, len(trials), out, t0, stream)
    finally:
        executor.close()


def _write(writer: RunWriter, run_dir: Path, job: str, trial: Trial, out: Outcome) -> None:
    writer.record(out.record)
    if out.y_pred is not None and out.y_true is not None:
        writer.predictions(trial.trial_id, out.y_true, out.y_pred)
    writer.curve(trial.trial_id, out.curve)
    if out.detail:
        with open(run_dir / f"errors-{job}.log", "a") as fh:
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
