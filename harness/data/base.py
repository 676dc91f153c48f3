"""The contract every dataset loader fulfils."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Dataset:
    """Train and test arrays of one seeded split, plus what the planner and models need.

    ``X_*`` hold samples in their natural per-sample ``shape`` (an image stays
    ``(H, W)``, a signal ``(L,)``, a table row ``(d,)``) as float32; ``y_*`` hold
    integer class labels ``0 .. n_classes-1`` (int64).
    """

    name: str
    kind: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.X_train.shape[1:])

    @property
    def n_features(self) -> int:
        return int(np.prod(self.shape))

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max()) + 1)
