"""Datasets: ``load_dataset`` turns a dataset config into a :class:`Dataset`.

A dataset config names its ``kind`` and a ``loader`` node that Hydra instantiates;
the loader returns ``(X_train, y_train, X_test, y_test)``. This module only wraps,
casts and checks, so a user's own loader needs no harness import at all.
"""

from __future__ import annotations

import numpy as np

from harness.data.base import Dataset
from harness.errors import UserError
from harness.schema import KINDS

__all__ = ["Dataset", "load_dataset", "KIND_NDIM"]

#: Dimensionality of ``X`` (samples first) for each dataset kind.
KIND_NDIM = {"image": 3, "signal": 2, "tabular": 2, "points": 2}


def load_dataset(spec, seed: int) -> Dataset:
    """Load the train/test split that ``spec`` describes.

    Parameters
    ----------
    spec : DictConfig
        A dataset config with ``name``, ``kind`` and ``loader`` (a ``_target_`` node).
    seed : int
        The trial seed. It is passed to the loader only when the loader config has
        no ``seed`` of its own (or has ``seed: null``): a seed in the config pins the
        split, so that every trial sees the same data; otherwise the trial seed
        drives the split or the generator.

    Returns
    -------
    Dataset
        ``X`` as float32 in its natural per-sample shape, ``y`` as int64 labels
        ``0 .. k-1`` encoded consistently across train and test.
    """
    kind = str(spec.kind)
    if kind not in KINDS:
        raise UserError(
            f"dataset {spec.name}: unknown kind {kind!r}; use one of {', '.join(KINDS)}"
        )
    loader = spec.loader
    extra = {"seed": int(seed)} if loader.get("seed") is None else {}
    out = _instantiate(loader, str(spec.name), extra)
    try:
        X_train, y_train, X_test, y_test = out
    except (TypeError, ValueError):
        raise UserError(
            f"dataset {spec.name}: the loader must return (X_train, y_train, X_test, y_test)"
        ) from None
    X_train, X_test = _features(X_train), _features(X_test)
    y_train, y_test = _encode_labels(np.asarray(y_train), np.asarray(y_test))
    _check(spec.name, kind, X_train, y_train, X_test, y_test)
    return Dataset(str(spec.name), kind, X_train, y_train, X_test, y_test)


def _instantiate(loader, name: str, extra: dict):
    """Call the loader; turn config mistakes and the loader's UserErrors into one line."""
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate
    from omegaconf.errors import MissingMandatoryValue

    try:
        return instantiate(loader, **extra)
    except MissingMandatoryValue as exc:
        key = getattr(exc, "full_key", None) or "loader value"
        key = "dataset." + key.removeprefix("dataset.")
        raise UserError(f"dataset {name}: {key} is required (set {key}=...)") from None
    except InstantiationException as exc:
        cause = exc.__cause__
        if isinstance(cause, UserError):
            raise cause from None
        text = str(cause or exc)
        if isinstance(cause, ImportError) or (
            isinstance(cause, TypeError) and ("keyword argument" in text or "required" in text)
        ):
            raise UserError(f"dataset {name}: bad loader config: {text}") from exc
        raise


def _features(X) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(X, dtype=np.float32))


def _encode_labels(y_train: np.ndarray, y_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map labels to ``0 .. k-1`` with one code book for train and test."""
    y_train, y_test = y_train.ravel(), y_test.ravel()
    classes, codes = np.unique(np.concatenate([y_train, y_test]), return_inverse=True)
    codes = codes.astype(np.int64).ravel()
    return codes[: len(y_train)], codes[len(y_train):]


def _check(name, kind, X_train, y_train, X_test, y_test) -> None:
    ndim = KIND_NDIM[kind]
    for split, X, y in (("train", X_train, y_train), ("test", X_test, y_test)):
        if X.ndim != ndim:
            raise UserError(
                f"dataset {name}: kind {kind} needs X_{split} with {ndim} dimensions "
                f"(samples first), got shape {X.shape}; fix the kind or the data"
            )
        if len(X) != len(y):
            raise UserError(
                f"dataset {name}: X_{split} has {len(X)} rows but y_{split} has {len(y)}"
            )
        if len(X) == 0:
            raise UserError(f"dataset {name}: the {split} split is empty")
    if X_train.shape[1:] != X_test.shape[1:]:
        raise UserError(
            f"dataset {name}: train samples have shape {X_train.shape[1:]} "
            f"but test samples {X_test.shape[1:]}"
        )
    if not np.isfinite(X_train).all() or not np.isfinite(X_test).all():
        raise UserError(f"dataset {name}: X contains NaN or infinite values; impute or drop them")
