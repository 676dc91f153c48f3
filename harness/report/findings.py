"""Findings: the suite's question answered as typed values computed from the summary.

Every function here returns :class:`Finding` values (a kind, the dataset, the configurations
it is about, its numbers and a verdict) and holds no English: ``wording`` turns each into a
sentence.

Whatever a finding is about that is *chosen* (the best features of a model, the best of a
family, the best variant) is chosen on validation accuracy (``tables.choose``); test accuracy
is read once, for the chosen configurations. Two configurations are compared by a paired
head-to-head over data splits (``paired.compare``) with one of four verdicts: A better,
B better, practically equivalent, or undecided.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import pandas as pd

from harness.report import paired
from harness.report.stats import ALPHA, MIN_DATASETS, MIN_MODELS, Friedman
from harness.report.tables import SELECT, choose
from harness.schema import CLASSICAL, DEEP, NO_CUDA

#: Balanced accuracy this close to 1 / n_classes (in points) is "near chance": a model this
#: close to guessing has learnt little whatever the seed-to-seed noise of a few points.
NEAR_CHANCE = 10.0
#: Where a head-to-head is not decided, fit times within this factor of each other are not worth
#: a clause: seed-to-seed timing noise on a shared machine is of that order.
TIE_FIT_RATIO = 1.2
#: A model with more variants than this on one dataset is a sweep for timing, left to the tables.
MAX_VARIANTS = 6
#: At least this many configurations of a model on one dataset and device make a hardware
#: sweep whose throughput range is worth stating (fewer are a handful of variants).
MIN_SWEEP_CONFIGS = 4
#: Lists of GPU speedups stop after this many models: the table carries the rest.
MAX_LISTED = 8
#: The outcome of a head-to-head for its first side (``a``), by verdict.
OUTCOME = {paired.A_BETTER: "win", paired.B_BETTER: "loss", paired.EQUIVALENT: "equivalent",
           paired.UNDECIDED: "undecided"}
#: Finding kinds that carry a paired verdict, and the roles of their A and B sides.
PAIRED_ROLES = {"head_to_head": ("a", "b"), "features": ("engineered", "baseline")}

#: A summary row's configuration: these columns tell two rows apart within a dataset.
CONFIG = ["dataset", "model", "features", "device", "threads"]


@dataclass(frozen=True)
class Subject:
    """What a finding is about: a configuration (a summary row), a model, or a whole family.

    ``role`` says which part it plays in its finding (``winner``, ``raw``, ...); ``stats``
    holds its numbers: ``mean`` and ``ci`` (a fraction, of the metric the finding is about),
    ``fit_s`` and any the kind adds. ``show_device`` is set where the report compares devices.
    """

    role: str = ""
    model: str = ""
    family: str = ""
    features: str = ""
    raw_input: bool = False
    device: str = ""
    threads: int | None = None
    variant: str = ""
    show_device: bool = False
    stats: Mapping[str, float] = field(default_factory=dict)

    @property
    def mean(self) -> float:
        return self.stats.get("mean", math.nan)

    @property
    def ci(self) -> float:
        return self.stats.get("ci", math.nan)


@dataclass(frozen=True)
class Finding:
    """One answer: its ``kind`` (a key of ``wording.TEMPLATES``), the dataset it is on (None:
    the whole suite), its subjects, its numbers (points are percentage points) and a verdict."""

    kind: str
    dataset: str | None = None
    subjects: tuple[Subject, ...] = ()
    numbers: Mapping[str, float] = field(default_factory=dict)
    verdict: str = ""

    def of(self, role: str) -> tuple[Subject, ...]:
        """The subjects playing ``role``, in order."""
        return tuple(s for s in self.subjects if s.role == role)

    def one(self, role: str) -> Subject:
        """The subject playing ``role``."""
        found = self.of(role)
        if len(found) != 1:
            raise KeyError((self.kind, role, len(found)))
        return found[0]


def _num(row, col: str) -> float:
    v = row.get(col, math.nan) if hasattr(row, "get") else math.nan
    return float(v) if v is not None and not pd.isna(v) else math.nan


def subject(row, role: str = "", show_device: bool = False, metric: str = "accuracy", **stats) -> Subject:
    """A summary row as a finding's subject, with its ``metric`` as ``mean`` and ``ci``."""
    threads = row.get("threads")
    return Subject(role=role, model=str(row["model"]), family=str(row["family"]), features=str(row["features"]),
                   raw_input=bool(row.get("raw_input", False)), device=str(row["device"]),
                   threads=None if threads is None or pd.isna(threads) else int(threads),
                   variant=str(row.get("variant") or ""), show_device=show_device,
                   stats={"mean": _num(row, f"{metric}_mean"), "ci": _num(row, f"{metric}_ci"),
                          "fit_s": _num(row, "fit_s_median"), "val": _num(row, f"{SELECT}_mean"), **stats})


