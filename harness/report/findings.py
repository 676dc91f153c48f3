"""Findings: the suite's question answered as typed values computed from the summary.

Every function here returns :class:`Finding` values (a kind, the dataset, the configurations
it is about, its numbers and a verdict) and holds no English: ``wording`` turns each into a
sentence. A difference is a win only when the two 95% intervals over seeds do not overlap;
otherwise the verdict says the evidence does not separate them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import pandas as pd

from harness.report.stats import ALPHA, MIN_DATASETS, MIN_MODELS, Friedman, separated
from harness.report.tables import best_of
from harness.schema import CLASSICAL, DEEP, NO_CUDA

#: Balanced accuracy this close to 1 / n_classes (in points) is "near chance": a model this
#: close to guessing has learnt little whatever the seed-to-seed noise of a few points.
NEAR_CHANCE = 10.0
#: In a tie, fit times within this factor of each other are not worth a clause: seed-to-seed
#: timing noise on a shared machine is of that order.
TIE_FIT_RATIO = 1.2
#: A model with more variants than this on one dataset is a sweep for timing, left to the tables.
MAX_VARIANTS = 6
#: At least this many configurations of a model on one dataset and device make a hardware
#: sweep whose throughput range is worth stating (fewer are a handful of variants).
MIN_SWEEP_CONFIGS = 4
#: Lists of models (ranks, speedups) stop after this many: the tables carry the rest.
MAX_LISTED = 8

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
                          "fit_s": _num(row, "fit_s_median"), **stats})


def several_devices(summary: pd.DataFrame) -> bool:
    """Whether rows differ by device or thread count (then labels name the device)."""
    cols = [c for c in ("device", "threads") if c in summary]
    return len(summary[cols].drop_duplicates()) > 1 if len(summary) else False


def compare(dataset: str, a: pd.Series, b: pd.Series, show_device: bool = False) -> Finding:
    """The best of two families on a dataset: a win (``separated``) or a tie.

    A win lists the winner first; ``fit_ratio`` is the first subject's fit time over the
    second's, present only where it is worth saying.
    """
    diff = 100 * (a["accuracy_mean"] - b["accuracy_mean"])
    if separated(a["accuracy_mean"], a["accuracy_ci"], b["accuracy_mean"], b["accuracy_ci"]):
        win, lose = (a, b) if diff > 0 else (b, a)
        numbers = {"points": abs(diff)}
        ratio = win["fit_s_median"] / lose["fit_s_median"]
        if math.isfinite(ratio) and ratio > 0:
            numbers["fit_ratio"] = float(ratio)
        return Finding("head_to_head", dataset, (subject(win, "winner", show_device),
                                                 subject(lose, "loser", show_device)), numbers, "separated")
    both = math.isfinite(a["accuracy_ci"]) and math.isfinite(b["accuracy_ci"])
    numbers = {"points": abs(diff)}
    ratio = a["fit_s_median"] / b["fit_s_median"]
    if math.isfinite(ratio) and ratio > 0 and abs(math.log(ratio)) > math.log(TIE_FIT_RATIO):
        numbers["fit_ratio"] = float(ratio)
    return Finding("head_to_head", dataset, (subject(a, "a", show_device), subject(b, "b", show_device)),
                   numbers, "overlap" if both else "one_seed")


def family_findings(summary: pd.DataFrame, challenger: str, show_device: bool = False) -> list[Finding]:
    """Best classical against the best ``challenger`` (deep, else perceptron) on every dataset,
    and the tally of wins, ties and losses from the classical side."""
    best = best_of(summary, ["dataset", "family"])
    out, outcomes = [], []
    for dataset in sorted(summary["dataset"].unique()):
        have = {f for (d, f) in best.index if d == dataset}
        if {CLASSICAL, challenger} <= have:
            found = compare(dataset, best.loc[(dataset, CLASSICAL)], best.loc[(dataset, challenger)], show_device)
            out.append(found)
            outcomes.append(outcome(found))
        elif have:
            fam = CLASSICAL if CLASSICAL in have else sorted(have)[0]
            missing = challenger if fam == CLASSICAL else CLASSICAL
            out.append(Finding("no_rival", dataset, (subject(best.loc[(dataset, fam)], "best", show_device),
                                                     Subject(role="missing", family=missing))))
    if len(outcomes) >= 2:
        out.append(Finding("tally", None, (Subject(role="side", family=CLASSICAL),
                                           Subject(role="rival", family=challenger)),
                           {"datasets": len(outcomes), **{k: outcomes.count(k) for k in ("win", "tie", "loss")}}))
    return out


def outcome(found: Finding) -> str:
    """``win``, ``tie`` or ``loss`` of the classical side of a head-to-head finding."""
    if found.verdict != "separated":
        return "tie"
    return "win" if found.one("winner").family == CLASSICAL else "loss"


def head_to_head_table(found: list[Finding]) -> pd.DataFrame:
    """One row per head-to-head: the classical subject, the other, the difference and the outcome."""
    rows = []
    for f in found:
        if f.kind != "head_to_head":
            continue
        c, x = sorted(f.subjects, key=lambda s: s.family != CLASSICAL)
        rows.append({"dataset": f.dataset, "classical": c, "other": x, "points": 100 * (c.mean - x.mean),
                     "outcome": outcome(f)})
    return pd.DataFrame(rows, columns=["dataset", "classical", "other", "points", "outcome"])


def best_model_findings(summary: pd.DataFrame, show_device: bool = False) -> list[Finding]:
    """The best configuration per dataset, where there is no second family to compare."""
    return [Finding("best_model", str(dataset), (subject(row, "best", show_device),))
            for dataset, row in best_of(summary, ["dataset"]).iterrows()]


def feature_findings(summary: pd.DataFrame) -> list[Finding]:
    """Do engineered features beat the raw input, on datasets that tried both?

    Subjects: the best configuration on engineered features and the best on raw input
    (``baseline``); ``points``: the first's accuracy minus the second's.
    """
    rows = summary[summary["accuracy_mean"].notna()]
    out = []
    for dataset, g in rows.groupby("dataset", sort=True):
        raw, eng = g[g["raw_input"]], g[~g["raw_input"]]
        if raw.empty or eng.empty:
            continue
        e, r = eng.iloc[0], raw.iloc[0]  # summary rows are sorted best first
        diff = 100 * (e["accuracy_mean"] - r["accuracy_mean"])
        if separated(e["accuracy_mean"], e["accuracy_ci"], r["accuracy_mean"], r["accuracy_ci"]):
            verdict = "help" if diff > 0 else "no_help"
        else:
            verdict = "not_separated"
        out.append(Finding("features", dataset, (subject(e, "engineered"), subject(r, "baseline")),
                           {"points": float(diff)}, verdict))
    return out


def gap_findings(summary: pd.DataFrame) -> list[Finding]:
    """How much of the gap from classical-on-raw to the best deep model engineered features close.

    Subjects: the best classical configuration on raw input (``baseline``), the best deep one
    (``target``) and the best classical one on engineered features (``engineered``). The cost
    (``cost_s``) is the engineered pipeline's fit time plus its feature extraction
    (``features_s``), against the deep model's fit time (``deep_fit_s``).
    """
    rows = summary[summary["accuracy_mean"].notna()]
    out = []
    for dataset, g in rows.groupby("dataset", sort=True):
        classical, deep = g[g["family"] == CLASSICAL], g[g["family"] == DEEP]
        raw, eng = classical[classical["raw_input"]], classical[~classical["raw_input"]]
        if raw.empty or eng.empty or deep.empty:
            continue
        r, e, d = raw.iloc[0], eng.iloc[0], deep.iloc[0]  # sorted best first
        gap = d["accuracy_mean"] - r["accuracy_mean"]
        if gap <= 0:
            out.append(Finding("gap", dataset, (subject(r, "baseline"), subject(d, "target")), {}, "no_gap"))
            continue
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
    balance; each model is taken on its best features and variant. The subjects are the
    models ``near`` chance and the ``top`` model above it, if any.
    """
    if "n_classes_median" not in summary or "balanced_accuracy_mean" not in summary:
        return []
    rows = summary[summary["balanced_accuracy_mean"].notna() & summary["n_classes_median"].notna()]
    out = []
    for dataset, g in rows.groupby("dataset", sort=True):
        n_classes = float(g["n_classes_median"].iloc[0])
        chance = 1.0 / n_classes
        best = g.sort_values("balanced_accuracy_mean", ascending=False).drop_duplicates(["model", "device",
                                                                                         "threads"])
        above_by = 100 * (best["balanced_accuracy_mean"] - chance)
        near, above = best[above_by < NEAR_CHANCE], best[above_by >= NEAR_CHANCE]
        if near.empty:
            continue
        subjects = [subject(r, "near", metric="balanced_accuracy") for _, r in near.iterrows()]
        subjects += [subject(above.iloc[0], "top", metric="balanced_accuracy")] if len(above) else []
        out.append(Finding("near_chance", dataset, tuple(subjects),
                           {"chance": 100 * chance, "n_classes": n_classes, "within": NEAR_CHANCE}))
    return out


