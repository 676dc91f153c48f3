"""How often are harness's paired verdicts wrong? False verdicts on A/A and power on planted differences.

A head-to-head (``harness.report.paired.compare``) pairs A and B split by split, each the mean
over its seeds, and says *A better*, *B better*, *equivalent* or *undecided*. This measures it:

- **A/A**: one model under two names, A and B, each with its own seeds on the same splits. Any
  *A better* or *B better* is a false verdict. Goal (issue 13): at most 5%.
- **Planted**: the same, with ``share`` (1, 2 and 3%) of one side's test predictions turned
  from right to wrong (``harness.models.corrupt.corrupt`` with the true labels, seeded): its
  accuracy is ``share`` lower on every split, to the nearest test row (the table prints the
  drop planted: on a small test set 1% may round to no row at all). Power is the share of
  comparisons decided in the right direction. Goal: at least 80% at 2 points on mnist1d and digits.

Both at the number of splits and seeds of the bundled default suite (``quick``) and at more
splits (``--splits``), so that the number of splits that meets the goals can be read off.

How: one run of harness (through its API, a suite ``vq`` in a temporary config dir) fits the
model on each dataset over a pool of ``--pool`` splits x ``--seeds`` seeds. Each simulated
comparison draws J of the pool's splits and, per split, different seeds for A and B; the
planted side is drawn at random. Draws from one pool share their fits, so they are correlated:
the rates estimate the rates *of this pool*, and the binomial intervals (Clopper-Pearson, over
the draws) are narrower than intervals over independent pools would be; the more of the pool a
draw takes (J close to ``--pool``), the stronger that effect.

    python benchmarks/verdict_quality.py [--datasets digits,mnist1d] [--model random_forest]
        [--pool 30] [--seeds 2] [--draws 1000] [--splits 5,8,10,15,20] [--shares 1,2,3]
        [--set model.estimator.n_estimators=50] [--keep DIR]
    python benchmarks/verdict_quality.py --smallest     # seconds: what the test runs
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: The bundled suite whose number of splits and seeds is "the default".
DEFAULT_SUITE = "quick"
SUITE = "vq"
#: Goals of issue 13.
MAX_FALSE = 0.05
MIN_POWER = 0.80
POWER_AT = 2  # points
#: --smallest: a few seconds on digits, a small forest.
SMALLEST = ["--datasets", "digits", "--pool", "8", "--seeds", "2", "--draws", "200", "--shares", "3",
            "--splits", "", "--set", "model.estimator.n_estimators=20"]


@dataclass
class Pool:
    """One dataset's fits: test accuracy per (split, seed), and with planted corruption per share."""

    dataset: str
    splits: np.ndarray  # the pool's split indices
    seeds: np.ndarray
    accuracy: np.ndarray  # [split, seed]
    planted: dict[int, np.ndarray]  # share in points -> [split, seed]
    ratio: float  # n_test / n_train, as the report takes it


@dataclass
class Tally:
    """Verdict counts of one dataset at one number of splits."""

    draws: int = 0
    aa: Counter = field(default_factory=Counter)
    planted: dict[int, Counter] = field(default_factory=dict)  # share -> right/wrong/equivalent/undecided
    drop: dict[int, float] = field(default_factory=dict)  # share -> mean planted drop in points


def default_design() -> tuple[int, int]:
    """The number of splits and of seeds per configuration of the bundled default suite."""
    from harness import api
    from harness.plan import split_seed_pairs

    pairs = split_seed_pairs(api.option("suite", DEFAULT_SUITE), {})
    return len({p for p, _ in pairs}), len({s for _, s in pairs})


def write_suite(conf: Path, datasets: list[str], model: str, pool: int, seeds: int, sets: dict) -> None:
    """Suite ``vq`` in config dir ``conf``: ``model`` on raw ``datasets``, ``pool`` splits x ``seeds``."""
    import yaml

    (conf / "suite").mkdir(parents=True, exist_ok=True)
    matrix = {"dataset": datasets, "features": ["raw"], "model": [model], "device": ["cpu"],
              **{k: [v] for k, v in sets.items()}}
    suite = {"name": SUITE, "description": "Pool of fits for benchmarks/verdict_quality.py",
             "question": "How often are paired verdicts wrong?", "hypothesis": "Rarely.",
             "splits": pool, "seeds": list(range(seeds)), "matrix": matrix}
    (conf / "suite" / f"{SUITE}.yaml").write_text(yaml.safe_dump(suite, sort_keys=False))