def several_devices(summary: pd.DataFrame) -> bool:
    """Whether rows differ by device or thread count (then labels name the device)."""
    cols = [c for c in ("device", "threads") if c in summary]
    return len(summary[cols].drop_duplicates()) > 1 if len(summary) else False


def _with_result(summary: pd.DataFrame) -> pd.DataFrame:
    """The configurations with at least one ok trial that has an accuracy (whatever its value)."""
    if "accuracy_n" in summary:
        return summary[summary["accuracy_n"] > 0]
    return summary[summary["accuracy_mean"].notna()]


def _ratio(a, b, col: str) -> float:
    """``a[col] / b[col]`` where both are finite and the divisor positive, else NaN."""
    x, y = _num(a, col), _num(b, col)
    return x / y if math.isfinite(x) and math.isfinite(y) and y > 0 else math.nan


@dataclass(frozen=True)
class Pairs:
    """Each configuration's test accuracy per split, the mean over its seeds (``paired.split_means``
    by the summary's ``config`` column): what a head-to-head pairs, split by split."""

    means: pd.DataFrame = field(default_factory=pd.DataFrame)

    @classmethod
    def of(cls, records: pd.DataFrame) -> "Pairs":
        """From prepared records (``tables.prepare``: they carry ``config`` and ``split``)."""
        if records.empty or "config" not in records:
            return cls()
        return cls(paired.split_means(records, "config"))

    def splits(self, row) -> pd.Series:
        """The per-split accuracies of a summary row's configuration (empty where it has none)."""
        config = row.get("config") if hasattr(row, "get") else None
        if config is None or config not in self.means.index:
            return pd.Series(dtype=float)
        return self.means.loc[config]

    def compare(self, a, b) -> paired.Paired:
        """A against B (summary rows), paired by split; ``n_test / n_train`` the larger of theirs."""
        ratios = [_test_share(a), _test_share(b)]
        finite = [r for r in ratios if math.isfinite(r)]
        return paired.compare(self.splits(a), self.splits(b), max(finite) if finite else math.nan)


def _test_share(row) -> float:
    """``n_test / n_train`` of a summary row (medians over its trials); NaN where unknown."""
    n_test, n_train = _num(row, "n_test_median"), _num(row, "n_train_median")
    return n_test / n_train if math.isfinite(n_test) and math.isfinite(n_train) and n_train > 0 else math.nan


def paired_numbers(p: paired.Paired) -> dict[str, float]:
    """A paired verdict's numbers, in points (A minus B): ``points``, ``low``/``high`` (where there
    is an interval), ``splits`` (J), ``rope``, and for an undecided one with an interval
    ``more_splits`` (splits beyond J that would likely decide) or ``cap`` (none up to it would)."""
    numbers = {"points": 100 * p.mean, "splits": p.n_splits, "rope": 100 * paired.ROPE}
    if math.isfinite(p.low) and math.isfinite(p.high):
        numbers.update(low=100 * p.low, high=100 * p.high)
    if p.verdict == paired.UNDECIDED and p.n_splits >= 2:
        if math.isfinite(p.splits_needed):
            numbers["more_splits"] = p.splits_needed - p.n_splits
        else:
            numbers["cap"] = paired.MAX_SPLITS
    return numbers


