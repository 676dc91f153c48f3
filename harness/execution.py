"""Where trials execute: in this process (fast), or in a worker process that can be
stopped (timeouts) and fenced (memory limits).

Both executors share data and features across trials on the same split, and both return
an :class:`~harness.trial.Outcome` for every trial, whatever happens to the model.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import signal
import traceback
from collections import OrderedDict

from omegaconf import OmegaConf

from harness.errors import UserError
from harness.plan import Trial
from harness.trial import Outcome, failed, featurize, run_trial


class _LRU(OrderedDict):
    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def get_or(self, key, make):
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = self[key] = make()
        if len(self) > self.size:
            self.popitem(last=False)
        return value


def _captured(fn):
    """Run ``fn``; return its exception (with traceback text) instead of raising it."""
    try:
        return fn()
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - every trial on this data fails with this error
        exc.detail = traceback.format_exc()
        return exc


class InProcess:
    """Runs trials in this process, caching loaded splits and featurized arrays."""

    def __init__(self):
        from harness.data import load_dataset

        self.load_dataset = load_dataset
        self.datasets, self.features = _LRU(4), _LRU(8)

    def run(self, trial: Trial, ctx: dict) -> Outcome:
        dkey = OmegaConf.to_yaml(trial.dataset) + f"seed={trial.seed}"
        data = self.datasets.get_or(dkey, lambda: _captured(lambda: self.load_dataset(trial.dataset, trial.seed)))
        if isinstance(data, BaseException):
            return failed(trial, ctx, data, getattr(data, "detail", ""))
        fkey = dkey + OmegaConf.to_yaml(trial.features)
        feats = self.features.get_or(fkey, lambda: _captured(lambda: featurize(trial, data)))
        if isinstance(feats, BaseException):
            return failed(trial, ctx, feats, getattr(feats, "detail", ""))
        return run_trial(trial, data, feats, ctx)

    def close(self) -> None:
        pass


def _limit_memory(max_memory_gb: float | None) -> None:
    if max_memory_gb:
        limit = int(max_memory_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _worker(conn, max_memory_gb: float | None) -> None:
    """Child process: run trials sent over ``conn`` until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what an interrupt means
    _limit_memory(max_memory_gb)
    executor = InProcess()
    while True:
        msg = conn.recv()
        if msg is None:
            return
        trial, ctx = msg
        try:
            out = executor.run(trial, ctx)
        except UserError as exc:
            conn.send(("user_error", str(exc)))
            continue
        except MemoryError as exc:
            out = failed(trial, ctx, MemoryError(f"out of memory (max_memory_gb={max_memory_gb})"),
                         traceback.format_exc())
            del exc
        if out.record.get("status") == "failed" and "MemoryError" in out.record.get("error", ""):
            out.record["error"] = f"out of memory (max_memory_gb={max_memory_gb}): {out.record['error']}"
        conn.send(("ok", out))


class Isolated:
    """Runs trials in a worker process; kills and replaces it when a trial overruns.

    The worker lives across trials (one process per batch, not per trial), so tiny trials
    don't pay a process start each; it is only replaced after a timeout or a crash.
    """

    def __init__(self, timeout_s: float | None, max_memory_gb: float | None):
        self.timeout_s = timeout_s
        self.max_memory_gb = max_memory_gb
        self.ctx = mp.get_context("spawn")  # fork after BLAS/OpenMP/torch threads can deadlock
        self.proc = None

    def _start(self):
        parent, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_worker, args=(child, self.max_memory_gb), daemon=True)
        self.proc.start()
        child.close()
        self.conn = parent

    def _kill(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.join(5)
            self.proc = None

    def run(self, trial: Trial, ctx: dict) -> Outcome:
        if self.proc is None or not self.proc.is_alive():
            self._start()
        self.conn.send((trial, dict(ctx)))
        try:
            ready = self.conn.poll(self.timeout_s)
            msg = self.conn.recv() if ready else None
        except (EOFError, OSError):
            msg, ready = None, True
        if msg is None:
            code = self.proc.exitcode if self.proc is not None else None
            self._kill()
            if not ready:
                return _timeout(trial, ctx, self.timeout_s)
            why = (f"killed by signal {-code}" + (" (out of memory?)" if code == -signal.SIGKILL else "")
                   if code and code < 0 else f"exit code {code}")
            return failed(trial, ctx, RuntimeError(f"the trial's worker process died: {why}"))
        kind, payload = msg
        if kind == "user_error":
            raise UserError(payload)
        return payload

    def close(self) -> None:
        if self.proc is not None and self.proc.is_alive():
            try:
                self.conn.send(None)
                self.proc.join(5)
            except (OSError, BrokenPipeError):
                pass
        self._kill()


def _timeout(trial: Trial, ctx: dict, timeout_s: float) -> Outcome:
    out = failed(trial, ctx, TimeoutError(f"trial exceeded trial_timeout_s={timeout_s:g} s and was stopped "
                                          f"(raise suite.trial_timeout_s=... to give it longer)"))
    out.record["status"] = "timeout"
    out.record["error"] = out.record["error"].removeprefix("TimeoutError: ")
    return out


def make_executor(timeout_s: float | None, max_memory_gb: float | None):
    return Isolated(timeout_s, max_memory_gb) if (timeout_s or max_memory_gb) else InProcess()
