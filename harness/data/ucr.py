"""UCR time-series classification problems bundled inside aeon's wheel, read offline.

aeon (an optional extra: ``pip install "harness[ts]"``) ships a few problems of the UCR/UEA
archives with the archive's own train/test split: ArrowHead, GunPoint, ItalyPowerDemand, OSULeaf,
ACSF1 (univariate, equal length), PickupGestureWiimoteZ (unequal length), BasicMotions and
JapaneseVowels (multivariate; JapaneseVowels also of unequal length). This loader reads those
files with aeon's own ``.ts`` reader (``aeon.datasets.load_from_ts_file``), never its downloader: a problem that is not in the wheel
is refused, not fetched. Multivariate problems load as ``(n, channels, length)``, the
``multichannel`` kind: only features and models that take channels apply to them (the plan
drops the others with the reason, e.g. ``rocket``, whose kernels convolve one channel).
Problems whose series differ in length are refused: harness holds one shape per data set.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.data.splits import resample_split
from harness.errors import UserError

INSTALL_HINT = 'aeon is not installed; the UCR problems need the time-series extra: pip install "harness[ts]"'


def bundled_dir() -> Path:
    """aeon's folder of bundled problems; UserError with the install command without aeon."""
    try:
        import aeon.datasets
    except ImportError:
        raise UserError(INSTALL_HINT) from None
    return Path(aeon.datasets.__file__).resolve().parent / "data"


def bundled_problems() -> list[str]:
    """Names of the classification problems aeon's wheel carries (a train and a test ``.ts`` file)."""
    root = bundled_dir()
    return sorted(p.name for p in root.iterdir()
                  if (p / f"{p.name}_TRAIN.ts").is_file() and (p / f"{p.name}_TEST.ts").is_file())


def load_ucr(problem: str, seed: int | None = None):
    """Read a bundled UCR problem; ``seed`` is the trial's split.

    Parameters
    ----------
    problem : str
        The archive's name of the problem, e.g. ``GunPoint`` (see :func:`bundled_problems`).
    seed : int, optional
        Which train/test split: 0 (or None) is the archive's own, ``k > 0`` a stratified
        resample of train and test together with the same sizes (the bake-offs' rule,
        :func:`~harness.data.splits.resample_split`). ``dataset.loader.seed=0`` keeps the
        archive's split for every trial.

    Returns
    -------
    tuple
        ``(X_train, y_train, X_test, y_test)``; ``X`` has shape ``(n, length)`` for a univariate
        problem (kind ``signal``) and ``(n, channels, length)`` for a multivariate one (kind
        ``multichannel``); ``y`` holds the archive's class labels as strings.
    """
    problem = str(problem)
    root = bundled_dir()
    folder = root / problem
    if "/" in problem or "\\" in problem or not (folder / f"{problem}_TRAIN.ts").is_file():
        raise UserError(f"UCR problem {problem!r} is not bundled with aeon (harness reads offline only); "
                        f"choose one of: {', '.join(bundled_problems())}")
    X_train, y_train = _read(folder / f"{problem}_TRAIN.ts", problem)
    X_test, y_test = _read(folder / f"{problem}_TEST.ts", problem)
    return resample_split(X_train, y_train, X_test, y_test, int(seed or 0))


def _read(path: Path, problem: str) -> tuple[np.ndarray, np.ndarray]:
    from aeon.datasets import load_from_ts_file

    X, y = load_from_ts_file(str(path))
    if isinstance(X, list):  # aeon returns a list of (channels, length) arrays for unequal lengths
        lengths = sorted({int(np.shape(x)[-1]) for x in X})
        raise UserError(f"UCR problem {problem} has series of unequal length ({lengths[0]} to {lengths[-1]}); "
                        f"harness needs one length per data set, and pads nothing itself")
    X = np.asarray(X, dtype=np.float32)
    if X.ndim == 3 and X.shape[1] > 1:
        return X, np.asarray(y)  # multivariate: (n, channels, length), the multichannel kind
    return X.reshape(len(X), -1), np.asarray(y)
