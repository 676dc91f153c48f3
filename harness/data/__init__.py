"""Datasets: ``load_dataset`` turns a dataset config into a :class:`Dataset`.

A dataset config names its ``kind`` and a ``loader`` node that Hydra instantiates;
the loader returns ``(X_train, y_train, X_test, y_test)``. This module only wraps,
casts and checks, so a user's own loader needs no harness import at all.
"""

from __future__ import annotations

import warnings

import numpy as np

from harness.data.base import Dataset
from harness.errors import UserError
from harness.schema import KINDS

__all__ = ["Dataset", "load_dataset", "KIND_NDIM", "LoaderError", "DataWarning"]

#: Dimensionality of ``X`` (samples first) for each dataset kind.
KIND_NDIM = {"image": 3, "signal": 2, "tabular": 2, "points": 2, "multichannel": 3}


class LoaderError(RuntimeError):
    """A loader failed for a reason that is not a parameter the user typed (a bug, a broken file
    of a generator): the trials on this data fail with this one line, which names the cause."""


class DataWarning(UserWarning):
    """Data that a run can still use but that the user should know about."""


_WARNED: set = set()  # (dataset, what): each data warning once per process


def load_dataset(spec, split: int) -> Dataset:
    """Load the train/test split that ``spec`` describes.

    Parameters
    ----------
    spec : DictConfig
        A dataset config with ``name``, ``kind`` and ``loader`` (a ``_target_`` node).
    split : int
        The trial's split index (data randomness, apart from the model's seed). It reaches
        the loader as ``seed=`` when the loader config has no ``seed`` of its own (or has
        ``seed: null``): a seed in the config pins the data, and the split then drives the
        split or the generator. A loader config with ``split: null`` also gets it as
        ``split=`` (a data set with a published split resamples it: see
        :func:`harness.data.splits.resample_split`); an integer there pins it.

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
    extra = {"seed": int(split)} if loader.get("seed") is None else {}
    if "split" in loader and loader.get("split") is None:
        extra["split"] = int(split)
    out = _instantiate(loader, str(spec.name), extra)
    try:
        X_train, y_train, X_test, y_test = out
    except (TypeError, ValueError):
        raise UserError(
            f"dataset {spec.name}: the loader must return (X_train, y_train, X_test, y_test)"
        ) from None
    X_train, X_test = _features(X_train), _features(X_test)
    y_train, y_test = (_labels(str(spec.name), y, split) for y, split in ((y_train, "train"), (y_test, "test")))
    classes = np.unique(np.concatenate([y_train, y_test]))
    y_train, y_test = _encode_labels(y_train, y_test)
    _check(spec.name, kind, X_train, y_train, X_test, y_test)
    _warn_unseen(str(spec.name), classes, y_train, y_test)
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
            text = str(cause)
            raise UserError(text if text.startswith(f"dataset {name}") else f"dataset {name}: {text}") from None
        text = " ".join(str(cause or exc).split())
        if isinstance(cause, ImportError) or (
            isinstance(cause, TypeError) and ("keyword argument" in text or "required" in text)
        ):
            raise UserError(f"dataset {name}: bad loader config: {text}") from exc
        if cause is None:
            raise
        if isinstance(cause, MemoryError):
            raise cause  # the executor names the memory limit
        # The cause is the message: "Error in call to target ..." alone says nothing.
        first = str(cause).strip().splitlines()
        raise LoaderError(f"dataset {name}: its loader {loader.get('_target_', '?')} raised "
                          f"{type(cause).__name__}: {first[0] if first else ''}".rstrip(": ")) from cause


def _features(X) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(X, dtype=np.float32))


def _labels(name: str, y, split: str) -> np.ndarray:
    """``y`` as a flat array of class labels; numbers that are not whole are not classes."""
    y = np.asarray(y).ravel()
    if y.dtype == object:
        y = y.astype(str)  # mixed types can't be sorted into a code book
    if y.dtype.kind in "fc":
        if not np.isfinite(y).all():
            raise UserError(f"dataset {name}: y_{split} holds NaN or infinite labels; drop those samples")
        fractional = y[y != np.round(y.real)]
        if fractional.size:
            examples = ", ".join(f"{v:g}" for v in np.unique(fractional)[:3])
            raise UserError(f"dataset {name}: y_{split} holds non-integer labels ({examples}); harness "
                            f"classifies, so labels must be classes: round or bin a continuous target")
        y = y.real.astype(np.int64)
    return y


def _warn_unseen(name: str, classes: np.ndarray, y_train: np.ndarray, y_test: np.ndarray) -> None:
    """Warn, once per dataset, about test classes no model can predict."""
    unseen = np.setdiff1d(np.unique(y_test), np.unique(y_train))
    if not unseen.size or (name, "unseen") in _WARNED:
        return
    _WARNED.add((name, "unseen"))
    shown = ", ".join(str(classes[i]) for i in unseen[:5]) + (" ..." if unseen.size > 5 else "")
    n = int(np.isin(y_test, unseen).sum())
    warnings.warn(f"dataset {name}: test class(es) {shown} never appear in training ({n} of "
                  f"{len(y_test)} test samples); no model can predict them, so accuracy stays below "
                  f"{1 - n / len(y_test):.3f}; add training samples of those classes", DataWarning, stacklevel=3)


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
    if len(np.unique(y_train)) < 2:
        raise UserError(f"dataset {name}: the training split holds a single class; a classifier needs "
                        f"at least two (check the labels, or give the split more samples)")
