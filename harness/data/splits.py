"""Splits of a data set, one place for all: the repeated train/test splits of fixed-split data,
and the validation part a trial carves from its training split.

Both are seeded by the trial's *split* index (data randomness), never by its model seed, so
every model of a split sees the same rows: paired comparisons pair like with like.
"""

from __future__ import annotations

import numpy as np


def _stratify(y: np.ndarray, n_a: int, n_b: int):
    """``y`` when a stratified cut into parts of ``n_a`` and ``n_b`` rows is possible, else None."""
    _, counts = np.unique(y, return_counts=True)
    return y if counts.min() >= 2 and min(n_a, n_b) >= len(counts) else None


def resample_split(X_train, y_train, X_test, y_test, split: int):
    """Split ``split`` of a data set with a published train/test split (the UCR bake-offs' rule).

    Split 0 is the published split itself; split ``k > 0`` is a stratified resample of the
    union of train and test with the same sizes, drawn with ``k``. Classes too rare to
    stratify leave the resample unstratified. Arrays that don't fit together (rows without a
    label, samples of other shapes) come back as they are, for the loader's checks to name.

    Returns
    -------
    tuple
        ``(X_train, y_train, X_test, y_test)``.
    """
    split = int(split)
    if split == 0:
        return X_train, y_train, X_test, y_test
    X_train, y_train, X_test, y_test = (np.asarray(a) for a in (X_train, y_train, X_test, y_test))
    y_train, y_test = (y.ravel() if y.ndim > 1 and y.size == len(y) else y for y in (y_train, y_test))
    if (X_train.ndim < 1 or X_train.shape[1:] != X_test.shape[1:] or y_train.ndim != 1
            or y_test.ndim != 1 or len(X_train) != len(y_train) or len(X_test) != len(y_test)
            or not len(y_train) or not len(y_test)):
        return X_train, y_train, X_test, y_test
    from sklearn.model_selection import train_test_split

    X = np.concatenate([X_train, X_test])
    y = np.concatenate([y_train, y_test])
    n_test = len(y_test)
    idx = np.arange(len(y))
    train, test = train_test_split(idx, test_size=n_test, random_state=split % (2**32),
                                   stratify=_stratify(y, len(y) - n_test, n_test))
    train, test = np.sort(train), np.sort(test)
    return X[train], y[train], X[test], y[test]


def split_validation(y: np.ndarray, val_fraction, seed: int):
    """Indices ``(train, val)`` of a stratified, seeded validation part of training data.

    ``val_fraction`` is a share (``< 1``) or a count of rows (``>= 1``); 0 or None: no
    validation. Falls back to an unstratified cut when a class is too rare to stratify, and
    to no validation at all when the data are too few to spare any.
    """
    y = np.asarray(y)
    n = len(y)
    idx = np.arange(n)
    if not val_fraction:
        return idx, idx[:0]
    n_val = int(round(n * val_fraction)) if val_fraction < 1 else int(val_fraction)
    if n_val < 1 or n - n_val < 2:
        return idx, idx[:0]
    from sklearn.model_selection import train_test_split

    train, val = train_test_split(idx, test_size=n_val, random_state=int(seed) % (2**32),
                                  stratify=_stratify(y, n - n_val, n_val))
    return np.sort(train), np.sort(val)
