"""Nearest neighbours under dynamic time warping, from aeon (an optional extra: ``harness[ts]``).

The UCR archive's own baseline (Dau et al., 2019) is 1-NN with DTW. aeon's
``KNeighborsTimeSeriesClassifier`` does the work; :class:`DTWNeighbors` only adapts it to the
runner's contract: it receives flat rows (one signal, or ``C`` channels laid end to end, per
row) and the data's per-sample ``input_shape``, and hands aeon ``(n, C, L)`` series.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

INSTALL_HINT = 'aeon is not installed; the time-series extra provides it: pip install "harness[ts]"'


def _neighbors_class():
    try:
        from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return KNeighborsTimeSeriesClassifier


def dtw_neighbors(**params) -> "DTWNeighbors":
    """A :class:`DTWNeighbors`; ImportError with the install command when aeon is absent, so a
    plan that names the model says how to get it before any trial runs."""
    _neighbors_class()
    return DTWNeighbors(**params)


class DTWNeighbors(ClassifierMixin, BaseEstimator):
    """k-nearest neighbours of time series under an elastic distance (aeon).

    Parameters
    ----------
    distance : str
        aeon's distance name: ``"dtw"`` (the default), ``"euclidean"``, ``"ddtw"``, ...
    window : float, optional
        Sakoe-Chiba band as a share of the series length (0: no warping, 1 or None: full DTW,
        the UCR archive's "DTW (w=100)" column).
    n_neighbors : int
        Neighbours that vote; 1 is the archive's baseline.
    n_jobs : int
        aeon's worker count (1: within the trial's thread limit).
    input_shape : tuple, optional
        Per-sample shape of the rows ``fit`` gets: ``(L,)`` or ``(C, L)``; the runner sets it.
        None: each row is one univariate series.
    """

    _parameter_constraints: dict = {
        "distance": [str],
        "window": [Interval(Real, 0, 1, closed="both"), None],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral],
        "input_shape": ["array-like", None],
    }

    def __init__(self, distance="dtw", window=None, n_neighbors=1, n_jobs=1, input_shape=None):
        self.distance = distance
        self.window = window
        self.n_neighbors = n_neighbors
        self.n_jobs = n_jobs
        self.input_shape = input_shape

    def _series(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        X = X.reshape(len(X), -1)
        shape = (X.shape[1],) if self.input_shape is None else tuple(int(s) for s in self.input_shape)
        if len(shape) not in (1, 2) or int(np.prod(shape)) != X.shape[1]:
            raise ValueError(f"input_shape {shape} is not a series (L,) or (C, L) of the "
                             f"{X.shape[1]} values per row")
        return X.reshape(len(X), *((1,) + shape if len(shape) == 1 else shape))

    def fit(self, X, y):
        self._validate_params()
        series = self._series(X)
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        self.n_features_in_ = series.shape[1] * series.shape[2]
        distance_params = None if self.window is None else {"window": float(self.window)}
        self.model_ = _neighbors_class()(distance=self.distance, distance_params=distance_params,
                                         n_neighbors=int(self.n_neighbors), n_jobs=int(self.n_jobs))
        self.model_.fit(series, y)
        return self

    def predict(self, X):
        check_is_fitted(self, "model_")
        return np.asarray(self.model_.predict(self._series(X)))
