"""Where trials execute: in this process (fast), or in a worker process that can be
stopped (timeouts) and fenced (memory limits).

Both executors share data and features across trials on the same split (and carve), and both return
an :class:`~harness.trial.Outcome` for every trial, whatever happens to the model.
"""

from __future__ import annotations

import importlib
import multiprocessing as mp
import os
import resource
import signal
import sys
import threading
import time
import traceback
from collections import OrderedDict

from omegaconf import OmegaConf

from harness.cpus import pool_env
from harness.errors import UserError
from harness.plan import Trial
from harness.progress import listening, training_step
from harness.trial import Outcome, config_key, failed, features_seed, featurize, run_trial


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

    def prepare(self, trial: Trial, ctx: dict):
        """The trial's data and features (cached), or the failed Outcome when they can't be had.

        Also imports the model's module, so that what follows is the trial proper.
        """
        dkey = config_key(trial.dataset) + f"split={trial.split}"
        data = self.datasets.get_or(dkey, lambda: _captured(lambda: self.load_dataset(trial.dataset, trial.split)))
        if isinstance(data, BaseException):
            return failed(trial, ctx, data, getattr(data, "detail", ""))
        seed = _captured(lambda: features_seed(trial))
        if isinstance(seed, BaseException):
            return failed(trial, ctx, seed, getattr(seed, "detail", ""))
        # The same split, carve and features: one featurization for every model (and, when the
        # transformer draws no random numbers, for every seed).
        fkey = dkey + f"val={trial.val_fraction} seed={seed}\n" + config_key(trial.features)
        feats = self.features.get_or(fkey, lambda: _captured(lambda: featurize(trial, data, ctx.get("threads"))))
        if isinstance(feats, BaseException):
            return failed(trial, ctx, feats, getattr(feats, "detail", ""))
        _import_target(trial.model.get("estimator"))
        return data, feats

    def run(self, trial: Trial, ctx: dict) -> Outcome:
        ready = self.prepare(trial, ctx)
        if isinstance(ready, Outcome):
            return ready
        return run_trial(trial, *ready, ctx)

    def close(self) -> None:
        pass


def _import_target(node) -> None:
    """Import the module of a config's ``_target_`` now (best effort: the trial reports failures)."""
    target = str(node.get("_target_", "")) if OmegaConf.is_config(node) else ""
    module = target.rpartition(".")[0]
    if not module:
        return
    try:
        importlib.import_module(module)
        if "torch" in module:
            import torch  # noqa: F401 - loaded before the clock starts, as trial.run_trial would
    except Exception:  # noqa: BLE001 - building the estimator in the trial says what is wrong
        pass


def _limit_memory(max_memory_gb: float | None) -> None:
    if max_memory_gb:
        limit = int(max_memory_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int, pdeathsig: bool) -> None:
    """Make this worker end when its parent does, even inside a trial that hangs.

    On Linux the kernel sends SIGKILL when the parent goes (``prctl(PR_SET_PDEATHSIG)``); that
    signal follows the parent's *thread*, so it is asked for only when the parent started us from
    its main thread. Everywhere, a watch thread notices that the parent changed (we were
    re-parented) and exits.
    """
    if pdeathsig and sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except Exception:  # noqa: BLE001 - the watch thread still stands guard
            pass
    if os.getppid() != parent_pid:  # the parent died before we could ask
        os._exit(1)
    if any(t.name == "harness-parent-watch" for t in threading.enumerate()):
        return  # a process that runs many jobs (a joblib worker) needs one watch

    def watch():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="harness-parent-watch", daemon=True).start()


def _worker(conn, max_memory_gb: float | None, parent_pid: int | None = None, pdeathsig: bool = False) -> None:
    """Child process: run trials sent over ``conn`` until told to stop (or the parent goes).

    For each trial it sends ``("started", None)`` once the data and features are ready, so the
    parent's trial timeout counts the trial proper, then ``("ok", Outcome)``; a failure to load
    the data is sent as that trial's ``("ok", Outcome)`` without ``started``.
    """
    if parent_pid is not None:
        die_with_parent(parent_pid, pdeathsig)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what an interrupt means
    _limit_memory(max_memory_gb)
    executor = InProcess()
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):  # the parent closed the pipe: it is gone
            return
        if msg is None:
            return
        trial, ctx = msg
        try:
            ready = executor.prepare(trial, ctx)
            if isinstance(ready, Outcome):
                out = ready
            else:
                conn.send(("started", None))
                with listening(lambda point: conn.send(("progress", point))):  # to the parent's display
                    out = run_trial(trial, *ready, ctx)
        except UserError as exc:
            conn.send(("user_error", str(exc)))
            continue
        except MemoryError:
            out = failed(trial, ctx, MemoryError(f"out of memory (max_memory_gb={max_memory_gb})"),
                         traceback.format_exc())
        if out.record.get("status") == "failed" and "MemoryError" in out.record.get("error", ""):
            out.record["error"] = f"out of memory (max_memory_gb={max_memory_gb}): {out.record['error']}"
        conn.send(("ok", out))


