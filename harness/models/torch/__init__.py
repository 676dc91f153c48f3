"""Torch networks (perceptron, MLP, CNN, GRU) as scikit-learn classifiers.

Importing this package is cheap: torch loads on the first ``fit``, not here.
"""

from .estimator import TorchClassifier

__all__ = ["TorchClassifier"]
