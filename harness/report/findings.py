"""Findings: the suite's question answered in plain sentences computed from the summary.

Every claim carries its numbers and intervals. A difference is called a win only when the
two 95% intervals over seeds do not overlap; otherwise the sentence says the evidence does
not separate them. Sentences are plain text; the renderers escape them.
"""

from __future__ import annotations

import math

import pandas as pd

from harness.report.render import signed
from harness.report.stats import ALPHA, Friedman, separated
from harness.report.tables import best_of


def pct(mean: float, half: float) -> str:
    """``94.6% ± 0.4`` (the interval in points), or a note where there is none."""
    if not math.isfinite(mean):
        return "no accuracy"
    return f"{100 * mean:.1f}% ± {100 * half:.1f}" if math.isfinite(half) else f"{100 * mean:.1f}%, one seed"


def times(r: float) -> str:
    return f"{r:.1f}×" if r < 100 else f"{r:,.0f}×"


def label(row, multi_device: bool = False, variant: bool = True) -> str:
    """``random_forest on raw``, ``cnn@cuda with n_train=1000`` (deep nets on raw input go by name)."""
    text = row["model"] + (f"@{row['device']}" if multi_device else "")
    if row["features"] != "raw" or row["family"] != "deep":
        text += f" on {row['features']}"
    return text + (f" with {row['variant']}" if variant and row.get("variant") else "")


def compare(dataset: str, a: pd.Series, b: pd.Series, multi_device: bool = False) -> tuple[str, int]:
    """One sentence comparing the best of two families; and +1/0/-1 for a win/tie/loss of ``a``."""
    def said(r) -> str:
        return f"({label(r, multi_device)}, {pct(r['accuracy_mean'], r['accuracy_ci'])})"

    diff = 100 * (a["accuracy_mean"] - b["accuracy_mean"])
    if separated(a["accuracy_mean"], a["accuracy_ci"], b["accuracy_mean"], b["accuracy_ci"]):
        win, lose = (a, b) if diff > 0 else (b, a)
        text = (f"On {dataset} the best {win['family']} model {said(win)} beats the best "
                f"{lose['family']} model {said(lose)} by {abs(diff):.1f} points")
        ratio = win["fit_s_median"] / lose["fit_s_median"]
        if math.isfinite(ratio) and ratio > 0:
            text += (f" and needs {times(ratio)} its fit time" if ratio >= 1
                     else f" and fits {times(1 / ratio)} faster")
        return text + ".", (1 if diff > 0 else -1)
    why = ("their 95% intervals overlap" if math.isfinite(a["accuracy_ci"]) and math.isfinite(b["accuracy_ci"])
           else "without several seeds there is no interval")
    text = (f"On {dataset} the best {a['family']} model {said(a)} and the best {b['family']} model "
            f"{said(b)} are {abs(diff):.1f} points apart, but {why}, so the evidence does not separate them")
    ratio = a["fit_s_median"] / b["fit_s_median"]
    if math.isfinite(ratio) and ratio > 0 and abs(math.log(ratio)) > math.log(1.2):
        faster = a["family"] if ratio < 1 else b["family"]
        text += f"; the {faster} model fits {times(max(ratio, 1 / ratio))} faster"
    return text + ".", 0


def family_findings(summary: pd.DataFrame, challenger: str,
                    multi_device: bool) -> tuple[list[str], pd.DataFrame]:
    """Best classical against the best ``challenger`` (deep, else perceptron) on every dataset.

    Returns the sentences and the win/tie/loss table (outcomes from the classical side).
    """
    best = best_of(summary, ["dataset", "family"])
    out, table = [], []
    for dataset in sorted(summary["dataset"].unique()):
        have = {f for (d, f) in best.index if d == dataset}
        if {"classical", challenger} <= have:
            c, x = best.loc[(dataset, "classical")], best.loc[(dataset, challenger)]
            text, outcome = compare(dataset, c, x, multi_device)
            out.append(text)
            table.append({"dataset": dataset, "classical": label(c, multi_device),
                          "classical_acc": pct(c["accuracy_mean"], c["accuracy_ci"]),
                          challenger: label(x, multi_device),
                          f"{challenger}_acc": pct(x["accuracy_mean"], x["accuracy_ci"]),
                          "points": 100 * (c["accuracy_mean"] - x["accuracy_mean"]),
                          "outcome": {1: "win", 0: "tie", -1: "loss"}[outcome]})
        elif have:
            fam = "classical" if "classical" in have else sorted(have)[0]
            row = best.loc[(dataset, fam)]
            out.append(f"On {dataset} no {challenger if fam == 'classical' else 'classical'} model has a "
                       f"result; the best is {label(row, multi_device)} "
                       f"({pct(row['accuracy_mean'], row['accuracy_ci'])}).")
    table = pd.DataFrame(table)
    if len(table) >= 2:
        n = table["outcome"].value_counts()
        out.append(f"Across {len(table)} datasets the best classical model wins on {n.get('win', 0)}, ties on "
                   f"{n.get('tie', 0)} and loses on {n.get('loss', 0)} against the best {challenger} model "
                   "(a tie: the 95% intervals overlap or there is only one seed).")
    return out, table


