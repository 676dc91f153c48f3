"""Execute a plan: load data once, featurize once, run trials, append records as they end.

``execute`` is the plain function behind ``harness run`` (STYLE.md #6): tests call it
with a composed config, the CLI calls it from Hydra's entry point.
"""

from __future__ import annotations

import shutil
import sys
import time
import traceback
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from harness import environment
from harness.config import load_option
from harness.errors import UserError
from harness.plan import AXES, Plan, Trial, expand
from harness.store import RunWriter
from harness.trial import Outcome, check_estimator_config, featurize, failed, run_trial, skipped


@dataclass
class RunResult:
    run_dir: Path
    counts: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    report: Path | None = None

    @property
    def exit_code(self) -> int:
        return 1 if self.counts["failed"] or self.counts["timeout"] else 0


class _LRU(OrderedDict):
    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def get_or(self, key, make):
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = self[key] = make()
        if len(self) > self.size:
            self.popitem(last=False)
        return value


def make_plan(cfg: DictConfig, chosen: dict) -> Plan:
    selected = {axis: cfg[axis] for axis in AXES}
    plan = expand(cfg.suite, load_option, chosen=chosen, selected=selected)
    if not plan.trials:
        why = f" ({len(plan.dropped)} combinations were incompatible: {plan.dropped[0]} ...)" if plan.dropped else ""
        raise UserError(f"suite {cfg.suite.name} plans no trials{why}; check its matrix and your overrides")
    checked = set()
    for trial in plan.trials:
        ident = id(trial.model)
        if ident not in checked:
            checked.add(ident)
            check_estimator_config(trial.model.estimator, trial.model.name)
    return plan


class _Devices:
    """Resolves a trial's device once per type; imports torch only when a GPU is asked for."""

    def __init__(self):
        self._cuda = None

    def cuda_available(self) -> bool:
        if self._cuda is None:
            try:
                import torch
                self._cuda = bool(torch.cuda.is_available())
            except ImportError:
                self._cuda = False
        return self._cuda

    def resolve(self, trial: Trial) -> tuple[str, str | None]:
        """(device the trial runs on, reason to skip or None)."""
        kind = str(trial.device.type)
        if kind == "cpu":
            return "cpu", None
        has_gpu = self.cuda_available()
        if kind == "auto":
            kind = "cuda" if has_gpu else "cpu"
        if kind == "cuda" and not has_gpu:
            return "cuda", "CUDA is not available on this machine; run this trial on a GPU machine or use device=cpu"
        return kind, None


def _sync_for(device: str):
    if device != "cuda":
        return None
    import torch
    return torch.cuda.synchronize


def _progress(i: int, n: int, out: Outcome, t0: float, stream) -> None:
    r = out.record
    elapsed = time.perf_counter() - t0
    eta = elapsed / i * (n - i)
    acc = r.get("accuracy")
    score = f"acc={acc:.3f} fit={r['fit_s']:.2f}s" if r["status"] == "ok" else r["error"][:90]
    print(f"[{i:>{len(str(n))}}/{n}] {r['dataset']}/{r['features']}/{r['model']}@{r['device']} "
          f"seed={r['seed']} {r['status']} {score}  (elapsed {elapsed:.0f}s, eta {eta:.0f}s)",
          file=stream, flush=True)


