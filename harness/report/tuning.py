"""Default against tuned: the table and sentences of a run whose suite asked for ``tuning:``.

A tuned configuration (``tuning`` = ``tuned`` in its records) carries the key of the default
configuration it tunes (``tuning_of``); the two are paired split by split (``paired.compare``,
A = tuned, B = default) on test accuracy, each read once for its chosen model. Whether tuning
changes who wins is decided on validation only (``tables.choose``): the best configuration of a
dataset on its defaults, against the best where each model with a tuned configuration runs tuned.
"""

from __future__ import annotations

import json
import math

import pandas as pd

from harness.report import render as rd
from harness.report.findings import Finding, Pairs, paired_numbers, subject
from harness.report.paired import A_BETTER, B_BETTER
from harness.report.tables import SELECT, choose
from harness.schema import DEFAULT, TUNED

NOTE = ("Each model with a search space ran on its defaults and tuned: a search of its space (Optuna's TPE, "
        "seeded by the trial's seed, the same budget for every model) on the validation carve of each "
        "training split, the best candidate by validation accuracy refitted and scored once on test. "
        "*tuned − default*: test accuracy, paired by split, with the corrected resampled t interval; "
        "*parameters*: the choice made on most splits (on how many, where not on all); *search*: median "
        "wall time of the search, apart from the chosen model's fit. A tuned model's validation accuracy "
        "is optimistic (the search chose on it), so who wins is chosen on validation within each regime "
        "and never on test.")


def _kinds(records: pd.DataFrame) -> pd.Series:
    """``config -> default|tuned``; records from before tuning existed are defaults."""
    kind = records["tuning"] if "tuning" in records else pd.Series(DEFAULT, index=records.index)
    kind = kind.astype(object).where(kind.notna(), DEFAULT).astype(str)
    return kind.groupby(records["config"]).first()


def _most_common(values: pd.Series) -> str:
    """The parameters chosen most often (the first in sorted order among equals), and on how
    many of the splits where they were not chosen on all."""
    values = values.dropna().astype(str)
    values = values[values != ""]
    if not len(values):
        return "—"
    counts = values.value_counts()
    best = sorted(counts.index[counts == counts.max()])[0]
    times = "" if counts[best] == len(values) else f" ({counts[best]} of {len(values)} splits)"
    return _params(best) + times


def _params(text: str) -> str:
    """``C=3.2, gamma=scale`` from the recorded JSON (numbers with 3 significant digits)."""
    try:
        params = json.loads(text)
    except ValueError:
        return text
    shown = {k: rd.sig(v, trim=True) if isinstance(v, float) else json.dumps(v) if not isinstance(v, str) else v
             for k, v in params.items()}
    return ", ".join(f"{k}={v}" for k, v in shown.items()) or "—"


def table(summary: pd.DataFrame, records: pd.DataFrame) -> pd.DataFrame:
    """One row per tuned configuration with its default twin: accuracies (means over splits), the
    paired difference (points), its interval and verdict, the parameters chosen most often, the
    median search time and the budget."""
    if summary.empty or "tuning" not in records or not records["tuning"].eq(TUNED).any():
        return pd.DataFrame()
    tuned = records[records["tuning"].eq(TUNED)]
    g = tuned.groupby("config")
    of = g["tuning_of"].first()
    rows_by_config = summary.set_index("config", drop=False)
    pairs = Pairs.of(records)
    out = []
    for config, default_key in of.items():
        twin = config.rpartition("|")[0] + "|" + str(default_key)
        if config not in rows_by_config.index or twin not in rows_by_config.index:
            continue
        t, d = rows_by_config.loc[config], rows_by_config.loc[twin]
        p = pairs.compare(t, d)
        numbers = paired_numbers(p)
        out.append({"dataset": t["dataset"], "features": t["features"], "model": t["model"],
                    "default": d["accuracy_mean"], "tuned": t["accuracy_mean"],
                    "points": 100 * p.mean, "low": numbers.get("low", math.nan), "high": numbers.get("high", math.nan),
                    "verdict": _verdict(p.verdict, numbers), "splits": p.n_splits,
                    "params": _most_common(tuned.loc[tuned["config"] == config, "tuned_params"]),
                    "tuning_s": pd.to_numeric(g.get_group(config)["tuning_s"], errors="coerce").median(),
                    "budget": pd.to_numeric(g.get_group(config)["tuning_budget"], errors="coerce").median()})
    return pd.DataFrame(out).sort_values(["dataset", "model", "features"], ignore_index=True) if out else pd.DataFrame()


