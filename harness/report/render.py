"""Formatting shared by the Markdown and HTML renderers: numbers, units, table columns.

A column is ``(header, align, cell)`` (align: ``l`` left, ``r`` right, ``w`` left and
wrapping, for long text such as error messages) where ``cell(row) -> (text, sort_key)``: Markdown
shows the text, HTML also carries the sort key so a click sorts numbers as numbers.
"""

from __future__ import annotations

import math
from typing import Callable

import pandas as pd

Cell = Callable[[object], tuple[str, object]]
Column = tuple[str, str, Cell]

TREATMENT = (
    "Each row is one configuration; statistics are over seeds of its `ok` trials: mean, standard "
    "deviation (sd, in points) and a 95% Student-t interval (none with one seed; ± 0.0 means every seed "
    "gave the same accuracy, e.g. a deterministic model on a fixed split, not that it is known "
    "exactly). Failed and "
    "timed-out trials are counted in *failed* and left out of every statistic, never imputed; "
    "skipped trials (e.g. no GPU) are counted apart; `ok` trials with a missing (NaN) metric are "
    "counted as *missing* and left out of that metric. Times are medians over seeds; *fit* "
    "excludes data loading and feature extraction; *to target*: wall time until a deep net first "
    "reaches its target validation accuracy. *× fastest*: median fit time over the fastest "
    "configuration on the dataset. *GPU ×*: median CPU fit time over median GPU fit time for the "
    "same trial key (the same machine's CPU where it has one, else the fastest CPU).")
RANK_NOTE = ("Each model on its best features and device per dataset; ties share the mean rank. "
             "The average is over the datasets the model ran on (see *datasets*).")


def finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def fmt_pct(mean: float, half: float = math.nan) -> str:
    if not finite(mean):
        return "—"
    return f"{100 * mean:.1f}" + (f" ± {100 * half:.1f}" if finite(half) else "")


def fmt_s(seconds: float) -> str:
    if not finite(seconds):
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


#: Ratios from this size on are shown without a decimal: ``120×``, not ``120.3×``.
WHOLE_RATIO = 100


def fmt_x(ratio: float) -> str:
    """``4.2×``, ``1,234×``."""
    if not finite(ratio):
        return "—"
    return f"{ratio:.1f}×" if ratio < WHOLE_RATIO else f"{ratio:,.0f}×"


def device_label(device: str, threads=None) -> str:
    """``cuda``; ``cpu×2`` where the row is one thread count of a thread sweep."""
    return device if threads is None or pd.isna(threads) else f"{device}×{int(threads)}"


def signed(points: float) -> str:
    """``+1.5``; a difference that rounds to zero shows as ``+0.0``, never ``-0.0``."""
    return f"{round(points, 1) + 0.0:+.1f}" if finite(points) else "—"


def fmt_num(x: float) -> str:
    if not finite(x):
        return "—"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _num(x) -> float:
    return float(x) if finite(x) else -math.inf


def text(header: str, attr: str, align: str = "l") -> Column:
    """A column showing ``row.<attr>`` as text and sorting by it."""
    return (header, align, lambda r: (str(getattr(r, attr)), str(getattr(r, attr))))


def number(header: str, attr: str, fmt: Callable[[float], str]) -> Column:
    """A right-aligned column formatted by ``fmt`` and sorting numerically (missing last)."""
    return (header, "r", lambda r: (fmt(getattr(r, attr)), _num(getattr(r, attr))))


def with_ci(header: str, metric: str) -> Column:
    return (header, "r", lambda r: (fmt_pct(getattr(r, f"{metric}_mean"), getattr(r, f"{metric}_ci")),
                                    _num(getattr(r, f"{metric}_mean"))))


def _has(summary: pd.DataFrame, col: str) -> bool:
    return col in summary and bool(summary[col].notna().any())


def summary_columns(summary: pd.DataFrame) -> list[Column]:
    """The per-dataset table's columns; optional ones only where some row has a value."""
    cols = [text(c, c) for c in ("features", "model", "family")]
    cols.append(("device", "l", lambda r: (device_label(r.device, r.threads),) * 2))
    if summary["machine"].nunique() > 1:
        cols.append(text("machine", "machine"))
    if (summary["variant"] != "").any():
        cols.append(text("variant", "variant"))
    cols += [with_ci("accuracy % (95% CI)", "accuracy"), number("sd", "accuracy_std", fmt_pct),
             with_ci("F1 macro %", "f1_macro"), number("fit", "fit_s_median", fmt_s),
             number("predict", "predict_s_median", fmt_s), number("× fastest", "fit_vs_fastest", fmt_x)]
    if _has(summary, "epoch_s_median"):
        cols.append(number("epoch", "epoch_s_median", fmt_s))
    if _has(summary, "samples_per_s_median"):
        cols.append(number("samples/s", "samples_per_s_median", fmt_num))
    if _has(summary, "achieved_tflops_median"):
        cols.append(number("TFLOP/s", "achieved_tflops_median", lambda x: f"{x:.3g}" if finite(x) else "—"))
    if _has(summary, "time_to_target_s_median"):
        cols.append(number("to target", "time_to_target_s_median", fmt_s))
    if _has(summary, "gpu_speedup"):
        cols.append(number("GPU ×", "gpu_speedup", fmt_x))
    return cols + [("ok/trials", "r", lambda r: (f"{r.n_ok}/{r.n_trials}", r.n_ok)),
                   ("failed", "r", lambda r: (_bad(r), r.n_failed + r.n_skipped + r.n_missing))]


def _bad(r) -> str:
    parts = [f"{n} {what}" for n, what in ((r.n_failed, "failed"), (r.n_skipped, "skipped"),
                                            (r.n_missing, "missing")) if n]
    return ", ".join(parts) or "0"


def rank_columns() -> list[Column]:
    return [text("model", "model"), number("average rank", "rank", lambda x: f"{x:.2f}"),
            number("datasets", "n", str)]


def rank_rows(ranks: pd.Series, scores: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"model": ranks.index, "rank": ranks.to_numpy(),
                         "n": scores[ranks.index].notna().sum().to_numpy()})


def h2h_columns(challenger: str) -> list[Column]:
    """Columns of ``findings.head_to_head_table``: its subjects as labels and accuracies."""
    from harness.report.wording import label, pct

    def who(attr: str) -> Cell:
        return lambda r: (label(getattr(r, attr)),) * 2

    def acc(attr: str) -> Cell:
        return lambda r: (pct(getattr(r, attr).mean, getattr(r, attr).ci), _num(getattr(r, attr).mean))

    return [text("dataset", "dataset"), ("best classical", "l", who("classical")),
            ("classical accuracy %", "r", acc("classical")), (f"best {challenger}", "l", who("other")),
            (f"{challenger} accuracy %", "r", acc("other")),
            number("classical − other (points)", "points", signed), text("outcome for classical", "outcome")]


def speedup_columns() -> list[Column]:
    return [text("model", "model"), number("GPU × (median)", "median", fmt_x), number("min", "min", fmt_x),
            number("max", "max", fmt_x), number("trial keys", "n_keys", str)]


def failure_columns() -> list[Column]:
    return [*(text(c, c) for c in ("status", "dataset", "features", "model", "device")),
            number("trials", "n", str), text("seeds", "seeds"),
            ("error", "w", lambda r: (str(r.error) or "—", str(r.error)))]


def cells(df: pd.DataFrame, columns: list[Column]) -> list[list[tuple[str, object]]]:
    return [[cell(r) for _, _, cell in columns] for r in df.itertuples(index=False)]