def variant_findings(summary: pd.DataFrame, max_variants: int = MAX_VARIANTS) -> list[Finding]:
    """Where a model's variants (e.g. its number of hidden layers) separate on a dataset.

    Training-set size is left to :func:`size_findings`; a model with more than
    ``max_variants`` variants on a dataset (a sweep for timing) is left to the tables.
    Subjects: every ``variant`` in order, then the ``best`` and the ``worst`` again.
    """
    rows = summary[summary["accuracy_mean"].notna() & (summary["variant"].astype(str) != "")]
    if "n_train_median" in rows:
        sizes = rows.groupby(CONFIG, dropna=False)["n_train_median"].transform("nunique")
        rows = rows[sizes <= 1]
    out = []
    for (dataset, *_), g in rows.groupby(CONFIG, sort=True, dropna=False):
        if not 2 <= len(g) <= max_variants:
            continue
        g = g.sort_values("variant", key=lambda v: v.str.len() * 1000 + v.rank(method="first"))
        hi, lo = g.loc[g["accuracy_mean"].idxmax()], g.loc[g["accuracy_mean"].idxmin()]
        if not separated(hi["accuracy_mean"], hi["accuracy_ci"], lo["accuracy_mean"], lo["accuracy_ci"]):
            continue
        subjects = [subject(r, "variant") for _, r in g.iterrows()] + [subject(hi, "best"), subject(lo, "worst")]
        out.append(Finding("variants", dataset, tuple(subjects),
                           {"spread": 100 * (hi["accuracy_mean"] - lo["accuracy_mean"])}))
    return out


