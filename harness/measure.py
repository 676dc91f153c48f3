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


def _one_openblas_pool(pools, n: int) -> None:
    """When numpy and scipy each bring their own OpenBLAS (as their PyPI wheels do), leave
    ``n`` threads to one copy and one thread to the others. Each copy keeps a pool whose idle
    threads spin, and two pools as large as the cores fight for them: lbfgs logistic regression
    on MNIST-1D (4,000 x 40, 86 iterations) fit in 0.13 s with either copy on one thread and in
    0.85-1.0 s with both on two, on 2 idle cores. The copy kept is not numpy's: scipy's carries
    LAPACK and the BLAS that scikit-learn's Cython calls, and PCA measured faster that way
    (randomized 0.25 s kept, 0.31 s the other way round, 0.52 s both on two)."""
    blas = [lib for lib in pools.lib_controllers if lib.internal_api == "openblas"]
    if n <= 1 or len(blas) < 2:
        return
    keep = next((lib for lib in blas if "numpy" not in lib.filepath), blas[0])
    for lib in blas:
        if lib is not keep:
            lib.set_num_threads(1)


@contextlib.contextmanager
def thread_limit(threads: int | None, torch_model: bool = False):
    """Limit BLAS/OpenMP pools (threadpoolctl) and, when torch is loaded, its intra-op pool.
    Where two OpenBLAS copies are loaded, one of them runs on one thread (:func:`_one_openblas_pool`).
    For a ``torch_model`` only torch's pool gets the threads and every other runs on one: the
    numpy and scikit-learn calls around its steps are small, and a pool of theirs that spins
    after each takes a core from torch's, whose threads then wait for it at every barrier.

    ``None`` means the thread policy's count (:func:`threads_in_force`). Yields the number in force.
    """
    n = threads_in_force(threads)
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch else None
    pools = _pools()
    with pools.limit(limits=1 if torch_model and torch else n):  # puts every pool back on the way out
        if not torch_model:
            _one_openblas_pool(pools, n)
        if torch:
            torch.set_num_threads(n)
        try:
            yield n
        finally:
            if torch and before:
                torch.set_num_threads(before)
