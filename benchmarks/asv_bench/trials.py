"""asv benchmarks generated from a harness suite (default ``ci``; ``HARNESS_ASV_SUITE`` picks another).

One parameter value per trial group (seed 0 of each), named like the report names it
(``digits/raw/logreg@cpux1``), so asv's history pages draw one line per trial:

- ``time_fit`` / ``time_predict``: wall time of the model's fit and predict, on the trial's
  features, under the trial's thread limit (data loading and features are set-up, not timed);
- ``peakmem_fit``: peak memory of the process while fitting;
- ``track_accuracy``: test accuracy (unit: ``accuracy``), so a less accurate commit shows.

The trials come from the suite through the same planning code as ``harness run``, so a
model added to the suite is benchmarked without touching this file. asv imports this module in
every benchmark process; planning (Hydra, every model built once) costs seconds there, so the
plan is made once and kept as JSON under ``$HARNESS_CACHE_DIR/asv-plans/`` (default
``~/.cache/harness``), named by a hash of everything it is made of: harness's code, the bundled
suites, the user's config dirs and the suite's name. A changed file means a new plan.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

SUITE = os.environ.get("HARNESS_ASV_SUITE", "ci")
#: Only trials whose name contains this (e.g. ``moons``): a quick look at a few.
ONLY = os.environ.get("HARNESS_ASV_ONLY", "")


def _plan_id() -> str:
    """A hash of what the plan is made of: harness's code, the suites, the config dirs, the suite."""
    import harness
    from harness import configdirs
    from harness.config import suites_dir

    digest = hashlib.sha256(SUITE.encode())
    for root in (Path(harness.__file__).resolve().parent, suites_dir(), *map(Path, configdirs.resolve())):
        for path in sorted(root.rglob("*")):
            if path.suffix in (".py", ".yaml") and path.is_file():
                digest.update(f"{path.relative_to(root)}\0".encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def _cache_file() -> Path:
    base = Path(os.environ.get("HARNESS_CACHE_DIR") or Path.home() / ".cache" / "harness")
    return base / "asv-plans" / f"{SUITE}-{_plan_id()}.json"


def _to_json(trials: dict) -> str:
    from dataclasses import fields

    from omegaconf import DictConfig, OmegaConf

    out = {}
    for name, t in trials.items():
        values = {f.name: getattr(t, f.name) for f in fields(t)}
        configs = sorted(k for k, v in values.items() if isinstance(v, DictConfig))
        out[name] = {"configs": configs, "values": {k: OmegaConf.to_container(v, resolve=True)
                                                    if k in configs else v for k, v in values.items()}}
    return json.dumps(out)


def _from_json(text: str) -> dict:
    from omegaconf import OmegaConf

    from harness.plan import Trial

    return {name: Trial(**{k: OmegaConf.create(v) if k in item["configs"] else v
                           for k, v in item["values"].items()})
            for name, item in json.loads(text).items()}


@lru_cache(maxsize=1)
def _plan():
    """One trial per group (its lowest split and seed), by name; planned once, then read from the cache."""
    path = _cache_file()
    try:
        return _from_json(path.read_text())
    except (OSError, ValueError, TypeError, KeyError):  # none yet, or from another layout: plan again
        pass
    from harness import api

    plan = api.plan(api.compose([f"suite={SUITE}"]))
    first = {}
    for t in plan.trials:
        name = f"{t.dataset.name}/{t.features.name}/{t.model.name}@{t.where}"
        if name not in first or (t.split, t.seed) < (first[name].split, first[name].seed):
            first[name] = t
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(_to_json(first))
        tmp.replace(path)  # atomic: a parallel process reads a whole plan or none
    except OSError:  # a read-only home: plan in every process, as before
        pass
    return first


def _names() -> list[str]:
    try:
        return sorted(n for n in _plan() if ONLY in n)
    except Exception as exc:  # noqa: BLE001 - asv must still list the benchmarks
        return [f"(suite {SUITE} failed to plan: {exc})"]


@lru_cache(maxsize=8)
def _prepared(name: str):
    """Data and features of a trial (loaded once per process)."""
    from harness.data import load_dataset
    from harness.trial import featurize

    trial = _plan()[name]
    data = load_dataset(trial.dataset, trial.split)
    return trial, data, featurize(trial, data)


def _estimator(trial, feats):
    from harness.trial import build, set_known

    est = build(trial.model.estimator)
    set_known(est, random_state=trial.seed, device="cpu", input_shape=tuple(feats.input_shape))
    return est


class Trials:
    """Each benchmark of one trial of the suite."""

    params = [_names()]
    param_names = ["trial"]
    timeout = 300

    def setup(self, name):
        from harness.measure import thread_limit

        self.trial, self.data, self.feats = _prepared(name)
        # The trial's thread limit holds from set-up to teardown: entering it costs
        # milliseconds that are no part of the model's time.
        self._limit = thread_limit(self.trial.device.get("threads"))
        self._limit.__enter__()

    def teardown(self, name):
        self._limit.__exit__(None, None, None)

    def _fit(self):
        est = _estimator(self.trial, self.feats)
        est.fit(self.feats.X_train, self.data.y_train)
        return est

    def time_fit(self, name):
        self._fit()

    def peakmem_fit(self, name):
        self._fit()

    def track_accuracy(self, name):
        import numpy as np

        est = self._fit()
        return float(np.mean(est.predict(self.feats.X_test) == self.data.y_test))

    track_accuracy.unit = "accuracy"


class Predict:
    """Predict time needs a fitted model: fitted in set-up, not timed."""

    params = Trials.params
    param_names = ["trial"]
    timeout = 300

    def setup(self, name):
        Trials.setup(self, name)
        self.fitted = Trials._fit(self)

    def teardown(self, name):
        Trials.teardown(self, name)

    def time_predict(self, name):
        self.fitted.predict(self.feats.X_test)
