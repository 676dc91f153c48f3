"""Everything a report says, computed once from saved records; the renderers only format it."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from harness.report import findings as fd
from harness.report import tables
from harness.report.stats import Friedman, average_ranks, friedman
from harness.report.wording import sentence
from harness.schema import DEEP, PERCEPTRON


@dataclass
class SuiteAnswer:
    """A suite's question, its hypothesis and the findings that answer it."""

    name: str
    question: str
    hypothesis: str
    findings: list[fd.Finding]
    description: str = ""
    challenger: str = ""
    verdicts: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def sentences(self) -> list[str]:
        """The findings in words (``wording.TEMPLATES``)."""
        return [sentence(f) for f in self.findings]


@dataclass
class Figure:
    """A figure: the PNG written beside report.md (``path``) and, for report.html, the same figure
    as inline SVG (``svg``; empty: the page embeds the PNG)."""

    slug: str
    title: str
    path: Path
    caption: str = ""
    svg: str = ""


@dataclass
class Report:
    """The computed report: records, summary, statistics and answers; figures added by ``figures``."""

    runs: list[dict]
    records: pd.DataFrame
    summary: pd.DataFrame
    counts: dict[str, int]
    failures: pd.DataFrame
    scores: pd.DataFrame
    ranks: pd.Series
    friedman: Friedman | None
    speedups: pd.DataFrame
    answers: list[SuiteAnswer]
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def suites(self) -> list[str]:
        return sorted({r["suite"] for r in self.runs} | set(self.records["suite"].dropna().astype(str)))


def run_info(run_dir: Path, info: dict) -> dict:
    """What the report says about one run: where it ran and what it asked."""
    env = info.get("environment") or {}
    suite_cfg = (info.get("config") or {}).get("suite") or {}
    packages = env.get("packages") or {}
    return {"path": str(run_dir), "run_id": info.get("run_id", run_dir.name),
            "suite": str(info.get("suite") or suite_cfg.get("name") or "?"),
            "machine": tables.machine_label(env), "cores": env.get("usable_cores", "?"),
            "python": env.get("python", "?"), "sklearn": packages.get("scikit-learn", "?"),
            "torch": packages.get("torch", ""),
            "commit": ((env.get("git_harness") or {}).get("commit") or "")[:10],
            "question": str(suite_cfg.get("question") or ""),
            "hypothesis": str(suite_cfg.get("hypothesis") or ""),
            "description": str(suite_cfg.get("description") or ""),
            "reference": dict(suite_cfg.get("reference") or {}),
            "val_fraction": suite_cfg.get("val_fraction")}


def _largest_size(summary: pd.DataFrame) -> pd.DataFrame:
    """The rows at each dataset's largest training size, where the size varies; else all rows."""
    if "n_train_median" not in summary or summary.empty:
        return summary
    largest = summary.groupby("dataset")["n_train_median"].transform("max")
    varies = summary.groupby("dataset")["n_train_median"].transform("nunique") > 1
    return summary[~varies | (summary["n_train_median"] == largest)]


def answer(suite: str, summary: pd.DataFrame, records: pd.DataFrame, runs: list[dict]) -> SuiteAnswer:
    """The findings for one suite, from its own rows."""
    info = next((r for r in runs if r["suite"] == suite and r["question"]),
                next((r for r in runs if r["suite"] == suite), {}))
    families = set(summary["family"])
    challenger = DEEP if DEEP in families else PERCEPTRON if PERCEPTRON in families else ""
    show_device = fd.several_devices(summary)
    # Where a suite varies the training-set size, head-to-heads compare at the largest size
    # (size_findings tells the rest of the curve).
    at_most = _largest_size(summary)
    pairs = fd.Pairs.of(records)
    if challenger:
        found = fd.family_findings(at_most, pairs, challenger, show_device)
    else:
        found = fd.best_model_findings(summary, show_device)
    found += fd.chance_findings(summary)
    found += fd.variant_findings(summary, pairs)
    found += fd.feature_findings(at_most, pairs)
    found += fd.gap_findings(at_most, pairs)
    found += fd.size_findings(summary, pairs)
    scores = tables.model_scores(summary)
    found += fd.rank_findings(average_ranks(scores) if len(scores) else pd.Series(dtype=float),
                              friedman(scores), len(scores), scores.notna().sum())
    found += fd.reference_findings(summary, info.get("reference") or {})
    found += fd.thread_findings(summary)
    found += fd.throughput_findings(summary)
    found += fd.gpu_findings(tables.speedups_by_model(summary))
    fractions = [r.get("val_fraction") for r in runs if r["suite"] == suite]  # none known: assume carved
    found += fd.selection_findings(summary, carved=not fractions or any(f != 0 for f in fractions))
    found += fd.missing_gpu_findings(records)
    missing = int(summary["n_missing"].sum()) if len(summary) else 0
    found += fd.quality_findings(tables.status_counts(records), missing)
    if not found:
        found = fd.no_result_findings()
    return SuiteAnswer(suite, info.get("question", ""), info.get("hypothesis", ""), found,
                       info.get("description", ""), challenger, fd.verdict_table(found))


def build(dirs: list[Path], records: pd.DataFrame, infos: list[dict]) -> Report:
    """Compute every table and finding of a report (no plots, nothing written)."""
    runs = [run_info(d, i) for d, i in zip(dirs, infos)]
    machines = {r["path"]: r["machine"] for r in runs}
    if records.empty:
        warnings.warn("no records in these run dirs; the report says so", stacklevel=2)
    records = tables.prepare(records, machines)
    summary = tables.summarize(records)
    scores = tables.model_scores(summary) if len(summary) else pd.DataFrame()
    answers = []
    for suite in sorted(records["suite"].astype(str).unique()) if len(records) else []:
        sub = records[records["suite"].astype(str) == suite]
        answers.append(answer(suite, tables.summarize(sub) if len(set(records["suite"])) > 1 else summary,
                              sub, runs))
    return Report(runs=runs, records=records, summary=summary, counts=tables.status_counts(records),
                  failures=tables.failures(records), scores=scores,
                  ranks=average_ranks(scores) if len(scores) else pd.Series(dtype=float),
                  friedman=friedman(scores) if len(scores) else None,
                  speedups=tables.speedups_by_model(summary) if len(summary) else pd.DataFrame(),
                  answers=answers)
