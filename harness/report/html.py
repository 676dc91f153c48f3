"""report.html: one self-contained page (inline CSS, figures as PNG data, one small script).

Every string from a config, a dataset or an error passes through ``esc``. A Content-Security-
Policy allows only data: images, the inline style, and the one script by its hash, so the
page fetches nothing from a network and a string that escaped escaping still could not run.
"""

from __future__ import annotations

import base64
import hashlib
import re
from html import escape

from harness.report import render as rd
from harness.report.assets import CSS, SCRIPT
from harness.report.content import Report

MAX_FAILURE_ROWS = 200


def esc(text) -> str:
    return escape(str(text), quote=True)


def prose(text: str) -> str:
    """Our own Markdown-flavoured notes (``code``, *emphasis*) as HTML, after escaping."""
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", esc(text))
    return re.sub(r"\*([^*]+)\*", r"<em>\1</em>", text)


def _key(value) -> str:
    if isinstance(value, float):
        return "-Infinity" if value == float("-inf") else repr(value)
    return str(value)


def table(df, columns: list[rd.Column], caption: str = "") -> str:
    head = "".join(f'<th scope="col" class="{a}">{esc(h)}</th>' for h, a, _ in columns)
    body = "\n".join("<tr>" + "".join(f'<td class="{a}" data-v="{esc(_key(k))}">{esc(t)}</td>'
                                      for (t, k), (_, a, _) in zip(row, columns)) + "</tr>"
                     for row in rd.cells(df, columns))
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return (f'<div class="scroll"><table class="sortable">{cap}<thead><tr>{head}</tr></thead>'
            f"<tbody>\n{body}\n</tbody></table></div>")


def figure(f) -> str:
    data = base64.b64encode(f.path.read_bytes()).decode("ascii")
    return (f'<figure id="fig-{esc(f.slug)}"><img src="data:image/png;base64,{data}" alt="{esc(f.title)}">'
            f"<figcaption>{esc(f.title)}. {esc(f.caption)}</figcaption></figure>")


def _runs(report: Report) -> str:
    items = []
    for r in report.runs:
        extras = [f"Python {r['python']}", f"scikit-learn {r['sklearn']}"]
        extras += [f"torch {r['torch']}"] if r["torch"] else []
        extras += [f"harness commit {r['commit']}"] if r["commit"] else []
        items.append(f"<li>run <code>{esc(r['run_id'])}</code>: suite <b>{esc(r['suite'])}</b> on "
                     f"{esc(r['machine'])}, {esc(r['cores'])} cores; {esc(', '.join(extras))}</li>")
    return "<ul>" + "".join(items) + "</ul>"


def _sections(report: Report) -> list[tuple[str, str, str]]:
    """``(id, title, html)`` for every section, in reading order."""
    out = []
    for a in report.answers:
        body = f'<p class="note">{esc(a.description)}</p>' if a.description else ""
        body += f'<p class="question"><b>Question.</b> {esc(a.question)}</p>' if a.question else ""
        if a.hypothesis:
            body += f"<p><b>Hypothesis</b> (stated before the run). {esc(a.hypothesis)}</p>"
        body += "<ul class=\"findings\">" + "".join(f"<li>{esc(s)}</li>" for s in a.sentences) + "</ul>"
        body += "".join(figure(f) for f in report.figures if f.slug == f"summary-{a.name}")
        if len(a.head_to_head):
            body += (f"<h3>Best classical against best {esc(a.challenger)}: win / tie / loss</h3>"
                     + table(a.head_to_head, rd.h2h_columns(a.challenger)))
        out.append((f"findings-{a.name}", f"Findings: suite {a.name}", body))
    if report.summary.empty:
        out.append(("results", "Results", "<p>No records to summarise.</p>"))
    else:
        columns = rd.summary_columns(report.summary)
        body = "".join(f"<h3>{esc(d)}</h3>" + table(g, columns)
                       for d, g in report.summary.groupby("dataset", sort=True))
        out.append(("results", "Results per dataset", body + f'<p class="note">{prose(rd.TREATMENT)}</p>'))
    if len(report.ranks):
        body = table(rd.rank_rows(report.ranks, report.scores), rd.rank_columns())
        body += f'<p class="note">{prose(rd.RANK_NOTE)}</p>'
        body += "".join(figure(f) for f in report.figures if f.slug == "critical-difference")
        out.append(("ranks", "Ranks across datasets", body))
    if len(report.speedups):
        out.append(("gpu", "GPU over CPU", table(report.speedups, rd.speedup_columns())))
    figs = [f for f in report.figures if not f.slug.startswith(("summary-", "critical-difference"))]
    if figs:
        out.append(("figures", "Figures", "".join(figure(f) for f in figs)))
    if len(report.failures):
        n = int(report.failures["n"].sum())
        body = (f"<p>{n:,} trial{'s' if n != 1 else ''} did not produce a result; grouped by configuration "
                "and message.</p>")
        body += table(report.failures.head(MAX_FAILURE_ROWS), rd.failure_columns())
        if len(report.failures) > MAX_FAILURE_ROWS:
            body += f"<p>… and {len(report.failures) - MAX_FAILURE_ROWS:,} more groups (see the records).</p>"
        out.append(("failures", "Failures", body))
    if report.notes:
        out.append(("notes", "Notes", "<ul>" + "".join(f"<li>{esc(n)}</li>" for n in report.notes) + "</ul>"))
    return out


def build_html(report: Report) -> str:
    script = SCRIPT
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    csp = (f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'sha256-{digest}'; "
           "base-uri 'none'; form-action 'none'")
    title = f"harness report: {', '.join(report.suites) or 'no suite'}"
    counts = ", ".join(f"{v:,} {k}" for k, v in sorted(report.counts.items())) or "no records"
    sections = _sections(report)
    nav = "".join(f'<li><a href="#{esc(i)}">{esc(t)}</a></li>' for i, t, _ in sections)
    main = "\n".join(f'<section id="{esc(i)}"><h2>{esc(t)}</h2>{b}</section>' for i, t, b in sections)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<style>{CSS}</style></head>
<body><header><h1>{esc(title)}</h1>{_runs(report)}<p>Trials: {esc(counts)}. Click a column header to sort.</p>
<nav><ul>{nav}</ul></nav></header>
<main>
{main}
</main>
<footer><p>Written by <code>harness report</code> from saved records; nothing here re-ran a model.
The aggregated table is in summary.csv and summary.parquet.</p></footer>
<script>{script}</script>
</body></html>
"""