def _verdict(verdict: str, numbers: dict) -> str:
    from harness.report.wording import short_verdict

    if verdict == A_BETTER:
        return "tuned better"
    if verdict == B_BETTER:
        return "default better"
    return short_verdict(verdict, numbers)


def columns(rows: pd.DataFrame) -> list[rd.Column]:
    """The table's columns; ``features`` only where more than one feature set was tuned."""
    def interval(r) -> tuple[str, object]:
        if not rd.finite(r.low):
            return "—", -math.inf
        return f"[{rd.signed(r.low)}, {rd.signed(r.high)}]", r.low

    cols = [rd.text("dataset", "dataset"), rd.text("model", "model")]
    if rows["features"].nunique() > 1:
        cols.append(rd.text("features", "features"))
    return cols + [rd.number("default %", "default", rd.fmt_pct), rd.number("tuned %", "tuned", rd.fmt_pct),
                   rd.number("tuned − default (points)", "points", rd.signed), ("95% interval", "r", interval),
                   rd.text("verdict", "verdict"), rd.number("splits", "splits", lambda x: f"{x:.0f}"),
                   ("parameters", "w", lambda r: (r.params, r.params)),
                   rd.number("budget", "budget", lambda x: f"{x:.0f}" if rd.finite(x) else "—"),
                   rd.number("search", "tuning_s", rd.fmt_s)]


def winners(summary: pd.DataFrame, records: pd.DataFrame) -> list[Finding]:
    """Per dataset with a tuned configuration, a ``tuning_winner`` finding: whether tuning changes
    the configuration chosen on validation (on defaults, against each model tuned where it has a
    tuned configuration). Its verdict is ``same`` (one configuration wins both ways), ``tie`` (the
    winners differ only by a validation tie broken by fit time) or ``changed``; its subjects are the
    ``default`` winner and the ``tuned`` one."""
    if summary.empty or "tuning" not in records or not records["tuning"].eq(TUNED).any():
        return []
    kinds = _kinds(records)
    kind = summary["config"].map(kinds).fillna(DEFAULT)
    tuned = records[records["tuning"].eq(TUNED)]
    twins = {c.rpartition("|")[0] + "|" + str(k) for c, k in tuned.groupby("config")["tuning_of"].first().items()}
    on_defaults = summary[kind.ne(TUNED)]
    on_tuned = summary[kind.eq(TUNED) | ~summary["config"].isin(twins)]
    out = []
    for dataset in sorted(set(summary.loc[kind.eq(TUNED), "dataset"])):
        a = choose(on_defaults[on_defaults["dataset"] == dataset], ["dataset"])
        b = choose(on_tuned[on_tuned["dataset"] == dataset], ["dataset"])
        if a.empty or b.empty:
            continue
        a, b = a.iloc[0], b.iloc[0]
        # the default winner as it runs with tuning: its tuned configuration where it has one
        rival = on_tuned[(on_tuned["dataset"] == dataset) & (on_tuned["model"] == a["model"])
                         & (on_tuned["features"] == a["features"])]
        rival_val = rival[f"{SELECT}_mean"].max() if len(rival) else math.nan
        if (a["model"], a["features"]) == (b["model"], b["features"]):
            verdict = "same"
        elif not b[f"{SELECT}_mean"] > rival_val:  # a tie on validation, broken by fit time: no change to tell
            verdict = "tie"
        else:
            verdict = "changed"
        several = summary.loc[summary["dataset"] == dataset, "features"].nunique() > 1
        out.append(Finding("tuning_winner", dataset, verdict=verdict, numbers={"several_features": float(several)},
                           subjects=(subject(a, "default"), subject(b, "tuned", tuned=float(kinds.get(b["config"]) == TUNED)))))
    return out


def blocks(report) -> list:
    """The report's "Default vs tuned" blocks (none where no configuration was tuned)."""
    from harness.report.sections import Bullets, Para, Table
    from harness.report.wording import sentence

    rows = table(report.summary, report.records)
    if rows.empty:
        return []
    return [Table(rows, columns(rows)), Bullets([sentence(f) for f in winners(report.summary, report.records)], style="findings"),
            Para(NOTE, style="note", markup=True)]