def feature_findings(summary: pd.DataFrame) -> list[str]:
    """Do engineered features beat the raw input, on datasets that tried both?"""
    rows = summary[summary["accuracy_mean"].notna()]
    out = []
    for dataset, g in rows.groupby("dataset", sort=True):
        raw, eng = g[g["features"] == "raw"], g[g["features"] != "raw"]
        if raw.empty or eng.empty:
            continue
        e, r = eng.iloc[0], raw.iloc[0]  # summary rows are sorted best first
        diff = 100 * (e["accuracy_mean"] - r["accuracy_mean"])
        head = (f"{e['model']} on {e['features']} ({pct(e['accuracy_mean'], e['accuracy_ci'])}) against the best "
                f"model on raw input ({r['model']}, {pct(r['accuracy_mean'], r['accuracy_ci'])})")
        if separated(e["accuracy_mean"], e["accuracy_ci"], r["accuracy_mean"], r["accuracy_ci"]):
            verdict = "help" if diff > 0 else "do not help"
            out.append(f"On {dataset} engineered features {verdict}: {head}, {signed(diff)} points.")
        else:
            out.append(f"On {dataset} the evidence does not separate engineered features from raw input: "
                       f"{head}, {signed(diff)} points.")
    return out


def gap_findings(summary: pd.DataFrame) -> list[str]:
    """How much of the gap from classical-on-raw to the best deep model engineered features close.

    The cost is the classical pipeline's fit time plus its feature extraction (``features_s``),
    against the deep model's fit time.
    """
    rows = summary[summary["accuracy_mean"].notna()]
    out = []
    for dataset, g in rows.groupby("dataset", sort=True):
        classical, deep = g[g["family"] == "classical"], g[g["family"] == "deep"]
        raw, eng = classical[classical["features"] == "raw"], classical[classical["features"] != "raw"]
        if raw.empty or eng.empty or deep.empty:
            continue
        r, e, d = raw.iloc[0], eng.iloc[0], deep.iloc[0]  # sorted best first
        gap = d["accuracy_mean"] - r["accuracy_mean"]
        if gap <= 0:
            out.append(f"On {dataset} there is no gap to close: classical models on raw input "
                       f"({label(r)}, {pct(r['accuracy_mean'], r['accuracy_ci'])}) already match or beat "
                       f"the best deep model ({label(d)}, {pct(d['accuracy_mean'], d['accuracy_ci'])}).")
            continue
        closed = (e["accuracy_mean"] - r["accuracy_mean"]) / gap
        feat_s = e.get("features_s_median", math.nan)
        feat_s = feat_s if isinstance(feat_s, float) and math.isfinite(feat_s) else 0.0
        cost = e["fit_s_median"] + feat_s
        how = (f"close {100 * closed:.0f}% of the" if closed <= 1 else
               f"more than close (by {100 * (e['accuracy_mean'] - d['accuracy_mean']):.1f} points) the")
        text = (f"On {dataset} engineered features {how} "
                f"{100 * gap:.1f}-point gap between classical models on raw input ({label(r)}, "
                f"{pct(r['accuracy_mean'], r['accuracy_ci'])}) and the best deep model ({label(d)}, "
                f"{pct(d['accuracy_mean'], d['accuracy_ci'])}): {label(e)} reaches "
                f"{pct(e['accuracy_mean'], e['accuracy_ci'])}")
        if math.isfinite(cost) and cost > 0 and math.isfinite(d["fit_s_median"]):
            text += (f" in {cost:.2g} s of feature extraction and fit against the deep model's "
                     f"{d['fit_s_median']:.2g} s of fit")
        out.append(text + ".")
    return out


