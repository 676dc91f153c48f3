"""Paired head-to-heads: the corrected resampled t interval, the four verdicts, the splits a
comparison would need, pairing by split, and the signed-rank test across datasets, against
numbers computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from harness.report import paired

#: n_test / n_train of the examples: 200 test and 800 training samples.
RATIO = 0.25


def by_split(values, splits=None) -> pd.Series:
    return pd.Series(values, index=range(len(values)) if splits is None else splits, dtype=float)


def test_corrected_interval_by_hand_is_wider_than_the_plain_one():
    # d = 0.02, 0.01, 0.03, 0.00, 0.04: mean 0.02, squared deviations sum to 0.001, s² = 0.001/4
    # corrected: s²·(1/5 + 0.25) = 1.125e-4, se = 0.0106066; t(0.975, 4) = 2.776445
    a = by_split([0.92, 0.91, 0.93, 0.90, 0.94])
    b = by_split([0.90, 0.90, 0.90, 0.90, 0.90])
    p = paired.compare(a, b, RATIO)
    half = 2.776445 * math.sqrt(0.00025 * (1 / 5 + RATIO))
    assert (p.mean, p.n_splits, p.sd) == (pytest.approx(0.02), 5, pytest.approx(math.sqrt(0.00025)))
    assert (p.low, p.high) == (pytest.approx(0.02 - half, abs=1e-6), pytest.approx(0.02 + half, abs=1e-6))
    assert p.low == pytest.approx(-0.009449, abs=1e-6) and p.high == pytest.approx(0.049449, abs=1e-6)
    # the plain t interval (0.02 ± 2.776445·s/√5 = [0.00037, 0.03963]) would have called it a win
    assert 0.02 - 2.776445 * math.sqrt(0.00025 / 5) > 0
    assert p.verdict == paired.UNDECIDED


def test_corrected_half_width_matches_scipy_t():
    from scipy import stats as ss

    for j in (2, 3, 10, 30):
        ref = ss.t.ppf(0.975, j - 1) * 0.01 * math.sqrt(1 / j + RATIO)
        assert float(paired.half_width(0.01, j, RATIO)) == pytest.approx(ref, rel=1e-9)


def test_the_four_verdicts():
    base = by_split([0.80] * 5)
    # d = 0.05, 0.06, 0.04, 0.05, 0.05: s = 0.0070711, half = 2.776445·s·√0.45 = 0.013170
    better = paired.compare(by_split([0.85, 0.86, 0.84, 0.85, 0.85]), base, RATIO)
    assert better.verdict == paired.A_BETTER
    assert (better.low, better.high) == (pytest.approx(0.036830, abs=1e-6), pytest.approx(0.063170, abs=1e-6))
    worse = paired.compare(base, by_split([0.85, 0.86, 0.84, 0.85, 0.85]), RATIO)
    assert worse.verdict == paired.B_BETTER and worse.mean == pytest.approx(-0.05)
    assert worse.high == pytest.approx(-better.low)
    # d = 0.001, -0.001, 0.002, 0, 0.0005: mean 0.0005, s² = 5e-6/4, half = 0.002082: inside ±0.005
    same = paired.compare(by_split([0.801, 0.799, 0.802, 0.800, 0.8005]), base, RATIO)
    assert same.verdict == paired.EQUIVALENT
    assert (same.low, same.high) == (pytest.approx(-0.001582, abs=1e-6), pytest.approx(0.002582, abs=1e-6))
    # wide spread, small mean: undecided
    wide = paired.compare(by_split([0.85, 0.76, 0.86, 0.75, 0.80]), base, RATIO)
    assert wide.verdict == paired.UNDECIDED and wide.low < 0 < wide.high
    for p in (better, worse, same):
        assert math.isnan(p.splits_needed)  # decided: nothing to estimate


def test_decide_rule_inside_the_rope_wins_over_above_zero():
    assert paired.decide(0.001, 0.004) == paired.EQUIVALENT  # above 0 but too small to matter
    assert paired.decide(-0.005, 0.005) == paired.EQUIVALENT  # the region's edges count as inside
    assert paired.decide(0.001, 0.006) == paired.A_BETTER
    assert paired.decide(-0.02, -0.001) == paired.B_BETTER
    assert paired.decide(-0.001, 0.006) == paired.UNDECIDED
    assert paired.decide(math.nan, math.nan) == paired.UNDECIDED
    assert paired.decide(0.001, 0.004, rope=0.0) == paired.A_BETTER


def test_one_split_is_undecided_with_its_reason():
    p = paired.compare(by_split([0.9]), by_split([0.8]), RATIO)
    assert (p.verdict, p.reason, p.n_splits) == (paired.UNDECIDED, paired.ONE_SPLIT, 1)
    assert p.mean == pytest.approx(0.1) and math.isnan(p.low) and math.isnan(p.splits_needed)
    none = paired.compare(by_split([0.9], [0]), by_split([0.8], [1]), RATIO)
    assert (none.verdict, none.reason, none.n_splits) == (paired.UNDECIDED, paired.NO_SPLIT, 0)


def test_splits_needed_by_hand_and_against_a_loop():
    from scipy import stats as ss

    a = by_split([0.92, 0.91, 0.93, 0.90, 0.94])
    p = paired.compare(a, by_split([0.90] * 5), RATIO)
    # the half-width t(J-1)·s·√(1/J + 0.25) first drops below the mean 0.02 at J = 13:
    # J = 12: 2.2010·0.0158114·0.57735 = 0.020092; J = 13: 2.1788·0.0158114·0.571772 = 0.019697
    assert p.splits_needed == 13
    sd = math.sqrt(0.00025)
    loop = next(j for j in range(6, 200) if ss.t.ppf(0.975, j - 1) * sd * math.sqrt(1 / j + RATIO) < 0.02)
    assert loop == 13
    # a mean smaller than the half-width's floor 1.96·s·√0.25 is never decided: more than the cap
    never = paired.compare(by_split([0.85, 0.76, 0.86, 0.75, 0.80]), by_split([0.80] * 5), RATIO)
    assert never.splits_needed == math.inf
    assert paired.splits_needed(0.0, 0.01, RATIO, 5, cap=5) == math.inf  # nothing left below the cap
    # a mean of 0 with a small spread becomes equivalent once the interval fits inside ±0.5 points
    assert paired.splits_needed(0.0, 0.004, 0.0, 2) == next(
        j for j in range(3, 100) if ss.t.ppf(0.975, j - 1) * 0.004 / math.sqrt(j) <= 0.005)


def test_pairing_uses_only_the_splits_both_have_and_unknown_sizes_widen():
    a = by_split([0.90, 0.91, 0.95], [0, 1, 2])
    b = by_split([0.80, 0.85, np.nan], [1, 2, 3])
    assert paired.differences(a, b).to_dict() == pytest.approx({1: 0.11, 2: 0.10})
    p = paired.compare(a, b, RATIO)
    assert p.n_splits == 2 and p.mean == pytest.approx(0.105)
    unknown = paired.compare(a, b, math.nan)
    assert unknown.ratio == 1.0 and unknown.high - unknown.low > p.high - p.low


def test_split_means_average_seeds_within_a_split_and_fall_back_to_seed():
    records = pd.DataFrame({"config": ["x"] * 4 + ["y"] * 2, "split": [0, 0, 1, 1, 0, 1],
                            "seed": [0, 1, 0, 1, 0, 0], "status": ["ok"] * 5 + ["failed"],
                            "accuracy": [0.8, 0.9, 0.7, np.nan, 0.5, 0.99]})
    means = paired.split_means(records)
    assert means.loc["x"].tolist() == pytest.approx([0.85, 0.7])  # NaN accuracy left out
    assert means.loc["y", 0] == 0.5 and math.isnan(means.loc["y", 1])  # the failed trial is not a score
    old = records.drop(columns="split")  # before splits and seeds were apart: the seed drew the split
    assert paired.split_column(old).tolist() == [0, 1, 0, 1, 0, 0]
    assert paired.split_means(old).loc["x"].tolist() == pytest.approx([0.75, 0.9])
    mixed = records.assign(split=[0, 0, 1, 1, np.nan, np.nan])  # old and new records together
    assert paired.split_column(mixed).tolist() == [0, 0, 1, 1, 0, 0]


def test_signed_rank_across_datasets_by_hand_and_against_scipy():
    from scipy import stats as ss

    # six positive differences: W = 0, exact two-sided p = 2 / 2^6
    test = paired.signed_rank([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    assert (test.n_datasets, test.statistic, test.median) == (6, 0.0, 3.5)
    assert test.p_value == pytest.approx(2 / 64)
    d = [0.5, -1.2, 2.0, 3.1, -0.4, 1.7, 0.9, np.nan]
    ref = ss.wilcoxon([x for x in d if np.isfinite(x)])
    got = paired.signed_rank(d)
    assert got.n_datasets == 7 and got.statistic == ref.statistic and got.p_value == pytest.approx(ref.pvalue)
    assert paired.signed_rank([1.0, 2.0, 3.0, 4.0, 5.0]) is None  # five datasets cannot reach 5%
    assert paired.signed_rank([0.0] * 8) is None  # nothing to rank
