"""The small data sets bundled with scikit-learn (no download needed).

Every loader makes a stratified train/test split from ``seed``, so all model
families see the same split.
"""

from __future__ import annotations

import numpy as np

from harness.data.params import check_params
from harness.errors import UserError


def split(X, y, test_size: float = 0.25, seed: int = 0, stratify: bool = True, what: str = ""):
    """Stratified train/test split; returns ``(X_train, y_train, X_test, y_test)``.

    A split that can't be made (too few samples for ``test_size`` and the classes) is the
    user's parameters to fix: UserError, with scikit-learn's reason. ``what`` names the data
    in that message (a file); by default the parameters to change are named.
    """
    from sklearn.model_selection import train_test_split

    check_params(test_size=test_size)
    try:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=test_size, random_state=seed, stratify=y if stratify else None
        )
    except ValueError as exc:
        fix = what or "raise dataset.loader.n_samples or change dataset.loader.test_size"
        raise UserError(f"cannot split {len(y)} samples with test_size={test_size}: "
                        f"{' '.join(str(exc).split())} ({fix})") from None
    return X_train, y_train, X_test, y_test


def load_digits(test_size: float = 0.25, seed: int = 0):
    """8x8 handwritten digits (1,797 images, 10 classes), as ``(n, 8, 8)`` images."""
    from sklearn import datasets

    bunch = datasets.load_digits()
    return split(bunch.images.astype(np.float32), bunch.target, test_size, seed)


def load_breast_cancer(test_size: float = 0.25, seed: int = 0):
    """Wisconsin breast cancer (569 samples, 30 features, 2 classes)."""
    from sklearn import datasets

    X, y = datasets.load_breast_cancer(return_X_y=True)
    return split(X.astype(np.float32), y, test_size, seed)


def load_wine(test_size: float = 0.25, seed: int = 0):
    """Wine recognition (178 samples, 13 features, 3 classes)."""
    from sklearn import datasets

    X, y = datasets.load_wine(return_X_y=True)
    return split(X.astype(np.float32), y, test_size, seed)