def rank_findings(ranks: pd.Series, fried: Friedman | None, n_datasets: int) -> list[Finding]:
    """Average ranks, and the Friedman test on the models that ran on every dataset."""
    if ranks.empty or n_datasets < 2:
        return []
    listed = tuple(Subject(role="model", model=str(m), stats={"rank": float(r)})
                   for m, r in ranks.head(MAX_LISTED).items())
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


def size_findings(summary: pd.DataFrame) -> list[Finding]:
    """Where a suite varies the training-set size: which configuration leads at the smallest
    and the largest size, and from which size the best deep model overtakes the classical."""
    if "n_train_median" not in summary:
        return []
    out = []
    for dataset, g in summary[summary["accuracy_mean"].notna()].groupby("dataset", sort=True):
        sizes = sorted(g["n_train_median"].dropna().unique())
        if len(sizes) < 2:
            continue
        lead = [subject(g[g["n_train_median"] == n].iloc[0], role, n_train=float(n))
                for n, role in ((sizes[0], "smallest"), (sizes[-1], "largest"))]
        out.append(Finding("size_leaders", dataset, tuple(lead)))
        out += _overtake(dataset, g, sizes)
    return out


def _overtake(dataset: str, g: pd.DataFrame, sizes: list[float]) -> list[Finding]:
    """The smallest training size from which the best deep model beats the best classical one."""
    if not {DEEP, CLASSICAL} <= set(g["family"]):
        return []
    verdicts = []
    for n in sizes:
        at = g[g["n_train_median"] == n]
        best = {f: at[at["family"] == f].sort_values("accuracy_mean", ascending=False).head(1)
                for f in (DEEP, CLASSICAL)}
        if any(b.empty for b in best.values()):
            continue
        d, c = best[DEEP].iloc[0], best[CLASSICAL].iloc[0]
        lo_d = d["accuracy_mean"] - (d["accuracy_ci"] if pd.notna(d["accuracy_ci"]) else 0)
        hi_c = c["accuracy_mean"] + (c["accuracy_ci"] if pd.notna(c["accuracy_ci"]) else 0)
        verdicts.append((n, lo_d > hi_c, d, c))
    ahead = [v for v in verdicts if v[1]]
    if not ahead:
        return [Finding("overtake", dataset, (), {}, "never")]
    n, _, d, c = ahead[0]
    stays = all(v[1] for v in verdicts if v[0] >= n)
    return [Finding("overtake", dataset, (subject(d, "ahead"), subject(c, "behind")), {"n_train": float(n)},
                    "stays" if stays else "not_always")]


def reference_findings(summary: pd.DataFrame, reference: dict) -> list[Finding]:
    """Our accuracy beside published figures (``reference:`` in the suite, in %), per model.

    Subjects: a model that ``ran`` (its best accuracy, the published figure and the difference
    in points) or was ``not_run``, in the order of the reference.
    """
    if not reference or summary.empty:
        return []
    listed = []
    for model, published in reference.items():
        rows = summary[(summary["model"] == model) & summary["accuracy_mean"].notna()]
        if rows.empty:
            listed.append(Subject(role="not_run", model=str(model), stats={"published": float(published)}))
            continue
        top = rows.sort_values("accuracy_mean", ascending=False).iloc[0]
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
