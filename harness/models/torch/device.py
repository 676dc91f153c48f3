"""Device resolution, seeding and thread control for the torch models.

Kept apart from the training loop so that the runner and tests can use the same rules:
an explicit ``"cuda"`` on a machine without CUDA is an error, never a silent CPU run,
because a benchmark that quietly measured the wrong device is worse than no result.
"""

from __future__ import annotations

import random

import numpy as np
import torch


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """Turn a device name from a config into a usable ``torch.device``.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda", "cuda:N", "mps"} or torch.device or None
        ``"auto"`` (or None) picks CUDA when available, else CPU.

    Raises
    ------
    RuntimeError
        When an accelerator is asked for by name and this machine or build lacks it.
    """
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(
                f"device={str(device)!r} requested but CUDA is not available "
                f"(torch {torch.__version__}); use device='cpu' or 'auto'")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise RuntimeError(
                f"device={str(device)!r} requested but only "
                f"{torch.cuda.device_count()} CUDA device(s) are visible")
    elif dev.type == "mps" and not torch.backends.mps.is_available():
        raise RuntimeError(f"device={str(device)!r} requested but MPS is not available")
    return dev


def draw_seed(random_state) -> int:
    """An int seed from a scikit-learn style ``random_state`` (None, int or RandomState)."""
    if isinstance(random_state, (int, np.integer)):
        return int(random_state) % (2**32)
    if random_state is None:
        return int(np.random.randint(0, 2**31 - 1))
    return int(random_state.randint(0, 2**31 - 1))


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (all devices), so a CPU run repeats exactly."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)  # also seeds every CUDA device


def synchronize(device: torch.device) -> None:
    """Wait for queued kernels, so that a timer read next measures finished work."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()
