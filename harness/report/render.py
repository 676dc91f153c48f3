"""Formatting shared by the Markdown and HTML renderers: numbers, units, table columns.

A column is ``(header, align, cell)`` (align: ``l`` left, ``r`` right, ``w`` left and
wrapping, for long text such as error messages) where ``cell(row) -> (text, sort_key)``: Markdown
shows the text, HTML also carries the sort key so a click sorts numbers as numbers.
"""

from __future__ import annotations

import math
from typing import Callable

import pandas as pd

from harness.report.paired import ROPE

Cell = Callable[[object], tuple[str, object]]
Column = tuple[str, str, Cell]

TREATMENT = (
    "Each row is one configuration; statistics are over its `ok` trials (data splits × seeds): mean "
    "test accuracy, standard deviation (sd, in points) and a 95% Student-t interval (none with one trial; "
    "± 0.0 means every trial gave the same accuracy, not that it is known exactly); *val %*: mean "
    "accuracy on the validation part of the training split, which every choice of a best goes by "
    "(test is read once, for the chosen). Failed and "
    "timed-out trials are counted in *failed* and left out of every statistic, never imputed; "
    "skipped trials (e.g. no GPU) are counted apart; `ok` trials with a missing (NaN) metric are "
    "counted as *missing* and left out of that metric. Times are medians over seeds; *fit* "
    "excludes data loading and feature extraction; *to target*: wall time until a deep net first "
    "reaches its target validation accuracy. *× fastest*: median fit time over the fastest "
    "configuration on the dataset. *GPU ×*: median CPU fit time over median GPU fit time for the "
    "same trial key (the same machine's CPU where it has one, else the fastest CPU).")
VERDICT_NOTE = (
    "A against B per data split, each averaged over its seeds; *A − B*: the mean of the per-split "
    "differences, with the corrected resampled t interval of Nadeau & Bengio (2003), variance × "
    "(1/J + n_test/n_train) on J − 1 degrees of freedom. *equivalent*: the interval lies within "
    f"±{100 * ROPE:g} points "
    "(the region of practical equivalence); *A better* / *B better*: it lies above / below 0; else "
    "*undecided*, with the number of further splits that would likely decide it at the same spread. "
    "A and B are each chosen on validation; test is read once. Across datasets, the Wilcoxon signed-rank "
    "test (in the findings) sits beside the Friedman test on ranks.")
RANK_NOTE = ("Each model on its features and device chosen on validation per dataset, ranked by their test "
             "accuracy; ties share the mean rank. "
             "The average is over the datasets the model ran on (see *datasets*).")


def finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def fmt_pct(mean: float, half: float = math.nan) -> str:
    if not finite(mean):
        return "—"
    return f"{100 * mean:.1f}" + (f" ± {100 * half:.1f}" if finite(half) else "")


def sig(x: float, digits: int = 3, trim: bool = False) -> str:
    """``x`` with ``digits`` significant digits and never in scientific notation: ``340``,
    ``1.23``, ``0.0123``, ``12,345`` (whole numbers past ``digits`` keep every digit); ``trim``: no
    trailing zeros (``5``, not ``5.00``), for sentences."""
    if not finite(x):
        return "—"
    if x == 0:
        return "0"
    places = max(0, digits - 1 - math.floor(math.log10(abs(x))))
    rounded = round(x, places)
    if rounded:  # 99.96 rounds up to 100: one place fewer
        places = max(0, digits - 1 - math.floor(math.log10(abs(rounded))))
    text = f"{rounded:,.{places}f}"
    return text.rstrip("0").rstrip(".") if trim and "." in text else text


def fmt_s(seconds: float, trim: bool = False) -> str:
    """A duration with three significant digits in a readable unit: ``12 µs``, ``4.56 ms``,
    ``1.23 s``, ``340 s``, ``1,234 s``; never ``3.4e+02 s``. ``trim``: ``5 s``, not ``5.00 s``."""
    if not finite(seconds):
        return "—"
    if seconds < 0.9995e-3:  # what rounds to 1,000 µs reads as 1.00 ms
        return f"{sig(seconds * 1e6, trim=trim)} µs"
    if seconds < 0.9995:
        return f"{sig(seconds * 1e3, trim=trim)} ms"
    return f"{sig(seconds, trim=trim)} s"


