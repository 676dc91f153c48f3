"""report.md: GitHub-flavoured Markdown that reads well as a PR comment or a CI step summary.

Every string that comes from a config, a dataset or an error is escaped, so a model named
``<script>`` or an error with ``|`` in it cannot break the page or the table.
"""

from __future__ import annotations

import re

from harness.report import render as rd
from harness.report.content import Report

_SPECIAL = re.compile(r"([\\`*\[\]<>|#])|(?<!\w)_|_(?!\w)")
MAX_FAILURE_ROWS = 30
#: Keeps report.md within what a PR comment holds (65,536 characters) for most suites.
MAX_ROWS_PER_DATASET = 30


def md_escape(text) -> str:
    """Escape what Markdown would read as markup (intraword ``_`` stays: GFM ignores it)."""
    text = str(text).replace("\r", " ").replace("\n", " ")
    return _SPECIAL.sub(lambda m: "\\" + m.group(0), text).replace("&", "&amp;")


def md_table(header: list[str], rows: list[list[str]], align: str = "") -> str:
    align = align or "l" * len(header)
    marks = {"l": ":--", "r": "--:", "c": ":-:", "w": ":--"}
    lines = ["| " + " | ".join(md_escape(h) for h in header) + " |",
             "| " + " | ".join(marks[a] for a in align) + " |"]
    lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def table(df, columns: list[rd.Column]) -> str:
    rows = [[text for text, _ in row] for row in rd.cells(df, columns)]
    return md_table([h for h, _, _ in columns], rows, "".join(a for _, a, _ in columns))


def _runs(report: Report) -> list[str]:
    lines = []
    for r in report.runs:
        extras = [f"Python {r['python']}", f"scikit-learn {r['sklearn']}"]
        extras += [f"torch {r['torch']}"] if r["torch"] else []
        extras = [md_escape(e) for e in extras]
        extras += [f"harness commit `{md_escape(r['commit'])}`"] if r["commit"] else []
        lines.append(f"- run `{md_escape(r['run_id'])}`: suite **{md_escape(r['suite'])}** on "
                     f"{md_escape(r['machine'])}, {md_escape(r['cores'])} cores; " + ", ".join(extras))
    return lines


def _figure(report: Report, slug_prefix: str) -> list[str]:
    return [f"![{md_escape(f.title)}]({f.path.name})\n\n*{md_escape(f.caption)}*\n"
            for f in report.figures if f.slug.startswith(slug_prefix)]


def build_markdown(report: Report) -> str:
    counts = ", ".join(f"{v:,} {k}" for k, v in sorted(report.counts.items())) or "no records"
    parts = [f"# harness report: {md_escape(', '.join(report.suites) or 'no suite')}", "", *_runs(report), "",
             f"Trials: {counts}.", ""]
    for a in report.answers:
        parts += [f"## Findings: suite {md_escape(a.name)}", ""]
        if a.description:
            parts += [f"*{md_escape(a.description)}*", ""]
        if a.question:
            parts += [f"**Question.** {md_escape(a.question)}", ""]
        if a.hypothesis:
            parts += [f"**Hypothesis** (stated before the run). {md_escape(a.hypothesis)}", ""]
        parts += [f"- {md_escape(s)}" for s in a.sentences] + [""]
        parts += _figure(report, f"summary-{a.name}")
        if len(a.head_to_head):
            parts += [f"### Best classical against best {a.challenger}: win / tie / loss", "",
                      table(a.head_to_head, rd.h2h_columns(a.challenger)), ""]
    if report.summary.empty:
        parts += ["## Results", "", "No records to summarise.", ""]
    else:
        parts += ["## Results per dataset", ""]
        columns = rd.summary_columns(report.summary)
        for dataset, g in report.summary.groupby("dataset", sort=True):
            parts += [f"### {md_escape(dataset)}", "", table(g.head(MAX_ROWS_PER_DATASET), columns), ""]
            if len(g) > MAX_ROWS_PER_DATASET:
                parts += [f"The {MAX_ROWS_PER_DATASET} most accurate of {len(g):,} configurations; all of them "
                          "are in report.html and summary.csv.", ""]
        parts += [rd.TREATMENT, ""]
    if len(report.ranks):
        ranks = rd.rank_rows(report.ranks, report.scores)
        parts += ["## Ranks across datasets", "", table(ranks, rd.rank_columns()), "", rd.RANK_NOTE, ""]
        parts += _figure(report, "critical-difference")
    if len(report.speedups):
        parts += ["## GPU over CPU", "", table(report.speedups, rd.speedup_columns()), ""]
    figures = [f for f in report.figures if not f.slug.startswith(("summary-", "critical-difference"))]
    if figures:
        parts += ["## Figures", ""]
        for f in figures:
            parts += [f"### {md_escape(f.title)}", "", f"![{md_escape(f.title)}]({f.path.name})", "",
                      f"*{md_escape(f.caption)}*", ""]
    if len(report.failures):
        n = int(report.failures["n"].sum())
        parts += ["## Failures", "", f"{n:,} trial{'s' if n != 1 else ''} did not produce a result; "
                  "grouped by configuration and message:", "",
                  table(report.failures.head(MAX_FAILURE_ROWS), rd.failure_columns()), ""]
        if len(report.failures) > MAX_FAILURE_ROWS:
            more = len(report.failures) - MAX_FAILURE_ROWS
            parts += [f"… and {more:,} more groups (see report.html or the records).", ""]
    if report.notes:
        parts += ["## Notes", ""] + [f"- {md_escape(n)}" for n in report.notes] + [""]
    parts += ["The aggregated table is in `summary.csv` and `summary.parquet`; the whole report with "
              "sortable tables in `report.html`.", ""]
    return "\n".join(parts)
