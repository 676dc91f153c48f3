"""Generic features for any flat input: PCA, polynomial terms, random kernel maps.

(``raw`` needs no class: its YAML builds :class:`sklearn.preprocessing.StandardScaler`.)
Each standardizes its input first, so that scale differences between columns
don't decide the components, the polynomial terms or the kernel width.
"""

from __future__ import annotations

from sklearn.preprocessing import StandardScaler

from harness.features.base import FeatureTransformer


class PCAFeatures(FeatureTransformer):
    """Standardize, then project on the first principal components.

    Parameters
    ----------
    n_components : int or float
        Components to keep; clipped to what the data allow, so one config fits a
        13-column table and a 784-pixel image. A float in (0, 1) keeps that
        fraction of the variance.
    whiten : bool
        Scale components to unit variance.
    random_state : int, optional
        Seed of the randomized solver used on large inputs.
    """

    def __init__(self, n_components=50, whiten=False, random_state=None):
        self.n_components = n_components
        self.whiten = whiten
        self.random_state = random_state

    def _fit(self, X):
        from sklearn.decomposition import PCA

        k = self.n_components
        if isinstance(k, int) or float(k) >= 1:
            k = max(1, min(int(k), X.shape[0], X.shape[1]))
        self.scaler_in_ = StandardScaler().fit(X)
        self.pca_ = PCA(n_components=k, whiten=self.whiten, random_state=self.random_state)
        self.pca_.fit(self.scaler_in_.transform(X))

    def _features(self, X):
        return self.pca_.transform(self.scaler_in_.transform(X))


class PolyFeatures(FeatureTransformer):
    """Polynomial terms of the standardized inputs, standardized again.

    Lets a linear model draw curved boundaries (XOR is one product term away
    from separable). Meant for points and small tables: the output grows as
    ``d**degree``.

    Parameters
    ----------
    degree : int
        Highest total degree.
    interaction_only : bool
        Keep only products of distinct columns.
    standardize : bool
        Scale the output to zero mean and unit variance.
    """

    def __init__(self, degree=2, interaction_only=False, standardize=True):
        self.degree = degree
        self.interaction_only = interaction_only
        self.standardize = standardize

    def _fit(self, X):
        from sklearn.preprocessing import PolynomialFeatures

        self.scaler_in_ = StandardScaler().fit(X)
        self.poly_ = PolynomialFeatures(
            degree=self.degree, interaction_only=self.interaction_only, include_bias=False
        ).fit(self.scaler_in_.transform(X))

    def _features(self, X):
        return self.poly_.transform(self.scaler_in_.transform(X))


class RandomFeatures(FeatureTransformer):
    """An explicit RBF kernel map, so that a linear model acts as a kernel machine.

    Parameters
    ----------
    n_components : int
        Output dimension (clipped to the training size for Nystroem).
    gamma : float, optional
        RBF width; default ``1 / n_features`` on standardized inputs, the
        same rule as ``SVC(gamma="scale")``.
    method : {"nystroem", "fourier"}
        Nystroem (data-dependent landmarks, usually better) or random Fourier
        features (Rahimi and Recht, 2007).
    standardize : bool
        Scale the output to zero mean and unit variance.
    random_state : int, optional
        Seed of the landmarks or frequencies.
    """

    def __init__(self, n_components=300, gamma=None, method="nystroem", standardize=True,
                 random_state=None):
        self.n_components = n_components
        self.gamma = gamma
        self.method = method
        self.standardize = standardize
        self.random_state = random_state

    def _fit(self, X):
        from sklearn.kernel_approximation import Nystroem, RBFSampler

        gamma = 1.0 / X.shape[1] if self.gamma is None else float(self.gamma)
        if self.method == "nystroem":
            k = max(1, min(int(self.n_components), X.shape[0]))
            self.map_ = Nystroem(gamma=gamma, n_components=k, random_state=self.random_state)
        elif self.method == "fourier":
            self.map_ = RBFSampler(gamma=gamma, n_components=int(self.n_components),
                                   random_state=self.random_state)
        else:
            raise ValueError(f"method must be 'nystroem' or 'fourier', got {self.method!r}")
        self.scaler_in_ = StandardScaler().fit(X)
        self.map_.fit(self.scaler_in_.transform(X))

    def _features(self, X):
        return self.map_.transform(self.scaler_in_.transform(X))