def compare(dataset: str, a: pd.Series, b: pd.Series, pairs: Pairs, show_device: bool = False) -> Finding:
    """A paired head-to-head of two summary rows (the best of two families) on a dataset.

    The verdict is ``paired.compare``'s (``a_better``, ``b_better``, ``equivalent``,
    ``undecided``); ``fit_ratio``, A's fit time over B's, is present where it is worth saying:
    for a decided verdict, or where the two differ by more than ``TIE_FIT_RATIO``.
    """
    p = pairs.compare(a, b)
    numbers = paired_numbers(p)
    ratio = _ratio(a, b, "fit_s_median")
    decided = p.verdict in (paired.A_BETTER, paired.B_BETTER)
    if math.isfinite(ratio) and ratio > 0 and (decided or abs(math.log(ratio)) > math.log(TIE_FIT_RATIO)):
        numbers["fit_ratio"] = float(ratio)
    return Finding("head_to_head", dataset, (subject(a, "a", show_device), subject(b, "b", show_device)),
                   numbers, p.verdict)


def family_findings(summary: pd.DataFrame, pairs: Pairs, challenger: str,
                    show_device: bool = False) -> list[Finding]:
    """Classical against ``challenger`` (deep, else perceptron) on every dataset, each side its
    family's configuration chosen on validation; then the tally of outcomes from the classical
    side and the Wilcoxon signed-rank test across datasets."""
    best = choose(summary, ["dataset", "family"])
    out, outcomes, diffs = [], [], []
    for dataset in sorted(summary["dataset"].unique()):
        have = {f for (d, f) in best.index if d == dataset}
        if {CLASSICAL, challenger} <= have:
            found = compare(dataset, best.loc[(dataset, CLASSICAL)], best.loc[(dataset, challenger)], pairs,
                            show_device)
            out.append(found)
            outcomes.append(OUTCOME[found.verdict])
            diffs.append(found.numbers["points"])
        elif have:
            fam = CLASSICAL if CLASSICAL in have else sorted(have)[0]
            missing = challenger if fam == CLASSICAL else CLASSICAL
            out.append(Finding("no_rival", dataset, (subject(best.loc[(dataset, fam)], "best", show_device),
                                                     Subject(role="missing", family=missing))))
    if len(outcomes) >= 2:
        sides = (Subject(role="side", family=CLASSICAL), Subject(role="rival", family=challenger))
        out.append(Finding("tally", None, sides, {"datasets": len(outcomes),
                                                  **{k: outcomes.count(k) for k in OUTCOME.values()}}))
        out.append(signed_rank_finding(diffs, sides))
    return out


def signed_rank_finding(diffs: list[float], sides: tuple[Subject, ...]) -> Finding:
    """The Wilcoxon signed-rank test of per-dataset mean differences (points, side minus rival)."""
    test = paired.signed_rank(diffs)
    if test is None:
        n = sum(1 for d in diffs if math.isfinite(d))
        return Finding("no_signed_rank", None, sides, {"datasets": n, "min_datasets": paired.MIN_SIGNED_RANK})
    return Finding("signed_rank", None, sides,
                   {"datasets": test.n_datasets, "statistic": test.statistic, "p_value": test.p_value,
                    "median": test.median, "alpha": ALPHA},
                   "rejects" if test.p_value < ALPHA else "does_not_reject")


#: The numbers of a paired verdict a verdict table shows (NaN where a finding has none).
VERDICT_NUMBERS = ("points", "low", "high", "splits", "more_splits", "cap")


def verdict_table(found: list[Finding]) -> pd.DataFrame:
    """One row per paired finding (``PAIRED_ROLES``): its kind, A and B (subjects), the verdict
    and its numbers; for a head-to-head A is the classical side."""
    rows = []
    for f in found:
        roles = PAIRED_ROLES.get(f.kind)
        if roles is None:
            continue
        rows.append({"dataset": f.dataset, "kind": f.kind, "a": f.one(roles[0]), "b": f.one(roles[1]),
                     "verdict": f.verdict, **{k: float(f.numbers.get(k, math.nan)) for k in VERDICT_NUMBERS}})
    return pd.DataFrame(rows, columns=["dataset", "kind", "a", "b", "verdict", *VERDICT_NUMBERS])