#: Balanced accuracy this close to 1 / n_classes (in points) is "near chance".
NEAR_CHANCE = 10.0


def chance_findings(summary: pd.DataFrame) -> list[str]:
    """Models no better, or barely better, than guessing: balanced accuracy near 1 / n_classes.

    Balanced accuracy is used because its chance level is 1 / n_classes whatever the class
    balance; each model is taken on its best features and variant.
    """
    if "n_classes_median" not in summary or "balanced_accuracy_mean" not in summary:
        return []
    rows = summary[summary["balanced_accuracy_mean"].notna() & summary["n_classes_median"].notna()]
    out = []
    for dataset, g in rows.groupby("dataset", sort=True):
        chance = 1.0 / float(g["n_classes_median"].iloc[0])
        best = g.sort_values("balanced_accuracy_mean", ascending=False).drop_duplicates(["model", "device"])
        near = best[100 * (best["balanced_accuracy_mean"] - chance) < NEAR_CHANCE]
        if near.empty:
            continue
        names = [f"{label(r, variant=False)} ({pct(r['balanced_accuracy_mean'], r['balanced_accuracy_ci'])})"
                 for _, r in near.iterrows()]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        verb = "is" if len(names) == 1 else "are"
        text = (f"On {dataset} {listed} {verb} near chance: balanced accuracy within {NEAR_CHANCE:g} points "
                f"of {100 * chance:.1f}% (1 in {round(1 / chance)} classes)")
        above = best[100 * (best["balanced_accuracy_mean"] - chance) >= NEAR_CHANCE]
        if not above.empty:
            top = above.iloc[0]
            text += (f", where {label(top, variant=True)} reaches "
                     f"{pct(top['balanced_accuracy_mean'], top['balanced_accuracy_ci'])}")
        out.append(text + ".")
    return out


def variant_findings(summary: pd.DataFrame, max_variants: int = 6) -> list[str]:
    """Where a model's variants (e.g. its number of hidden layers) separate on a dataset.

    Training-set size is left to :func:`size_findings`; a model with more than
    ``max_variants`` variants on a dataset (a sweep for timing) is left to the tables.
    """
    rows = summary[summary["accuracy_mean"].notna() & (summary["variant"].astype(str) != "")]
    if "n_train_median" in rows:
        sizes = rows.groupby(["dataset", "model", "features", "device"])["n_train_median"].transform("nunique")
        rows = rows[sizes <= 1]
    out = []
    for (dataset, model, feats, device), g in rows.groupby(["dataset", "model", "features", "device"], sort=True):
        if not 2 <= len(g) <= max_variants:
            continue
        g = g.sort_values("variant", key=lambda v: v.str.len() * 1000 + v.rank(method="first"))
        hi, lo = g.loc[g["accuracy_mean"].idxmax()], g.loc[g["accuracy_mean"].idxmin()]
        if not separated(hi["accuracy_mean"], hi["accuracy_ci"], lo["accuracy_mean"], lo["accuracy_ci"]):
            continue
        listed = ", ".join(f"{r['variant']} {pct(r['accuracy_mean'], r['accuracy_ci'])}" for _, r in g.iterrows())
        where = f" on {feats}" if feats != "raw" else ""
        out.append(f"On {dataset} the variant of {model}{where} matters ({listed}): the best, {hi['variant']}, "
                   f"is {100 * (hi['accuracy_mean'] - lo['accuracy_mean']):.1f} points above the worst.")
    return out


