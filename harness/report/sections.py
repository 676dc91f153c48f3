"""The report's sections, defined once: both report.md and report.html walk ``SECTIONS``.

A section is a title and a list of blocks (paragraphs, lists, tables, figures); each
renderer knows how to write a block and nothing about which sections there are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import pandas as pd

from harness.report import render as rd
from harness.report.content import Figure, Report, SuiteAnswer
from harness.report.wording import COMPARISONS


@dataclass(frozen=True)
class Para:
    """A paragraph: ``lead`` in bold, then ``text``; ``style`` ``note`` (small print) or
    ``question``; ``markup``: the text carries our own ``code`` and *emphasis* marks."""

    text: str
    lead: str = ""
    style: str = ""
    markup: bool = False


@dataclass(frozen=True)
class Bullets:
    """A list of plain-text items; ``style`` ``findings`` for the answers of a suite."""

    items: list[str]
    style: str = ""


@dataclass(frozen=True)
class Heading:
    """A sub-heading inside a section."""

    text: str


@dataclass(frozen=True)
class Table:
    """A table of ``df`` by ``columns``.

    ``max_rows`` caps the rows per output format (``md``, ``html``; absent: every row) and
    ``cut`` is said under a capped table, formatted with ``shown``, ``total`` and ``more``.
    """

    df: pd.DataFrame
    columns: list[rd.Column]
    max_rows: Mapping[str, int] = field(default_factory=dict)
    cut: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Fig:
    """A figure; ``titled``: where the figure stands alone, its title heads it."""

    figure: Figure
    titled: bool = False


Block = Para | Bullets | Heading | Table | Fig


@dataclass(frozen=True)
class Section:
    """One section of the page: its anchor, its title and its blocks."""

    id: str
    title: str
    blocks: list[Block]


#: Rows of one dataset's results table in report.md: keeps it within what a PR comment
#: holds (65,536 characters) for most suites; report.html has every row.
MAX_ROWS_PER_DATASET = 30
#: The heading of a suite's table of paired verdicts.
VERDICTS = "Head-to-heads: paired verdicts over splits"
#: Groups of failures listed, per format: report.md stays short, report.html has room.
MAX_FAILURE_ROWS = {"md": 30, "html": 200}


def _findings(report: Report, a: SuiteAnswer) -> list[Block]:
    """What a reader looks at first, then what they read: the question, the verdict table and the
    summary figure; then the description, the hypothesis and the findings in words."""
    blocks: list[Block] = [Para(a.question, lead="Question.", style="question")] if a.question else []
    if len(a.verdicts):
        kinds = set(a.verdicts["kind"])
        what = f" ({COMPARISONS.get(next(iter(kinds)), '')})" if len(kinds) == 1 else ""  # else a column says
        blocks += [Heading(VERDICTS + what.replace(" ()", "")), Table(a.verdicts, rd.verdict_columns(a.verdicts["kind"]))]
    blocks += [Fig(f) for f in report.figures if f.slug == f"summary-{a.name}"]
    blocks += [Para(a.description, style="note")] if a.description else []
    blocks += [Para("(stated before the run). " + a.hypothesis, lead="Hypothesis")] if a.hypothesis else []
    blocks += [Bullets(a.sentences, style="findings")]
    if len(a.verdicts):
        blocks += [Para(rd.VERDICT_NOTE, lead="How the head-to-heads are decided.", style="note", markup=True)]
    return blocks


def _results(report: Report) -> list[Block]:
    if report.summary.empty:
        return [Para("No records to summarise.")]
    columns = rd.summary_columns(report.summary)
    blocks: list[Block] = []
    for dataset, g in report.summary.groupby("dataset", sort=True):
        blocks += [Heading(str(dataset)), Table(
            g, columns, {"md": MAX_ROWS_PER_DATASET},
            {"md": "The {shown} most accurate of {total:,} configurations; all of them are in report.html "
                   "and summary.csv."})]
    return blocks + [Para(rd.TREATMENT, style="note", markup=True)]


def _ranks(report: Report) -> list[Block]:
    if not len(report.ranks):
        return []
    return [Table(rd.rank_rows(report.ranks, report.scores), rd.rank_columns()),
            Para(rd.RANK_NOTE, style="note", markup=True),
            *(Fig(f) for f in report.figures if f.slug == "critical-difference")]


def _gpu(report: Report) -> list[Block]:
    return [Table(report.speedups, rd.speedup_columns())] if len(report.speedups) else []


def _figures(report: Report) -> list[Block]:
    return [Fig(f, titled=True) for f in report.figures
            if not f.slug.startswith(("summary-", "critical-difference", "published"))]  # published: in its section


def _failures(report: Report) -> list[Block]:
    if not len(report.failures):
        return []
    n = int(report.failures["n"].sum())
    return [Para(f"{n:,} trial{'s' if n != 1 else ''} did not produce a result; grouped by configuration and "
                 "message:"),
            Table(report.failures, rd.failure_columns(), MAX_FAILURE_ROWS,
                  {"md": "… and {more:,} more groups (see report.html or the records).",
                   "html": "… and {more:,} more groups (see the records)."})]


def _published(report: Report) -> list[Block]:
    from harness.report.ucr import published_blocks  # the UCR section (only where a run has UCR data)

    return published_blocks(report)


def _tuning(report: Report) -> list[Block]:
    from harness.report.tuning import blocks  # builds this module's blocks

    return blocks(report)


def _notes(report: Report) -> list[Block]:
    return [Bullets(report.notes)] if report.notes else []


#: The report's sections in reading order: ``(id, title, blocks)``; a ``{suite}`` in the id
#: and title repeats the section for every suite. A section without blocks is left out.
SECTIONS: tuple[tuple[str, str, Callable[..., list[Block]]], ...] = (
    ("findings-{suite}", "Findings: suite {suite}", _findings),
    ("published", "Beside the published figures (UCR archive)", _published),
    ("tuning", "Default vs tuned", _tuning),
    ("results", "Results per dataset", _results),
    ("ranks", "Ranks across datasets", _ranks),
    ("gpu", "GPU over CPU", _gpu),
    ("figures", "Figures", _figures),
    ("failures", "Failures", _failures),
    ("notes", "Notes", _notes),
)


def sections(report: Report) -> list[Section]:
    """The sections of ``report`` with their blocks, in reading order."""
    out = []
    for ident, title, make in SECTIONS:
        if "{suite}" in ident:
            out += [Section(ident.format(suite=a.name), title.format(suite=a.name), make(report, a))
                    for a in report.answers]
        elif blocks := make(report):
            out.append(Section(ident, title, blocks))
    return out
