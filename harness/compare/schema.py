"""What a comparison says: options, one test, one group's verdict, the whole comparison."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from enum import Enum

from harness.compare.match import Side, where

QUALITY = ("accuracy", "balanced_accuracy", "f1_macro")
TIMES = ("fit_s", "predict_s", "samples_per_s", "mem_growth_mb", "peak_rss_mb")
#: Memory metrics: a floor in MB applies (``min_mem_mb``).
MEMORY = ("mem_growth_mb", "peak_rss_mb")
#: Times that are durations (a floor applies) and can be normalised by the calibration.
DURATIONS = ("fit_s", "predict_s", "samples_per_s")
BAD = ("failed", "timeout")
IGNORED = ("skipped", "interrupted")
ORDER = ("regressed", "failed", "missing", "new", "improved", "unchanged")


@dataclass
class Options:
    acc_tol: float = 0.5            # points of accuracy (and of the other quality metrics)
    time_tol: float = 1.10          # ratio candidate / baseline
    time_low: float | None = None   # the interval's lower bound must clear this (None: time_tol)
    alpha: float = 0.05             # false discovery rate (Benjamini-Hochberg)
    metrics: tuple = QUALITY
    # The process-wide peak is not gated by default: it counts every imported library, and
    # a fresh environment moves it by tens of MB with no change to the code under test.
    time_metrics: tuple = ("fit_s", "predict_s", "samples_per_s", "mem_growth_mb")
    min_time_s: float = 0.005
    min_mem_mb: float = 16.0
    compare_time: bool = True
    cross_machine: bool = False
    normalise: bool = False         # divide times by the calibration on the same machine too
    load_guard: float = 1.25        # calibrations this far apart: unpaired times aren't judged (0: off)
    allow_missing: bool = False     # groups of the baseline missing from the candidate don't fail the gate
    n_boot: int = 2000

    @property
    def low(self) -> float:
        return self.time_tol if self.time_low is None else self.time_low


class Untested(str, Enum):
    """Why a test gives no verdict (``Test.untested``); ``Test.note`` says it in words."""

    BELOW_FLOOR = "below_floor"  # times under min_time_s, memory under min_mem_mb: too small to measure
    LOAD = "load"                # the two sides' calibrations differ: the load guard
    TOO_FEW = "too_few"          # too few seeds or samples for the test

    def __str__(self) -> str:
        return self.value


@dataclass
class Test:
    metric: str
    kind: str            # quality | time
    base: float          # mean (quality, points) or median (time) of the baseline
    cand: float
    effect: float        # difference in points, or ratio
    low: float
    high: float
    p: float
    method: str
    n_base: int
    n_cand: int
    q: float = math.nan
    outcome: str = "unchanged"   # regressed | improved | unchanged | untested
    untested: Untested | None = None  # why, when the outcome is untested
    note: str = ""
    p_examples: float = math.nan  # McNemar p where predictions allow it (for reference)


@dataclass
class Group:
    key: str
    device: str
    threads: int
    label: str
    verdict: str = "unchanged"
    tests: list[Test] = field(default_factory=list)
    seeds_base: list = field(default_factory=list)
    seeds_cand: list = field(default_factory=list)
    note: str = ""
    counts_as_regression: bool = False
    flagged: bool = False         # a point estimate beyond tolerance: --confirm re-runs it
    confirmed: str = ""           # how --confirm re-ran it

    @property
    def where(self) -> str:
        return where(self.device, self.threads)

    def test(self, metric: str) -> Test | None:
        return next((t for t in self.tests if t.metric == metric), None)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["where"] = self.where
        return out


@dataclass
class Comparison:
    baseline: Side
    candidate: Side
    options: Options
    groups: list[Group]
    time_mode: str        # same | normalised | off
    time_note: str
    confirm_note: str = ""
    load_note: str = ""

    @property
    def counts(self) -> dict:
        out = dict.fromkeys(ORDER, 0)
        for g in self.groups:
            out[g.verdict] += 1
        return out

    @property
    def regressions(self) -> list[Group]:
        return [g for g in self.groups if g.counts_as_regression]

    @property
    def exit_code(self) -> int:
        return 1 if self.regressions else 0

    def flagged(self) -> list[Group]:
        return [g for g in self.groups if g.flagged]
