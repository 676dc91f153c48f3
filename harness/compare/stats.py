"""The statistics behind ``harness compare``: small pure functions, each checked against scipy.

Quality metrics are differences in points (percent of test examples); times are ratios
(candidate over baseline, above 1 is slower). Every function returns NaN rather than
raising when its samples are too small to say anything.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np

NAN = float("nan")


@dataclass
class Estimate:
    """An effect with its 95% interval and the p-value of the test that goes with it."""

    value: float
    low: float
    high: float
    p: float
    method: str


def _finite(x) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return x[np.isfinite(x)]


def paired_mean_diff(diffs, confidence: float = 0.95) -> Estimate:
    """Mean of paired differences, Student-t interval and two-sided paired t-test p.

    With no spread (every pair moved by exactly the same amount, as deterministic models
    on fixed data do) the interval is the point itself: p is 1 when that amount is zero
    and 0 otherwise.
    """
    from scipy import stats

    d = _finite(diffs)
    n = len(d)
    if n == 0:
        return Estimate(NAN, NAN, NAN, NAN, "paired t")
    mean = float(d.mean())
    sd = float(d.std(ddof=1)) if n > 1 else NAN
    if n > 1 and sd <= 1e-12 * max(1.0, abs(mean)):
        return Estimate(mean, mean, mean, 1.0 if abs(mean) <= 1e-12 else 0.0, "paired t (no spread)")
    if n < 2:
        return Estimate(mean, NAN, NAN, NAN, "paired t")
    se = sd / math.sqrt(n)
    from harness.report.stats import t_half_width  # the report's seed intervals; imports pandas

    half = float(t_half_width(sd, n, confidence))
    p = float(2 * stats.t.sf(abs(mean) / se, n - 1))
    return Estimate(mean, mean - half, mean + half, p, "paired t")


def welch_mean_diff(base, cand, confidence: float = 0.95) -> Estimate:
    """Difference of means (cand - base), Welch interval and Welch t-test p."""
    from scipy import stats

    a, b = _finite(base), _finite(cand)
    if len(a) < 2 or len(b) < 2:
        diff = float(b.mean() - a.mean()) if len(a) and len(b) else NAN
        return Estimate(diff, NAN, NAN, NAN, "Welch t")
    diff = float(b.mean() - a.mean())
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if se <= 1e-12:
        return Estimate(diff, diff, diff, 1.0 if abs(diff) <= 1e-12 else 0.0, "Welch t (no spread)")
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = float(stats.t.ppf(0.5 + confidence / 2, df)) * se
    p = float(2 * stats.t.sf(abs(diff) / se, df))
    return Estimate(diff, diff - half, diff + half, p, "Welch t")


def mcnemar(base_correct, cand_correct, confidence: float = 0.95) -> Estimate:
    """Exact McNemar test on the same test examples, and the paired difference in accuracy.

    ``base_correct`` and ``cand_correct`` are boolean arrays over the same examples (the
    examples of several seeds may be concatenated: the discordant counts add up, which is
    a stratified McNemar test). The p-value is the exact two-sided binomial test of the
    discordant pairs; the interval is the Wald interval for paired proportions.
    """
    from scipy import stats

    a = np.asarray(base_correct, dtype=bool)
    b = np.asarray(cand_correct, dtype=bool)
    n = a.size
    if n == 0 or a.shape != b.shape:
        return Estimate(NAN, NAN, NAN, NAN, "McNemar")
    lost = int(np.sum(a & ~b))  # right before, wrong now
    won = int(np.sum(~a & b))
    diff = (won - lost) / n
    p = 1.0 if lost + won == 0 else float(stats.binomtest(lost, lost + won, 0.5).pvalue)
    var = (lost + won) / n - diff**2
    half = float(stats.norm.ppf(0.5 + confidence / 2)) * math.sqrt(max(var, 0.0) / n)
    return Estimate(diff, diff - half, diff + half, p, "McNemar exact")


def bootstrap_seed(*arrays) -> int:
    """A seed drawn from the data, so the same comparison always gets the same interval."""
    blob = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays]).tobytes()
    return int.from_bytes(hashlib.sha1(blob).digest()[:4], "little")


def bootstrap_medians(x: np.ndarray, clusters, rng, n_boot: int) -> np.ndarray:
    """Bootstrap medians of ``x``: over samples, or over whole clusters (runs) when given."""
    if clusters is None or len(set(clusters)) < 2:
        return np.median(x[rng.integers(0, len(x), (n_boot, len(x)))], axis=1)
    clusters = np.asarray(clusters)
    members = [x[clusters == c] for c in dict.fromkeys(clusters.tolist())]
    picks = rng.integers(0, len(members), (n_boot, len(members)))
    return _cluster_medians(members, picks)


def _cluster_medians(members: list[np.ndarray], picks: np.ndarray) -> np.ndarray:
    """``median(concatenate(members[i] for i in row))`` for every row of ``picks``, at once.

    The clusters are padded to one width with +inf, so a row's picked values sort ahead of
    the padding; its median is then read at the middle of its own count of real values.
    """
    sizes = np.array([len(m) for m in members])
    padded = np.full((len(members), sizes.max()), np.inf)
    for i, m in enumerate(members):
        padded[i, :len(m)] = m
    rows = np.sort(padded[picks].reshape(len(picks), -1), axis=1)
    n = sizes[picks].sum(axis=1)
    at = np.arange(len(picks))
    return (rows[at, (n - 1) // 2] + rows[at, n // 2]) / 2


def ratio_of_medians(base, cand, n_boot: int = 2000, confidence: float = 0.95,
                     base_runs=None, cand_runs=None) -> Estimate:
    """median(cand) / median(base), percentile bootstrap interval, Mann-Whitney U p.

    Each side is resampled on its own (the samples are unpaired). Given the run of each
    sample (``base_runs``, ``cand_runs``) and at least two runs on a side, that side is
    resampled run by run: samples of one run share the machine's load at the time, so the
    run, not the sample, is the unit that carries the drift between runs. The rank test is
    two-sided, exact for small samples without ties (scipy chooses).
    """
    from scipy import stats

    a, b = np.asarray(base, dtype=float), np.asarray(cand, dtype=float)
    ka, kb = np.isfinite(a) & (a > 0), np.isfinite(b) & (b > 0)
    a, b = a[ka], b[kb]
    base_runs = None if base_runs is None else np.asarray(base_runs)[ka]
    cand_runs = None if cand_runs is None else np.asarray(cand_runs)[kb]
    if len(a) == 0 or len(b) == 0:
        return Estimate(NAN, NAN, NAN, NAN, "ratio of medians")
    ratio = float(np.median(b) / np.median(a))
    rng = np.random.default_rng(bootstrap_seed(a, b))
    ma, mb = bootstrap_medians(a, base_runs, rng, n_boot), bootstrap_medians(b, cand_runs, rng, n_boot)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(mb / ma, [tail, 100 - tail])
    p = NAN
    if len(a) >= 2 and len(b) >= 2:
        p = float(stats.mannwhitneyu(b, a, alternative="two-sided").pvalue)
    return Estimate(ratio, float(low), float(high), p, "ratio of medians, Mann-Whitney U")


def paired_ratio(base, cand, n_boot: int = 2000, confidence: float = 0.95) -> Estimate:
    """Median of per-pair ratios cand/base, bootstrap over pairs, Wilcoxon signed-rank p.

    For samples measured as interleaved pairs (baseline and candidate run back to back):
    the machine's load is shared within a pair, so the pair's ratio is free of it.
    """
    from scipy import stats

    a, b = np.asarray(base, dtype=float), np.asarray(cand, dtype=float)
    keep = np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0)
    r = np.log(b[keep] / a[keep])
    if len(r) == 0:
        return Estimate(NAN, NAN, NAN, NAN, "paired ratio")
    ratio = float(np.exp(np.median(r)))
    rng = np.random.default_rng(bootstrap_seed(r))
    boot = np.median(r[rng.integers(0, len(r), (n_boot, len(r)))], axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = np.exp(np.percentile(boot, [tail, 100 - tail]))
    p = NAN
    if len(r) >= 2 and np.any(r != 0):
        p = float(stats.wilcoxon(r, alternative="two-sided").pvalue)
    elif len(r) >= 2:
        p = 1.0
    return Estimate(ratio, float(low), float(high), p, "paired ratio, Wilcoxon signed-rank")


def benjamini_hochberg(pvalues) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values); NaN stays NaN and isn't counted.

    A test is a discovery at false discovery rate ``alpha`` when its q-value is below
    ``alpha``. Same numbers as ``scipy.stats.false_discovery_control(p, method='bh')``.
    """
    p = np.asarray(pvalues, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return q
    ps = p[ok]
    order = np.argsort(ps)
    ranked = ps[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    q[ok] = out
    return q
