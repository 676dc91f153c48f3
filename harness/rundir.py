"""A run dir: its name, its claim for a run's life, and the checks a resume must pass.

``<results_dir>/<suite>/<run_id>/`` is claimed with an exclusive ``flock`` on its ``.lock``
(shared by the jobs of one launch, whose launching process holds ``.launch`` exclusively, so
two launches never share it), so two processes never write one run; a resume must repeat the
run's overrides and is logged in ``resumes.jsonl``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from omegaconf import DictConfig

from harness import environment
from harness.errors import UserError
from harness.store import RESUMES_FILE, RUN_FILE, read_run_info, record_resume


#: a run id or suite name becomes a directory: letters, digits, ``_ - .``, no leading dot
_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")
#: the lock file inside a run dir, held (flock) by the processes writing the run
LOCK_FILE = ".lock"
#: held (flock, exclusive) by the process that launches jobs (joblib, submitit) into a run dir
LAUNCH_FILE = ".launch"
#: overrides that may differ between a run and its resume: where and how it runs, not what
_RESUME_FREE = ("resume", "run_id", "results_dir", "progress", "report", "shard", "n_shards", "config_dirs",
                "suite")


def is_plain_name(value) -> bool:
    """Whether ``value`` is safe as one directory name (and as a config option's name)."""
    value = str(value)
    return bool(_NAME.fullmatch(value)) and len(value) <= 200


def check_name(key: str, value) -> str:
    """``value`` if it is safe as one directory name; else a UserError naming ``key``."""
    value = str(value)
    if not is_plain_name(value):
        raise UserError(f"{key}={value} can't name a directory: use letters, digits, '_', '-' and '.' "
                        "(not first), at most 200 characters")
    return value


def run_dir_of(cfg: DictConfig) -> Path:
    """The run dir ``cfg`` writes: its ``resume`` dir, else ``<results_dir>/<suite>/<run_id>``.

    The suite name and run id are checked to be plain names, so neither can lead outside
    ``results_dir`` (``run_id=../../x``).
    """
    if cfg.get("resume"):
        return Path(cfg.resume)
    return Path(cfg.results_dir) / check_name("suite", cfg.suite.name) / check_name("run_id", cfg.run_id)


def os_problem(what: str, path, exc: OSError) -> UserError:
    where = exc.filename if getattr(exc, "filename", None) else path
    return UserError(f"cannot {what} {where}: {exc.strerror or exc}; check the path, or pick a writable "
                     "results_dir")


def _lock(run_dir: Path, shared: bool, name: str = LOCK_FILE) -> int:
    """Hold ``run_dir/<name>``: exclusively, or shared by the jobs of one launch; the open fd."""
    path = run_dir / name
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError as exc:
        if path.is_symlink():
            raise UserError(f"{path} is a symlink; harness never writes through one: remove it") from None
        raise os_problem("write the run dir", run_dir, exc) from None
    try:
        fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = (os.pread(fd, 32, 0).decode("ascii", "replace").split() or ["?"])[0]
        os.close(fd)
        raise UserError(f"run {run_dir.name} is being written by another harness process "
                        f"(pid {holder if holder.isdigit() else 'unknown'}); wait for it or pick another "
                        "run_id") from None
    except OSError:  # a file system without locks: run unguarded rather than not at all
        return fd
    with contextlib.suppress(OSError):
        if not shared:
            os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    return fd


def claim_launch(run_dir: Path, resume: bool) -> int:
    """Claim ``run_dir`` for a launch of parallel jobs; the fd of its held ``.launch`` lock.

    The jobs share ``.lock`` among themselves; this exclusive lock, held by the launching
    process for the launch's life, is what keeps a second launch (or a second resume) of the
    same run out. A new launch into a dir that already holds a run is refused here, once.
    """
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_problem("create the run dir", run_dir, exc) from None
    fd = _lock(run_dir, False, LAUNCH_FILE)
    if not resume and (run_dir / RUN_FILE).exists():
        os.close(fd)
        raise UserError(f"{run_dir} already holds a run; pick another run_id, or resume it with resume={run_dir}")
    return fd


def _refuse_symlinks(run_dir: Path, job: str) -> None:
    """Files this job appends to must be files of the run dir, not links to elsewhere."""
    names = [f"{stem}-{job}.jsonl" for stem in ("records", "predictions", "curves")]
    for name in [*names, f"errors-{job}.log", RESUMES_FILE]:
        if (run_dir / name).is_symlink():
            raise UserError(f"{run_dir / name} is a symlink; harness never writes through one: "
                            "remove it or pick another run dir")


def _plan_overrides(overrides) -> list[str]:
    """The overrides that choose what a run computes, sorted (see ``_RESUME_FREE``)."""
    out = []
    for item in overrides or ():
        key = str(item).lstrip("+~").split("=", 1)[0]
        if key not in _RESUME_FREE and not key.startswith(("hydra.", "hydra/")):
            out.append(str(item))
    return sorted(out)


def _check_resume(run_dir: Path, info: dict, overrides, shared: bool) -> None:
    """A resume must plan what the run planned: the same overrides (keys only across a sweep's jobs)."""
    was, now = _plan_overrides(info.get("overrides")), _plan_overrides(overrides)
    if shared:  # jobs of a sweep differ in the swept values; each job's keys must still match
        def keys(items):
            return sorted({o.lstrip("+~").split("=", 1)[0] for o in items})
        if keys(was) == keys(now):
            return
    elif Counter(was) == Counter(now):
        return
    only_run = [o for o in was if o not in now]
    only_now = [o for o in now if o not in was]
    raise UserError(f"resume={run_dir} was started with overrides [{' '.join(was)}], this resume has "
                    f"[{' '.join(now)}] (only in the run: {' '.join(only_run) or '-'}; only now: "
                    f"{' '.join(only_now) or '-'}); resume with the run's overrides, or start a new run "
                    "without resume=")


def claim(run_dir: Path, cfg: DictConfig, resume: bool, shared: bool, job: str = "0",
           overrides=()) -> int:
    """Claim the run dir for this run's life; the fd of its held lock (close it to release).

    Refuses to write into another run's dir unless resuming it (or sharing one launch), a
    resume with other overrides than the run's, and a run dir another process is writing.
    """
    if resume:
        if not (run_dir / RUN_FILE).exists():
            raise UserError(f"resume={run_dir}: not a run dir (no {RUN_FILE}); pass a dir written by `harness run`")
        suite = read_run_info(run_dir).get("suite")
        if suite and suite != cfg.suite.name:
            raise UserError(f"resume={run_dir} is a run of suite {suite}, not {cfg.suite.name}; "
                            f"pass suite={suite} with the same overrides")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_problem("create the run dir", run_dir, exc) from None
    fd = _lock(run_dir, shared)
    try:
        _refuse_symlinks(run_dir, job)
        if resume:
            _check_resume(run_dir, read_run_info(run_dir), overrides, shared)
        elif (run_dir / RUN_FILE).exists() and not shared:
            raise UserError(f"{run_dir} already holds a run; pick another run_id, or resume it with resume={run_dir}")
    except BaseException:
        os.close(fd)
        raise
    return fd


def note_resume(run_dir: Path, info: dict, overrides, job: str, stream, progress: bool) -> None:
    """Append this resume to resumes.jsonl; say so when the run now spans harness commits."""
    here = Path(environment.__file__).resolve().parent
    git = environment.git_commit(here)
    record_resume(run_dir, {"time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                            "git_harness": git, "overrides": list(overrides), "job": job,
                            "pid": os.getpid()})
    before = ((info.get("environment") or {}).get("git_harness") or {}).get("commit")
    now = (git or {}).get("commit")
    if progress and before and now and before != now:
        print(f"harness: note: run {run_dir.name} was started at harness commit {before[:10]} and is "
              f"resumed at {now[:10]} (each resume is listed in {run_dir / RESUMES_FILE})",
              file=stream, flush=True)