def fmt_flops(tflops: float, trim: bool = False) -> str:
    """Achieved compute in the unit that reads best: ``1.23 TFLOP/s``, ``456 GFLOP/s``, ``7.8 MFLOP/s``."""
    if not finite(tflops):
        return "—"
    for scale, unit in ((1.0, "TFLOP/s"), (1e-3, "GFLOP/s")):
        if abs(tflops) >= scale:
            return f"{sig(tflops / scale, trim=trim)} {unit}"
    return f"{sig(tflops / 1e-6, trim=trim)} MFLOP/s"


#: The smallest p-value printed as a number; below it the report says ``p < 0.0001``.
P_FLOOR = 1e-4


def fmt_p(p: float, alpha: float) -> str:
    """``p = 0.031``, ``p = 0.0498``, ``p < 0.0001``: with as many digits as it takes for the
    printed value to sit on the same side of ``alpha`` as ``p`` itself (0.0498 is never
    printed as 0.05 beside a test that rejects at 0.05), and never in scientific notation."""
    if not finite(p):
        return "p undefined"
    if p < P_FLOOR < alpha:
        return f"p < {P_FLOOR:.4f}"
    for digits in range(2, 12):
        text = sig(p, digits)
        if (float(text) < alpha) == (p < alpha):
            return f"p = {text}"
    return f"p = {p!r}"


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
    return f"{x:,.0f}" if abs(x) >= 100 else sig(x)


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
    cols += [with_ci("accuracy % (95% CI)", "accuracy"), number("sd", "accuracy_std", fmt_pct)]
    if _has(summary, "val_accuracy_mean"):
        cols.append(number("val %", "val_accuracy_mean", fmt_pct))
    cols += [with_ci("F1 macro %", "f1_macro"), number("fit", "fit_s_median", fmt_s),
             number("predict", "predict_s_median", fmt_s), number("× fastest", "fit_vs_fastest", fmt_x)]
    if _has(summary, "epoch_s_median"):
        cols.append(number("epoch", "epoch_s_median", fmt_s))
    if _has(summary, "samples_per_s_median"):
        cols.append(number("samples/s", "samples_per_s_median", fmt_num))
    if _has(summary, "achieved_tflops_median"):
        cols.append(number("achieved FLOP/s", "achieved_tflops_median", fmt_flops))
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


def verdict_columns(kinds=None) -> list[Column]:
    """Columns of ``findings.verdict_table``: A, B and the verdict, A − B with its interval, the
    accuracies and the splits; what is compared only where ``kinds`` (the rows' kinds) differ."""
    from harness.report.wording import COMPARISONS, label, mean_pct, short_verdict

    def who(attr: str) -> Cell:
        return lambda r: (label(getattr(r, attr)),) * 2

    def acc(attr: str) -> Cell:
        return lambda r: (mean_pct(getattr(r, attr)), _num(getattr(r, attr).mean))

    def interval(r) -> tuple[str, object]:
        return (f"[{signed(r.low)}, {signed(r.high)}]" if finite(r.low) else "—"), _num(r.low)

    def verdict(r) -> tuple[str, object]:
        numbers = {k: getattr(r, k) for k in ("splits", "more_splits", "cap") if finite(getattr(r, k))}
        text = short_verdict(r.verdict, {**numbers, "rope": 100 * ROPE})
        return text, text

    # who and the verdict first: on a phone they are what the first screen shows of the table
    cols = [text("dataset", "dataset"), ("A", "l", who("a")), ("B", "l", who("b")), ("verdict", "l", verdict),
            number("A − B (points)", "points", signed), ("95% interval", "r", interval),
            ("A accuracy %", "r", acc("a")), ("B accuracy %", "r", acc("b")),
            number("splits", "splits", lambda x: f"{x:.0f}" if finite(x) else "—")]
    if kinds is None or len(set(kinds)) > 1:
        cols.insert(1, ("comparison", "l", lambda r: (COMPARISONS.get(r.kind, r.kind),) * 2))
    return cols


def speedup_columns() -> list[Column]:
    return [text("model", "model"), number("GPU × (median)", "median", fmt_x), number("min", "min", fmt_x),
            number("max", "max", fmt_x), number("trial keys", "n_keys", str)]


def failure_columns() -> list[Column]:
    return [*(text(c, c) for c in ("status", "dataset", "features", "model", "device")),
            number("trials", "n", str), text("seeds", "seeds"),
            ("error", "w", lambda r: (str(r.error) or "—", str(r.error)))]


def cells(df: pd.DataFrame, columns: list[Column]) -> list[list[tuple[str, object]]]:
    return [[cell(r) for _, _, cell in columns] for r in df.itertuples(index=False)]
