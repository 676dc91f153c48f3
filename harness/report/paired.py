"""Paired head-to-heads: A against B on one dataset, split by split, with four outcomes.

The samples are **splits**: per split each configuration is averaged over its seeds (model
randomness), and ``d_j = acc_A - acc_B`` over the splits both ran. Repeated train/test splits
share training data, so the plain t interval over ``d_j`` is too narrow; Nadeau & Bengio (2003),
"Inference for the generalization error", Machine Learning 52, correct its variance to
``s² · (1/J + n_test/n_train)`` (``s²`` the sample variance of ``d_j``, ``J`` splits) with
Student's t on ``J - 1`` degrees of freedom. The 95% interval of the mean difference decides
(``decide``), in this order, so one comparison has exactly one verdict:

1. ``EQUIVALENT``: the whole interval lies inside the region of practical equivalence
   ``±ROPE`` (half a point of accuracy, as Benavoli et al. 2017, "Time for a change", JMLR 18,
   use for accuracies). A difference too small to matter is said to be that, even where the
   interval excludes 0.
2. ``A_BETTER``: the interval lies above 0 (its lower end > 0); ``B_BETTER``: below 0.
3. ``UNDECIDED`` otherwise, and always with one split (no spread, no interval).

For an undecided comparison ``splits_needed`` estimates the number of splits that would
likely decide it: the same mean and standard deviation, the half-width at ``J'`` splits
``t(J'-1) · s · √(1/J' + n_test/n_train)``; the first ``J'`` up to ``MAX_SPLITS`` whose interval
decides. The corrected half-width never falls below ``1.96 · s · √(n_test/n_train)``, so some
comparisons would stay undecided at any number of splits (``inf``: "more than ``MAX_SPLITS``").

Across datasets, ``signed_rank`` is the Wilcoxon signed-rank test on the per-dataset mean
differences (Demšar 2006), from ``scipy.stats``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

CONFIDENCE = 0.95
#: Half-width of the region of practical equivalence, as a fraction of accuracy (±0.5 points).
ROPE = 0.005
#: ``splits_needed`` looks this far; beyond it a comparison is "more than MAX_SPLITS".
MAX_SPLITS = 100
#: A two-sided Wilcoxon signed-rank test at 5% cannot reject with fewer datasets than this
#: (with 5 the smallest exact p is 2/32 = 0.0625), so it is run from this many on.
MIN_SIGNED_RANK = 6

A_BETTER, B_BETTER, EQUIVALENT, UNDECIDED = ("a_better", "b_better", "equivalent", "undecided")
#: Why a comparison is undecided without an estimate of the splits it needs.
ONE_SPLIT, NO_SPLIT = "one_split", "no_split"


@dataclass(frozen=True)
class Paired:
    """The verdict on A against B, with its numbers (fractions of accuracy, A minus B).

    ``splits_needed``: for ``UNDECIDED``, the total number of splits that would likely decide
    (``inf``: not within ``MAX_SPLITS``; NaN: not estimable, see ``reason``); NaN otherwise.
    """

    verdict: str
    mean: float
    low: float
    high: float
    n_splits: int
    sd: float
    ratio: float
    splits_needed: float = math.nan
    reason: str = ""


def split_column(records: pd.DataFrame) -> pd.Series:
    """The data split of each record: ``split`` where the records have it, else ``seed``
    (records written before splits and seeds were apart drew their split from the seed)."""
    from harness.store import fill_split

    missing = pd.Series(np.nan, index=records.index)
    return fill_split(records.get("split", missing), records.get("seed", missing))


def split_means(records: pd.DataFrame, by: str = "config", metric: str = "accuracy") -> pd.DataFrame:
    """``by`` × split: each configuration's ``metric`` on each split, the mean over its seeds.

    Only ``ok`` records with a finite metric count; a split a configuration has no such
    record on is NaN (and left out of every pair it is in).
    """
    ok = records[records["status"].eq("ok")] if "status" in records else records
    values = pd.to_numeric(ok[metric], errors="coerce")
    work = pd.DataFrame({by: ok[by], "split": split_column(ok), metric: values}).dropna()
    if work.empty:
        return pd.DataFrame(index=pd.Index([], name=by))
    return work.pivot_table(index=by, columns="split", values=metric, aggfunc="mean")


def differences(a: pd.Series, b: pd.Series) -> pd.Series:
    """``a - b`` on the splits both have a finite value on (indexed by split)."""
    d = pd.to_numeric(a, errors="coerce") - pd.to_numeric(b, errors="coerce")
    return d[np.isfinite(d)]


def half_width(sd: float, n_splits, ratio: float, confidence: float = CONFIDENCE):
    """Corrected resampled t half-width ``t(J-1) · sd · √(1/J + ratio)``; vectorised over J."""
    from scipy.special import stdtrit

    j = np.asarray(n_splits, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = stdtrit(np.where(j >= 2, j - 1, np.nan), 0.5 + confidence / 2)
        return t * sd * np.sqrt(1 / j + ratio)


def decide(low: float, high: float, rope: float = ROPE) -> str:
    """The verdict on an interval ``[low, high]`` of A minus B (see the module's rule)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return UNDECIDED
    if -rope <= low and high <= rope:
        return EQUIVALENT
    if low > 0:
        return A_BETTER
    if high < 0:
        return B_BETTER
    return UNDECIDED


def splits_needed(mean: float, sd: float, ratio: float, n_splits: int, rope: float = ROPE,
                  cap: int = MAX_SPLITS) -> float:
    """The fewest splits ``J' > n_splits`` whose interval (same mean and sd) would decide;
    ``inf`` when none up to ``cap`` would."""
    js = np.arange(n_splits + 1, cap + 1)
    if not len(js):
        return math.inf
    h = half_width(sd, js, ratio)
    lo, hi = mean - h, mean + h
    decided = ((lo >= -rope) & (hi <= rope)) | (lo > 0) | (hi < 0)
    return float(js[decided.argmax()]) if decided.any() else math.inf


def compare(a: pd.Series, b: pd.Series, ratio: float, rope: float = ROPE) -> Paired:
    """A against B from their per-split accuracies (``split_means`` rows), paired by split.

    ``ratio`` is ``n_test / n_train``; where it is unknown (NaN) it is taken as 1, which
    widens the interval (test sets are rarely larger than training sets).
    """
    ratio = float(ratio) if ratio is not None and math.isfinite(ratio) and ratio >= 0 else 1.0
    d = differences(a, b).to_numpy(dtype=float)
    j = len(d)
    if j == 0:
        return Paired(UNDECIDED, math.nan, math.nan, math.nan, 0, math.nan, ratio, reason=NO_SPLIT)
    mean = float(d.mean())
    if j == 1:
        return Paired(UNDECIDED, mean, math.nan, math.nan, 1, math.nan, ratio, reason=ONE_SPLIT)
    sd = float(d.std(ddof=1))
    h = float(half_width(sd, j, ratio))
    verdict = decide(mean - h, mean + h, rope)
    need = splits_needed(mean, sd, ratio, j, rope) if verdict == UNDECIDED else math.nan
    return Paired(verdict, mean, mean - h, mean + h, j, sd, ratio, need)


@dataclass(frozen=True)
class SignedRank:
    """Wilcoxon signed-rank test on per-dataset mean differences (A minus B)."""

    n_datasets: int
    statistic: float
    p_value: float
    median: float


def signed_rank(diffs) -> SignedRank | None:
    """The two-sided Wilcoxon signed-rank test of ``diffs`` (one per dataset); None with fewer
    than ``MIN_SIGNED_RANK`` finite differences or when every difference is 0."""
    d = np.asarray(diffs, dtype=float)
    d = d[np.isfinite(d)]
    if len(d) < MIN_SIGNED_RANK or not np.any(d != 0):
        return None
    from scipy.stats import wilcoxon

    res = wilcoxon(d, zero_method="wilcox", alternative="two-sided")
    return SignedRank(len(d), float(res.statistic), float(res.pvalue), float(np.median(d)))
