"""The cores a run may use, how busy they are, and the thread policy that follows.

A trial that does not pin ``device.threads`` runs with the thread count this module picks:

- **usable cores**, not the host's: the affinity mask (``taskset``, ``docker --cpuset-cpus``)
  and the cgroup CPU quota (``docker --cpus``, Kubernetes limits; v2 ``cpu.max``, v1
  ``cpu.cfs_quota_us / cpu.cfs_period_us``), whichever is smaller;
- **minus the cores other work keeps busy** when the run starts: on a shared machine a pool
  of as many threads as cores waits at every parallel step for a thread the scheduler has
  parked behind someone else's job (digits/logreg: 0.09 s on one thread, 3.8-4.9 s on two at
  load 5-7). How busy the cores are is read from ``/proc/stat`` over a short window for the
  CPUs of the affinity mask, less this process's own CPU time; it is instantaneous and per
  CPU where the load average lags by a minute, counts the whole host, and counts our own
  previous run. Where ``/proc/stat`` is missing (macOS) the 1-minute load average stands in;
- **short OpenMP spins**: ``GOMP_SPINCOUNT=10000`` (set before numpy, scikit-learn and torch
  load their OpenMP runtimes, unless the user set it or ``OMP_WAIT_POLICY``): a pool thread
  waiting at a barrier spins 10,000 rounds, then sleeps. The default, 300,000, burns a core
  another job needs whenever the scheduler parks a partner thread: digits/mlp on 2 threads
  beside a 2-core hog fit in 215 s with it and 37-42 s with 10,000. Torch's runtime loads
  later, at the first torch trial: when the start finds the machine idle, ``at_start`` takes the
  short spin out of the environment first (:func:`torch_wait_env`), since small torch nets ran
  slower idle with it (quick's mlp 51-103 s against 38-39 s);
- **torch on every usable core, waiting passively, when the machine is crowded at the start**
  (busy, with :data:`CROWDED` or more runnable tasks of others per core, counted from
  ``procs_running``): fewer threads than cores is the only fix for pthreads OpenBLAS
  (digits/logreg 0.02 s on one thread, 0.47 s on two at load 6-9), and for torch beside a hog
  of one task per core (quick's mlp and cnn 1.9x and 2.6x their idle time on one thread, 2.4x
  and 3.0x on two waiting passively). Among many runnable tasks, though, the scheduler shares
  the cores per thread, so one thread gets a small slice; two that sleep at once at a barrier
  (``OMP_WAIT_POLICY=PASSIVE``) get twice it and waste little while a partner is parked (a
  slice of quick at load 7-12: 136 s against 209 s on one thread). Passive waits cost idle
  speed (small torch nets 1.2-1.7x slower), so they are chosen only when the start finds the
  machine crowded, and only while torch is not loaded yet (its OpenMP runtime reads them
  once): ``at_start`` then sets them in this process's environment, which the trial workers
  inherit. Where the count is unknown (no ``/proc/stat``, or our CPUs are a part of the host's)
  a busy machine counts as crowded.

``HARNESS_THREADS`` names the policy: ``auto`` (the default, above), ``free`` (the free cores
for every family, short spins: the policy before torch got passive waits) and ``all`` (the
former policy: every usable core whatever the load, the runtimes' own spin), for measuring
side by side (``benchmarks/contention.py``).
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from harness.errors import UserError

POLICY_ENV = "HARNESS_THREADS"
POLICIES = ("auto", "free", "all")
#: Set before the OpenMP runtimes load, unless the user set one of USER_POOL_ENV: libgomp's
#: waiting threads spin 10,000 rounds (not 300,000) before they sleep.
POOL_ENV = {"GOMP_SPINCOUNT": "10000"}
#: The user's own choice of OpenMP waiting, left as it is.
USER_POOL_ENV = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
#: Set by :func:`at_start` when the machine is busy (policy ``auto``), for torch's OpenMP runtime
#: that loads later: waiting threads sleep at once instead of spinning.
BUSY_POOL_ENV = {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "0"}

CGROUP_ROOT = "/sys/fs/cgroup"
PROC_CGROUP = "/proc/self/cgroup"
PROC_STAT = "/proc/stat"

#: The shortest window over which ``/proc/stat`` is read (its counters tick at 100 Hz).
PROBE_S = 0.05
#: Runnable tasks of other work per usable core from which torch trials take every core,
#: waiting passively (:attr:`CpuState.crowded`): at 1 per core (quick beside an all-core hog)
#: one thread did better, at 3.5-6 per core (load 7-12 on 2 cores) every core did.
CROWDED = 2.0


def policy(environ=None) -> str:
    """The thread policy named by ``HARNESS_THREADS`` (``auto`` when unset)."""
    value = (environ if environ is not None else os.environ).get(POLICY_ENV, "").strip().lower() or "auto"
    if value not in POLICIES:
        raise UserError(f"{POLICY_ENV}={value!r} is not a thread policy; use one of: {', '.join(POLICIES)} "
                        f"(or pin the count with device.threads=N)")
    return value


def set_pool_env(environ=None) -> dict:
    """Put :data:`POOL_ENV` in ``environ`` (``os.environ``) unless the user chose how OpenMP
    waits (:data:`USER_POOL_ENV`) or ``HARNESS_THREADS=all`` asks for the runtimes' own
    default. Returns what it set."""
    environ = os.environ if environ is None else environ
    try:
        if policy(environ) == "all":
            return {}
    except UserError:  # said in full where the run starts; the defaults still apply
        pass
    if any(k in environ for k in USER_POOL_ENV):
        return {}
    added = {k: v for k, v in POOL_ENV.items() if k not in environ}
    environ.update(added)
    if environ is os.environ:
        _ours.update(added)
    return added


_ours: dict[str, str] = {}  # what set_pool_env put in os.environ (the rest is the user's)
_saved: dict | None = None  # os.environ's pool values before torch_wait_env changed them

#: How torch's OpenMP pool waits at a barrier: ``runtime``, spinning as its runtime does by
#: default; ``spin``, a set spin count (:data:`POOL_ENV`'s short one, or the user's); ``passive``,
#: sleeping at once (:data:`BUSY_POOL_ENV`, or the user's).
RUNTIME, SPIN, PASSIVE = TORCH_WAITS = ("runtime", "spin", "passive")


def torch_wait_env(wait: str) -> str:
    """Make torch's OpenMP pool wait as ``wait`` says (one of :data:`TORCH_WAITS`), by what this
    module puts in ``os.environ`` for the runtime torch loads later; returns how it will wait.

    At a start that finds the machine idle, ``runtime``: a small torch net steps through many short
    parallel regions, and threads that sleep between them cost a wake-up each (quick's mlp, idle,
    took 51-103 s in four whole runs with the short spin against 38-39 s in two with the runtime's
    own, and 43-45 s in two with this). Busy, ``spin`` (what :func:`set_pool_env` set); crowded,
    ``passive``. Each call starts from what was there before the first (one saved copy), so the
    starts of a multirun may differ. Only while torch is not loaded yet (its runtime reads these
    once) and never over the user's own values.
    """
    global _saved
    if "torch" not in sys.modules:
        if _saved is not None:
            for k, v in _saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            _saved = None
        users = any(k in os.environ and _ours.get(k) != os.environ[k] for k in USER_POOL_ENV)
        if wait != SPIN and not users:
            _saved = {k: os.environ.get(k) for k in USER_POOL_ENV}
            if wait == PASSIVE:
                os.environ.update(BUSY_POOL_ENV)
            else:
                for k in USER_POOL_ENV:
                    os.environ.pop(k, None)
    return torch_wait(os.environ)


def torch_wait(environ) -> str:
    """How libgomp's waiting threads wait under ``environ``: one of :data:`TORCH_WAITS`."""
    if (environ.get("OMP_WAIT_POLICY", "").strip().lower() == "passive"
            and environ.get("GOMP_SPINCOUNT", "0").strip() in ("", "0")):
        return PASSIVE
    return SPIN if any(k in environ for k in USER_POOL_ENV) else RUNTIME


