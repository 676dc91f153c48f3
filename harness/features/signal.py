"""Features for 1-D signals (rows of ``X``): the magnitude spectrum and summary statistics.

Both are invariant to where the pattern sits in the signal, the nuisance that
MNIST-1D is built around; they differ in what they keep. The magnitude
spectrum drops the phase, which carries the class there, so it mostly shows
what invariance costs; the statistics keep the shape of the value
distribution, of its derivatives, and of its autocorrelation.
"""

from __future__ import annotations

import numpy as np

from harness.features.base import FeatureTransformer

QUANTILES = (0.0, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 1.0)


class FFT(FeatureTransformer):
    """Magnitude of the real FFT of each signal, ``L // 2 + 1`` features.

    Parameters
    ----------
    log : bool
        Return ``log1p`` of the magnitude, which tames the DC and low bins.
    standardize : bool
        Scale the output to zero mean and unit variance.
    """

    def __init__(self, log=False, standardize=True):
        self.log = log
        self.standardize = standardize

    def _features(self, X):
        mag = np.abs(np.fft.rfft(X, axis=1))
        return np.log1p(mag) if self.log else mag


class Stats(FeatureTransformer):
    """Shift-invariant summary statistics of each signal.

    For the signal and its first and second differences: mean, standard
    deviation, skewness, kurtosis, quantiles, zero crossings (about the mean)
    and mean absolute value; then the autocorrelation at lags ``1..lags``,
    log and relative energy in ``bands`` equal frequency bands, and counts of
    local peaks and troughs.

    Parameters
    ----------
    lags : int
        Largest autocorrelation lag (clipped to the signal length).
    bands : int
        Number of frequency bands.
    standardize : bool
        Scale the output to zero mean and unit variance.
    """

    def __init__(self, lags=19, bands=8, standardize=True):
        self.lags = lags
        self.bands = bands
        self.standardize = standardize

    def _features(self, X):
        if X.shape[1] < 4:  # too short for second differences: repeat the last value
            X = np.pad(X, ((0, 0), (0, 4 - X.shape[1])), mode="edge")
        d1 = np.diff(X, axis=1)
        parts = [*_moments(X), *_moments(d1), *_moments(np.diff(d1, axis=1))]
        c = X - X.mean(axis=1, keepdims=True)
        energy = (c**2).sum(axis=1) + 1e-12
        lags = range(1, max(1, min(int(self.lags), X.shape[1] - 2)) + 1)
        parts.append(np.stack([(c[:, :-k] * c[:, k:]).sum(axis=1) / energy for k in lags], axis=1))
        power = np.abs(np.fft.rfft(c, axis=1)) ** 2
        edges = np.linspace(1, power.shape[1], int(self.bands) + 1).astype(int)
        bands = np.stack(
            [power[:, a:max(b, a + 1)].sum(axis=1) for a, b in zip(edges[:-1], edges[1:])], axis=1
        )
        parts += [np.log1p(bands), bands / (bands.sum(axis=1, keepdims=True) + 1e-12)]
        mid = X[:, 1:-1]
        parts.append(((mid > X[:, :-2]) & (mid > X[:, 2:])).sum(axis=1))
        parts.append(((mid < X[:, :-2]) & (mid < X[:, 2:])).sum(axis=1))
        parts = [np.asarray(p, np.float64).reshape(len(X), -1) for p in parts]
        return np.concatenate(parts, axis=1)


def _moments(x: np.ndarray) -> list[np.ndarray]:
    """Distribution statistics of each row of ``x``: none depend on the order of values."""
    mean = x.mean(axis=1, keepdims=True)
    c = x - mean
    std = c.std(axis=1, keepdims=True)
    z = c / (std + 1e-12)
    crossings = (np.diff(np.signbit(c), axis=1) != 0).sum(axis=1)
    return [
        mean, std, (z**3).mean(axis=1), (z**4).mean(axis=1),
        np.quantile(x, QUANTILES, axis=1).T, crossings, np.abs(x).mean(axis=1),
    ]
