"""report.html: one self-contained page (inline CSS, figures as inline SVG, one small script),
written through the Jinja2 templates in ``templates/`` (``report.html.j2``, ``report.css``,
``sort.js``).

The template autoescapes: every string from a config, a dataset or an error is escaped where it
is written; only what this module marks ``Markup`` goes in as is (prose it escaped itself, the
SVG that matplotlib wrote, the page's own style and script). A Content-Security-Policy allows
only data: images, inline style, and the one script by its hash, so the page fetches nothing
from a network and a string that escaped escaping still could not run.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache
from html import escape

from harness.report import render as rd
from harness.report.content import Report
from harness.report.sections import Block, Bullets, Fig, Heading, Para, Table, sections


def esc(text) -> str:
    return escape(str(text), quote=True)


def prose(text: str) -> str:
    """Our own Markdown-flavoured notes (``code``, *emphasis*) as HTML, after escaping."""
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", esc(text))
    return re.sub(r"\*([^*]+)\*", r"<em>\1</em>", text)


@lru_cache(maxsize=1)
def environment():
    """The Jinja2 environment of the report's templates (package data of ``harness.report``)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(loader=PackageLoader("harness.report", "templates"), autoescape=True,
                       undefined=StrictUndefined, keep_trailing_newline=True)


def asset(name: str) -> str:
    """A template file's text as it is (the page's style and script)."""
    env = environment()
    return env.loader.get_source(env, name)[0]


def _key(value) -> str:
    if isinstance(value, float):
        return "-Infinity" if value == float("-inf") else repr(value)
    return str(value)


def block(b: Block) -> dict:
    """One block of a section as the plain values ``report.html.j2`` writes."""
    from markupsafe import Markup

    if isinstance(b, Para):
        return {"kind": "para", "style": b.style, "lead": b.lead,
                "text": Markup(prose(b.text)) if b.markup else b.text}
    if isinstance(b, Bullets):
        return {"kind": "bullets", "style": b.style, "entries": b.items}
    if isinstance(b, Heading):
        return {"kind": "heading", "text": b.text}
    if isinstance(b, Table):
        cap = b.max_rows.get("html", len(b.df))
        cut = (b.cut["html"].format(shown=cap, total=len(b.df), more=len(b.df) - cap)
               if len(b.df) > cap and "html" in b.cut else "")
        return {"kind": "table", "head": [(h, a) for h, a, _ in b.columns], "cut": cut,
                "rows": [[(t, _key(k), a) for (t, k), (_, a, _) in zip(row, b.columns)]
                         for row in rd.cells(b.df.head(cap), b.columns)]}
    if isinstance(b, Fig):
        f = b.figure
        return {"kind": "figure", "slug": f.slug, "title": f.title, "caption": f.caption,
                "svg": Markup(f.svg) if f.svg else "",
                "png": "" if f.svg else base64.b64encode(f.path.read_bytes()).decode("ascii")}
    raise TypeError(f"no HTML for {type(b).__name__}")


def _runs(report: Report) -> list[dict]:
    out = []
    for r in report.runs:
        extras = [f"Python {r['python']}", f"scikit-learn {r['sklearn']}"]
        extras += [f"torch {r['torch']}"] if r["torch"] else []
        extras += [f"harness commit {r['commit']}"] if r["commit"] else []
        out.append({**r, "extras": ", ".join(extras)})
    return out


def build_html(report: Report) -> str:
    from markupsafe import Markup

    script = asset("sort.js")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    csp = (f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'sha256-{digest}'; "
           "base-uri 'none'; form-action 'none'")
    secs = [{"id": s.id, "title": s.title, "blocks": [block(b) for b in s.blocks]} for s in sections(report)]
    return environment().get_template("report.html.j2").render(
        csp=csp, title=f"harness report: {', '.join(report.suites) or 'no suite'}",
        counts=", ".join(f"{v:,} {k}" for k, v in sorted(report.counts.items())) or "no records",
        sections=secs, runs=_runs(report), css=Markup(asset("report.css")), script=Markup(script))