@contextlib.contextmanager
def pool_env():
    """The pool defaults in ``os.environ`` for the block (e.g. while starting a worker), then as before."""
    added = set_pool_env()
    try:
        yield
    finally:
        for k in added:
            os.environ.pop(k, None)
            _ours.pop(k, None)


# --- usable cores ------------------------------------------------------------------------

def affinity_cores(getaffinity=None) -> int:
    """Cores of this process's affinity mask (the machine's count where there is no mask)."""
    getaffinity = getaffinity or getattr(os, "sched_getaffinity", None)
    if getaffinity is None:  # macOS, Windows
        return os.cpu_count() or 1
    return max(1, len(getaffinity(0)))


def _own_cgroups(proc_cgroup: str) -> tuple[str | None, str | None]:
    """(v2 path, v1 path of the cpu controller) of this process, from ``/proc/self/cgroup``."""
    v2 = v1 = None
    try:
        lines = Path(proc_cgroup).read_text().splitlines()
    except OSError:
        return None, None
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":
            v2 = path
        elif "cpu" in controllers.split(","):
            v1 = path
    return v2, v1


def _dirs_up(base: Path, rel: str | None) -> list[Path]:
    """``base/rel`` and each parent up to ``base`` (a quota set higher up limits us too)."""
    out, rel_parts = [], [p for p in (rel or "").split("/") if p]
    for n in range(len(rel_parts), -1, -1):
        d = base.joinpath(*rel_parts[:n])
        if d.is_dir():
            out.append(d)
    return out


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def quota_cores(root: str | Path = CGROUP_ROOT, proc_cgroup: str = PROC_CGROUP) -> float | None:
    """The tightest cgroup CPU quota over this process's cgroup and its parents, in cores;
    None when there is none (or no cgroup filesystem)."""
    root = Path(root)
    v2, v1 = _own_cgroups(proc_cgroup)
    limits = []
    for d in _dirs_up(root, v2):
        text = _read(d / "cpu.max")  # "max 100000" or "150000 100000"
        if text:
            quota, _, period = text.partition(" ")
            if quota != "max" and quota.isdigit() and period.isdigit() and int(period) > 0:
                limits.append(int(quota) / int(period))
    for mount in ("cpu", "cpu,cpuacct", "cpuacct,cpu"):
        for d in _dirs_up(root / mount, v1):
            quota, period = _read(d / "cpu.cfs_quota_us"), _read(d / "cpu.cfs_period_us")
            if quota and period and quota.lstrip("-").isdigit() and period.isdigit():
                if int(quota) > 0 and int(period) > 0:
                    limits.append(int(quota) / int(period))
        if (root / mount).is_dir():
            break
    return min(limits) if limits else None


