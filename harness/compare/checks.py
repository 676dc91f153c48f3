"""The tests of one group: quality per (split, seed) or per test example, time as ratios.

See :mod:`harness.compare.verdict` for why each test is chosen where it is.
"""

from __future__ import annotations

import math

import numpy as np

from harness.compare import stats
from harness.compare.match import PAIR, Side
from harness.compare.schema import DURATIONS, MEMORY, Options, Test, Untested


def _per_seed(rows, metric: str):
    """Per (split, seed) sample, in points: repeats averaged."""
    return (rows.groupby(list(PAIR))[metric].mean() * 100.0).dropna()


def _mcnemar(metric, seeds, b_rows, c_rows, base: Side, cand: Side):
    """Stratified exact McNemar on the shared (split, seed) samples' test examples, or None without predictions."""
    if metric != "accuracy":
        return None
    b_hits, c_hits = [], []
    for seed in seeds:
        tb = b_rows.loc[_at(b_rows, seed), "trial_id"].iloc[0]
        tc = c_rows.loc[_at(c_rows, seed), "trial_id"].iloc[0]
        pb, pc = base.predictions.get(tb), cand.predictions.get(tc)
        if (pb is None or pc is None or pb[0].shape != pc[0].shape or pb[0].shape != pb[1].shape
                or pc[0].shape != pc[1].shape or not np.array_equal(pb[0], pc[0])):
            return None  # no predictions, or damaged ones: nothing to pair
        b_hits.append(pb[0] == pb[1])
        c_hits.append(pc[0] == pc[1])
    if not b_hits:
        return None
    est = stats.mcnemar(np.concatenate(b_hits), np.concatenate(c_hits))
    return stats.Estimate(est.value * 100, est.low * 100, est.high * 100, est.p, est.method)


def _at(rows, sample):
    """Rows of one (split, seed) sample."""
    return (rows[PAIR[0]] == sample[0]) & (rows[PAIR[1]] == sample[1])


def _reproducible(rows, metric: str):
    """True when repeats of a seed gave identical values, False when they differed, None: no repeats."""
    repeats = rows.groupby(list(PAIR))[metric].agg(["count", "nunique"])
    repeats = repeats[repeats["count"] > 1]
    if repeats.empty:
        return None
    return bool((repeats["nunique"] <= 1).all())


def quality_test(metric, b_rows, c_rows, base: Side, cand: Side) -> Test:
    """Per-seed paired test; per-example McNemar where it is the better evidence (see module doc)."""
    bs, cs = _per_seed(b_rows, metric), _per_seed(c_rows, metric)
    shared = sorted(set(bs.index) & set(cs.index))
    examples = _mcnemar(metric, shared, b_rows, c_rows, base, cand) if shared else None
    # The per-example test treats the models as fixed: right when a trial is reproducible
    # (repeats of a seed agree, as deterministic CPU trials do), or when too few seeds leave
    # nothing better. Where repeats disagree, training noise is real and seeds must carry it.
    rep_b, rep_c = _reproducible(b_rows, metric), _reproducible(c_rows, metric)
    reproducible = bool(rep_b or rep_c) and rep_b is not False and rep_c is not False
    if examples is not None and (reproducible or len(shared) < 3) and rep_b is not False and rep_c is not False:
        est = examples
    elif shared:
        est = stats.paired_mean_diff(cs.loc[shared].to_numpy() - bs.loc[shared].to_numpy())
    else:
        est = stats.welch_mean_diff(bs.to_numpy(), cs.to_numpy())
    method = est.method
    if est.method.startswith("paired t"):
        method += f", {len(shared)} paired (split, seed) samples"
    elif est.method.startswith("McNemar"):
        method += (f", test examples of {len(shared)} (split, seed) sample(s)"
                   + (" (reproducible trials)" if reproducible else ""))
    else:
        method += f", {len(bs)} vs {len(cs)} (split, seed) samples"
    test = Test(metric, "quality", float(bs.mean()) if len(bs) else math.nan,
                float(cs.mean()) if len(cs) else math.nan, est.value, est.low, est.high, est.p,
                method, len(bs), len(cs))
    if examples is not None:
        test.p_examples = examples.p
    if not math.isfinite(est.p):
        test.outcome, test.untested = "untested", Untested.TOO_FEW
        test.note = "too few seeds to test (and no stored predictions to pair)"
    return test


