"""Statistics for reports: intervals over trials, ranks across datasets, Friedman and Nemenyi.

A configuration's trials (its splits × seeds) are the samples of its 95% Student-t interval,
which says how much its mean would move with other splits and seeds; it describes one
configuration and decides nothing: two configurations are compared split by split in
``paired``. Across datasets we follow Demšar (2006), "Statistical comparisons of
classifiers over multiple data sets", JMLR 7: average ranks, the Friedman test, and the
Nemenyi critical difference for the diagram. Distributions come from ``scipy.special``, not
``scipy.stats``: a measured choice, ``python -X importtime`` gave 0.37 s for ``scipy.special``
against 2.65 s for ``scipy.stats`` (cumulative, load average 7.9 on 2 cores), and the report is
written at the end of every run; ``scipy.stats`` is imported only where a test needs it (the
Wilcoxon test in ``paired``). The tests check each distribution against ``scipy.stats``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

CONFIDENCE = 0.95
ALPHA = 0.05
#: The Friedman test runs on at least this many datasets and models with a score on all of them:
#: with fewer there is too little to rank (a test of 2 models is a paired test, not Friedman).
MIN_DATASETS = 3
MIN_MODELS = 3


def mean_ci(values, confidence: float = CONFIDENCE) -> tuple[float, float, int]:
    """Mean and Student-t interval half-width over seeds: ``(mean, half_width, n)``.

    NaNs are dropped. With one value the half-width is NaN: one seed says nothing
    about the spread, and the report shows it as such rather than as ±0.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return math.nan, math.nan, 0
    return float(x.mean()), float(t_half_width(x.std(ddof=1) if len(x) > 1 else math.nan, len(x),
                                               confidence)), len(x)


def t_half_width(std, n, confidence: float = CONFIDENCE):
    """Vectorised Student-t half-width ``t(1-α/2, n-1)·s/√n``; NaN where ``n < 2``."""
    from scipy.special import stdtrit

    std = np.asarray(std, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = stdtrit(np.where(n >= 2, n - 1, np.nan), 0.5 + confidence / 2)
        half = t * std / np.sqrt(n)
    return np.where(n >= 2, half, np.nan)


def rank_matrix(scores: pd.DataFrame) -> pd.DataFrame:
    """Rank models within each dataset (rows), 1 = best (highest score), ties averaged."""
    return scores.rank(axis=1, ascending=False, method="average")


def average_ranks(scores: pd.DataFrame) -> pd.Series:
    """Average rank per model over the datasets it ran on, best first."""
    return rank_matrix(scores).mean(axis=0).sort_values()


@dataclass
class Friedman:
    """Friedman test over a complete datasets × models table, with the Nemenyi CD;
    ``left_out``: the models that did not run on every dataset, so are not in the test."""

    models: list[str]
    n_datasets: int
    ranks: pd.Series
    statistic: float
    p_value: float
    cd: float
    left_out: list[str] = field(default_factory=list)

    @property
    def significant(self) -> bool:
        return self.p_value < ALPHA


@functools.lru_cache(maxsize=64)
def range_quantile(p: float, k: int) -> float:
    """Quantile of the range of ``k`` standard normals (studentized range, infinite df).

    ``P(R <= q) = k ∫ φ(z) (Φ(z) - Φ(z - q))^(k-1) dz``, integrated on a fine grid and
    solved by bisection; agrees with ``scipy.stats.studentized_range`` to 1e-4.
    """
    from scipy.special import ndtr

    # numpy's own trapezoid (``trapz`` before 2.0): importing scipy.integrate for it costs 0.3 s
    trapezoid = getattr(np, "trapezoid", None) or np.trapz

    z = np.linspace(-9, 9, 4001)
    phi = np.exp(-z * z / 2) / math.sqrt(2 * math.pi)

    def cdf(q: float) -> float:
        return float(k * trapezoid(phi * (ndtr(z) - ndtr(z - q)) ** (k - 1), z))

    lo, hi = 0.0, 20.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) < p else (lo, mid)
    return (lo + hi) / 2


def nemenyi_cd(k: int, n: int, alpha: float = ALPHA) -> float:
    """Nemenyi critical difference ``q_α·√(k(k+1)/6N)`` (Demšar 2006, eq. 5).

    ``q_α`` is the studentized range quantile for ``k`` groups and infinite degrees of
    freedom divided by √2, which reproduces Demšar's Table 5(a).
    """
    q = range_quantile(1 - alpha, k) / math.sqrt(2)
    return float(q * math.sqrt(k * (k + 1) / (6 * n)))


def friedman_chi2(complete: pd.DataFrame) -> tuple[float, float]:
    """Friedman's χ² with the tie correction (as ``scipy.stats.friedmanchisquare``) and its p."""
    from scipy.special import chdtrc

    n, k = complete.shape
    ranks = rank_matrix(complete).to_numpy()
    stat = 12 / (n * k * (k + 1)) * float((ranks.sum(axis=0) ** 2).sum()) - 3 * n * (k + 1)
    ties = sum(float((c ** 3 - c).sum()) for c in
               (np.unique(row, return_counts=True)[1] for row in complete.to_numpy()))
    correction = 1 - ties / (n * (k ** 3 - k))
    if correction <= 0:  # every dataset a full tie: nothing to test
        return 0.0, 1.0
    stat /= correction
    return float(stat), float(chdtrc(k - 1, stat))


def friedman(scores: pd.DataFrame) -> Friedman | None:
    """Friedman test on the models that ran on every dataset; None when it is not defined.

    It needs ``MIN_DATASETS`` datasets and ``MIN_MODELS`` models with a score on all of them. Models missing
    on some dataset are left out rather than imputed (the report says which).
    """
    complete = scores.dropna(axis=1, how="any")
    k, n = complete.shape[1], complete.shape[0]
    if n < MIN_DATASETS or k < MIN_MODELS:
        return None
    ranks = average_ranks(complete)
    stat, p = friedman_chi2(complete)
    left_out = [str(m) for m in scores.columns if m not in complete.columns]
    return Friedman(models=list(ranks.index), n_datasets=n, ranks=ranks, statistic=float(stat),
                    p_value=float(p), cd=nemenyi_cd(k, n), left_out=left_out)


def cliques(ranks: pd.Series, cd: float) -> list[list[str]]:
    """Maximal groups of models (in rank order) whose ranks lie within ``cd`` of each other."""
    names, values = list(ranks.index), ranks.to_numpy()
    groups: list[list[str]] = []
    last = -1
    for i in range(len(names)):
        j = i
        while j + 1 < len(names) and values[j + 1] - values[i] <= cd:
            j += 1
        if j > i and j > last:  # not inside the previous group
            groups.append(names[i:j + 1])
            last = j
    return groups