def run_pool(conf: Path, out: Path) -> tuple[Path, set[str]]:
    """Run suite ``vq`` through harness's API; its run dir and the ids of the trials planned (every
    one must end ok). A pool already in ``out`` (``--keep`` again) is resumed: only its missing
    trials run, and trials of other settings stored there are left out."""
    from harness import api

    overrides = [f"suite={SUITE}", f"results_dir={out}", "run_id=pool", "report=false", "progress=false"]
    if (out / SUITE / "pool" / "run.json").exists():
        overrides.append(f"resume={out / SUITE / 'pool'}")
    cfg = api.compose(overrides, config_dirs=[conf])
    plan = api.plan(cfg, overrides)
    with open(os.devnull, "w") as quiet:
        result = api.execute(plan, cfg, stream=quiet)
    if result.failures or result.interrupted:
        raise SystemExit("the pool's run failed:\n" + "\n".join(result.failures[:5]) + result.interrupted)
    return result.run_dir, {t.trial_id for t in plan.trials}


def build_pools(run_dir: Path, trial_ids: set[str], shares: list[int]) -> list[Pool]:
    """Per dataset: accuracies of the trials ``trial_ids`` from their stored predictions, and with
    ``shares`` points planted."""
    from harness import store
    from harness.models.corrupt import corrupt

    records = store.load(run_dir)
    records = records[records["trial_id"].isin(trial_ids)]
    if records["trial_id"].nunique() < len(trial_ids):
        raise SystemExit(f"{run_dir}: {len(trial_ids) - records['trial_id'].nunique()} planned trials have no record")
    preds = store.load_predictions(run_dir)
    pools = []
    for dataset, rows in records.groupby("dataset", sort=True):
        splits = np.sort(rows["split"].astype(int).unique())
        seeds = np.sort(rows["seed"].astype(int).unique())
        acc = np.full((len(splits), len(seeds)), np.nan)
        planted = {s: acc.copy() for s in shares}
        for _, r in rows.iterrows():
            i, j = np.searchsorted(splits, int(r["split"])), np.searchsorted(seeds, int(r["seed"]))
            y_true, y_pred = preds[r["trial_id"]]
            acc[i, j] = np.mean(y_pred == y_true)
            if not math.isclose(acc[i, j], float(r["accuracy"]), abs_tol=1e-9):
                raise SystemExit(f"{r['trial_id']}: stored predictions disagree with its accuracy")
            for s in shares:
                bad = corrupt(y_pred, s / 100, seed=[s, int(r["split"]), int(r["seed"])], y_true=y_true)
                planted[s][i, j] = np.mean(bad == y_true)
        if np.isnan(acc).any():
            raise SystemExit(f"{dataset}: the pool misses trials")
        ratio = float(rows["n_test"].median() / rows["n_train"].median())
        pools.append(Pool(str(dataset), splits, seeds, acc, planted, ratio))
    return pools


