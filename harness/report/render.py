"""Render report tables as GitHub-flavoured Markdown."""

from __future__ import annotations

import math

import pandas as pd


def fmt_pct(mean: float, half: float) -> str:
    if not math.isfinite(mean):
        return "—"
    return f"{100 * mean:.1f}" + (f" ± {100 * half:.1f}" if math.isfinite(half) else "")


def fmt_s(seconds: float) -> str:
    if not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def md_escape(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def md_table(header: list[str], rows: list[list[str]], align: str = "") -> str:
    align = align or "l" * len(header)
    marks = {"l": ":--", "r": "--:", "c": ":-:"}
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(marks[a] for a in align) + " |"]
    lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def accuracy_table(summary: pd.DataFrame) -> str:
    header = ["features", "model", "family", "device", "accuracy % (95% CI)", "seeds",
              "fit (median)", "predict (median)", "failed"]
    rows = [[r.features, r.model, r.family, r.device, fmt_pct(r.accuracy_mean, r.accuracy_ci),
             str(r.n_ok), fmt_s(r.fit_s_median), fmt_s(r.predict_s_median),
             str(r.n_failed) + (f" (+{r.n_skipped} skipped)" if r.n_skipped else "")]
            for r in summary.itertuples()]
    return md_table(header, rows, "lllllrrrr")
