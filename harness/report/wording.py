"""The template table: how each kind of finding reads as an English sentence.

``findings`` computes :class:`~harness.report.findings.Finding` values and says nothing;
every sentence of the report's findings is written here, by one function per kind in
``TEMPLATES``. Sentences are plain text; the renderers escape them.
"""

from __future__ import annotations

import math
from typing import Callable

from harness.report.findings import DEEP, Finding, Subject
from harness.report.paired import A_BETTER, B_BETTER, EQUIVALENT
from harness.report.render import device_label, fmt_flops, fmt_p, fmt_s, fmt_x, signed


def pct(mean: float, half: float) -> str:
    """``94.6% ± 0.4`` (the interval in points), or a note where there is none."""
    if not math.isfinite(mean):
        return "no accuracy"
    return f"{100 * mean:.1f}% ± {100 * half:.1f}" if math.isfinite(half) else f"{100 * mean:.1f}%, one seed"


def label(s: Subject, variant: bool = True) -> str:
    """``random_forest on raw``, ``cnn@cuda with n_train=1000`` (deep nets on raw input go by name)."""
    text = s.model + (f"@{device_label(s.device, s.threads)}" if s.show_device else "")
    if not (s.raw_input and s.family == DEEP):
        text += f" on {s.features}"
    return text + (f" with {s.variant}" if variant and s.variant else "")


def mean_pct(s: Subject) -> str:
    """``79.1%``: the mean alone, where a paired interval says how sure the comparison is."""
    return f"{100 * s.mean:.1f}%" if math.isfinite(s.mean) else "no accuracy"


def said(s: Subject, variant: bool = True, ci: bool = True) -> str:
    """``(random_forest on raw, 79.1% ± 0.5)``; without ``ci``: ``(random_forest on raw, 79.1%)``."""
    return f"({label(s, variant)}, {pct(s.mean, s.ci) if ci else mean_pct(s)})"