def simulate(pool: Pool, n_splits: int, per_side: int, draws: int, rng: np.random.Generator) -> Tally:
    """``draws`` comparisons of ``n_splits`` splits, ``per_side`` seeds per side and split."""
    import pandas as pd

    from harness.report import paired

    right = {0: paired.A_BETTER, 1: paired.B_BETTER}  # planted on B (0) or on A (1): who should win
    tally = Tally(draws=draws, planted={s: Counter() for s in pool.planted})
    drops = {s: [] for s in pool.planted}
    for _ in range(draws):
        rows = rng.choice(len(pool.splits), size=n_splits, replace=False)
        order = np.argsort(rng.random((n_splits, len(pool.seeds))), axis=1)
        sa, sb = order[:, :per_side], order[:, per_side:2 * per_side]
        a = pool.accuracy[rows[:, None], sa].mean(axis=1)
        b = pool.accuracy[rows[:, None], sb].mean(axis=1)
        index = pd.Index(pool.splits[rows], name="split")
        tally.aa[paired.compare(pd.Series(a, index), pd.Series(b, index), pool.ratio).verdict] += 1
        side = int(rng.integers(2))
        for s, table in pool.planted.items():
            worse = table[rows[:, None], sb if side == 0 else sa].mean(axis=1)
            pa, pb = (a, worse) if side == 0 else (worse, b)
            drops[s].append(100 * float(np.mean((b if side == 0 else a) - worse)))
            verdict = paired.compare(pd.Series(pa, index), pd.Series(pb, index), pool.ratio).verdict
            wrong = right[1 - side]
            tally.planted[s][{right[side]: "right", wrong: "wrong"}.get(verdict, verdict)] += 1
    tally.drop = {s: float(np.mean(v)) for s, v in drops.items()}
    return tally


def interval(k: int, n: int) -> tuple[float, float]:
    """The 95% Clopper-Pearson interval of a binomial share ``k / n``."""
    from scipy.stats import binomtest

    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
    return float(ci.low), float(ci.high)


def rate(k: int, n: int) -> str:
    low, high = interval(k, n)
    return f"{100 * k / n:5.1f}% [{100 * low:.1f}, {100 * high:.1f}]"


def false_rate(t: Tally) -> int:
    from harness.report import paired

    return t.aa[paired.A_BETTER] + t.aa[paired.B_BETTER]


def report(results: dict[str, dict[int, Tally]], shares: list[int], default_j: int) -> list[str]:
    """The tables: per dataset and number of splits, A/A outcomes and power per planted share."""
    from harness.report import paired

    lines = ["| dataset | splits J | draws | A/A false verdicts (95% CI) | A/A equivalent | "
             + " | ".join(f"power at {s} pt (95% CI)" for s in shares) + " | planted: wrong way | planted drop (pt) |",
             "|---|---|---|---|---|" + "---|" * len(shares) + "---|---|"]
    for dataset, by_j in results.items():
        for j, t in sorted(by_j.items()):
            mark = " (default)" if j == default_j else ""
            cells = [rate(t.planted[s]["right"], t.draws) for s in shares]
            drop = ", ".join(f"{t.drop[s]:.2f}" for s in shares)
            wrong = sum(t.planted[s]["wrong"] for s in shares)
            lines.append(f"| {dataset} | {j}{mark} | {t.draws} | {rate(false_rate(t), t.draws)} | "
                         f"{100 * t.aa[paired.EQUIVALENT] / t.draws:.1f}% | " + " | ".join(cells)
                         + f" | {wrong} of {t.draws * len(shares)} | {drop} |")
    return lines


def meets(t: Tally) -> bool:
    return false_rate(t) <= MAX_FALSE * t.draws and (
        POWER_AT not in t.planted or t.planted[POWER_AT]["right"] >= MIN_POWER * t.draws)


def smallest_from(by_j: dict[int, Tally]) -> int | None:
    """The smallest J from which every J tried meets the goals; None when the largest does not."""
    since = None
    for j in sorted(by_j, reverse=True):
        if not meets(by_j[j]):
            break
        since = j
    return since


def parse(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", default="digits,mnist1d", help="bundled datasets, comma-separated")
    p.add_argument("--model", default="random_forest", help="a model with randomness (its seed matters)")
    p.add_argument("--pool", type=int, default=30, help="splits in the pool of fits")
    p.add_argument("--seeds", type=int, default=2, help="seeds per split in the pool")
    p.add_argument("--draws", type=int, default=1000, help="simulated comparisons per dataset and J")
    p.add_argument("--splits", default="5,8,10,15,20", help="numbers of splits J besides the default suite's")
    p.add_argument("--per-side", type=int, default=None,
                   help="seeds per configuration and split (default: the default suite's)")
    p.add_argument("--shares", default="1,2,3", help="planted differences, in points")
    p.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                   help="a matrix override of the pool's suite (model.estimator.n_estimators=50)")
    p.add_argument("--seed", type=int, default=0, help="seeds the simulated draws")
    p.add_argument("--keep", default=None, help="run the pool into this dir and keep it (default: a temp dir); "
                   "a pool already there is resumed, not run again")
    p.add_argument("--smallest", action="store_true", help="a setting of seconds (what the test runs): "
                   + " ".join(SMALLEST))
    ns = p.parse_args(argv)
    if ns.smallest:
        ns = p.parse_args([*SMALLEST, *(argv if argv is not None else sys.argv[1:])])
    return ns


