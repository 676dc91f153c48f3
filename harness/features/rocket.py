"""Random convolution kernels (ROCKET, Dempster, Petitjean and Webb, 2020).

Thousands of random, dilated 1-D kernels, each giving two features: the maximum
of its response and the proportion of positive values (PPV). A linear model on
top reaches 96-97% on MNIST-1D, close to a trained CNN, with no training of the
features at all. Kernels sharing a (length, dilation, padding) are applied
together as one matrix product over sliding windows, so 4,000 signals of length
40 with 2,000 kernels take about a second on two cores.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from harness.features.base import FeatureTransformer


class Rocket(FeatureTransformer):
    """ROCKET features of 1-D signals (the rows of ``X``): ``2 * n_kernels`` columns.

    Parameters
    ----------
    n_kernels : int
        Number of random kernels.
    kernel_lengths : tuple of int
        Lengths to draw from (ROCKET's 7, 9, 11).
    normalize_input : bool
        z-normalize each signal first (ROCKET does; MNIST-1D is already scaled).
    standardize : bool
        Scale the output to zero mean and unit variance (a logistic regression
        on raw max/PPV features converges slowly).
    batch_size : int
        Signals per batch; bounds memory at about
        ``batch_size * length * n_kernels * 8`` bytes.
    random_state : int, optional
        Seed of the kernels.
    """

    def __init__(self, n_kernels=2000, kernel_lengths=(7, 9, 11), normalize_input=False,
                 standardize=True, batch_size=256, random_state=None):
        self.n_kernels = n_kernels
        self.kernel_lengths = kernel_lengths
        self.normalize_input = normalize_input
        self.standardize = standardize
        self.batch_size = batch_size
        self.random_state = random_state

    def _check_input(self, X):
        if X.shape[1] < 2:
            raise ValueError(
                f"Rocket needs signals of at least 2 samples; X has {X.shape[1]} feature(s)"
            )

    def _fit(self, X):
        """Draw the kernels; like ROCKET, they depend on the signal length only."""
        rng = check_random_state(self.random_state)
        L = X.shape[1]
        lengths = np.array([k for k in self.kernel_lengths if k <= L] or [L])
        n = int(self.n_kernels)
        self.lengths_ = rng.choice(lengths, size=n)
        self.weights_ = [rng.standard_normal(k) for k in self.lengths_]
        self.weights_ = [w - w.mean() for w in self.weights_]
        self.biases_ = rng.uniform(-1.0, 1.0, size=n)
        top = np.log2(np.maximum((L - 1) / np.maximum(self.lengths_ - 1, 1), 1.0))
        self.dilations_ = np.floor(2.0 ** rng.uniform(0.0, top)).astype(int)
        padded = rng.randint(0, 2, size=n).astype(bool)
        self.paddings_ = np.where(padded, (self.lengths_ - 1) * self.dilations_ // 2, 0)
        groups: dict[tuple[int, int, int], list[int]] = {}
        for i, key in enumerate(zip(self.lengths_, self.dilations_, self.paddings_)):
            groups.setdefault(tuple(int(v) for v in key), []).append(i)
        self.groups_ = {k: np.array(v) for k, v in groups.items()}

    def _features(self, X):
        if self.normalize_input:
            X = (X - X.mean(axis=1, keepdims=True)) / (X.std(axis=1, keepdims=True) + 1e-8)
        n, k = len(X), len(self.lengths_)
        out = np.empty((n, 2 * k))
        for (length, dilation, pad), idx in self.groups_.items():
            W = np.stack([self.weights_[i] for i in idx], axis=1)  # (length, kernels)
            Xp = np.pad(X, ((0, 0), (pad, pad)))
            span = (length - 1) * dilation
            if Xp.shape[1] <= span:  # kernel longer than the signal: no valid position
                out[:, idx], out[:, k + idx] = 0.0, 0.0
                continue
            windows = np.arange(Xp.shape[1] - span)[:, None] + np.arange(length) * dilation
            for s in range(0, n, int(self.batch_size)):
                C = Xp[s:s + int(self.batch_size)][:, windows] @ W + self.biases_[idx]
                out[s:s + len(C), idx] = C.max(axis=1)
                out[s:s + len(C), k + idx] = (C > 0).mean(axis=1)
        return out
