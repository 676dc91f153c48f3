"""How good are `harness compare`'s verdicts on this machine? False alarms and detection.

Each repeat runs ``suite=ci`` once as the baseline and three times as candidates, each in
its own process exactly as ``harness run`` does, then compares each candidate with the
baseline, with ``--confirm N`` re-running the flagged groups interleaved with the baseline:

- ``same``: the same code again. Every group flagged is a false alarm.
- ``slow``: every model 20% slower: a benchmark-only wrapper sleeps 0.2x the time each fit
  and predict took (``Slower`` below; a wrapper here, not a switch in the product).
- ``worse``: every model about 2 points less accurate: the wrapper flips a share of the
  training labels (``Noisy`` below).

The wrapper goes in through harness's public way in, a config dir (``--config-dir``): it
holds suite ``cq``, a copy of the suite with every model's estimator wrapped in ``Degraded``.
The config, hence every trial key, is the same in all scenarios (baseline included, where
the wrapper only passes calls on); the scenario is the ``HARNESS_CQ_MODE`` environment
variable of the process that fits the model. ``--confirm`` re-runs go through the re-runner
callables that :func:`harness.compare.confirm.confirm` takes: the candidate's sets the mode.

    python benchmarks/compare_quality.py [--repeats 20] [--confirm 3] [--out DIR]

Targets (issue 6): at most 1 group flagged over 20 ``same`` comparisons; ``slow`` and
``worse`` flagged in at least 19 of 20. The script prints a table per scenario and the
verdict counts before and after confirmation, and writes every comparison's JSON to --out.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("same", "slow", "worse")
#: The environment variable that picks the scenario in the process that fits the models.
MODE_VAR = "HARNESS_CQ_MODE"


class _Wrapper:
    """Delegates the estimator API to ``est`` (get_params/set_params included)."""

    def __init__(self, est):
        self.est = est

    def get_params(self, deep=False):
        return self.est.get_params(deep=deep)

    def set_params(self, **params):
        self.est.set_params(**params)
        return self

    def __getattr__(self, name):  # classes_, predict_proba, ... (only called for missing names)
        if name == "est":
            raise AttributeError(name)
        return getattr(self.est, name)


class Slower(_Wrapper):
    """``factor`` slower: after each fit and predict, sleep ``factor - 1`` times what it took."""

    factor = 1.2

    def fit(self, X, y):
        t0 = time.perf_counter()
        self.est.fit(X, y)
        time.sleep((self.factor - 1) * (time.perf_counter() - t0))
        return self

    def predict(self, X):
        t0 = time.perf_counter()
        out = self.est.predict(X)
        time.sleep((self.factor - 1) * (time.perf_counter() - t0))
        return out


class Noisy(_Wrapper):
    """Less accurate: flips ``share`` of the training labels to another class, seeded."""

    share = 0.06

    def fit(self, X, y):
        y = np.array(y, copy=True)
        params = self.est.get_params(deep=False)
        rng = np.random.default_rng(1000 + int(params.get("random_state") or 0))
        classes = np.unique(y)
        flip = rng.random(len(y)) < self.share
        shift = rng.integers(1, len(classes), flip.sum())
        idx = np.searchsorted(classes, y[flip])
        y[flip] = classes[(idx + shift) % len(classes)]
        self.est.fit(X, y)
        return self

    def predict(self, X):
        return self.est.predict(X)


class Degraded(_Wrapper):
    """``est`` as the scenario in ``$HARNESS_CQ_MODE`` has it: ``same`` (as it is), ``slow``, ``worse``."""

    def _as(self):
        mode = os.environ.get(MODE_VAR, "same")
        if mode == "same":
            return self.est
        return {"slow": Slower, "worse": Noisy}[mode](self.est)

    def fit(self, X, y):
        self._as().fit(X, y)
        return self

    def predict(self, X):
        return self._as().predict(X)


@contextlib.contextmanager
def mode(kind: str):
    """Fit and predict in this process as scenario ``kind`` for the block (for in-process re-runs)."""
    before = os.environ.get(MODE_VAR)
    os.environ[MODE_VAR] = kind
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(MODE_VAR, None)
        else:
            os.environ[MODE_VAR] = before


def write_config_dir(conf: Path, suite: str) -> str:
    """A config dir holding suite ``cq``: ``suite`` with every model wrapped in :class:`Degraded`."""
    import yaml

    suites = ROOT / "suites"
    spec = yaml.safe_load((suites / "suite" / f"{suite}.yaml").read_text())
    entries = [spec["matrix"], *spec.get("include", [])]
    names = sorted({m for e in entries for m in ([e["model"]] if isinstance(e.get("model"), str)
                                                 else e.get("model", []))})
    (conf / "model").mkdir(parents=True, exist_ok=True)
    (conf / "suite").mkdir(parents=True, exist_ok=True)
    for name in names:
        model = yaml.safe_load((suites / "model" / f"{name}.yaml").read_text())
        model["name"] = f"cq_{name}"
        model["estimator"] = {"_target_": "compare_quality.Degraded", "est": model["estimator"]}
        (conf / "model" / f"cq_{name}.yaml").write_text(yaml.safe_dump(model, sort_keys=False))

    def wrap(entry: dict) -> dict:
        out = {}
        for k, v in entry.items():
            if k == "model":
                v = f"cq_{v}" if isinstance(v, str) else [f"cq_{m}" for m in v]
            out[k.replace("model.estimator.", "model.estimator.est.", 1)] = v
        return out

    cq = copy.deepcopy(spec)
    cq["name"] = "cq"
    cq["matrix"] = wrap(spec["matrix"])
    if spec.get("include"):
        cq["include"] = [wrap(e) for e in spec["include"]]
    (conf / "suite" / "cq.yaml").write_text(yaml.safe_dump(cq, sort_keys=False))
    return "cq"


def run_suite(out: Path, kind: str, conf: Path) -> Path:
    """One run of suite ``cq`` in a fresh process (``harness run``), as scenario ``kind``; its run dir."""
    run_id = f"{kind}-{time.strftime('%H%M%S')}-{os.getpid()}-{time.perf_counter_ns() % 10**6}"
    args = [sys.executable, "-m", "harness.cli", "run", "--config-dir", str(conf), "suite=cq",
            f"results_dir={out}", f"run_id={run_id}", "report=false", "progress=false"]
    path = os.pathsep.join(p for p in (str(Path(__file__).parent), os.environ.get("PYTHONPATH")) if p)
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONWARNINGS": "ignore", "PYTHONPATH": path, MODE_VAR: kind})
    if proc.returncode != 0:
        raise SystemExit(f"run failed ({kind}):\n{proc.stderr[-2000:]}")
    return out / "cq" / run_id


def compare_one(base_dir: Path, cand_dir: Path, kind: str, confirm_n: int, conf: Path):
    from harness.compare import Options, compare, confirm, load_side

    base, cand = load_side(str(base_dir)), load_side(str(cand_dir))
    first = compare(base, cand, Options())
    devnull = open(os.devnull, "w")
    rerun_c = confirm.rerun_from_info(cand.first_run(), stream=devnull, config_dirs=[conf])
    rerun_b = confirm.rerun_from_info(base.first_run(), stream=devnull, config_dirs=[conf])

    def cand_runner(ids, run_dir):
        with mode(kind):
            rerun_c(ids, run_dir)

    def base_runner(ids, run_dir):
        with mode("same"):
            rerun_b(ids, run_dir)

    final = confirm.confirm(first, confirm_n, cand_runner, base_runner) if confirm_n else first
    return first, final


def summary(c) -> dict:
    from harness.compare import to_dict

    d = to_dict(c)
    flagged = {}
    for g in c.groups:
        for t in g.tests:
            if t.outcome == "regressed":
                flagged.setdefault(g.label, []).append(f"{t.metric} {t.effect:.2f}")
    return {"regressed_groups": [g.label for g in c.groups if g.verdict == "regressed"],
            "what": flagged, "counts": d["counts"]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--confirm", type=int, default=3)
    p.add_argument("--suite", default="ci")
    p.add_argument("--scenarios", default=",".join(SCENARIOS))
    p.add_argument("--out", default=None, help="keep the runs and JSON here (default: a temp dir)")
    ns = p.parse_args(argv)
    scenarios = [s for s in ns.scenarios.split(",") if s]
    out = Path(ns.out or tempfile.mkdtemp(prefix="compare-quality-"))
    out.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(Path(__file__).parent))  # `compare_quality.Degraded`, for in-process re-runs
    conf = out / "conf"
    write_config_dir(conf, ns.suite)
    tally = {s: {"first": 0, "final": 0, "groups_first": 0, "groups_final": 0} for s in scenarios}
    t_start = time.perf_counter()
    log = open(out / "results.jsonl", "a")
    for i in range(ns.repeats):
        base_dir = run_suite(out / f"r{i:02d}", "same", conf)
        for kind in scenarios:
            cand_dir = run_suite(out / f"r{i:02d}", kind, conf)
            first, final = compare_one(base_dir, cand_dir, kind, ns.confirm, conf)
            s1, s2 = summary(first), summary(final)
            t = tally[kind]
            t["first"] += bool(s1["regressed_groups"])
            t["final"] += bool(s2["regressed_groups"])
            t["groups_first"] += len(s1["regressed_groups"])
            t["groups_final"] += len(s2["regressed_groups"])
            log.write(json.dumps({"repeat": i, "scenario": kind, "first": s1, "final": s2}) + "\n")
            from harness.compare import to_json
            (out / f"r{i:02d}" / f"{kind}.first.json").write_text(to_json(first))
            (out / f"r{i:02d}" / f"{kind}.final.json").write_text(to_json(final))
            log.flush()
            print(f"[{i + 1:>2}/{ns.repeats}] {kind:<5} flagged groups: before confirm "
                  f"{len(s1['regressed_groups']):>2}, after {len(s2['regressed_groups']):>2}  "
                  f"{s2['what'] if kind == 'same' else ''}  ({time.perf_counter() - t_start:.0f}s)",
                  flush=True)
    print(f"\n{ns.repeats} repeats of suite={ns.suite}, --confirm {ns.confirm}, results in {out}")
    print("| scenario | comparisons flagged (before confirm) | after confirm | groups flagged (before) | after | target |")
    print("|---|---|---|---|---|---|")
    targets = {"same": "≤ 1 group in all", "slow": "≥ 19 of 20", "worse": "≥ 19 of 20"}
    for kind in scenarios:
        t = tally[kind]
        print(f"| {kind} | {t['first']}/{ns.repeats} | {t['final']}/{ns.repeats} | {t['groups_first']} | "
              f"{t['groups_final']} | {targets[kind]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
