"""A comparison as Markdown (a PR comment, ``$GITHUB_STEP_SUMMARY``) and as JSON."""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from enum import Enum

import numpy as np

from harness.compare.match import calibration_of
from harness.compare.verdict import ORDER, Comparison, Group, Test, Untested

_COLUMNS = (("accuracy", "accuracy Δ pts"), ("fit_s", "fit time ×"), ("predict_s", "predict time ×"),
            ("1/samples_per_s", "time/sample ×"), ("mem_growth_mb", "memory ×"),
            ("peak_rss_mb", "peak memory ×"))


def _text(x) -> str:
    """A string from data (a label, an error, a note, a path) as Markdown text that stays text:
    the report's escaping (``|``, newlines, Markdown marks, ``&``), with ``<`` and ``>`` as entities."""
    from harness.report.markdown import md_escape

    return md_escape(x).replace("\\<", "&lt;").replace("\\>", "&gt;")


def _code(x, table: bool = True) -> str:
    """A string from data in a code span: no backtick can close it, no newline or ``|`` break the row."""
    text = " ".join(str(x).replace("`", "'").split())
    return f"`{text.replace('|', chr(92) + '|') if table else text}`" if text else ""


def _num(x: float, digits: int = 2) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{x:.{digits}f}".replace("-", "−")


def _cell(t: Test | None) -> str:
    if t is None:
        return ""
    if t.outcome == "untested":
        return f"{_num(t.effect)} (untested)" if t.untested is Untested.TOO_FEW else "–"
    text = f"{'+' if t.kind == 'quality' and t.effect > 0 else ''}{_num(t.effect)} [{_num(t.low)}, {_num(t.high)}]"
    if t.outcome in ("regressed", "improved"):
        text = f"**{text}**"
    return text


def _why(g: Group) -> str:
    parts = [g.note] if g.note else []
    for t in g.tests:
        if t.outcome in ("regressed", "improved"):
            size = f"{t.effect:+.2f} pts" if t.kind == "quality" else f"×{t.effect:.2f}"
            parts.append(f"{t.metric} {t.outcome} {size} (q={t.q:.2g}, {t.method})")
    if g.confirmed:
        parts.append(g.confirmed)
    return _text("; ".join(parts))


def _calibrations(c: Comparison) -> str:
    def score(side):
        vals = [v for v in map(calibration_of, side.runs.values()) if math.isfinite(v)]
        return float(np.median(vals)) if vals else math.nan

    b, k = score(c.baseline), score(c.candidate)
    if not (math.isfinite(b) and math.isfinite(k)):
        return ""
    text = f"Calibration: baseline {b * 1000:.1f} ms, candidate {k * 1000:.1f} ms"
    if c.time_mode == "same" and abs(k / b - 1) > 0.2 and not c.load_note:
        text += (f" — the machine was {abs(k / b - 1):.0%} {'slower' if k > b else 'faster'} "
                 "for the candidate; time verdicts on a busy machine need --confirm or --normalise")
    return text + "."


def markdown(c: Comparison, max_unchanged: int = 200) -> str:
    o = c.options
    counts = c.counts
    summary = ", ".join(f"{counts[v]} {v}" for v in ORDER if counts[v])
    n_tests = sum(1 for g in c.groups for t in g.tests if math.isfinite(t.p))
    lines = [f"### harness compare: {'REGRESSION' if c.exit_code else 'no regression'} — {summary} "
             f"({len(c.groups)} groups)", "",
             f"Baseline {_code(c.baseline.name, table=False)} ({len(c.baseline.runs)} run(s)) · candidate "
             f"{_code(c.candidate.name, table=False)} ({len(c.candidate.runs)} run(s)).", "",
             f"{_text(c.time_note)} {_text(_calibrations(c))}".strip(), "",
             f"Regression: quality down by more than {o.acc_tol:g} points (paired by split and seed; exact McNemar "
             f"on the same test examples for reproducible trials or 1–2 seeds), or time ratio above "
             f"{o.time_tol:g} with its 95% interval above {o.low:g}; significant at a false discovery "
             f"rate of {o.alpha:g} (Benjamini-Hochberg per metric across groups, {n_tests} tests). Times "
             f"under {o.min_time_s * 1000:g} ms and memory growth under {o.min_mem_mb:g} MB are not tested. Cells: effect [95% interval]; bold "
             "decides the verdict."]
    if c.load_note:
        lines += ["", f"**Load:** {_text(c.load_note)} (`--load-guard`); re-run on a quieter machine, or "
                  "`--confirm` with a baseline that can be re-run."]
    if c.confirm_note:
        lines += ["", _text(c.confirm_note)]
    present = [(m, h) for m, h in _COLUMNS if any(g.test(m) for g in c.groups)]
    head = ["verdict", "trial", "where", "seeds"] + [h for _, h in present] + ["why"]
    lines += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    shown = 0
    for g in c.groups:
        if g.verdict == "unchanged":
            shown += 1
            if shown > max_unchanged:
                continue
        verdict = f"**{g.verdict}**" if g.counts_as_regression else g.verdict
        seeds = f"{len(g.seeds_base)}/{len(g.seeds_cand)}" if g.seeds_base or g.seeds_cand else ""
        cells = [verdict, f"{_text(g.label)} {_code(g.key)}".strip(), _text(g.where), seeds]
        cells += [_cell(g.test(m)) for m, _ in present] + [_why(g)]
        lines.append("| " + " | ".join(cells) + " |")
    if shown > max_unchanged:
        lines.append(f"\n… and {shown - max_unchanged} more unchanged groups (see the JSON).")
    return "\n".join(lines) + "\n"


def _clean(obj):
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        return _clean(obj.item())
    return obj


def to_dict(c: Comparison) -> dict:
    def side(s):
        return {"name": s.name, "files": [str(f) for f in s.files], "runs": sorted(map(str, s.runs)),
                "fingerprints": sorted(f for f in s.fingerprints if f),
                "calibration_s": {str(k): (v.get("calibration") or {}).get("score_s") for k, v in s.runs.items()}}

    return _clean({"exit_code": c.exit_code, "counts": c.counts, "time_mode": c.time_mode,
                   "time_note": c.time_note, "confirm_note": c.confirm_note, "load_note": c.load_note,
                   "options": asdict(c.options), "baseline": side(c.baseline),
                   "candidate": side(c.candidate), "groups": [g.to_dict() for g in c.groups]})


def to_json(c: Comparison) -> str:
    return json.dumps(to_dict(c), indent=2, allow_nan=False) + "\n"
