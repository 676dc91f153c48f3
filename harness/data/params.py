"""Light checks of the bundled loaders' parameters, made before any data is.

The loaders call :func:`check_params` on their own arguments, and
:func:`check_loader_config` runs the same rules on a dataset config when it is
planned (:func:`harness.config.validate`), so that ``dataset.loader.n_samples=0``
or ``dataset.loader.test_size=1.5`` is one line and exit 2 before any trial runs.
Only literal values are checked: an interpolation or a missing value is left to the loader.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

from harness.errors import UserError


def _whole(value, low: int) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool) and value >= low


def _number(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def _fraction(value) -> bool:
    return _number(value) and not isinstance(value, Integral) and 0.0 < value < 1.0


#: parameter -> (what it must be, the test); shared by every loader in harness.data
RULES = {
    "n_samples": ("a whole number of samples >= 1", lambda v: _whole(v, 1)),
    "num_samples": ("a whole number of samples >= 10", lambda v: _whole(v, 10)),
    "n_train": ("a whole number of training samples >= 1, or null", lambda v: v is None or _whole(v, 1)),
    "test_size": ("a fraction strictly between 0 and 1, or a whole number of test samples >= 1",
                  lambda v: v is None or _fraction(v) or _whole(v, 1)),
    "train_split": ("a fraction strictly between 0 and 1", _fraction),
    "split": ("a whole number >= 0 (0: the published split), or null for the trial's split",
              lambda v: v is None or _whole(v, 0)),
    "noise": ("a number >= 0", lambda v: _number(v) and v >= 0),
    "factor": ("a number >= 0 and < 1", lambda v: _number(v) and 0 <= v < 1),
    "turns": ("a number > 0", lambda v: _number(v) and v > 0),
    "n_features": ("a whole number >= 1", lambda v: _whole(v, 1)),
    "n_informative": ("a whole number >= 1", lambda v: _whole(v, 1)),
    "n_redundant": ("a whole number >= 0", lambda v: _whole(v, 0)),
    "n_repeated": ("a whole number >= 0", lambda v: _whole(v, 0)),
    "n_classes": ("a whole number of classes >= 2", lambda v: _whole(v, 2)),
    "n_clusters_per_class": ("a whole number >= 1", lambda v: _whole(v, 1)),
    "flip_y": ("a fraction between 0 and 1", lambda v: _number(v) and 0 <= v <= 1),
    "class_sep": ("a number > 0", lambda v: _number(v) and v > 0),
}


def check_params(**params) -> None:
    """Raise UserError naming the first parameter that breaks its rule in :data:`RULES`."""
    for key, value in params.items():
        rule = RULES.get(key)
        if rule is not None and not rule[1](value):
            raise UserError(f"dataset.loader.{key}={value} is invalid: it must be {rule[0]} "
                            f"(set dataset.loader.{key}=...)")
    n, test = params.get("n_samples"), params.get("test_size")
    if _whole(n, 1) and _whole(test, 1) and test >= n:
        raise UserError(f"dataset.loader.test_size={test} leaves no training samples of "
                        f"n_samples={n}; use a fraction such as 0.25")


def check_loader_config(loader, name: str) -> None:
    """Check a dataset config's literal loader parameters, for the loaders of harness.data."""
    from omegaconf import OmegaConf

    if not OmegaConf.is_config(loader) or not str(loader.get("_target_", "")).startswith("harness.data."):
        return
    literal = {}
    for key in RULES:
        if key not in loader or OmegaConf.is_missing(loader, key) or OmegaConf.is_interpolation(loader, key):
            continue
        literal[key] = loader[key]
    try:
        check_params(**literal)
    except UserError as exc:
        raise UserError(f"dataset {name}: {exc}") from None
