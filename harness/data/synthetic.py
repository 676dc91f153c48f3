"""Synthetic data: 2-D point sets where a linear model must fail, and a tabular task.

Point sets are cheap to generate, so they are generated afresh from ``seed`` rather
than cached. ``noise`` is Gaussian noise added to the coordinates after labelling,
so points near a class boundary cross it: the best possible accuracy is below 100%.
"""

from __future__ import annotations

import numpy as np

from harness.data.bundled import split
from harness.data.params import check_params
from harness.errors import UserError


def xor(n_samples: int = 1000, noise: float = 0.1, test_size: float = 0.25, seed: int = 0):
    """XOR: uniform points in ``[-1, 1]^2``, class 1 where both coordinates share a sign."""
    check_params(n_samples=n_samples, noise=noise, test_size=test_size)
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n_samples, 2))
    y = (np.sign(X[:, 0]) == np.sign(X[:, 1])).astype(np.int64)
    X += noise * rng.standard_normal(X.shape)
    return split(X.astype(np.float32), y, test_size, seed)


def circles(
    n_samples: int = 1000, noise: float = 0.1, factor: float = 0.5,
    test_size: float = 0.25, seed: int = 0,
):
    """Two concentric circles (:func:`sklearn.datasets.make_circles`)."""
    check_params(n_samples=n_samples, noise=noise, factor=factor, test_size=test_size)
    from sklearn.datasets import make_circles

    X, y = make_circles(n_samples=n_samples, noise=noise, factor=factor, random_state=seed)
    return split(X.astype(np.float32), y, test_size, seed)


def moons(n_samples: int = 1000, noise: float = 0.2, test_size: float = 0.25, seed: int = 0):
    """Two interleaving half circles (:func:`sklearn.datasets.make_moons`)."""
    check_params(n_samples=n_samples, noise=noise, test_size=test_size)
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    return split(X.astype(np.float32), y, test_size, seed)


def spirals(
    n_samples: int = 1000, noise: float = 0.05, turns: float = 1.5,
    test_size: float = 0.25, seed: int = 0,
):
    """Two interleaved spirals, each ``turns`` turns long, scaled to about ``[-1, 1]^2``.

    Points are spread evenly along the arc (not the angle), so the outer turns,
    the hard part, are not starved of samples.
    """
    check_params(n_samples=n_samples, noise=noise, turns=turns, test_size=test_size)
    rng = np.random.default_rng(seed)
    y = np.arange(n_samples) % 2
    t = np.sqrt(rng.uniform(0.0, 1.0, n_samples)) * turns * 2 * np.pi
    r = t / (turns * 2 * np.pi)
    X = np.stack([r * np.cos(t), r * np.sin(t)], axis=1)
    X[y == 1] *= -1
    X += noise * rng.standard_normal(X.shape)
    return split(X.astype(np.float32), y, test_size, seed)


def tabular(
    n_samples: int = 2000, n_features: int = 20, n_informative: int = 5,
    n_redundant: int = 5, n_repeated: int = 0, n_classes: int = 2,
    n_clusters_per_class: int = 2, class_sep: float = 1.0, flip_y: float = 0.01,
    test_size: float = 0.25, seed: int = 0,
):
    """A classification table (:func:`sklearn.datasets.make_classification`).

    Informative features sit on the vertices of a hypercube; redundant ones are
    linear mixes of them, the rest is noise: the setting where feature selection
    and regularisation matter.
    """
    from sklearn.datasets import make_classification

    check_params(n_samples=n_samples, n_features=n_features, n_informative=n_informative,
                 n_redundant=n_redundant, n_repeated=n_repeated, n_classes=n_classes,
                 n_clusters_per_class=n_clusters_per_class, class_sep=class_sep, flip_y=flip_y,
                 test_size=test_size)
    try:
        X, y = make_classification(
            n_samples=n_samples, n_features=n_features, n_informative=n_informative,
            n_redundant=n_redundant, n_repeated=n_repeated, n_classes=n_classes,
            n_clusters_per_class=n_clusters_per_class, class_sep=class_sep,
            flip_y=flip_y, random_state=seed,
        )
    except ValueError as exc:  # parameters that don't fit together, e.g. too few informative features
        raise UserError(f"dataset.loader parameters don't fit together: {' '.join(str(exc).split())}") from None
    return split(X.astype(np.float32), y, test_size, seed)
