"""Disk cache for generated arrays, so that a second trial never regenerates data.

Files are plain ``.npz`` (no pickle) named by a hash of the generator's name and
parameters; they are written to a temporary file and moved into place, so that
parallel trials never read a half-written file, and a file that can't be read
is regenerated rather than trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

_META = "__meta__"


def cache_dir() -> Path:
    """Where cached arrays live: ``$HARNESS_CACHE_DIR`` or ``~/.cache/harness/data``."""
    env = os.environ.get("HARNESS_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "harness" / "data"


def cache_key(name: str, params: dict) -> str:
    """Stable hash of ``name`` and ``params`` (JSON with sorted keys)."""
    text = json.dumps({"name": name, "params": params}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cache_path(name: str, params: dict) -> Path:
    """The file that holds (or will hold) the arrays of ``name`` with ``params``."""
    return cache_dir() / f"{name}-{cache_key(name, params)}.npz"


def cached_arrays(
    name: str, params: dict, make: Callable[[], dict[str, np.ndarray]]
) -> dict[str, np.ndarray]:
    """Return the arrays ``make()`` builds for ``params``, from disk when cached.

    Parameters
    ----------
    name : str
        Generator name; part of the key and of the file name.
    params : dict
        Everything the arrays depend on (JSON-serialisable).
    make : callable
        Builds the arrays; called only on a cache miss (or an unreadable file).

    Returns
    -------
    dict of str to ndarray
    """
    path = cache_path(name, params)
    meta = json.dumps({"name": name, "params": params}, sort_keys=True, default=str)
    arrays = _read(path, meta)
    if arrays is not None:
        return arrays
    arrays = {k: np.asarray(v) for k, v in make().items()}
    try:
        _write(path, arrays, meta)
    except OSError as exc:  # a read-only home must not stop a benchmark
        warnings.warn(f"could not cache {name} data at {path}: {exc}", stacklevel=2)
    return arrays


def _read(path: Path, meta: str) -> dict[str, np.ndarray] | None:
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        if str(arrays.pop(_META, "")) != meta:
            raise ValueError("cache metadata does not match its key")
        return arrays
    except Exception as exc:  # corrupt, truncated or foreign: regenerate it
        warnings.warn(f"regenerating unreadable cache file {path}: {exc}", stacklevel=3)
        return None


def _write(path: Path, arrays: dict[str, np.ndarray], meta: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.stem, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays, **{_META: np.array(meta)})
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a shared cache is readable
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
