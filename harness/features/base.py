"""The template the feature transformers share: validate, featurize, maybe standardize."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data
except ImportError:  # pragma: no cover - older scikit-learn
    def validate_data(est, X, reset=True, **kw):
        return est._validate_data(X, reset=reset, **kw)


class FeatureTransformer(TransformerMixin, BaseEstimator):
    """Base class: subclasses implement ``_fit`` (optional) and ``_features``.

    Features are computed in float64 and returned in the input's float dtype.
    When the subclass has a ``standardize`` param set, the output is scaled to
    zero mean and unit variance with statistics of the training split, so that
    linear models and kernels see well-conditioned inputs.
    """

    def fit(self, X, y=None):
        """Learn what the features need from the training split ``X``."""
        self._fit_features(X)
        return self

    def fit_transform(self, X, y=None, **_fit_params):
        """Fit and return the training features, computing them once."""
        F = self._fit_features(X)
        return self._finish(F)

    def transform(self, X):
        """Featurize ``X`` with what ``fit`` learnt; never refits."""
        check_is_fitted(self, "n_features_out_")
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        self._check_input(X)
        return self._finish(self._features(X.astype(np.float64)))

    # -- helpers for subclasses ------------------------------------------------
    def _fit_features(self, X) -> np.ndarray:
        X = validate_data(self, X, reset=True, dtype=[np.float64, np.float32])
        self._check_input(X)
        self.dtype_ = X.dtype
        X64 = X.astype(np.float64)
        self._fit(X64)
        F = self._features(X64)
        self.scaler_ = StandardScaler().fit(F) if getattr(self, "standardize", False) else None
        self.n_features_out_ = F.shape[1]
        return F

    def _finish(self, F: np.ndarray) -> np.ndarray:
        if self.scaler_ is not None:
            F = self.scaler_.transform(F)
        return np.asarray(F, dtype=self.dtype_)

    def _check_input(self, X: np.ndarray) -> None:
        """Raise ValueError for inputs the features can't handle (override)."""

    def _fit(self, X: np.ndarray) -> None:
        """Learn state from the training split (override when needed)."""

    def _features(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