def usable_cores(root: str | Path = CGROUP_ROOT, proc_cgroup: str = PROC_CGROUP, getaffinity=None) -> int:
    """Cores this process may use: its affinity mask, capped by the cgroup quota (rounded down,
    at least 1: a quota of 1.5 cores runs one thread rather than two it would throttle)."""
    cores = affinity_cores(getaffinity)
    quota = quota_cores(root, proc_cgroup)
    if quota is not None:
        cores = min(cores, max(1, math.floor(quota + 1e-9)))
    return cores


# --- how busy they are ---------------------------------------------------------------------

def load_average() -> float | None:
    """The 1-minute load average (None where the OS has none)."""
    try:
        return float(os.getloadavg()[0])
    except (AttributeError, OSError):
        return None


def _cpu_ticks(cpus, stat: str) -> dict[int, tuple[int, int]] | None:
    """{cpu: (busy ticks, all ticks)} for the CPUs in ``cpus`` (None: unreadable)."""
    try:
        lines = Path(stat).read_text().splitlines()
    except OSError:
        return None
    out = {}
    for line in lines:
        name, _, rest = line.partition(" ")
        if not (name.startswith("cpu") and name[3:].isdigit()) or int(name[3:]) not in cpus:
            continue
        f = [int(x) for x in rest.split()[:8]]
        f += [0] * (8 - len(f))
        idle = f[3] + f[4]  # idle, iowait
        out[int(name[3:])] = (sum(f) - idle, sum(f))
    return out or None