def main(argv=None) -> int:
    ns = parse(argv)
    t0 = time.perf_counter()
    import yaml

    default_j, default_seeds = default_design()
    per_side = ns.per_side or default_seeds
    js = sorted({default_j, *(int(j) for j in ns.splits.split(",") if j.strip())})
    shares = sorted({int(s) for s in ns.shares.split(",") if s.strip()})
    sets = {}
    for item in ns.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--set {item}: give PATH=VALUE")
        sets[key] = yaml.safe_load(value)
    if max(js) > ns.pool:
        raise SystemExit(f"--pool {ns.pool} is smaller than J={max(js)}: raise --pool or lower --splits")
    if 2 * per_side > ns.seeds:
        raise SystemExit(f"--seeds {ns.seeds} cannot give A and B {per_side} seed(s) each: raise --seeds")
    datasets = [d for d in ns.datasets.split(",") if d]
    with tempfile.TemporaryDirectory(prefix="verdict-quality-") as tmp:
        out = Path(ns.keep or tmp)
        conf = out / "conf"
        write_suite(conf, datasets, ns.model, ns.pool, ns.seeds, sets)
        run_dir, trial_ids = run_pool(conf, out)
        t_fit = time.perf_counter() - t0
        pools = build_pools(run_dir, trial_ids, shares)
    # each cell draws from its own stream: its numbers don't depend on the other datasets and Js asked for
    results = {p.dataset: {j: simulate(p, j, per_side, ns.draws, np.random.default_rng([ns.seed, zlib.crc32(
        p.dataset.encode()), j])) for j in js} for p in pools}
    wall = time.perf_counter() - t0

    from harness.report import paired

    print(f"verdict quality of harness.report.paired (ROPE ±{100 * paired.ROPE:g} pt, {100 * paired.CONFIDENCE:g}% "
          f"Nadeau-Bengio interval)")
    print(f"model {ns.model}{' ' + str(sets) if sets else ''} on raw {', '.join(datasets)}; pool of {ns.pool} "
          f"splits x {ns.seeds} seeds per dataset; {per_side} seed(s) per side and split "
          f"(suite {DEFAULT_SUITE}: {default_j} splits, {default_seeds} seed(s)); {ns.draws} draws per cell, "
          f"draw seed {ns.seed}")
    for p in pools:
        print(f"  {p.dataset}: test accuracy {100 * p.accuracy.mean():.2f}% (sd over seeds within a split "
              f"{100 * p.accuracy.std(axis=1, ddof=1).mean():.2f} pt, over splits "
              f"{100 * p.accuracy.mean(axis=1).std(ddof=1):.2f} pt), n_test/n_train {p.ratio:.3f}")
    print("\n".join(report(results, shares, default_j)))
    for dataset, by_j in results.items():
        goal = f"false verdicts ≤ {100 * MAX_FALSE:g}%" + (
            f" and power at {POWER_AT} pt ≥ {100 * MIN_POWER:g}%" if POWER_AT in shares else "")
        ok = [j for j, t in sorted(by_j.items()) if meets(t)]
        since = smallest_from(by_j)
        where = (f"met at every J from {since} on" if since is not None
                 else f"met at J = {', '.join(map(str, ok))} only" if ok else "not met at any J")
        print(f"{dataset}: {goal} {where} (J tried: {', '.join(map(str, js))}; "
              f"default {default_j}: {'met' if default_j in ok else 'not met'})")
    print("CIs are over draws from one pool of fits: correlated draws, so narrower than over independent pools.")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"wall {wall:.1f} s (fits {t_fit:.1f} s, simulation {wall - t_fit:.1f} s); load average {load}"
          + (f"; pool kept in {run_dir}" if ns.keep else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
