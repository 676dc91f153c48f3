"""Run one trial: carve validation → featurize → fit → evaluate. Never raises: an error becomes a record.

Every trial carves one validation part from its training split (stratified, seeded by the
split, the suite's ``val_fraction``): the feature transformer and the model fit on the rest,
and ``val_accuracy`` scores the fitted model on the carve, so anything chosen is chosen without
looking at the test set. A model that declares ``accepts_validation = True`` (the torch ones)
gets that same carve as ``fit(X, y, X_val=..., y_val=...)`` for its curve and early stopping.

Only the work is timed: data loading, feature extraction and scoring stay
outside the fit and predict timers; feature extraction is timed on its own (``features_s``).
"""

from __future__ import annotations

import json
import math
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
from omegaconf import DictConfig

from harness.config import plain
from harness.data.base import Dataset
from harness.measure import Stopwatch, peak_rss_mb, reset_peak_rss, rss_mb, thread_limit, threads_in_force
from harness.plan import Trial
from harness.schema import PARAM_PREFIX
from harness.tuning import record_fields, tune

NAN = float("nan")


@dataclass
class Features:
    """A featurized split, shared by every model trial on the same data split, features and carve.

    ``X_train`` holds every training row, in order; the transformer was fitted on the rows
    ``fit_idx`` only, and ``val_idx`` are the validation carve (empty: none).
    """

    X_train: np.ndarray
    X_test: np.ndarray
    input_shape: tuple[int, ...]
    seconds: float
    fit_idx: np.ndarray | None = None  # None: every training row
    val_idx: np.ndarray | None = None

    def fit_part(self, y_train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rows (and their labels) models fit on."""
        if self.fit_idx is None or len(self.fit_idx) == len(self.X_train):
            return self.X_train, y_train
        return self.X_train[self.fit_idx], y_train[self.fit_idx]

    def val_part(self, y_train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The validation carve's rows and labels (empty when there is none)."""
        idx = np.zeros(0, dtype=np.int64) if self.val_idx is None else self.val_idx
        return self.X_train[idx], y_train[idx]


@dataclass
class Outcome:
    record: dict
    y_pred: np.ndarray | None = None
    y_true: np.ndarray | None = None
    curve: list[dict] = field(default_factory=list)
    detail: str = ""  # full traceback of a failure, for the run's error log


def one_line(exc: BaseException) -> str:
    """``Type: first line`` of an error; for Hydra's "Error in call to target", its cause."""
    from hydra.errors import InstantiationException

    if isinstance(exc, InstantiationException) and exc.__cause__ is not None:
        exc = exc.__cause__
    text = str(exc).strip().splitlines()
    msg = f"{type(exc).__name__}: {text[0] if text else ''}".strip().rstrip(":")
    return msg[:500]


def build(node: DictConfig):
    """The object a config node describes (``_target_`` and its parameters)."""
    from hydra.utils import instantiate

    return instantiate(node, _convert_="all")


def check_estimator_config(node: DictConfig, name: str):
    """Build a model once and check its parameters, so a bad override fails before any trial.

    scikit-learn estimators declare their parameter constraints; ``_validate_params`` checks
    them without fitting. Estimators without it are only built. Returns the estimator built
    (unfitted); planning calls this through :func:`harness.paramcheck.check_model`.
    """
    from harness.errors import UserError

    try:
        est = build(node)
    except Exception as exc:  # noqa: BLE001 - a config that can't build is the user's to fix
        cause = exc.__cause__ or exc
        raise UserError(f"model {name} cannot be built from its config: {one_line(cause)}") from None
    validate = getattr(est, "_validate_params", None)
    if validate is None or not hasattr(est, "_parameter_constraints"):
        return est
    try:
        validate()
    except (ValueError, TypeError) as exc:
        raise UserError(f"model {name}: {' '.join(str(exc).split())} (check model.estimator in "
                        f"the model's YAML or your overrides)") from None
    return est


def set_known(est, **values) -> None:
    """Give an estimator the run's context for the parameters it declares."""
    params = est.get_params(deep=False) if hasattr(est, "get_params") else {}
    known = {k: v for k, v in values.items() if k in params}
    if known:
        est.set_params(**known)


def featurize(trial: Trial, data: Dataset, threads: int | None = None) -> Features:
    """Carve the trial's validation part from the training split (seeded by the split), fit the
    feature transformer on the rest only, and transform every training row and the test split,
    under the trial's thread limit (``threads``; None: the run's policy, :mod:`harness.cpus`)."""
    from harness.data.splits import split_validation

    fit_idx, val_idx = split_validation(data.y_train, trial.val_fraction, trial.split)
    X_train = data.X_train.reshape(len(data.X_train), -1)
    X_test = data.X_test.reshape(len(data.X_test), -1)
    transformer = build(trial.features.transformer)
    set_known(transformer, random_state=trial.seed, input_shape=data.shape)
    watch = Stopwatch()
    with thread_limit(threads), watch.time():
        carved = len(val_idx) > 0
        F_fit = np.asarray(transformer.fit_transform(X_train[fit_idx] if carved else X_train,
                                                     data.y_train[fit_idx] if carved else data.y_train),
                           dtype=np.float32)
        F_val = np.asarray(transformer.transform(X_train[val_idx]), dtype=np.float32) if carved else None
        F_test = np.asarray(transformer.transform(X_test), dtype=np.float32)
    if carved:
        F_train = np.empty((len(X_train), *F_fit.shape[1:]), dtype=np.float32)
        F_train[fit_idx], F_train[val_idx] = F_fit, F_val
    else:
        F_train = F_fit
    shape = data.shape if trial.features.keeps_shape else (F_train.shape[1],)
    return Features(F_train, F_test, shape, watch.wall_s, fit_idx, val_idx)


def config_key(node) -> str:
    """A config node's content as one string, for cache keys (about 7x quicker than ``to_yaml``)."""
    items = plain(node)
    return json.dumps(items, sort_keys=True, default=str)


_draws_random: dict[str, bool] = {}  # features transformer config -> whether it takes random_state


def features_seed(trial: Trial) -> int | None:
    """The seed a trial's features depend on: its own when the transformer draws random
    numbers (``random_state``), else None, so every seed of a split shares the features.

    Whether it draws them is learnt by building the transformer once per config (a build is
    a Hydra instantiate, milliseconds that every trial used to pay)."""
    key = config_key(trial.features.transformer)
    if key not in _draws_random:
        transformer = build(trial.features.transformer)
        params = transformer.get_params(deep=False) if hasattr(transformer, "get_params") else {}
        _draws_random[key] = "random_state" in params
    return trial.seed if _draws_random[key] else None


def flat_params(node, prefix: str) -> dict:
    """Hyperparameters as flat ``<prefix><name>`` columns (nested keys joined by ``_``)."""
    out = {}
    items = plain(node)
    for k, v in (items or {}).items():
        if str(k).startswith("_"):
            continue
        if isinstance(v, dict):
            out.update(flat_params(v, f"{prefix}{k}_"))
        elif isinstance(v, (list, tuple)):
            out[f"{prefix}{k}"] = json.dumps(v)
        else:
            out[f"{prefix}{k}"] = v
    return out


def base_record(trial: Trial, ctx: dict) -> dict:
    rec = {
        "run_id": ctx.get("run_id", ""), "suite": ctx.get("suite", ""), "key": trial.key,
        "trial_id": trial.trial_id, "dataset": trial.dataset.name, "features": trial.features.name,
        "model": trial.model.name, "variant": trial.variant, "family": trial.model.family,
        "device": ctx.get("device", trial.device.type), "device_requested": trial.device.name,
        "raw_input": bool(trial.features.get("raw_input", False)),
        "split": trial.split, "seed": trial.seed, "status": "ok", "error": "", "skip_reason": "",
        "threads": threads_in_force(ctx.get("threads", trial.device.get("threads"))),
        "parallel_jobs": ctx.get("parallel_jobs", 1),
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    for metric in ("accuracy", "balanced_accuracy", "f1_macro", "log_loss", "val_accuracy", "features_s",
                   "fit_s", "predict_s", "cpu_s", "peak_rss_mb"):
        rec[metric] = NAN
    rec.update(record_fields(trial.tuning))
    rec.update(flat_params(trial.model.estimator, PARAM_PREFIX))
    rec.update(flat_params(trial.features.transformer, f"{PARAM_PREFIX}features_"))
    rec.update(flat_params(trial.dataset.loader, f"{PARAM_PREFIX}dataset_"))
    return rec


def _scores(est, X_test, y_test, y_pred) -> dict:
    from sklearn import metrics

    out = {"accuracy": metrics.accuracy_score(y_test, y_pred),
           "balanced_accuracy": metrics.balanced_accuracy_score(y_test, y_pred),
           "f1_macro": metrics.f1_score(y_test, y_pred, average="macro", zero_division=0),
           "log_loss": NAN}
    if hasattr(est, "predict_proba"):
        try:
            proba = est.predict_proba(X_test)
            out["log_loss"] = metrics.log_loss(y_test, proba, labels=getattr(est, "classes_", None))
        except Exception:  # noqa: BLE001 - a model without usable probabilities scores NaN
            pass
    return out


def run_trial(trial: Trial, data: Dataset, feats: Features, ctx: dict) -> Outcome:
    """Fit and evaluate one model; every failure is caught and recorded."""
    rec = base_record(trial, ctx)
    X_fit, y_fit = feats.fit_part(data.y_train)
    X_val, y_val = feats.val_part(data.y_train)
    rec.update(n_train=len(data.y_train), n_test=len(data.y_test), n_train_fit=len(y_fit), n_val=len(y_val),
               n_features=int(feats.X_train.shape[1]), n_classes=data.n_classes,
               features_s=feats.seconds)
    sync = _sync_for(rec["device"])
    try:
        est = _estimator(trial, rec, ctx, feats)
        torch_model = "torch" in type(est).__module__
        if torch_model:  # loaded now, so thread_limit pins its pool from the first trial
            import torch  # noqa: F401
        takes_validation = _takes_validation(est)
        if trial.tuning:  # the search runs here, inside the trial and its limits; est is the chosen one
            est = _tuned(trial, rec, ctx, feats, (X_fit, y_fit), (X_val, y_val), takes_validation, torch_model)
        with thread_limit(rec["threads"], torch_model) as n_threads:
            rec["threads"] = n_threads
            reset = reset_peak_rss()
            rss_before = rss_mb()
            fit, pred = Stopwatch(), Stopwatch()
            with fit.time(sync):
                if takes_validation:
                    est.fit(X_fit, y_fit, X_val=X_val, y_val=y_val)
                else:
                    est.fit(X_fit, y_fit)
            with pred.time(sync):
                y_pred = np.asarray(est.predict(feats.X_test))
            rec["peak_rss_mb"] = peak_rss_mb()
            # What the trial itself added on top of the process (imports, caches, earlier trials):
            # stable across environments where the process-wide peak is not.
            if reset and math.isfinite(rss_before):
                rec["mem_growth_mb"] = max(rec["peak_rss_mb"] - rss_before, 0.0)
            # Scored outside the timers but under the limit: on a busy machine an unlimited pool
            # made hist_gb's predict_proba cost more than its fit (harness/cpus.py).
            rec.update(_scores(est, feats.X_test, data.y_test, y_pred))
            if len(y_val):  # selection reads this, never the test score
                rec["val_accuracy"] = float(np.mean(np.asarray(est.predict(X_val)) == y_val))
        info = dict(getattr(est, "trial_info_", {}) or {})
        warmup = info.get("warmup_s")
        rec["fit_s"] = fit.wall_s - warmup if warmup is not None and math.isfinite(warmup) else fit.wall_s
        rec["predict_s"] = pred.wall_s
        rec["cpu_s"] = fit.cpu_s + pred.cpu_s
        rec.update({k: v for k, v in info.items() if k not in rec or k == "device"})
        return Outcome(rec, y_pred=y_pred, y_true=data.y_test,
                       curve=list(getattr(est, "curve_", []) or []))
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - one bad model never stops a suite
        if isinstance(exc, SystemExit):
            exc = RuntimeError(f"model called sys.exit({exc.code})")
        rec.update(status="failed", error=one_line(exc))
        return Outcome(rec, detail=traceback.format_exc())


def _estimator(trial: Trial, rec: dict, ctx: dict, feats: Features):
    """The trial's model, unfitted, with the run's context (seed, device, input shape, target)."""
    est = build(trial.model.estimator)
    if rec["device"] != "cpu" and "device" not in est.get_params(deep=False):
        rec["device"] = "cpu"  # e.g. scikit-learn: runs where its library can, labelled so
    set_known(est, random_state=trial.seed, device=rec["device"],
              input_shape=tuple(feats.input_shape), target_accuracy=ctx.get("target_accuracy"))
    return est


def _tuned(trial: Trial, rec: dict, ctx: dict, feats: Features, fit_part, val_part, takes_validation: bool,
           torch_model: bool):
    """A tuned trial's model: its search space searched on the validation carve (harness/tuning.py),
    every candidate fitted on the fit part under the trial's thread limit; the chosen one, unfitted."""
    (X_fit, y_fit), (X_val, y_val) = fit_part, val_part

    def make(params: dict):
        est = _estimator(trial, rec, ctx, feats)
        return est.set_params(**params) if params else est

    def fit(est) -> None:
        if takes_validation:
            est.fit(X_fit, y_fit, X_val=X_val, y_val=y_val)
        else:
            est.fit(X_fit, y_fit)

    def score(est) -> float:
        return float(np.mean(np.asarray(est.predict(X_val)) == y_val))

    with thread_limit(rec["threads"], torch_model):
        return make(tune(trial, make, fit, score, rec))


def _takes_validation(est) -> bool:
    """Whether ``est.fit`` takes the trial's validation carve as ``X_val, y_val``: a model says so
    with ``accepts_validation = True`` (:class:`~harness.models.torch.TorchClassifier` does). A
    signature alone is not enough: scikit-learn's ``HistGradientBoostingClassifier`` takes
    ``X_val`` from 1.7 on, with other rules, and a trial must fit alike on every version."""
    return getattr(est, "accepts_validation", False) is True


def _sync_for(device: str):
    """What makes a GPU timer honest: wait for queued kernels before reading the clock."""
    if not str(device).startswith("cuda"):
        return None
    import torch

    return torch.cuda.synchronize


def skipped(trial: Trial, ctx: dict, reason: str, code: str, status: str = "skipped") -> Outcome:
    """A record for a trial that did not run: ``code`` is its ``skip_reason`` (see schema.SKIP_REASONS)."""
    rec = base_record(trial, ctx)
    rec.update(status=status, error=reason, skip_reason=code)
    return Outcome(rec)


def failed(trial: Trial, ctx: dict, exc: BaseException, detail: str = "") -> Outcome:
    rec = base_record(trial, ctx)
    rec.update(status="failed", error=one_line(exc))
    return Outcome(rec, detail=detail)