def best_model_findings(summary: pd.DataFrame, show_device: bool = False) -> list[Finding]:
    """The configuration chosen on validation per dataset, where there is no second family."""
    return [Finding("best_model", str(dataset), (subject(row, "best", show_device),))
            for dataset, row in choose(summary, ["dataset"]).iterrows()]


def feature_findings(summary: pd.DataFrame, pairs: Pairs) -> list[Finding]:
    """Do engineered features beat the raw input, on datasets that tried both?

    Subjects: the configuration on engineered features chosen on validation (``engineered``,
    A) and the one on raw input (``baseline``, B); the verdict and numbers of their paired
    head-to-head (``paired_numbers``, A minus B).
    """
    out = []
    for dataset, g in _with_result(summary).groupby("dataset", sort=True):
        raw, eng = g[g["raw_input"]], g[~g["raw_input"]]
        if raw.empty or eng.empty:
            continue
        e, r = choose(eng, ["dataset"]).iloc[0], choose(raw, ["dataset"]).iloc[0]
        p = pairs.compare(e, r)
        out.append(Finding("features", dataset, (subject(e, "engineered"), subject(r, "baseline")),
                           paired_numbers(p), p.verdict))
    return out


def gap_findings(summary: pd.DataFrame, pairs: Pairs) -> list[Finding]:
    """How much of the gap from classical-on-raw to the best deep model engineered features close.

    Subjects (each chosen on validation): the classical configuration on raw input
    (``baseline``), the deep one (``target``) and the classical one on engineered features
    (``engineered``). There is a gap only where the paired head-to-head finds the target
    better than the baseline; else the verdict is that head-to-head's (target as A) and the
    numbers are its. ``gap`` is the paired mean difference; ``closed`` the share of it the
    engineered configuration's mean accuracy covers. The cost (``cost_s``) is the engineered
    pipeline's fit time plus its feature extraction (``features_s``), against the deep
    model's fit time (``deep_fit_s``).
    """
    out = []
    for dataset, g in _with_result(summary).groupby("dataset", sort=True):
        classical, deep = g[g["family"] == CLASSICAL], g[g["family"] == DEEP]
        raw, eng = classical[classical["raw_input"]], classical[~classical["raw_input"]]
        if raw.empty or eng.empty or deep.empty:
            continue
        r, e, d = (choose(x, ["dataset"]).iloc[0] for x in (raw, eng, deep))
        p = pairs.compare(d, r)
        if p.verdict != paired.A_BETTER:
            out.append(Finding("gap", dataset, (subject(r, "baseline"), subject(d, "target")), paired_numbers(p),
                               p.verdict))
            continue
        gap = p.mean
        closed = (e["accuracy_mean"] - r["accuracy_mean"]) / gap
        numbers = {"gap": 100 * gap, "closed": 100 * closed}
        if closed > 1:
            numbers["beyond"] = 100 * (e["accuracy_mean"] - d["accuracy_mean"])
        feat_s = _num(e, "features_s_median")
        cost = e["fit_s_median"] + (feat_s if math.isfinite(feat_s) else 0.0)
        if math.isfinite(cost) and cost > 0 and math.isfinite(d["fit_s_median"]):
            numbers.update(cost_s=float(cost), deep_fit_s=float(d["fit_s_median"]))
        out.append(Finding("gap", dataset, (subject(r, "baseline"), subject(d, "target"), subject(e, "engineered")),
                           numbers, "closed" if closed <= 1 else "surpassed"))
    return out


