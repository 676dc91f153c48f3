"""Assemble report.md from records and run info."""

from __future__ import annotations

import pandas as pd

from harness.report.render import accuracy_table
from harness.report.tables import status_counts, summarize


def _header(infos: list[dict]) -> list[str]:
    lines = []
    for info in infos:
        env = info.get("environment", {})
        suite = info.get("config", {}).get("suite", {})
        git = (env.get("git_harness") or {}).get("commit", "")[:10]
        lines.append(f"- run `{info.get('run_id', '?')}`: suite **{info.get('suite', '?')}**, "
                     f"{env.get('cpu_model', '?')} ({env.get('usable_cores', '?')} cores), "
                     f"Python {env.get('python', '?')}, scikit-learn {env.get('packages', {}).get('scikit-learn', '?')}"
                     + (f", torch {env['packages']['torch']}" if 'torch' in env.get('packages', {}) else "")
                     + (f", harness commit `{git}`" if git else ""))
        if suite.get("question"):
            lines.append(f"  - question: {suite['question']}")
    return lines


def build_markdown(df: pd.DataFrame, infos: list[dict]) -> str:
    suites = sorted({i.get("suite", "?") for i in infos})
    parts = [f"# harness report: {', '.join(suites)}", ""]
    parts += _header(infos)
    counts = status_counts(df)
    parts += ["", "Trials: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())), ""]
    summary = summarize(df)
    for dataset, table in summary.groupby("dataset", sort=True):
        parts += [f"## {dataset}", "", accuracy_table(table), ""]
    parts += [
        "Accuracy is the mean over seeds of `ok` trials with a 95% Student-t interval "
        "(no interval with one seed). Failed and timed-out trials are counted in *failed* and "
        "left out of every statistic, never imputed; skipped trials (e.g. no GPU) are counted apart. "
        "Times are medians over seeds: *fit* excludes data loading and feature extraction.", ""]
    failed = df[df["status"].isin(["failed", "timeout"])]
    if len(failed):
        parts += ["## Failures", ""]
        for r in failed.head(20).itertuples():
            parts.append(f"- {r.dataset}/{r.features}/{r.model} seed {r.seed}: `{r.error}`")
        if len(failed) > 20:
            parts.append(f"- ... and {len(failed) - 20} more (see records)")
        parts.append("")
    return "\n".join(parts)