def rank_findings(ranks: pd.Series, fried: Friedman | None, n_datasets: int) -> list[str]:
    """Average ranks, and the Friedman test on the models that ran on every dataset."""
    if ranks.empty or n_datasets < 2:
        return []
    listing = ", ".join(f"{m} {r:.1f}" for m, r in ranks.head(8).items())
    out = [f"Average rank over {n_datasets} datasets (1 = most accurate; each model on its best features): "
           f"{listing}{', …' if len(ranks) > 8 else ''}."]
    if fried is None:
        return out + ["A Friedman test needs at least 3 datasets on which at least 3 models all ran; "
                      "this report has fewer, so it ranks without a test."]
    head = f"The Friedman test over {fried.n_datasets} datasets and {len(fried.models)} models"
    stat = f"χ² = {fried.statistic:.1f}, p = {fried.p_value:.3g}"
    if fried.significant:
        out.append(f"{head} rejects equal ranks ({stat}); models closer than the Nemenyi critical difference "
                   f"({fried.cd:.2f}) are not separated (see the diagram).")
    else:
        out.append(f"{head} does not reject equal ranks ({stat} ≥ {ALPHA}): the rank differences may be chance.")
    left_out = [m for m in ranks.index if m not in fried.models]
    if left_out:
        out.append(f"The test leaves out {', '.join(left_out)}: no result on every dataset.")
    return out


def gpu_findings(speedups: pd.DataFrame) -> list[str]:
    """GPU-over-CPU speedups per model, as medians over trial keys with their range."""
    if speedups.empty:
        return []
    parts = [f"{r.model} {times(r.median)}" + (f" ({times(r.min)}–{times(r.max)})" if r.n_keys > 1 else "")
             for r in speedups.head(8).itertuples()]
    return ["GPU over CPU fit-time speedup, median over trial keys: " + ", ".join(parts)
            + ". Above 1× the GPU is faster."]


def size_findings(summary: pd.DataFrame) -> list[str]:
    """Where a suite varies the training-set size: which family leads at the smallest and largest."""
    if "n_train_median" not in summary:
        return []
    out = []
    for dataset, g in summary[summary["accuracy_mean"].notna()].groupby("dataset", sort=True):
        sizes = sorted(g["n_train_median"].dropna().unique())
        if len(sizes) < 2:
            continue
        lead = []
        for n in (sizes[0], sizes[-1]):
            top = g[g["n_train_median"] == n].iloc[0]
            lead.append(f"with {n:,.0f} training samples {label(top, variant=False)} leads "
                        f"({pct(top['accuracy_mean'], top['accuracy_ci'])})")
        out.append(f"On {dataset} {lead[0]}; {lead[1]}.")
        out += _overtake(dataset, g, sizes)
    return out


def _overtake(dataset: str, g: pd.DataFrame, sizes: list[float]) -> list[str]:
    """The smallest training size from which the best deep model beats the best classical one."""
    if not {"deep", "classical"} <= set(g["family"]):
        return []
    verdicts = []
    for n in sizes:
        at = g[g["n_train_median"] == n]
        best = {f: at[at["family"] == f].sort_values("accuracy_mean", ascending=False).head(1)
                for f in ("deep", "classical")}
        if any(b.empty for b in best.values()):
            continue
        d, c = best["deep"].iloc[0], best["classical"].iloc[0]
        lo_d = d["accuracy_mean"] - (d["accuracy_ci"] if pd.notna(d["accuracy_ci"]) else 0)
        hi_c = c["accuracy_mean"] + (c["accuracy_ci"] if pd.notna(c["accuracy_ci"]) else 0)
        verdicts.append((n, lo_d > hi_c, d, c))
    ahead = [v for v in verdicts if v[1]]
    if not ahead:
        return [f"On {dataset} the best deep model never beats the best classical pipeline beyond "
                f"their 95% intervals at any training size tried."]
    n, _, d, c = ahead[0]
    stays = all(v[1] for v in verdicts if v[0] >= n)
    return [f"On {dataset} the best deep model overtakes the best classical pipeline from {n:,.0f} "
            f"training samples ({label(d, variant=False)} {pct(d['accuracy_mean'], d['accuracy_ci'])} "
            f"against {label(c, variant=False)} {pct(c['accuracy_mean'], c['accuracy_ci'])})"
            + (" and stays ahead at every larger size." if stays else ", though not at every larger size.")]


def reference_findings(summary: pd.DataFrame, reference: dict) -> list[str]:
    """Our accuracy beside published figures (``reference:`` in the suite, in %), per model."""
    if not reference or summary.empty:
        return []
    parts = []
    for model, published in reference.items():
        rows = summary[(summary["model"] == model) & summary["accuracy_mean"].notna()]
        if rows.empty:
            parts.append(f"{model} not run (published {published:g}%)")
            continue
        top = rows.sort_values("accuracy_mean", ascending=False).iloc[0]
        diff = 100 * top["accuracy_mean"] - float(published)
        parts.append(f"{model} {pct(top['accuracy_mean'], top['accuracy_ci'])} against the published "
                     f"{published:g}% ({diff:+.1f} points)")
    return ["Beside the published figures: " + "; ".join(parts) + "."]