def setup_limit(timeout_s: float | None) -> float | None:
    """How long a worker may take to start, import and load a trial's data: generous, and apart
    from the trial's own ``trial_timeout_s``."""
    return max(60.0, 10.0 * timeout_s) if timeout_s else None


def exit_reason(code: int | None) -> str:
    """A reaped process's exit code in words: ``exit code 3``, ``killed by SIGKILL (out of memory?)``."""
    if code is None:
        return "it closed its pipe but did not exit"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name}" + (" (out of memory?)" if -code == signal.SIGKILL else "")
    return f"exit code {code}"


class Isolated:
    """Runs trials in a worker process; kills and replaces it when a trial overruns.

    The worker lives across trials (one process per batch, not per trial), so tiny trials
    don't pay a process start each; it is only replaced after a timeout or a crash.
    ``timeout_s`` counts the trial proper (fit, predict, scoring) from the worker's signal that
    it starts; the worker's start-up and the data loading get ``setup_s`` (by default
    :func:`setup_limit`), and overrunning it is reported as such.
    """

    def __init__(self, timeout_s: float | None, max_memory_gb: float | None, setup_s: float | None = None):
        self.timeout_s = timeout_s
        self.max_memory_gb = max_memory_gb
        self.setup_s = setup_s if setup_s is not None else setup_limit(timeout_s)
        self.ctx = mp.get_context("spawn")  # fork after BLAS/OpenMP/torch threads can deadlock
        self.proc = None

    def _start(self):
        parent, child = self.ctx.Pipe()
        main = threading.current_thread() is threading.main_thread()
        self.proc = self.ctx.Process(target=_worker, args=(child, self.max_memory_gb, os.getpid(), main),
                                     daemon=True)
        with pool_env():  # the worker's OpenMP threads spin briefly, then sleep (harness/cpus.py)
            self.proc.start()
        child.close()
        self.conn = parent

    def _kill(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.join(5)
            self.proc = None

    def _receive(self, limit: float | None):
        """(message, False) on time, (None, True) when the worker died, (None, False) past ``limit``."""
        deadline = None if limit is None else time.monotonic() + limit
        try:
            while True:
                if not self.conn.poll(None if deadline is None else max(0.0, deadline - time.monotonic())):
                    return None, False
                msg = self.conn.recv()
                if msg[0] != "progress":
                    return msg, False
                training_step(msg[1])  # a deep net's evaluation, for this process's progress display
        except (EOFError, OSError):
            return None, True

    def _died(self, trial: Trial, ctx: dict) -> Outcome:
        proc = self.proc
        if proc is not None:
            proc.join(5)  # reap it first: until then its exit code reads None
        why = exit_reason(proc.exitcode if proc is not None else None)
        self._kill()
        return failed(trial, ctx, RuntimeError(f"the trial's worker process died: {why}"))

    def run(self, trial: Trial, ctx: dict) -> Outcome:
        if self.proc is None or not self.proc.is_alive():
            self._kill()  # reap one that died between trials
            self._start()
        try:
            self.conn.send((trial, dict(ctx)))
        except (OSError, EOFError):  # it died between trials
            return self._died(trial, ctx)
        msg, died = self._receive(self.setup_s)
        if msg is not None and msg[0] == "started":
            msg, died = self._receive(self.timeout_s)
            if msg is None and not died:
                self._kill()
                return _timeout(trial, ctx, self.timeout_s)
        elif msg is None and not died:
            self._kill()
            return _setup_timeout(trial, ctx, self.setup_s, self.timeout_s)
        if msg is None:
            return self._died(trial, ctx)
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


def _setup_timeout(trial: Trial, ctx: dict, setup_s: float, timeout_s: float | None) -> Outcome:
    given = f"trial_timeout_s={timeout_s:g} s" if timeout_s else "no trial_timeout_s"
    out = failed(trial, ctx, TimeoutError(
        f"the worker's start-up and data loading exceeded {setup_s:g} s (their own limit, apart from "
        f"the trial's {given}), so the trial never started; make the data quicker to load, or raise "
        f"suite.trial_timeout_s=... (start-up and loading get max(60 s, 10 x trial_timeout_s))"))
    out.record["status"] = "timeout"
    out.record["error"] = out.record["error"].removeprefix("TimeoutError: ")
    return out


def make_executor(timeout_s: float | None, max_memory_gb: float | None, where: str = ""):
    """The executor for a suite's limits: a worker process when there are any.

    Raises UserError for a limit that is not a positive number (the suite's schema check says
    so first; this guards callers that skip it).
    """
    from harness.config import check_limits

    check_limits(where, trial_timeout_s=timeout_s, max_memory_gb=max_memory_gb)
    return Isolated(timeout_s, max_memory_gb) if (timeout_s or max_memory_gb) else InProcess()