def _time_values(rows, metric: str, mode: str, side: Side, reference: float):
    values = rows[metric].to_numpy(dtype=float)
    if metric == "samples_per_s":
        with np.errstate(divide="ignore"):
            values = 1.0 / values
    if mode == "normalised" and metric in DURATIONS:
        scores = np.array([side.calibration(r) for r in rows["run_id"]], dtype=float)
        values = values * reference / scores
    return values


def time_test(metric, b_rows, c_rows, base: Side, cand: Side, opts: Options, mode: str,
              paired: bool, reference: float, load: str = "") -> Test | None:
    """One time metric of a group; ``load`` (a reason) leaves unpaired durations untested."""
    if metric in MEMORY:  # re-runs happen in another process, whose memory differs
        b_rows, c_rows = b_rows[b_rows["round"] == 0], c_rows[c_rows["round"] == 0]
        paired = False
    b_rows = b_rows[np.isfinite(b_rows[metric])]
    c_rows = c_rows[np.isfinite(c_rows[metric])]
    if b_rows.empty or c_rows.empty:
        return None
    name = "1/samples_per_s" if metric == "samples_per_s" else metric
    if paired:  # interleaved rounds: pair each re-run with the baseline re-run of its round and sample
        b = b_rows[b_rows["round"] > 0].set_index(["round", *PAIR])
        c = c_rows[c_rows["round"] > 0].set_index(["round", *PAIR])
        both = b.index.intersection(c.index)
        b, c = b.loc[both].reset_index(), c.loc[both].reset_index()
        # Both sides of a pair ran on this machine a second apart: compared raw.
        bv, cv = _time_values(b, metric, "same", base, reference), _time_values(c, metric, "same", cand, reference)
        est = stats.paired_ratio(bv, cv, n_boot=opts.n_boot)
        method = f"{est.method}, {len(both)} interleaved pairs"
    else:
        bv = _time_values(b_rows, metric, mode, base, reference)
        cv = _time_values(c_rows, metric, mode, cand, reference)
        est = stats.ratio_of_medians(bv, cv, n_boot=opts.n_boot, base_runs=b_rows["run_id"].to_numpy(),
                                     cand_runs=c_rows["run_id"].to_numpy())
        runs = (b_rows["run_id"].nunique(), c_rows["run_id"].nunique())
        method = f"{est.method}, {len(bv)} vs {len(cv)} samples" + (
            f" of {runs[0]} vs {runs[1]} runs (bootstrap by run)" if max(runs) > 1 else "")
    test = Test(name, "time", float(np.nanmedian(bv)) if len(bv) else math.nan,
                float(np.nanmedian(cv)) if len(cv) else math.nan, est.value, est.low, est.high,
                est.p, method, len(bv), len(cv))
    if load and not paired and metric in DURATIONS:
        test.p, test.outcome, test.untested, test.note = math.nan, "untested", Untested.LOAD, load
    elif metric in ("fit_s", "predict_s") and max(test.base, test.cand) < opts.min_time_s:
        test.p, test.outcome, test.untested = math.nan, "untested", Untested.BELOW_FLOOR
        test.note = f"under {opts.min_time_s * 1000:g} ms: too short to time reliably"
    elif metric in MEMORY and max(test.base, test.cand) < opts.min_mem_mb:
        test.p, test.outcome, test.untested = math.nan, "untested", Untested.BELOW_FLOOR
        test.note = f"under {opts.min_mem_mb:g} MB: too small to measure reliably"
    elif not math.isfinite(est.p):
        test.outcome, test.untested = "untested", Untested.TOO_FEW
        test.note = "too few samples for a rank test"
    return test
