"""Verdicts per group: improved, regressed, unchanged, new, missing or failed.

**Quality** (accuracy, balanced accuracy, F1; in points). The (split, seed) pairs are the
samples (below "seeds" for short; a record from before splits were apart from seeds has split
= seed): each side's repeats of a seed are averaged, then the seeds both sides share are
paired: the mean of the per-seed differences with a Student-t interval and a paired t-test. Where both sides stored
predictions, accuracy is tested on the very same test examples instead (exact McNemar on the
discordant examples of every shared seed, a stratified McNemar, with the Wald interval of the
paired difference) when that is the better evidence: with one or two seeds, which say little,
or when the trials are reproducible (repeats of a seed gave identical scores), where the model,
not chance, decided each example. Sides with no seed in common get Welch's test. A drop is a
regression when it is larger than ``acc_tol`` points and significant.

**Time** (fit, predict, 1/samples-per-second; peak memory alike). The ratio of medians
(candidate over baseline) with a percentile bootstrap interval, resampled run by run where a
side has several runs, and a two-sided Mann-Whitney U test; for samples measured in
interleaved pairs (``--confirm`` with a baseline that can be re-run) the median of the
per-pair ratios with a Wilcoxon signed-rank test. Times are compared only between runs of
the same machine fingerprint, unless ``cross_machine``, which divides each time by its run's
calibration. Memory is the growth of the resident set during the trial (``mem_growth_mb``,
peak minus the size at its start), from the original runs only: re-runs happen in another
process. Growth under ``min_mem_mb`` is not tested. The process-wide ``peak_rss_mb`` counts
every imported library and moves by tens of MB between two fresh environments of the same
code, so it is compared only when asked for (``--time-metrics``).

A time regression needs three things: the ratio above ``time_tol``, a significant test, and
the interval's **lower bound** above ``time_low`` (default: ``time_tol``). Why so strict: on a
shared machine the speed of the whole machine drifts by tens of percent between runs (see
docs/ci.md); that drift is common to every sample of a run, so a rank test on one run per
side calls it significant however many seeds there are. Demanding that the whole interval
clear the tolerance, and re-running the flagged groups (``--confirm``), keeps such drift
from failing CI, while a real 20% slowdown clears it (benchmarks/compare_quality.py measures
both). Times under ``min_time_s`` are not tested: at a few milliseconds the timer and the
scheduler decide, not the code. And when the two sides' calibrations are more than
``load_guard`` apart, one side ran on a busier machine: unpaired times are left untested.

**Many groups.** p-values go through Benjamini-Hochberg, one family per metric across every
group; "significant" means a q-value under ``alpha``, so 200 groups don't raise alarms by chance.
"""

from __future__ import annotations

import math

import numpy as np

from harness.compare import stats
from harness.compare.checks import quality_test, time_test
from harness.compare.match import GROUP, Side, adopt_threads, group_label, samples
from harness.compare.schema import (BAD, DURATIONS, IGNORED, ORDER, QUALITY, TIMES, Comparison, Group,
                                    Options, Test, Untested)

__all__ = ["BAD", "DURATIONS", "IGNORED", "ORDER", "QUALITY", "TIMES", "Comparison", "Group", "Options",
           "Test", "Untested", "compare", "time_mode"]


def time_mode(base: Side, cand: Side, opts: Options) -> tuple[str, str]:
    """Whether times are compared, and the sentence that says so."""
    if not opts.compare_time:
        return "off", "Time not compared (accuracy only)."
    fb, fc = base.fingerprints, cand.fingerprints
    if None not in fb and fb == fc and len(fb) == 1:
        if opts.normalise:
            return "normalised", (f"Time compared: same machine fingerprint ({next(iter(fb))}), every time "
                                  "divided by its run's calibration to take out the machine's load "
                                  "(--normalise; interleaved re-runs are compared raw).")
        return "same", f"Time compared: same machine fingerprint ({next(iter(fb))})."
    if opts.cross_machine:
        return "normalised", ("Time compared across machines: every time is divided by its run's "
                              "calibration (a fixed matmul and scikit-learn fit), so ratios are "
                              "relative to each machine's speed; treat them as indicative.")
    if None in fb or None in fc:
        return "off", ("Time not compared: a run has no machine fingerprint (recorded since harness "
                       "0.1 in run.json); pass --cross-machine to compare anyway.")
    return "off", (f"Time not compared: different machines (baseline {', '.join(sorted(fb))}, "
                   f"candidate {', '.join(sorted(fc))}); pass --cross-machine to normalise by calibration.")


def _load_guard(base: Side, cand: Side, b_rows, c_rows, opts: Options) -> str:
    """Why unpaired times can't be judged (the machine's load differed between the sides), or ''.

    The calibration tracks the load of the whole machine (on the development VM, the log of
    a run's speed factor and of its calibration correlate at 0.96), but not every model
    feels load alike, so dividing by it (``--normalise``) is no cure. When the two sides'
    calibrations are more than ``load_guard`` apart, the sides ran on a busier and a quieter
    machine, and a time verdict would be about the machine: unpaired times are left untested,
    and the output says so. Interleaved re-runs (``--confirm``) are still judged.
    """
    if not opts.load_guard or opts.load_guard <= 1:
        return ""
    def score(side, rows):
        values = [side.calibration(r) for r in rows["run_id"].unique()]
        values = [v for v in values if math.isfinite(v)]
        return float(np.median(values)) if values else math.nan
    b, c = score(base, b_rows), score(cand, c_rows)
    if not (math.isfinite(b) and math.isfinite(c)) or max(b, c) / min(b, c) <= opts.load_guard:
        return ""
    return (f"the machine was {max(b, c) / min(b, c) - 1:.0%} {'slower' if c > b else 'faster'} for the "
            f"candidate (calibration {b * 1000:.1f} ms vs {c * 1000:.1f} ms): unpaired times not judged")


