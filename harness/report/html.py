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
from harness.report.sections import Block, Bullets, Fig, Heading, Para, Table, sections


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


def block(b: Block) -> str:
    """One block of a section as HTML."""
    if isinstance(b, Para):
        cls = f' class="{esc(b.style)}"' if b.style else ""
        lead = f"<b>{esc(b.lead)}</b> " if b.lead else ""
        return f"<p{cls}>{lead}{prose(b.text) if b.markup else esc(b.text)}</p>"
    if isinstance(b, Bullets):
        cls = f' class="{esc(b.style)}"' if b.style else ""
        return f"<ul{cls}>" + "".join(f"<li>{esc(s)}</li>" for s in b.items) + "</ul>"
    if isinstance(b, Heading):
        return f"<h3>{esc(b.text)}</h3>"
    if isinstance(b, Table):
        cap = b.max_rows.get("html", len(b.df))
        out = table(b.df.head(cap), b.columns)
        if len(b.df) > cap and "html" in b.cut:
            out += f"<p>{esc(b.cut['html'].format(shown=cap, total=len(b.df), more=len(b.df) - cap))}</p>"
        return out
    if isinstance(b, Fig):
        return figure(b.figure)
    raise TypeError(f"no HTML for {type(b).__name__}")


def build_html(report: Report) -> str:
    script = SCRIPT
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    csp = (f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'sha256-{digest}'; "
           "base-uri 'none'; form-action 'none'")
    title = f"harness report: {', '.join(report.suites) or 'no suite'}"
    counts = ", ".join(f"{v:,} {k}" for k, v in sorted(report.counts.items())) or "no records"
    secs = sections(report)
    nav = "".join(f'<li><a href="#{esc(s.id)}">{esc(s.title)}</a></li>' for s in secs)
    main = "\n".join(f'<section id="{esc(s.id)}"><h2>{esc(s.title)}</h2>{"".join(block(b) for b in s.blocks)}'
                     "</section>" for s in secs)
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
