"""Measuring one trial: wall and CPU time, peak memory, and the thread pools it may use."""

from __future__ import annotations

import contextlib
import math
import resource
import sys
import time
from dataclasses import dataclass

from harness.cpus import trial_threads, usable_cores  # noqa: F401 - usable_cores: re-exported

_CLEAR_REFS = "/proc/self/clear_refs"
_STATUS = "/proc/self/status"


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark so the next reading covers one trial only (Linux)."""
    try:
        with open(_CLEAR_REFS, "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _status_mb(field: str) -> float:
    """A ``Vm*`` field of /proc/self/status in MB (Linux; NaN elsewhere)."""
    try:
        with open(_STATUS) as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def rss_mb() -> float:
    """Resident set size now (Linux; NaN elsewhere)."""
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    """Peak resident set size since the last reset (or since the process started)."""
    peak_mb = _status_mb("VmHWM")
    if math.isfinite(peak_mb):
        return peak_mb
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


@dataclass
class Stopwatch:
    """Wall (perf_counter) and process CPU time of a block."""

    wall_s: float = float("nan")
    cpu_s: float = float("nan")

    @contextlib.contextmanager
    def time(self, sync=None):
        """Time the block; ``sync`` (e.g. ``torch.cuda.synchronize``) runs before each reading."""
        if sync:
            sync()
        w0, c0 = time.perf_counter(), time.process_time()
        try:
            yield self
        finally:
            if sync:
                sync()
            self.wall_s = time.perf_counter() - w0
            self.cpu_s = time.process_time() - c0


def threads_in_force(threads: int | None) -> int:
    """The thread count a trial runs with: ``threads`` when pinned, else the run's thread policy
    (:mod:`harness.cpus`: the usable cores other work leaves free)."""
    return trial_threads(threads)


_controller = None  # threadpoolctl's view of the loaded BLAS/OpenMP libraries, and when it was taken
_controller_modules = -1


def _pools():
    """A ``ThreadpoolController`` of the libraries loaded now. Finding them walks every shared
    object of the process (about 10 ms per call, once per trial before this was cached), so the
    scan is redone only when an import may have loaded a new one (``sys.modules`` grew)."""
    global _controller, _controller_modules
    if _controller is None or len(sys.modules) != _controller_modules:
        from threadpoolctl import ThreadpoolController

        _controller_modules = len(sys.modules)
        _controller = ThreadpoolController()
    return _controller


@contextlib.contextmanager
def thread_limit(threads: int | None):
    """Limit BLAS/OpenMP pools (threadpoolctl) and, when torch is loaded, its intra-op pool.

    ``None`` means the thread policy's count (:func:`threads_in_force`). Yields the number in force.
    """
    n = threads_in_force(threads)
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch else None
    with _pools().limit(limits=n):
        if torch:
            torch.set_num_threads(n)
        try:
            yield n
        finally:
            if torch and before:
                torch.set_num_threads(before)
