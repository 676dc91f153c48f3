"""The statistics of `harness compare` against scipy, hand-computed cases and reference loops."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sp

from harness.compare import stats


def test_paired_mean_diff_matches_scipy_ttest_rel():
    base = np.array([90.0, 91.5, 89.0, 92.0, 90.5])
    cand = np.array([88.0, 90.0, 88.5, 89.0, 89.5])
    est = stats.paired_mean_diff(cand - base)
    ref = sp.ttest_rel(cand, base)
    assert est.value == pytest.approx(np.mean(cand - base))
    assert est.p == pytest.approx(ref.pvalue)
    low, high = ref.confidence_interval(0.95)
    assert (est.low, est.high) == pytest.approx((low, high))


def test_paired_mean_diff_without_spread_is_exact():
    assert stats.paired_mean_diff([0.0, 0.0, 0.0]).p == 1.0
    shifted = stats.paired_mean_diff([-2.0, -2.0, -2.0])
    assert shifted.p == 0.0 and shifted.low == shifted.high == -2.0
    assert math.isnan(stats.paired_mean_diff([1.0]).p)  # one pair says nothing about spread


def test_welch_matches_scipy():
    a, b = np.array([0.1, 0.12, 0.11, 0.13]), np.array([0.15, 0.14, 0.18])
    est = stats.welch_mean_diff(a, b)
    ref = sp.ttest_ind(b, a, equal_var=False)
    assert est.p == pytest.approx(ref.pvalue)
    assert (est.low, est.high) == pytest.approx(tuple(ref.confidence_interval(0.95)))


def test_mcnemar_hand_computed():
    # 100 examples: 10 right before and wrong now, 2 wrong before and right now.
    base = np.ones(100, bool)
    cand = np.ones(100, bool)
    cand[:10] = False
    base[10:12] = False
    est = stats.mcnemar(base, cand)
    assert est.value == pytest.approx((2 - 10) / 100)
    # exact two-sided binomial: P(X <= 2 or X >= 10 | n=12, p=1/2) = 2 * 79 / 4096
    assert est.p == pytest.approx(2 * (1 + 12 + 66) / 4096)
    assert est.p == pytest.approx(sp.binomtest(10, 12, 0.5).pvalue)
    assert est.low < est.value < est.high < 0
    assert stats.mcnemar(base, base).p == 1.0


def test_ratio_of_medians_and_mann_whitney():
    base = [1.0, 1.1, 0.9, 1.05, 0.95]
    cand = [1.3, 1.4, 1.2, 1.35, 1.25]
    est = stats.ratio_of_medians(base, cand)
    assert est.value == pytest.approx(1.3 / 1.0)
    assert est.p == pytest.approx(sp.mannwhitneyu(cand, base, alternative="two-sided").pvalue)
    assert est.low <= est.value <= est.high
    assert est.low > 1.1
    assert stats.ratio_of_medians(base, cand) == est  # the bootstrap is seeded by the data


def test_paired_ratio_and_wilcoxon():
    rng = np.random.default_rng(0)
    base = rng.uniform(0.1, 0.2, 12)
    cand = base * rng.normal(1.2, 0.02, 12)
    est = stats.paired_ratio(base, cand)
    assert est.value == pytest.approx(float(np.exp(np.median(np.log(cand / base)))))
    assert est.p == pytest.approx(sp.wilcoxon(np.log(cand / base)).pvalue)
    assert 1.1 < est.low < est.value < est.high < 1.3


def test_benjamini_hochberg_hand_computed_and_scipy():
    p = [0.01, 0.04, 0.03, 0.5]
    # sorted 0.01, 0.03, 0.04, 0.5 -> 0.04, 0.04 (min of 0.06, 0.0533), 0.0533, 0.5
    assert stats.benjamini_hochberg(p) == pytest.approx([0.04, 4 * 0.04 / 3, 4 * 0.04 / 3, 0.5])
    rng = np.random.default_rng(1)
    many = rng.uniform(0, 0.2, 50)
    assert stats.benjamini_hochberg(many) == pytest.approx(sp.false_discovery_control(many, method="bh"))
    with_nan = stats.benjamini_hochberg([0.01, float("nan"), 0.02])
    assert math.isnan(with_nan[1]) and with_nan[0] == pytest.approx(0.02)


def test_bootstrap_by_run_carries_the_drift_between_runs():
    """Samples of one run share the machine's speed: resampling runs widens the interval."""
    rng = np.random.default_rng(2)
    speeds_b, speeds_c = [0.8, 1.0, 1.25], [0.9, 1.3, 1.1]
    base = np.concatenate([s * rng.normal(1, 0.01, 3) for s in speeds_b])
    cand = np.concatenate([s * rng.normal(1, 0.01, 3) for s in speeds_c])
    runs = np.repeat([0, 1, 2], 3)
    by_sample = stats.ratio_of_medians(base, cand)
    by_run = stats.ratio_of_medians(base, cand, base_runs=runs, cand_runs=runs)
    assert by_run.value == by_sample.value
    assert by_run.high - by_run.low > by_sample.high - by_sample.low


def _reference_cluster_medians(x, clusters, rng, n_boot):
    """The bootstrap by run written as the plain loop: resample runs, concatenate, take the median."""
    clusters = np.asarray(clusters)
    members = [x[clusters == c] for c in dict.fromkeys(clusters.tolist())]
    picks = rng.integers(0, len(members), (n_boot, len(members)))
    return np.array([np.median(np.concatenate([members[i] for i in row])) for row in picks])


@pytest.mark.parametrize("case", range(40))
def test_bootstrap_by_run_matches_the_reference_loop(case):
    """Runs of unequal sizes (odd and even totals), ties, in any order: the same medians, draw for draw."""
    rng = np.random.default_rng(100 + case)
    n_runs = int(rng.integers(2, 6))
    runs = np.repeat([f"run{i}" for i in range(n_runs)], rng.integers(1, 6, n_runs))
    rng.shuffle(runs)
    x = rng.lognormal(0, 1, len(runs))
    if case % 3 == 0:
        x = np.round(x, 1)  # ties
    got = stats.bootstrap_medians(x, runs, np.random.default_rng(case), 300)
    want = _reference_cluster_medians(x, runs, np.random.default_rng(case), 300)
    assert np.array_equal(got, want)


def test_ratio_of_medians_by_run_matches_the_reference_interval():
    rng = np.random.default_rng(3)
    base, cand = rng.lognormal(0, 0.2, 9), rng.lognormal(0.1, 0.2, 7)
    base_runs, cand_runs = np.repeat([0, 1, 2], 3), np.array([0, 0, 1, 1, 1, 2, 2])
    est = stats.ratio_of_medians(base, cand, n_boot=500, base_runs=base_runs, cand_runs=cand_runs)
    ref_rng = np.random.default_rng(stats.bootstrap_seed(base, cand))
    ma = _reference_cluster_medians(base, base_runs, ref_rng, 500)
    mb = _reference_cluster_medians(cand, cand_runs, ref_rng, 500)
    assert (est.low, est.high) == pytest.approx(tuple(np.percentile(mb / ma, [2.5, 97.5])), rel=1e-12)
    assert est == stats.ratio_of_medians(base, cand, n_boot=500, base_runs=base_runs, cand_runs=cand_runs)