def chance_findings(summary: pd.DataFrame) -> list[Finding]:
    """Models no better, or barely better, than guessing: balanced accuracy near 1 / n_classes.

    Balanced accuracy is used because its chance level is 1 / n_classes whatever the class
    balance; each model is taken on its features and variant chosen on validation. The
    subjects are the models ``near`` chance and the ``top`` model above it (chosen on
    validation among those), if any.
    """
    if "n_classes_median" not in summary or "balanced_accuracy_mean" not in summary:
        return []
    rows = summary[summary["balanced_accuracy_mean"].notna() & summary["n_classes_median"].notna()]
    out = []
    for dataset, g in rows.groupby("dataset", sort=True):
        n_classes = float(g["n_classes_median"].iloc[0])
        chance = 1.0 / n_classes
        best = choose(g, ["dataset", "model", "device", "threads"]).reset_index(drop=True)
        above_by = 100 * (best["balanced_accuracy_mean"] - chance)
        near, above = best[above_by < NEAR_CHANCE], best[above_by >= NEAR_CHANCE]
        if near.empty:
            continue
        subjects = [subject(r, "near", metric="balanced_accuracy") for _, r in near.iterrows()]
        if len(above):
            subjects.append(subject(choose(above, ["dataset"]).iloc[0], "top", metric="balanced_accuracy"))
        out.append(Finding("near_chance", dataset, tuple(subjects),
                           {"chance": 100 * chance, "n_classes": n_classes, "within": NEAR_CHANCE}))
    return out


def variant_findings(summary: pd.DataFrame, pairs: Pairs, max_variants: int = MAX_VARIANTS) -> list[Finding]:
    """Where a model's variants (e.g. its number of hidden layers) matter on a dataset.

    The ``best`` and ``worst`` variants are those with the highest and lowest validation
    accuracy; the variants matter where the paired head-to-head finds the best better than the
    worst on test (numbers: ``paired_numbers``, best minus worst). Without validation scores
    there is no best to choose, and nothing is said. Training-set size is left to
    :func:`size_findings`; a model with more than ``max_variants`` variants on a dataset (a
    sweep for timing) is left to the tables. Subjects: every ``variant`` in order, then the
    ``best`` and the ``worst`` again.
    """
    val_col = f"{SELECT}_mean"
    rows = _with_result(summary)
    rows = rows[rows["variant"].astype(str) != ""]
    if "n_train_median" in rows:
        sizes = rows.groupby(CONFIG, dropna=False)["n_train_median"].transform("nunique")
        rows = rows[sizes <= 1]
    out = []
    for (dataset, *_), g in rows.groupby(CONFIG, sort=True, dropna=False):
        if not 2 <= len(g) <= max_variants or val_col not in g or g[val_col].isna().any():
            continue
        g = g.sort_values("variant", key=lambda v: v.str.len() * 1000 + v.rank(method="first"))
        hi, lo = g.loc[g[val_col].idxmax()], g.loc[g[val_col].idxmin()]
        p = pairs.compare(hi, lo)
        if p.verdict != paired.A_BETTER:
            continue
        subjects = [subject(r, "variant") for _, r in g.iterrows()] + [subject(hi, "best"), subject(lo, "worst")]
        out.append(Finding("variants", dataset, tuple(subjects), paired_numbers(p), p.verdict))
    return out


def selection_findings(summary: pd.DataFrame, carved: bool = True) -> list[Finding]:
    """How configurations were chosen: on validation (``validation``), or, where some have no
    validation score, partly by the fallback rule of ``tables.choose``: ``fallback``, or
    ``no_validation`` where the suite carved none (``carved`` false: ``val_fraction: 0``).
    Numbers: ``configs`` with a result, ``missing`` of them without a validation score."""
    rows = _with_result(summary)
    if rows.empty:
        return []
    val_col = f"{SELECT}_mean"
    missing = int(rows[val_col].isna().sum()) if val_col in rows else len(rows)
    return [Finding("selection", None, (), {"configs": len(rows), "missing": missing},
                    "validation" if not missing else "fallback" if carved else "no_validation")]


