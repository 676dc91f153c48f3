"""The template table: how each kind of finding reads as an English sentence.

``findings`` computes :class:`~harness.report.findings.Finding` values and says nothing;
every sentence of the report's findings is written here, by one function per kind in
``TEMPLATES``. Sentences are plain text; the renderers escape them.
"""

from __future__ import annotations

import math
from typing import Callable

from harness.report.findings import DEEP, Finding, Subject
from harness.report.render import device_label, fmt_x, signed


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


def said(s: Subject, variant: bool = True) -> str:
    """``(random_forest on raw, 79.1% ± 0.5)``."""
    return f"({label(s, variant)}, {pct(s.mean, s.ci)})"


def listing(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _head_to_head(f: Finding) -> str:
    points, ratio = f.numbers["points"], f.numbers.get("fit_ratio")
    if f.verdict == "separated":
        w, lose = f.one("winner"), f.one("loser")
        text = (f"On {f.dataset} the best {w.family} model {said(w)} beats the best {lose.family} model "
                f"{said(lose)} by {points:.1f} points")
        if ratio is not None:
            text += f" and needs {fmt_x(ratio)} its fit time" if ratio >= 1 else f" and fits {fmt_x(1 / ratio)} faster"
        return text + "."
    a, b = f.one("a"), f.one("b")
    why = "their 95% intervals overlap" if f.verdict == "overlap" else "without several seeds there is no interval"
    text = (f"On {f.dataset} the best {a.family} model {said(a)} and the best {b.family} model {said(b)} are "
            f"{points:.1f} points apart, but {why}, so the evidence does not separate them")
    if ratio is not None:
        text += f"; the {(a if ratio < 1 else b).family} model fits {fmt_x(max(ratio, 1 / ratio))} faster"
    return text + "."


def _no_rival(f: Finding) -> str:
    best = f.one("best")
    return (f"On {f.dataset} no {f.one('missing').family} model has a result; the best is {label(best)} "
            f"({pct(best.mean, best.ci)}).")


def _tally(f: Finding) -> str:
    n = f.numbers
    return (f"Across {n['datasets']} datasets the best {f.one('side').family} model wins on {n['win']}, ties on "
            f"{n['tie']} and loses on {n['loss']} against the best {f.one('rival').family} model "
            "(a tie: the 95% intervals overlap or there is only one seed).")


def _best_model(f: Finding) -> str:
    best = f.one("best")
    return f"On {f.dataset} the best model is {label(best)} ({pct(best.mean, best.ci)})."


def _features(f: Finding) -> str:
    e, r = f.one("engineered"), f.one("baseline")
    head = (f"{e.model} on {e.features} ({pct(e.mean, e.ci)}) against the best model on raw input "
            f"({r.model}, {pct(r.mean, r.ci)})")
    if f.verdict == "not_separated":
        return (f"On {f.dataset} the evidence does not separate engineered features from raw input: {head}, "
                f"{signed(f.numbers['points'])} points.")
    verdict = "help" if f.verdict == "help" else "do not help"
    return f"On {f.dataset} engineered features {verdict}: {head}, {signed(f.numbers['points'])} points."


def _gap(f: Finding) -> str:
    r, d, n = f.one("baseline"), f.one("target"), f.numbers
    if f.verdict == "no_gap":
        return (f"On {f.dataset} there is no gap to close: classical models on raw input {said(r)} already "
                f"match or beat the best deep model {said(d)}.")
    e = f.one("engineered")
    how = (f"close {n['closed']:.0f}% of the" if f.verdict == "closed" else
           f"more than close (by {n['beyond']:.1f} points) the")
    text = (f"On {f.dataset} engineered features {how} {n['gap']:.1f}-point gap between classical models on "
            f"raw input {said(r)} and the best deep model {said(d)}: {label(e)} reaches {pct(e.mean, e.ci)}")
    if "cost_s" in n:
        text += (f" in {n['cost_s']:.2g} s of feature extraction and fit against the deep model's "
                 f"{n['deep_fit_s']:.2g} s of fit")
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
    best = f.one("best")
    listed = ", ".join(f"{s.variant} {pct(s.mean, s.ci)}" for s in f.of("variant"))
    where = "" if best.raw_input else f" on {best.features}"
    return (f"On {f.dataset} the variant of {best.model}{where} matters ({listed}): the best, {best.variant}, "
            f"is {f.numbers['spread']:.1f} points above the worst.")


def _ranks(f: Finding) -> str:
    listed = ", ".join(f"{s.model} {s.stats['rank']:.1f}" for s in f.of("model"))
    more = ", …" if f.numbers["models"] > len(f.of("model")) else ""
    return (f"Average rank over {f.numbers['datasets']} datasets (1 = most accurate; each model on its best "
            f"features): {listed}{more}.")


def _no_friedman(f: Finding) -> str:
    return (f"A Friedman test needs at least {f.numbers['min_datasets']} datasets on which at least "
            f"{f.numbers['min_models']} models all ran; this report has fewer, so it ranks without a test.")


def _friedman(f: Finding) -> str:
    n = f.numbers
    head = f"The Friedman test over {n['datasets']} datasets and {n['models']} models"
    stat = f"χ² = {n['statistic']:.1f}, p = {n['p_value']:.3g}"
    if f.verdict == "rejects":
        return (f"{head} rejects equal ranks ({stat}); models closer than the Nemenyi critical difference "
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
        return (f"On {f.dataset} the best deep model never beats the best classical pipeline beyond their 95% "
                "intervals at any training size tried.")
    d, c = f.one("ahead"), f.one("behind")
    return (f"On {f.dataset} the best deep model overtakes the best classical pipeline from "
            f"{f.numbers['n_train']:,.0f} training samples ({label(d, variant=False)} {pct(d.mean, d.ci)} against "
            f"{label(c, variant=False)} {pct(c.mean, c.ci)})"
            + (" and stays ahead at every larger size." if f.verdict == "stays" else
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
        text += f"; its arithmetic peaks at {top.stats['tflops']:.3g} TFLOP/s ({top.variant or 'default'})"
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


#: kind -> the function that writes a finding of that kind as one sentence.
TEMPLATES: dict[str, Callable[[Finding], str]] = {
    "head_to_head": _head_to_head, "no_rival": _no_rival, "tally": _tally, "best_model": _best_model,
    "features": _features, "gap": _gap, "near_chance": _near_chance, "variants": _variants,
    "ranks": _ranks, "no_friedman": _no_friedman, "friedman": _friedman, "friedman_left_out": _left_out,
    "gpu_speedup": _gpu_speedup, "size_leaders": _size_leaders, "overtake": _overtake,
    "reference": _reference, "threads": _threads, "throughput": _throughput, "no_gpu": _no_gpu,
    "all_ok": _all_ok, "not_ok": _not_ok, "no_accuracy": _no_accuracy, "no_result": _no_result,
}


def sentence(f: Finding) -> str:
    """The finding as one sentence."""
    return TEMPLATES[f.kind](f)