def execute(cfg: DictConfig, chosen: dict | None = None, run_dir: Path | str | None = None,
            job: str = "0", overrides: list[str] | None = None, stream=None) -> RunResult:
    """Plan ``cfg.suite``, run every trial, record it, and write the report.

    Raises UserError for problems with the user's input (before or between trials);
    records already written stay as they are.
    """
    stream = stream or sys.stderr
    chosen = chosen or {}
    plan = make_plan(cfg, chosen)
    run_dir = Path(run_dir or Path(cfg.results_dir) / cfg.suite.name / cfg.run_id)
    result = RunResult(run_dir=run_dir)
    writer = RunWriter(run_dir, job=job)
    writer.write_run_info({
        "run_id": run_dir.name, "suite": cfg.suite.name, "overrides": overrides or [],
        "chosen": chosen, "n_trials": len(plan.trials), "dropped": plan.dropped,
        "config": OmegaConf.to_container(cfg, resolve=True, enum_to_str=True),
        "environment": environment.capture(load_torch=any(str(t.device.type) != "cpu" for t in plan.trials)),
    })
    if cfg.progress:
        print(f"harness: {len(plan.trials)} trials of suite {cfg.suite.name} -> {run_dir}"
              + (f" ({len(plan.dropped)} incompatible combinations left out)" if plan.dropped else ""),
              file=stream, flush=True)

    from harness.data import load_dataset

    try:
        _loop(plan, cfg, run_dir, writer, result, load_dataset, job, stream)
    except UserError:
        _discard_if_empty(run_dir)
        raise

    if cfg.report:
        from harness.report import write_report
        result.report = write_report([run_dir])
    return result


def _loop(plan: Plan, cfg: DictConfig, run_dir: Path, writer: RunWriter, result: RunResult,
          load_dataset, job: str, stream) -> None:
    datasets, features = _LRU(4), _LRU(8)
    devices = _Devices()
    t0 = time.perf_counter()
    for i, trial in enumerate(plan.trials, 1):
        device, skip = devices.resolve(trial)
        ctx = {"run_id": run_dir.name, "suite": cfg.suite.name, "device": device,
               "target_accuracy": cfg.suite.get("target_accuracy"), "sync": _sync_for(device) if not skip else None}
        if skip:
            out = skipped(trial, ctx, skip)
        else:
            out = _run_one(trial, ctx, datasets, features, load_dataset)
        writer.record(out.record)
        if out.y_pred is not None:
            writer.predictions(trial.trial_id, _test_labels(datasets, trial), out.y_pred)
        writer.curve(trial.trial_id, out.curve)
        if out.detail:
            with open(run_dir / f"errors-{job}.log", "a") as fh:
                fh.write(f"--- {trial.trial_id} {trial.label}\n{out.detail}\n")
        result.counts[out.record["status"]] += 1
        if out.record["status"] in ("failed", "timeout"):
            result.failures.append(f"{trial.label}: {out.record['error']}")
        if cfg.progress:
            _progress(i, len(plan.trials), out, t0, stream)


def _discard_if_empty(run_dir: Path) -> None:
    """Remove a run dir that a user error stopped before any trial was recorded."""
    if not any(run_dir.glob("records-*.jsonl")):
        shutil.rmtree(run_dir, ignore_errors=True)


def _data_key(trial: Trial) -> str:
    return OmegaConf.to_yaml(trial.dataset) + f"seed={trial.seed}"


def _test_labels(datasets: _LRU, trial: Trial):
    data = datasets.get(_data_key(trial))
    return data.y_test if not isinstance(data, BaseException) else None


def _run_one(trial: Trial, ctx: dict, datasets: _LRU, features: _LRU, load_dataset) -> Outcome:
    def load():
        try:
            return load_dataset(trial.dataset, trial.seed)
        except UserError:
            raise
        except Exception as exc:  # noqa: BLE001 - every trial on this data fails with this error
            exc.detail = traceback.format_exc()
            return exc

    data = datasets.get_or(_data_key(trial), load)
    if isinstance(data, BaseException):
        return failed(trial, ctx, data, getattr(data, "detail", ""))

    def feat():
        try:
            return featurize(trial, data)
        except Exception as exc:  # noqa: BLE001
            exc.detail = traceback.format_exc()
            return exc

    fkey = _data_key(trial) + OmegaConf.to_yaml(trial.features)
    feats = features.get_or(fkey, feat)
    if isinstance(feats, BaseException):
        return failed(trial, ctx, feats, getattr(feats, "detail", ""))
    return run_trial(trial, data, feats, ctx)