def rank_findings(ranks: pd.Series, fried: Friedman | None, n_datasets: int,
                  ran_on: pd.Series | None = None) -> list[Finding]:
    """Average ranks, and the Friedman test on the models that ran on every dataset.

    ``ran_on``: the number of datasets each model has a score on; a model on fewer than all
    carries it (``on``), so its rank over those few is not read as one over every dataset."""
    if ranks.empty or n_datasets < 2:
        return []
    ran_on = ran_on if ran_on is not None else pd.Series(n_datasets, index=ranks.index)

    def stats(m, r) -> dict:
        n = int(ran_on.get(m, n_datasets))
        return {"rank": float(r), **({"on": n} if n < n_datasets else {})}

    # every model: the sentence is where a reader looks for one, so none is cut off
    listed = tuple(Subject(role="model", model=str(m), stats=stats(m, r)) for m, r in ranks.items())
    out = [Finding("ranks", None, listed, {"datasets": n_datasets, "models": len(ranks)})]
    if fried is None:
        return out + [Finding("no_friedman", None, (), {"min_datasets": MIN_DATASETS, "min_models": MIN_MODELS})]
    out.append(Finding("friedman", None, (), {"datasets": fried.n_datasets, "models": len(fried.models),
                                              "statistic": fried.statistic, "p_value": fried.p_value,
                                              "cd": fried.cd, "alpha": ALPHA},
                       "rejects" if fried.significant else "does_not_reject"))
    left_out = tuple(Subject(role="left_out", model=str(m)) for m in ranks.index if m not in fried.models)
    if left_out:
        out.append(Finding("friedman_left_out", None, left_out))
    return out


def gpu_findings(speedups: pd.DataFrame) -> list[Finding]:
    """GPU-over-CPU speedups per model, as medians over trial keys with their range."""
    if speedups.empty:
        return []
    listed = tuple(Subject(role="model", model=str(r.model),
                           stats={"median": r.median, "min": r.min, "max": r.max, "keys": r.n_keys})
                   for r in speedups.head(MAX_LISTED).itertuples())
    return [Finding("gpu_speedup", None, listed)]


def size_findings(summary: pd.DataFrame, pairs: Pairs) -> list[Finding]:
    """Where a suite varies the training-set size: which configuration leads (chosen on
    validation) at the smallest and the largest size, and from which size the deep model is
    better than the classical one in a paired head-to-head."""
    if "n_train_median" not in summary:
        return []
    out = []
    for dataset, g in _with_result(summary).groupby("dataset", sort=True):
        sizes = sorted(g["n_train_median"].dropna().unique())
        if len(sizes) < 2:
            continue
        lead = [subject(choose(g[g["n_train_median"] == n], ["dataset"]).iloc[0], role, n_train=float(n))
                for n, role in ((sizes[0], "smallest"), (sizes[-1], "largest"))]
        out.append(Finding("size_leaders", dataset, tuple(lead)))
        out += _overtake(dataset, g, sizes, pairs)
    return out


def _overtake(dataset: str, g: pd.DataFrame, sizes: list[float], pairs: Pairs) -> list[Finding]:
    """The smallest training size from which the deep model (chosen on validation) is better
    than the classical one in a paired head-to-head (``paired.A_BETTER``, deep as A)."""
    if not {DEEP, CLASSICAL} <= set(g["family"]):
        return []
    verdicts = []
    for n in sizes:
        at = g[g["n_train_median"] == n]
        chosen = {f: choose(at[at["family"] == f], ["dataset"]) for f in (DEEP, CLASSICAL)}
        if any(b.empty for b in chosen.values()):
            continue
        d, c = chosen[DEEP].iloc[0], chosen[CLASSICAL].iloc[0]
        verdicts.append((n, pairs.compare(d, c).verdict == paired.A_BETTER, d, c))
    ahead = [v for v in verdicts if v[1]]
    if not ahead:
        return [Finding("overtake", dataset, (), {}, "never")]
    n, _, d, c = ahead[0]
    stays = all(v[1] for v in verdicts if v[0] >= n)
    return [Finding("overtake", dataset, (subject(d, "ahead"), subject(c, "behind")), {"n_train": float(n)},
                    "stays" if stays else "not_always")]


def reference_findings(summary: pd.DataFrame, reference: dict) -> list[Finding]:
    """Our accuracy beside published figures (``reference:`` in the suite, in %), per model.

    Subjects: a model that ``ran`` (the test accuracy of its configuration chosen on
    validation, the published figure and the difference in points) or was ``not_run``, in
    the order of the reference.
    """
    if not reference or summary.empty:
        return []
    chosen = choose(_with_result(summary), ["model"])
    listed = []
    for model, published in reference.items():
        if model not in chosen.index:
            listed.append(Subject(role="not_run", model=str(model), stats={"published": float(published)}))
            continue
        top = chosen.loc[model]
        listed.append(Subject(role="ran", model=str(model),
                              stats={"mean": float(top["accuracy_mean"]), "ci": _num(top, "accuracy_ci"),
                                     "published": float(published),
                                     "points": 100 * top["accuracy_mean"] - float(published)}))
    return [Finding("reference", None, tuple(listed))]


