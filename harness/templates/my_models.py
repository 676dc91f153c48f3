"""Your own estimator, kept next to the configs that name it (`harness init` wrote this file).

harness runs any scikit-learn compatible class: a model YAML names it with ``_target_`` and
sets its parameters. This config dir is on the Python path while harness runs, so
``_target_: my_models.SoftmaxRegression`` finds this module. Replace the class with yours (or
name a class of your installed package instead).
"""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


class SoftmaxRegression(ClassifierMixin, BaseEstimator):
    """Multinomial logistic regression by full-batch gradient descent on standardised inputs.

    ``epochs`` sets the work of a fit (its time grows with it), ``learning_rate`` and ``l2``
    its result. ``random_state`` is given by harness: the trial's seed.
    """

    def __init__(self, epochs=500, learning_rate=0.5, l2=1e-3, random_state=None):
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.l2 = l2
        self.random_state = random_state

    def _standardise(self, X):
        return (np.asarray(X, dtype=np.float64) - self.mean_) / self.scale_

    def fit(self, X, y):
        X = np.asarray(X, dtype=np.float64)
        self.classes_, index = np.unique(np.asarray(y), return_inverse=True)
        self.mean_, self.scale_ = X.mean(axis=0), X.std(axis=0) + 1e-12
        Z = self._standardise(X)
        onehot = np.eye(len(self.classes_))[index]
        rng = np.random.default_rng(self.random_state)
        W = rng.normal(0.0, 0.01, size=(Z.shape[1], len(self.classes_)))
        b = np.zeros(len(self.classes_))
        for _ in range(int(self.epochs)):
            grad = (_softmax(Z @ W + b) - onehot) / len(Z)
            W -= self.learning_rate * (Z.T @ grad + self.l2 * W)
            b -= self.learning_rate * grad.sum(axis=0)
        self.coef_, self.intercept_ = W, b
        return self

    def predict_proba(self, X):
        return _softmax(self._standardise(X) @ self.coef_ + self.intercept_)

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def _softmax(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