def listing(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def whole(x: float) -> str:
    """``3``, ``10.5``, ``1,234``: a statistic such as Wilcoxon's W, never in scientific notation."""
    return f"{x:,.1f}".removesuffix(".0")


def _splits(j) -> str:
    return f"{j:.0f} split{'s' if j != 1 else ''}"


def by(n, flip: bool = False) -> str:
    """``1.2 points [0.4, 2.0] over 5 splits``: a decided difference, the winner's minus the loser's."""
    pts, lo, hi = n["points"], n["low"], n["high"]
    if flip:
        pts, lo, hi = -pts, -hi, -lo
    return f"{pts:.1f} points [{lo:.1f}, {hi:.1f}] over {_splits(n['splits'])}"


def spread(n) -> str:
    """``+0.3 points [−0.2, +0.8] over 5 splits`` (A minus B), or what there is without an interval."""
    if n.get("splits", 0) < 1 or not math.isfinite(n.get("points", math.nan)):
        return "no split in common"
    if "low" not in n:
        return f"{signed(n['points'])} points on one split, which gives no interval"
    return f"{signed(n['points'])} points [{signed(n['low'])}, {signed(n['high'])}] over {_splits(n['splits'])}"


def still(n) -> str:
    """What would likely decide an undecided comparison."""
    if "more_splits" in n:
        more = n["more_splits"]
        return f"about {more:.0f} more split{'s' if more != 1 else ''} would likely decide it"
    if "cap" in n:
        return f"more than {n['cap']:.0f} splits would likely be needed to decide it"
    return "more splits would decide it" if n.get("splits", 0) == 1 else "the two need splits in common"


def outcome(verdict: str, n, a: str, b: str) -> str:
    """A paired verdict on ``a`` against ``b`` (``paired``'s four outcomes) as a clause."""
    if verdict == A_BETTER:
        return f"{a} beats {b} by {by(n)}"
    if verdict == B_BETTER:
        return f"{b} beats {a} by {by(n, flip=True)}"
    if verdict == EQUIVALENT:
        return f"{a} and {b} are practically equivalent (within ±{n['rope']:g} points: {spread(n)})"
    return f"{a} against {b} is undecided ({spread(n)}): {still(n)}"


def short_verdict(verdict: str, n) -> str:
    """The verdict column of a verdict table: ``A better``, ``equivalent (±0.5)``, ``undecided: ~4 more splits``."""
    if verdict == A_BETTER:
        return "A better"
    if verdict == B_BETTER:
        return "B better"
    if verdict == EQUIVALENT:
        return f"equivalent (±{n['rope']:g})"
    if math.isfinite(n.get("more_splits", math.nan)):
        return f"undecided: ~{n['more_splits']:.0f} more split{'s' if n['more_splits'] != 1 else ''}"
    if math.isfinite(n.get("cap", math.nan)):
        return f"undecided: > {n['cap']:.0f} splits"
    return "undecided: one split" if n.get("splits") == 1 else "undecided: no common split"


#: What a verdict table's row compares, by finding kind (A first).
COMPARISONS = {"head_to_head": "best of each family", "features": "engineered features vs raw input"}


def _head_to_head(f: Finding) -> str:
    a, b, n = f.one("a"), f.one("b"), f.numbers
    names = {s.role: f"the best {s.family} model {said(s, ci=False)}" for s in (a, b)}
    text = f"On {f.dataset} {outcome(f.verdict, n, names['a'], names['b'])}"
    ratio = n.get("fit_ratio")
    if ratio is not None and f.verdict in (A_BETTER, B_BETTER):
        ratio = ratio if f.verdict == A_BETTER else 1 / ratio  # the winner's fit time over the loser's
        text += f" and needs {fmt_x(ratio)} its fit time" if ratio >= 1 else f" and fits {fmt_x(1 / ratio)} faster"
    elif ratio is not None:
        text += f"; the {(a if ratio < 1 else b).family} model fits {fmt_x(max(ratio, 1 / ratio))} faster"
    return text + "."


def _no_rival(f: Finding) -> str:
    best = f.one("best")
    return (f"On {f.dataset} no {f.one('missing').family} model has a result; the best is {label(best)} "
            f"({pct(best.mean, best.ci)}).")


def _tally(f: Finding) -> str:
    n = f.numbers
    return (f"Across {n['datasets']} datasets the best {f.one('side').family} model wins on {n['win']}, is "
            f"practically equivalent on {n['equivalent']}, undecided on {n['undecided']} and loses on {n['loss']} "
            f"against the best {f.one('rival').family} model (paired verdicts over splits).")


def _signed_rank(f: Finding) -> str:
    n = f.numbers
    head = (f"Across {n['datasets']} datasets a Wilcoxon signed-rank test of the per-dataset differences "
            f"({f.one('side').family} minus {f.one('rival').family}, median {signed(n['median'])} points)")
    stat = f"W = {whole(n['statistic'])}, {fmt_p(n['p_value'], n['alpha'])}"
    if f.verdict == "rejects":
        return f"{head} rejects no difference ({stat} < {n['alpha']:g})."
    return f"{head} does not reject no difference ({stat} ≥ {n['alpha']:g})."


def _no_signed_rank(f: Finding) -> str:
    n = f.numbers
    if n["datasets"] < n["min_datasets"]:
        return (f"A Wilcoxon signed-rank test across datasets cannot reach 5% with fewer than "
                f"{n['min_datasets']} datasets; with {n['datasets']}, the per-dataset verdicts stand alone.")
    return "Every per-dataset difference is 0, so a Wilcoxon signed-rank test across datasets has nothing to rank."


def _best_model(f: Finding) -> str:
    best = f.one("best")
    return f"On {f.dataset} the best model is {label(best)} ({pct(best.mean, best.ci)})."


def _features(f: Finding) -> str:
    e, r, n = f.one("engineered"), f.one("baseline"), f.numbers
    eng = f"{e.model} on {e.features} ({mean_pct(e)})"
    raw = f"the best model on raw input ({r.model}, {mean_pct(r)})"
    head = {A_BETTER: "engineered features help", B_BETTER: "engineered features do not help",
            EQUIVALENT: "engineered features make no practical difference"}.get(
        f.verdict, "engineered features may or may not help")
    return f"On {f.dataset} {head}: {outcome(f.verdict, n, eng, raw)}."


def _gap(f: Finding) -> str:
    r, d, n = f.one("baseline"), f.one("target"), f.numbers
    if f.verdict not in ("closed", "surpassed"):
        deep = f"the best deep model {said(d, ci=False)}"
        raw = f"classical models on raw input {said(r, ci=False)}"
        return (f"On {f.dataset} there is no gap to close: {deep} is not shown to beat {raw}; "
                f"{outcome(f.verdict, n, 'the deep model', 'the classical model')}.")
    e = f.one("engineered")
    how = (f"close {n['closed']:.0f}% of the" if f.verdict == "closed" else
           f"more than close (by {n['beyond']:.1f} points) the")
    text = (f"On {f.dataset} engineered features {how} {n['gap']:.1f}-point gap between classical models on "
            f"raw input {said(r)} and the best deep model {said(d)}: {label(e)} reaches {pct(e.mean, e.ci)}")
    if "cost_s" in n:
        text += (f" in {fmt_s(n['cost_s'], trim=True)} of feature extraction and fit against the deep model's "
                 f"{fmt_s(n['deep_fit_s'], trim=True)} of fit")
    return text + "."


def _near_chance(f: Finding) -> str:
    near, n = f.of("near"), f.numbers
    names = [f"{label(s, variant=False)} ({pct(s.mean, s.ci)})" for s in near]
    text = (f"On {f.dataset} {listing(names)} {'is' if len(names) == 1 else 'are'} near chance: balanced "
            f"accuracy within {n['within']:g} points of {n['chance']:.1f}% (1 in {round(n['n_classes'])} classes)")
    for top in f.of("top"):
        text += f", where {label(top)} reaches {pct(top.mean, top.ci)}"
    return text + "."


def _variants(f: Finding) -> str:
    best, worst = f.one("best"), f.one("worst")
    listed = ", ".join(f"{s.variant} {pct(s.mean, s.ci)}" for s in f.of("variant"))
    where = "" if best.raw_input else f" on {best.features}"
    return (f"On {f.dataset} the variant of {best.model}{where} matters ({listed}): the best on validation, "
            f"{best.variant}, beats the worst, {worst.variant}, by {by(f.numbers)} on test.")


def _ranks(f: Finding) -> str:
    listed = ", ".join(f"{s.model} {s.stats['rank']:.1f}" + (f" (on {s.stats['on']} only)" if "on" in s.stats else "")
                       for s in f.of("model"))
    return (f"Average rank over {f.numbers['datasets']} datasets (1 = most accurate; each model on its "
            f"features chosen on validation): {listed}.")


def _no_friedman(f: Finding) -> str:
    return (f"A Friedman test needs at least {f.numbers['min_datasets']} datasets on which at least "
            f"{f.numbers['min_models']} models all ran; this report has fewer, so it ranks without a test.")


def _friedman(f: Finding) -> str:
    n = f.numbers
    head = f"The Friedman test over {n['datasets']} datasets and {n['models']} models"
    stat = f"χ² = {n['statistic']:.1f}, {fmt_p(n['p_value'], n['alpha'])}"
    if f.verdict == "rejects":
        return (f"{head} rejects equal ranks ({stat} < {n['alpha']:g}); models closer than the Nemenyi critical difference "
                f"({n['cd']:.2f}) are not separated (see the diagram).")
    return f"{head} does not reject equal ranks ({stat} ≥ {n['alpha']:g}): the rank differences may be chance."


def _left_out(f: Finding) -> str:
    return f"The test leaves out {', '.join(s.model for s in f.subjects)}: no result on every dataset."


def _gpu_speedup(f: Finding) -> str:
    parts = [f"{s.model} {fmt_x(s.stats['median'])}"
             + (f" ({fmt_x(s.stats['min'])}–{fmt_x(s.stats['max'])})" if s.stats["keys"] > 1 else "")
             for s in f.subjects]
    return ("GPU over CPU fit-time speedup, median over trial keys: " + ", ".join(parts)
            + ". Above 1× the GPU is faster.")


def _size_leaders(f: Finding) -> str:
    lead = [f"with {s.stats['n_train']:,.0f} training samples {label(s, variant=False)} leads ({pct(s.mean, s.ci)})"
            for s in (f.one("smallest"), f.one("largest"))]
    return f"On {f.dataset} {lead[0]}; {lead[1]}."


def _overtake(f: Finding) -> str:
    if f.verdict == "never":
        return (f"On {f.dataset} the deep model is not better than the classical pipeline in a paired head-to-head "
                "at any training size tried.")
    d, c = f.one("ahead"), f.one("behind")
    return (f"On {f.dataset} the deep model is better than the classical pipeline in a paired head-to-head from "
            f"{f.numbers['n_train']:,.0f} training samples ({label(d, variant=False)} {pct(d.mean, d.ci)} against "
            f"{label(c, variant=False)} {pct(c.mean, c.ci)})"
            + (" and stays better at every larger size." if f.verdict == "stays" else
               ", though not at every larger size."))


def _reference(f: Finding) -> str:
    parts = [f"{s.model} not run (published {s.stats['published']:g}%)" if s.role == "not_run" else
             f"{s.model} {pct(s.mean, s.ci)} against the published {s.stats['published']:g}% "
             f"({s.stats['points']:+.1f} points)" for s in f.subjects]
    return "Beside the published figures: " + "; ".join(parts) + "."


def _threads(f: Finding) -> str:
    n = f.numbers
    return (f"{n['more']} CPU threads instead of {n['fewer']} fit {f.one('model').model} {fmt_x(n['median'])} "
            f"faster (median over {n['configs']} configuration{'s' if n['configs'] != 1 else ''}, range "
            f"{n['min']:.2f}–{n['max']:.2f}×; below 1 means slower).")


def _throughput(f: Finding) -> str:
    slow, fast = f.one("slowest"), f.one("fastest")
    text = (f"On {f.dataset} {slow.model}@{device_label(slow.device, slow.threads)} trains at "
            f"{slow.stats['samples_per_s']:,.0f} samples/s ({slow.variant or 'default'}) to "
            f"{fast.stats['samples_per_s']:,.0f} samples/s ({fast.variant or 'default'})")
    for top in f.of("peak"):
        text += f"; its arithmetic peaks at {fmt_flops(top.stats['tflops'], trim=True)} ({top.variant or 'default'})"
    return text + "."


def _selection(f: Finding) -> str:
    n = f.numbers
    if f.verdict == "validation":
        return ("Chosen on validation; test read once: every best model, features set and variant named here "
                "was chosen by its accuracy on a validation part carved from the training split, and test accuracy "
                "is reported for the chosen ones only.")
    if f.verdict == "no_validation":
        return ("No choice here was made on validation: the suite carves none (val_fraction: 0, so every model "
                "trains on the whole training split, as the published figures it compares with do). Where a "
                "finding names a best features set or the best of a family, it fell back to raw input first, then "
                "by name, never to test accuracy: read those as the configurations compared, not as the best.")
    text = (f"Validation scores are missing for {n['missing']:,} of {n['configs']:,} configurations (records "
            "from before val_accuracy was recorded): a choice among candidates without one falls back to raw input "
            "first, then by name, never to test accuracy")
    if n["missing"] < n["configs"]:
        text += "; every other choice was made on validation, test read once"
    return text + "."


def _no_gpu(f: Finding) -> str:
    n = f.numbers["trials"]
    return (f"No GPU on the machine that ran this: its {n} GPU trial{'s were' if n != 1 else ' was'} skipped, "
            "so the GPU rows are absent from the tables and figures.")


def _all_ok(f: Finding) -> str:
    return f"All {f.numbers['trials']:,} trials finished ok."


def _not_ok(f: Finding) -> str:
    listed = ", ".join(f"{v} {k}" for k, v in sorted(f.numbers.items()) if k != "trials")
    return (f"Of {f.numbers['trials']:,} trials, {listed}: they are left out of every statistic and listed "
            "under Failures.")


def _no_accuracy(f: Finding) -> str:
    n = f.numbers["trials"]
    return (f"{n:,} ok trial{'s have' if n != 1 else ' has'} no accuracy (NaN) and are left out of the "
            "accuracy statistics.")


def _no_result(f: Finding) -> str:
    return "No trial finished with a result, so there is nothing to compare."


def _tuning_winner(f: Finding) -> str:
    a, b = f.one("default"), f.one("tuned")
    several = bool(f.numbers.get("several_features"))

    def name(s: Subject) -> str:
        return s.model + (f" on {s.features}" if several else "")

    def scores(s: Subject) -> str:
        return f"validation {100 * s.stats['val']:.1f}%, test {100 * s.mean:.1f}%"

    name_b = name(b) + (" (tuned)" if b.stats.get("tuned") else "")
    if f.verdict == "same":
        return (f"{f.dataset}: tuning does not change who wins: {name(a)} is chosen on validation on defaults "
                f"({scores(a)}) and tuned ({scores(b)}).")
    if f.verdict == "tie":
        return (f"{f.dataset}: tuning does not change who wins that validation can tell: {name_b} ties {name(a)} "
                f"on validation ({scores(b)}), and the faster fit is chosen.")
    return (f"{f.dataset}: tuning changes who wins: on defaults {name(a)} is chosen on validation ({scores(a)}); "
            f"with tuning, {name_b} ({scores(b)}).")


#: kind -> the function that writes a finding of that kind as one sentence.
TEMPLATES: dict[str, Callable[[Finding], str]] = {
    "head_to_head": _head_to_head, "no_rival": _no_rival, "tally": _tally, "signed_rank": _signed_rank,
    "no_signed_rank": _no_signed_rank, "selection": _selection, "best_model": _best_model,
    "features": _features, "gap": _gap, "near_chance": _near_chance, "variants": _variants,
    "ranks": _ranks, "no_friedman": _no_friedman, "friedman": _friedman, "friedman_left_out": _left_out,
    "gpu_speedup": _gpu_speedup, "size_leaders": _size_leaders, "overtake": _overtake,
    "reference": _reference, "threads": _threads, "throughput": _throughput, "no_gpu": _no_gpu,
    "all_ok": _all_ok, "not_ok": _not_ok, "no_accuracy": _no_accuracy, "no_result": _no_result,
    "tuning_winner": _tuning_winner,
}


def sentence(f: Finding) -> str:
    """The finding as one sentence."""
    return TEMPLATES[f.kind](f)