def thread_findings(summary: pd.DataFrame) -> list[Finding]:
    """What more CPU threads buy: fit-time ratio of the fewest over the most threads, per model."""
    if "threads" not in summary:
        return []
    rows = summary[summary["threads"].notna() & summary["fit_s_median"].notna()]
    ratios: dict[tuple, list[float]] = {}
    for (model, _key, _machine), g in rows.groupby(["model", "key", "machine"]):
        if g["threads"].nunique() > 1:
            lo, hi = g.loc[g["threads"].idxmin()], g.loc[g["threads"].idxmax()]
            ratios.setdefault((model, int(lo["threads"]), int(hi["threads"])), []).append(
                lo["fit_s_median"] / hi["fit_s_median"])
    out = []
    for (model, lo, hi), r in sorted(ratios.items()):
        r = pd.Series(r)
        out.append(Finding("threads", None, (Subject(role="model", model=str(model)),),
                           {"fewer": lo, "more": hi, "median": float(r.median()), "min": float(r.min()),
                            "max": float(r.max()), "configs": len(r)}))
    return out


def throughput_findings(summary: pd.DataFrame, min_configs: int = MIN_SWEEP_CONFIGS) -> list[Finding]:
    """The range of training throughput and achieved compute over a sweep of sizes and batches.

    Only where a model ran in at least ``min_configs`` configurations on one dataset and device
    (a hardware sweep, not a handful of variants). Subjects: the ``slowest``, the ``fastest``
    and, where measured, the configuration whose arithmetic ``peak``s.
    """
    need = {"samples_per_s_median", "achieved_tflops_median"}
    if not need <= set(summary.columns):
        return []
    rows = summary[summary["samples_per_s_median"].notna()]
    out = []
    for (dataset, *_), g in rows.groupby(["dataset", "model", "device", "threads"], sort=True, dropna=False):
        if len(g) < min_configs:
            continue
        if "n_train_median" in g and g["n_train_median"].nunique() > 1:
            continue  # a data-size sweep: size_findings tells it

        def at(row, role):
            return subject(row, role, samples_per_s=_num(row, "samples_per_s_median"),
                           tflops=_num(row, "achieved_tflops_median"))

        subjects = [at(g.loc[g["samples_per_s_median"].idxmin()], "slowest"),
                    at(g.loc[g["samples_per_s_median"].idxmax()], "fastest")]
        flops = g[g["achieved_tflops_median"].notna()]
        if not flops.empty:
            subjects.append(at(flops.loc[flops["achieved_tflops_median"].idxmax()], "peak"))
        out.append(Finding("throughput", dataset, tuple(subjects)))
    return out


def missing_gpu_findings(records: pd.DataFrame) -> list[Finding]:
    """GPU trials planned but skipped because the machine had no GPU (``skip_reason``)."""
    if "skip_reason" not in records or records.empty:
        return []
    n = int((records["status"].eq("skipped") & records["skip_reason"].eq(NO_CUDA)).sum())
    return [Finding("no_gpu", None, (), {"trials": n})] if n else []


def quality_findings(counts: dict[str, int], n_missing: int) -> list[Finding]:
    """What did not produce a number: trials by status (``numbers``: ``trials`` and one count per
    status that is not ok), and ok trials without an accuracy."""
    bad = {k: v for k, v in counts.items() if k != "ok" and v}
    out = []
    if counts and not bad:
        out.append(Finding("all_ok", None, (), {"trials": sum(counts.values())}))
    if bad:
        out.append(Finding("not_ok", None, (), {"trials": sum(counts.values()), **bad}))
    if n_missing:
        out.append(Finding("no_accuracy", None, (), {"trials": n_missing}))
    return out


def no_result_findings() -> list[Finding]:
    """Said when nothing else is: no trial finished with a result."""
    return [Finding("no_result")]
