"""report.md: GitHub-flavoured Markdown that reads well as a PR comment or a CI step summary.

Every string that comes from a config, a dataset or an error is escaped, so a model named
``<script>`` or an error with ``|`` in it cannot break the page or the table.
"""

from __future__ import annotations

import os
import re

from harness.report import render as rd
from harness.report.content import Report
from harness.report.sections import Block, Bullets, Fig, Heading, Para, Table, sections

_SPECIAL = re.compile(r"([\\`*\[\]<>|#])|(?<!\w)_|_(?!\w)")


def md_escape(text) -> str:
    """Escape what Markdown would read as markup (intraword ``_`` stays: GFM ignores it)."""
    text = str(text).replace("\r", " ").replace("\n", " ")
    return _SPECIAL.sub(lambda m: "\\" + m.group(0), text).replace("&", "&amp;")


def md_table(header: list[str], rows: list[list[str]], align: str = "") -> str:
    """A GFM table of already-formatted cells, escaped here.

    Hand-written rather than ``DataFrame.to_markdown``: that needs ``tabulate``, which is no
    dependency of harness and not in the oldest versions CI tests (.ci/oldest.txt), so a report
    would fail where it is missing; and tabulate pads every cell to its column's width (measured:
    11,627 against 7,141 characters for 100 rows with one 80-character column), and a PR comment
    holds 65,536.
    """
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


def block(b: Block) -> list[str]:
    """One block of a section as Markdown lines."""
    if isinstance(b, Para):
        text = b.text if b.markup else md_escape(b.text)
        if b.style == "note" and not b.markup:
            text = f"*{text}*"
        return [f"**{md_escape(b.lead)}** {text}" if b.lead else text, ""]
    if isinstance(b, Bullets):
        return [f"- {md_escape(s)}" for s in b.items] + [""]
    if isinstance(b, Heading):
        return [f"### {md_escape(b.text)}", ""]
    if isinstance(b, Table):
        cap = b.max_rows.get("md", len(b.df))
        lines = [table(b.df.head(cap), b.columns), ""]
        if len(b.df) > cap and "md" in b.cut:
            lines += [b.cut["md"].format(shown=cap, total=len(b.df), more=len(b.df) - cap), ""]
        return lines
    if isinstance(b, Fig):
        f = b.figure
        head = [f"### {md_escape(f.title)}", ""] if b.titled else []
        return head + [figure_image(f.title, f.path.name), "", f"*{md_escape(f.caption)}*", ""]
    raise TypeError(f"no Markdown for {type(b).__name__}")


#: Where report.md's images point. Unset: the PNG next to report.md (``fig-x.png``), right for the
#: run dir and its artifact. A URL: that URL plus the file name, for figures published where a
#: PR comment can show them. Set but empty: no image, a note naming the file, so the Markdown
#: reads whole where relative images would break (a PR comment, a step summary).
FIGURE_BASE_URL = "HARNESS_FIGURE_BASE_URL"


def figure_image(title: str, name: str) -> str:
    """The Markdown of one figure's image, as ``HARNESS_FIGURE_BASE_URL`` says."""
    base = os.environ.get(FIGURE_BASE_URL)
    if base is None:
        return f"![{md_escape(title)}]({name})"
    if not base.strip():
        return f"*(figure `{md_escape(name)}` not shown here: it is next to report.md in the run dir)*"
    url = f"{base.strip().rstrip('/')}/{name}"
    for char, code in ((" ", "%20"), ("(", "%28"), (")", "%29"), ("<", "%3C"), (">", "%3E")):
        url = url.replace(char, code)
    return f"![{md_escape(title)}]({url})"


def build_markdown(report: Report) -> str:
    counts = ", ".join(f"{v:,} {k}" for k, v in sorted(report.counts.items())) or "no records"
    parts = [f"# harness report: {md_escape(', '.join(report.suites) or 'no suite')}", "", *_runs(report), "",
             f"Trials: {counts}.", ""]
    for sec in sections(report):
        parts += [f"## {md_escape(sec.title)}", ""]
        for b in sec.blocks:
            parts += block(b)
    parts += ["The aggregated table is in `summary.csv` and `summary.parquet`; the whole report with "
              "sortable tables in `report.html`.", ""]
    return "\n".join(parts)