def thread_findings(summary: pd.DataFrame) -> list[str]:
    """What more CPU threads buy: fit-time ratio of the fewest over the most threads, per model."""
    dev = summary["device"].astype(str)
    rows = summary[dev.str.contains("×") & summary["fit_s_median"].notna()]
    if rows.empty:
        return []
    rows = rows.assign(n=dev[rows.index].str.split("×").str[1].astype(int))
    ratios = {}
    for (model, _key, _machine), g in rows.groupby(["model", "key", "machine"]):
        if g["n"].nunique() > 1:
            lo, hi = g.loc[g["n"].idxmin()], g.loc[g["n"].idxmax()]
            ratio = lo["fit_s_median"] / hi["fit_s_median"]
            ratios.setdefault((model, int(lo["n"]), int(hi["n"])), []).append(ratio)
    out = []
    for (model, lo, hi), r in sorted(ratios.items()):
        r = pd.Series(r)
        out.append(f"{hi} CPU threads instead of {lo} fit {model} {times(r.median())} faster (median over "
                   f"{len(r)} configuration{'s' if len(r) != 1 else ''}, range {r.min():.2f}–{r.max():.2f}×; "
                   "below 1 means slower).")
    return out


def throughput_findings(summary: pd.DataFrame, min_configs: int = 4) -> list[str]:
    """The range of training throughput and achieved compute over a sweep of sizes and batches.

    Only where a model ran in at least ``min_configs`` configurations on one dataset and device
    (a hardware sweep, not a handful of variants).
    """
    need = {"samples_per_s_median", "achieved_tflops_median"}
    if not need <= set(summary.columns):
        return []
    rows = summary[summary["samples_per_s_median"].notna()]
    out = []
    for (dataset, model, device), g in rows.groupby(["dataset", "model", "device"], sort=True):
        if len(g) < min_configs:
            continue
        if "n_train_median" in g and g["n_train_median"].nunique() > 1:
            continue  # a data-size sweep: size_findings tells it
        slow, fast = g.loc[g["samples_per_s_median"].idxmin()], g.loc[g["samples_per_s_median"].idxmax()]
        text = (f"On {dataset} {model}@{device} trains at {slow['samples_per_s_median']:,.0f} samples/s "
                f"({slow['variant'] or 'default'}) to {fast['samples_per_s_median']:,.0f} samples/s "
                f"({fast['variant'] or 'default'})")
        flops = g[g["achieved_tflops_median"].notna()]
        if not flops.empty:
            top = flops.loc[flops["achieved_tflops_median"].idxmax()]
            text += (f"; its arithmetic peaks at {top['achieved_tflops_median']:.3g} TFLOP/s "
                     f"({top['variant'] or 'default'})")
        out.append(text + ".")
    return out


def missing_gpu_findings(counts_by_device: dict[str, int]) -> list[str]:
    """Say plainly when GPU trials were planned but this machine had none."""
    n = counts_by_device.get("cuda", 0)
    if not n:
        return []
    return [f"No GPU on the machine that ran this: its {n} GPU trial{'s were' if n != 1 else ' was'} "
            "skipped, so the GPU rows are absent from the tables and figures."]


def quality_findings(counts: dict[str, int], n_missing: int) -> list[str]:
    """What did not produce a number, and how the report treats it."""
    bad = {k: v for k, v in counts.items() if k != "ok" and v}
    out = []
    if counts and not bad:
        out.append(f"All {sum(counts.values()):,} trials finished ok.")
    if bad:
        total = sum(counts.values())
        listed = ", ".join(f"{v} {k}" for k, v in sorted(bad.items()))
        out.append(f"Of {total:,} trials, {listed}: they are left out of every statistic and listed "
                   "under Failures.")
    if n_missing:
        out.append(f"{n_missing:,} ok trial{'s have' if n_missing != 1 else ' has'} no accuracy (NaN) and "
                   "are left out of the accuracy statistics.")
    return out
