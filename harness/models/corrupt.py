"""Plant a known accuracy difference: make a share of a classifier's predictions wrong, seeded.

A comparison is only as good as its power to see a real difference. ``corrupt`` turns a share
of predictions wrong; :class:`CorruptedClassifier` wraps any model so that its own predictions
are corrupted, which plants a worse model in a suite without touching the model itself::

    # suites/model/rf_minus2.yaml (in your config dir)
    name: rf_minus2
    description: Random forest with 2% of its predictions made wrong
    family: classical
    estimator:
      _target_: harness.models.corrupt.CorruptedClassifier
      share: 0.02
      estimator:
        _target_: sklearn.ensemble.RandomForestClassifier
        n_estimators: 200

``benchmarks/verdict_quality.py`` measures harness's paired verdicts with it.
"""

from __future__ import annotations

import numpy as np

#: Methods of the wrapped model that the wrapper does not pass on: their answers would not
#: agree with the corrupted predictions (a trial then scores no log-loss).
HIDDEN = frozenset({"predict_proba", "predict_log_proba", "decision_function", "score"})


def rows_for(share: float, n: int) -> int:
    """How many of ``n`` rows a ``share`` corrupts: ``share * n`` rounded to the nearest row, halves up."""
    return int(np.floor(share * n + 0.5 + 1e-9))


def corrupt(y_pred, share: float, seed=0, classes=None, y_true=None) -> np.ndarray:
    """A copy of ``y_pred`` with :func:`rows_for` ``(share, n)`` predictions turned wrong.

    Parameters
    ----------
    y_pred : the predictions, one per row.
    share : the fraction of rows to corrupt, from 0 to 1.
    seed : seeds which rows and which wrong classes (an int or a sequence of ints >= 0).
    classes : the labels a prediction can take (default: those in ``y_pred`` and ``y_true``);
        at least two.
    y_true : the true labels, when known. Then exactly that many *correct*
        predictions become a wrong class (all of them if fewer are correct), so accuracy
        drops by exactly that many rows. Without them (a model at predict time) that many
        rows, correct or not, change to another class drawn uniformly: a correct prediction
        always turns wrong, a wrong one turns right with chance ``1 / (n_classes - 1)``, so
        accuracy drops by ``share * (acc - (1 - acc) / (n_classes - 1))`` on average.

    Raises
    ------
    ValueError : ``share`` outside [0, 1], fewer than two classes, or ``y_true`` of another length.
    """
    share = float(share)
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share={share} is not a fraction from 0 to 1")
    y_pred = np.asarray(y_pred)
    out = y_pred.copy()
    known = [y_pred] if y_true is None else [y_pred, np.asarray(y_true)]
    classes = np.unique(np.concatenate(known)) if classes is None else np.unique(np.asarray(classes))
    if len(classes) < 2:
        raise ValueError(f"corrupting predictions needs at least two classes, got {list(classes)}")
    if y_true is not None and len(known[1]) != len(y_pred):
        raise ValueError(f"y_true has {len(known[1])} labels for {len(y_pred)} predictions")
    rng = np.random.default_rng(seed)
    if y_true is None:
        candidates, avoid = np.arange(len(y_pred)), y_pred
    else:
        candidates, avoid = np.flatnonzero(y_pred == known[1]), known[1]
    n = min(rows_for(share, len(y_pred)), len(candidates))
    rows = rng.choice(candidates, size=n, replace=False)
    if n:
        # another class than the one to avoid: shift its position among the classes by 1..k-1
        pos = np.searchsorted(classes, avoid[rows])
        shift = rng.integers(1, len(classes), size=n)
        out[rows] = classes[(pos + shift) % len(classes)]
    return out


class CorruptedClassifier:
    """``estimator``, with ``share`` of every batch of its predictions made wrong (seeded).

    The wrapper stands in for the model it wraps: its parameters are the wrapped model's
    (``get_params``/``set_params`` pass through, so a trial's seed, device and input shape
    reach it as they would unwrapped), ``fit`` passes everything on, and so does any attribute
    (``classes_``, ``accepts_validation``, ``curve_``) except the probability methods in
    :data:`HIDDEN`. ``predict`` corrupts a ``share`` of the model's predictions with
    :func:`corrupt` (no labels are known at predict time: see there for the expected drop in
    accuracy), seeded by ``seed`` and the wrapped model's ``random_state``.
    """

    def __init__(self, estimator, share: float = 0.02, seed: int = 0):
        if not 0.0 <= float(share) <= 1.0:
            raise ValueError(f"share={share} is not a fraction from 0 to 1")
        self.estimator = estimator
        self.share = float(share)
        self.seed = int(seed)

    def get_params(self, deep: bool = False) -> dict:
        return self.estimator.get_params(deep=deep)

    def set_params(self, **params):
        self.estimator.set_params(**params)
        return self

    def fit(self, X, y, **fit_params):
        self.estimator.fit(X, y, **fit_params)
        self.classes_ = np.unique(np.asarray(y))
        return self

    def predict(self, X) -> np.ndarray:
        y_pred = np.asarray(self.estimator.predict(X))
        state = self.estimator.get_params(deep=False).get("random_state")
        model_seed = state if isinstance(state, (int, np.integer)) and state >= 0 else 0
        return corrupt(y_pred, self.share, seed=[abs(self.seed), int(model_seed), len(y_pred)],
                       classes=self.classes_)

    def __getattr__(self, name: str):  # only called for names the wrapper itself lacks
        if name in HIDDEN or name == "estimator":
            raise AttributeError(name)
        return getattr(self.estimator, name)