def _procs_running(stat: str) -> int | None:
    """The tasks runnable on the whole host right now (``procs_running`` of ``/proc/stat``)."""
    try:
        for line in Path(stat).read_text().splitlines():
            if line.startswith("procs_running "):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _own_cpu_s() -> float:
    """CPU seconds of this process and of the children it has reaped (git, ...)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class LoadProbe:
    """How many of our CPUs other work keeps busy, over the time from creation to :meth:`busy`."""

    def __init__(self, stat: str = PROC_STAT, getaffinity=None):
        getaffinity = getaffinity or getattr(os, "sched_getaffinity", None)
        self.stat = stat
        self.cpus = set(getaffinity(0)) if getaffinity else set(range(os.cpu_count() or 1))
        self.t0, self.own0 = time.monotonic(), _own_cpu_s()
        self.ticks0 = _cpu_ticks(self.cpus, stat)
        self.running = [_procs_running(stat)]

    def busy(self, min_s: float = PROBE_S) -> float | None:
        """Cores' worth of CPU others used (0 .. number of our CPUs); None without ``/proc/stat``."""
        if self.ticks0 is None:
            return None
        while (wait := min_s - (time.monotonic() - self.t0)) > 0:  # counting runnable tasks meanwhile
            time.sleep(min(wait, min_s / 4))
            self.running.append(_procs_running(self.stat))
        self.running.append(_procs_running(self.stat))
        ticks1 = _cpu_ticks(self.cpus, self.stat)
        wall, own = time.monotonic() - self.t0, _own_cpu_s() - self.own0
        if not ticks1:
            return None
        busy = 0.0
        for cpu, (b1, a1) in ticks1.items():
            b0, a0 = self.ticks0.get(cpu, (b1, a1))
            if a1 > a0:
                busy += (b1 - b0) / (a1 - a0)
        busy -= own / wall if wall > 0 else 0.0
        return round(min(max(busy, 0.0), float(len(self.cpus))), 2)

    def runnable(self, host_cpus: int | None = None) -> float | None:
        """Tasks of other work that were runnable while the probe ran (the lower median of its
        counts, less this process, which runs as it reads them); None when unknown, or when our CPUs are
        a part of the host's (the count is the whole host's: it would blame us for others' cores)."""
        counts = sorted(n for n in self.running if n is not None)
        if not counts or len(self.cpus) < (host_cpus or os.cpu_count() or 1):
            return None
        return max(0.0, counts[(len(counts) - 1) // 2] - 1.0)


# --- the policy -------------------------------------------------------------------------------

@dataclass(frozen=True)
class CpuState:
    """What a run found at its start, and the threads a trial gets from it."""

    usable: int
    load_1m: float | None = None
    busy: float | None = None  # cores of ours kept busy by other work (None: unknown)
    policy: str = "auto"
    runnable: float | None = None  # tasks of other work runnable at the start (None: unknown)
    torch_wait: str = SPIN  # how torch's OpenMP pool waits (TORCH_WAITS), set at the start before it loaded

    @property
    def passive_torch(self) -> bool:
        return self.torch_wait == PASSIVE

    @property
    def others(self) -> float:
        """Cores' worth of other work competing for ours: measured; else, from the load average,
        all of them when it is at least the usable cores and none below (it lags, and on some
        systems counts more than runnable tasks, so only a clear excess counts)."""
        if self.busy is not None:
            return min(self.busy, float(self.usable))
        return float(self.usable) if (self.load_1m or 0.0) >= self.usable else 0.0

    @property
    def oversubscribed(self) -> bool:
        """Would a pool of every usable core compete with other work for at least half a core?"""
        return self.others >= 0.5

    @property
    def crowded(self) -> bool:
        """Busy with at least :data:`CROWDED` runnable tasks of others per usable core (or busy,
        with the count unknown): there a torch pool of every core, waiting passively, gets a
        larger share than one thread and pays for its stalls; beside a hog of one task per
        core it does not (see the module's docstring)."""
        return self.oversubscribed and (self.runnable is None or self.runnable >= CROWDED * self.usable)

    def threads(self, n_jobs: int = 1, torch: bool = False) -> int:
        """Threads per trial. Parallel jobs share the usable cores (cores ÷ jobs); a single job
        takes the cores other work leaves free (at least one), and a torch trial every usable
        core when its pool waits passively; ``all`` takes every usable core."""
        if n_jobs > 1:
            return max(1, self.usable // n_jobs)
        if self.policy == "all" or (torch and self.passive_torch and self.policy == "auto"):
            return self.usable
        return max(1, min(self.usable, round(self.usable - self.others)))

    def record(self) -> dict:
        """The fields run.json's environment keeps."""
        return {"usable_cores": self.usable, "load_at_start": self.load_1m, "busy_cores_at_start": self.busy,
                "thread_policy": self.policy, "threads_default": self.threads(),
                "threads_default_torch": self.threads(torch=True), "torch_wait": self.torch_wait,
                "runnable_at_start": self.runnable}

    def warning(self) -> str | None:
        """One line when other work competes for our cores, else None."""
        if not self.oversubscribed:
            return None
        load = f"load {self.load_1m:.1f}, " if self.load_1m is not None else ""
        busy = f"{self.busy:.1f} of " if self.busy is not None else ""
        n, nt = self.threads(), self.threads(torch=True)
        then = (f"trials run on {n} thread{'s' * (n != 1)}" if self.policy != "all"
                else f"{POLICY_ENV}=all: trials still use all {self.usable}")
        if self.policy != "all" and nt != n:
            then += f" (torch ones on {nt}, waiting passively)"
        return (f"harness: warning: the machine is busy ({load}{busy}{self.usable} usable cores taken by other "
                f"work); {then}, and times will be slower than on an idle machine (pin with device.threads=N)")


_current: CpuState | None = None
_warned = False  # the busy-machine warning is said once per process (a multirun calls at_start per job)


def observe(probe: LoadProbe | None = None, min_s: float = PROBE_S) -> CpuState:
    """The cores and load now (reads ``/proc/stat`` over ``min_s`` from the probe's start)."""
    mode = policy()
    probe = probe or LoadProbe()
    busy = probe.busy(min_s)
    return CpuState(usable=usable_cores(), load_1m=load_average(), busy=busy, policy=mode, runnable=probe.runnable())


def at_start(stream=None, n_jobs: int = 1) -> CpuState:
    """Observe the machine at the start of a run, warn on ``stream`` (stderr) when it is busy
    (once per process; parallel jobs don't), and make the result the thread policy of this
    process's run (see :func:`trial_threads`)."""
    global _current, _warned
    state = observe()
    if state.policy == "auto" and n_jobs <= 1:
        wait = PASSIVE if state.crowded else SPIN if state.oversubscribed else RUNTIME
        state = replace(state, torch_wait=torch_wait_env(wait))
    else:
        state = replace(state, torch_wait=torch_wait(os.environ))
    _current = state
    line = state.warning() if n_jobs <= 1 and not _warned else None
    if line:
        print(line, file=stream or sys.stderr, flush=True)
        _warned = True
    return state


def trial_threads(pinned, n_jobs: int = 1, estimator=None) -> int:
    """Threads for a trial: ``pinned`` (``device.threads``) when set, else the run's policy for
    the trial's ``estimator`` config (a torch one may get more, see :meth:`CpuState.threads`)."""
    if pinned:
        return int(pinned)
    return current().threads(n_jobs, torch=uses_torch(estimator))


def uses_torch(estimator) -> bool:
    """Whether an estimator config names a torch model (its ``_target_``'s module path says so)."""
    target = estimator.get("_target_", "") if hasattr(estimator, "get") else ""
    return "torch" in str(target).rpartition(".")[0]


def current() -> CpuState:
    """The state the run in progress found at its start; outside a run, the usable cores alone."""
    return _current or CpuState(usable=usable_cores(), policy=policy())
