"""What a run ran on: versions, CPU, GPU, git commits. Recorded once per run in run.json."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from harness import cpus

PACKAGES = ("harness", "numpy", "scipy", "scikit-learn", "pandas", "torch", "hydra-core",
            "omegaconf", "mnist1d", "scikit-image", "threadpoolctl", "xgboost")


def package_versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_commit(path: Path | str) -> dict | None:
    """Commit and dirty flag of the git work tree holding ``path``, or None outside one."""
    def git(*args):
        return subprocess.run(["git", "-C", str(path), *args], capture_output=True,
                              text=True, timeout=5)
    try:
        head = git("rev-parse", "HEAD")
        if head.returncode != 0:
            return None
        dirty = git("status", "--porcelain", "--untracked-files=no").stdout.strip() != ""
        return {"commit": head.stdout.strip(), "dirty": dirty, "root": git("rev-parse", "--show-toplevel").stdout.strip()}
    except (OSError, subprocess.SubprocessError):
        return None


def gpu_info(load_torch: bool = False) -> list[dict]:
    """GPUs torch can see. Imports torch only when asked or already loaded (it costs ~1.5 s)."""
    if not load_torch and "torch" not in sys.modules:
        return []
    try:
        import torch
    except ImportError:
        return []
    if not torch.cuda.is_available():
        return []
    return [{"name": torch.cuda.get_device_name(i),
             "memory_gb": round(torch.cuda.get_device_properties(i).total_memory / 2**30, 1),
             "capability": ".".join(map(str, torch.cuda.get_device_capability(i))),
             "cuda": torch.version.cuda}
            for i in range(torch.cuda.device_count())]


def capture(load_torch: bool = False) -> dict:
    """The environment of this process, as plain JSON-able values.

    The cores and load are those the run in progress found at its start
    (:func:`harness.cpus.at_start`): ``usable_cores``, ``load_at_start`` (1-minute load
    average), ``busy_cores_at_start`` (cores of ours other work kept busy), ``thread_policy``
    and ``threads_default`` (what a trial without ``device.threads`` runs with).
    """
    here = Path(__file__).resolve().parent
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "hostname": socket.gethostname(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        **cpus.current().record(),
        "memory_gb": memory_gb(),
        "gpus": gpu_info(load_torch),
        "packages": package_versions(),
        "git_harness": git_commit(here),
        "git_cwd": git_commit(Path.cwd()),
        "argv": sys.argv,
        "env": {k: v for k, v in os.environ.items()
                if k.startswith(("OMP_", "KMP_", "GOMP_", "MKL_", "OPENBLAS_", "CUDA_VISIBLE", "HARNESS_"))},
    }


def memory_gb() -> float | None:
    try:
        import psutil
        return round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        return None