def _decide(test: Test, opts: Options) -> None:
    if test.outcome == "untested" or not math.isfinite(test.q):
        return
    significant = test.q < opts.alpha
    if test.kind == "quality":
        if significant and test.effect < -opts.acc_tol and test.high < 0:
            test.outcome = "regressed"
        elif significant and test.effect > opts.acc_tol and test.low > 0:
            test.outcome = "improved"
    else:
        if significant and test.effect > opts.time_tol and test.low > opts.low:
            test.outcome = "regressed"
        elif significant and test.effect < 1 / opts.time_tol and test.high < 1 / opts.low:
            test.outcome = "improved"


def _flag(test: Test, opts: Options) -> bool:
    """Worth re-running: the point estimate is past the tolerance, significant or not.

    Times and memory under their floor are never re-run: more samples won't make them measurable.
    """
    if not math.isfinite(test.effect) or test.untested is Untested.BELOW_FLOOR:
        return False
    if test.kind == "quality":
        return test.effect < -opts.acc_tol
    return test.effect > opts.time_tol


def _active(df):
    return df[~df["status"].isin(IGNORED)]


def compare(base: Side, cand: Side, opts: Options | None = None,
            interleaved: frozenset = frozenset()) -> Comparison:
    """Match the two sides by group and give every group its verdict.

    ``interleaved`` names the groups whose re-runs (``round`` > 0) were measured in
    interleaved rounds on both sides: their times are compared pair by pair.
    """
    opts = opts or Options()
    mode, note = time_mode(base, cand, opts)
    b_all, c_all = _active(base.records).copy(), _active(cand.records).copy()
    adopt_threads(b_all, c_all)
    scores = [base.calibration(r) for r in b_all["run_id"].unique()]
    reference = float(np.nanmedian(scores)) if scores and np.isfinite(scores).any() else math.nan
    load = _load_guard(base, cand, b_all, c_all, opts) if mode == "same" else ""
    if mode == "normalised" and not math.isfinite(reference):
        mode, note = "off", "Time not compared: the baseline has no calibration to normalise by."
    skipped = cand.records[cand.records["status"].isin(IGNORED)]
    c_ignored = {k: "/".join(sorted(set(rows["status"]))) for k, rows in skipped.groupby(list(GROUP), sort=False)}
    b_groups = dict(tuple(b_all.groupby(list(GROUP), sort=False)))
    c_groups = dict(tuple(c_all.groupby(list(GROUP), sort=False)))
    groups = []
    for gkey in list(dict.fromkeys([*b_groups, *c_groups])):
        b_rows, c_rows = b_groups.get(gkey), c_groups.get(gkey)
        rows = b_rows if b_rows is not None else c_rows
        g = Group(key=gkey[0], device=gkey[1], threads=int(gkey[2]), label=group_label(rows))
        if c_rows is None:  # missing work fails the gate unless allowed: a truncated run is no pass
            g.verdict, g.counts_as_regression = "missing", not opts.allow_missing
            g.note = "in the baseline only" + (f"; {c_ignored[gkey]} in the candidate" if gkey in c_ignored else "")
            groups.append(g)
            continue
        if b_rows is None:
            g.verdict, g.note = "new", "in the candidate only"
            groups.append(g)
            continue
        b_ok, c_ok = b_rows[b_rows["status"] == "ok"], c_rows[c_rows["status"] == "ok"]
        g.seeds_base, g.seeds_cand = samples(b_ok), samples(c_ok)
        c_bad = c_rows[c_rows["status"].isin(BAD)]
        if not c_bad.empty:
            g.verdict = "failed"
            g.note = f"{len(c_bad)} trial(s) {c_bad['status'].iloc[0]}: {c_bad['error'].iloc[0][:160]}"
            g.counts_as_regression = not b_ok.empty and b_rows["status"].isin(BAD).sum() == 0
            if not g.counts_as_regression:
                g.note += " (failed in the baseline too)"
        if b_ok.empty or c_ok.empty:
            if g.verdict != "failed":
                g.verdict, g.note = "unchanged", "no successful trials on one side"
            groups.append(g)
            continue
        for metric in opts.metrics:
            if metric in b_ok and b_ok[metric].notna().any() and c_ok[metric].notna().any():
                g.tests.append(quality_test(metric, b_ok, c_ok, base, cand))
        if mode != "off":
            for metric in opts.time_metrics:
                if metric in b_ok and b_ok[metric].notna().any() and c_ok[metric].notna().any():
                    test = time_test(metric, b_ok, c_ok, base, cand, opts, mode,
                                     gkey in interleaved and (c_ok["round"] > 0).any(), reference, load)
                    if test is not None:
                        g.tests.append(test)
        groups.append(g)

    # One Benjamini-Hochberg family per metric, across every group.
    families: dict[str, list[Test]] = {}
    for g in groups:
        for t in g.tests:
            families.setdefault(t.metric, []).append(t)
    for tests in families.values():
        for t, q in zip(tests, stats.benjamini_hochberg([t.p for t in tests])):
            t.q = float(q)
    for g in groups:
        for t in g.tests:
            _decide(t, opts)
        g.flagged = any(_flag(t, opts) for t in g.tests)
        if g.verdict == "failed":
            continue
        outcomes = {t.outcome for t in g.tests}
        if "regressed" in outcomes:
            g.verdict, g.counts_as_regression = "regressed", True
        elif "improved" in outcomes:
            g.verdict = "improved"
    groups.sort(key=lambda g: (ORDER.index(g.verdict), g.label, g.where, g.key))
    return Comparison(base, cand, opts, groups, mode, note, load_note=load)
