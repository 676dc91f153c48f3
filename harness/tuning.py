"""Equal tuning budgets: a model's ``search_space`` searched on the trial's validation carve.

A model's YAML may declare ``search_space:``, estimator parameters and their ranges::

    search_space:
      C: {type: float, low: 0.01, high: 100, log: true}
      max_depth: {type: int, low: 2, high: 12}
      kernel: {type: categorical, choices: [rbf, poly]}

A suite that asks for ``tuning: {budget_trials: N}`` (and/or ``budget_s: S``) plans, for every
model with a space, a *tuned* trial beside its default one; every model gets the same budget,
whatever its family. The tuned trial searches inside its own training split: each candidate fits
on the fit part and is scored on the validation carve the trial makes anyway (never on test);
Optuna's TPE sampler, seeded by the trial's seed, proposes the candidates, and the model's own
defaults are the first candidate where they lie in the space. The best candidate by validation
accuracy is then fitted once more as the trial's model (timed as ``fit_s``) and test is scored
once, for it; the search's wall time is ``tuning_s``. The search runs inside the trial, so a
suite's ``trial_timeout_s`` and ``max_memory_gb`` cover all of it.

Optuna is the ``tune`` extra, imported only when a tuned trial runs.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any, Callable

from omegaconf import DictConfig

from harness.config import plain
from harness.errors import UserError
from harness.schema import DEFAULT, TUNED

TYPES = ("float", "int", "categorical")
#: The keys a parameter's range may have, by its type.
KEYS = {"float": {"type", "low", "high", "log"}, "int": {"type", "low", "high", "log"},
        "categorical": {"type", "choices"}}
#: Parameters the trial sets itself (its seed, its device, the input's shape, its target).
RESERVED = ("random_state", "device", "input_shape", "target_accuracy")
INSTALL = 'pip install "harness[tune]"'


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_space_shape(space: Any, where: str) -> None:
    """Each entry of a ``search_space`` is a range of a known type with sound bounds; no estimator
    is built here (that is :func:`check_space`, at plan time)."""
    space = plain(space)
    if not space:
        return
    if not isinstance(space, dict):
        raise UserError(f"model {where}: search_space must map estimator parameters to ranges, "
                        "such as C: {type: float, low: 0.01, high: 100, log: true}")
    for param, spec in space.items():
        _check_range(str(param), spec, where)


def _check_range(param: str, spec: Any, where: str) -> None:
    here = f"model {where}: search_space.{param}"
    if not isinstance(spec, dict) or spec.get("type") not in TYPES:
        raise UserError(f"{here}: give {{type: float|int|categorical, ...}}, such as "
                        "{type: float, low: 0.01, high: 100, log: true} or {type: categorical, choices: [a, b]}")
    kind = spec["type"]
    unknown = sorted(set(spec) - KEYS[kind])
    if unknown:
        raise UserError(f"{here}: unknown key {unknown[0]!r} for type {kind}; it takes {', '.join(sorted(KEYS[kind]))}")
    if param in RESERVED:
        raise UserError(f"{here}: {param} is set by the trial (its seed, device or input), not tuned; "
                        "remove it from the search space")
    if kind == "categorical":
        choices = spec.get("choices")
        if not isinstance(choices, list) or len(choices) < 2:
            raise UserError(f"{here}: choices must be a list of at least two values")
        if len({json.dumps(c, sort_keys=True, default=str) for c in choices}) < len(choices):
            raise UserError(f"{here}: choices {choices} repeat a value")
        return
    low, high, log = spec.get("low"), spec.get("high"), spec.get("log", False)
    whole = kind == "int"
    if not (_number(low) and _number(high)) or (whole and not (float(low).is_integer() and float(high).is_integer())):
        raise UserError(f"{here}: low and high must be {'whole ' if whole else ''}numbers (got low={low}, high={high})")
    if not low < high:
        raise UserError(f"{here}: low={low} must be below high={high}")
    if not isinstance(log, bool):
        raise UserError(f"{here}: log must be true or false (got {log!r})")
    if log and low <= 0:
        raise UserError(f"{here}: a log range needs low > 0 (got low={low})")


def check_space(model: DictConfig) -> None:
    """The space's parameters exist on the model's estimator and its bounds (or choices) are values
    the estimator accepts (scikit-learn's parameter constraints, where it declares them)."""
    from harness.trial import build

    space = plain(model.get("search_space")) or {}
    check_space_shape(space, model.name)
    est = build(model.estimator)
    params = est.get_params(deep=False) if hasattr(est, "get_params") else {}
    for param, spec in space.items():
        if param not in params:
            known = ", ".join(sorted(p for p in params if p not in RESERVED))
            raise UserError(f"model {model.name}: search_space.{param} is not a parameter of "
                            f"{type(est).__name__}; it has: {known}")
        values = spec["choices"] if spec["type"] == "categorical" else [spec["low"], spec["high"]]
        for value in values:
            _check_value(est, model.name, param, value)


def _check_value(est, name: str, param: str, value: Any) -> None:
    from sklearn.base import clone

    validate = getattr(est, "_validate_params", None)
    if validate is None or not hasattr(est, "_parameter_constraints"):
        return
    try:
        probe = clone(est).set_params(**{param: value})
        probe._validate_params()
    except (ValueError, TypeError) as exc:
        raise UserError(f"model {name}: search_space.{param}: {value!r} is not a value the estimator takes: "
                        f"{' '.join(str(exc).split())}") from None


def budget(suite: DictConfig) -> dict | None:
    """The suite's tuning budget, ``{"budget_trials": N or None, "budget_s": S or None}``, or None
    where it asks for no tuning."""
    spec = plain(suite.get("tuning")) or {}
    if not isinstance(spec, dict):
        raise UserError(f"suite {suite.name}: tuning must be {{budget_trials: N}} and/or {{budget_s: S}}")
    trials, seconds = spec.get("budget_trials"), spec.get("budget_s")
    if trials is None and seconds is None:
        return None
    if trials is not None and not (isinstance(trials, int) and not isinstance(trials, bool) and trials >= 1):
        raise UserError(f"suite {suite.name}: tuning.budget_trials={trials} is not a number of candidates: "
                        "give a whole number >= 1, or null (set suite.tuning.budget_trials=...)")
    if seconds is not None and not (_number(seconds) and seconds > 0):
        raise UserError(f"suite {suite.name}: tuning.budget_s={seconds} is not a time: give a positive number "
                        "of seconds, or null (set suite.tuning.budget_s=...)")
    return {"budget_trials": trials, "budget_s": None if seconds is None else float(seconds)}


def spec_for(model: DictConfig, limits: dict | None, val_fraction: float, suite: str) -> dict | None:
    """What a tuned trial of ``model`` searches (its space and the suite's budget); None where the
    suite asks for no tuning or the model declares no space. Checks the space and that optuna is there."""
    space = plain(model.get("search_space")) or {}
    if not limits or not space:
        return None
    if val_fraction <= 0:
        raise UserError(f"suite {suite}: tuning chooses on the validation carve, and val_fraction is 0; "
                        "give suite.val_fraction > 0")
    require_optuna()
    checked = json.dumps([plain(model.estimator), space], sort_keys=True, default=str)
    if checked not in _CHECKED:  # a model is checked once, not once per dataset and features
        check_space(model)
        _CHECKED.add(checked)
    return {"space": space, **limits}


#: Estimator configs and spaces :func:`check_space` passed, in this process.
_CHECKED: set[str] = set()


def require_optuna() -> None:
    """Optuna is the ``tune`` extra: a suite that tunes says how to install it."""
    import importlib.util

    try:
        found = importlib.util.find_spec("optuna") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise UserError(f"tuning (the suite's tuning:) needs optuna, which is not installed: {INSTALL}")


def record_fields(tuning: dict | None) -> dict:
    """A record's tuning columns (``schema.TUNING_COLUMNS``) before the trial runs."""
    limits = tuning or {}
    trials, seconds = limits.get("budget_trials"), limits.get("budget_s")
    return {"tuning": TUNED if tuning else DEFAULT,
            "tuning_budget": float(trials) if trials is not None else math.nan,
            "tuning_budget_s": float(seconds) if seconds is not None else math.nan,
            "tuning_of": str(limits.get("of", "")), "tuned_params": "", "tuning_s": math.nan,
            "tuning_candidates": math.nan}


@dataclass
class Search:
    """A finished search: the chosen parameters, its wall time and its candidates."""

    params: dict
    seconds: float
    candidates: int
    best_val: float


def _suggest(trial, param: str, spec: dict):
    kind = spec["type"]
    if kind == "float":
        return trial.suggest_float(param, float(spec["low"]), float(spec["high"]), log=bool(spec.get("log")))
    if kind == "int":
        return trial.suggest_int(param, int(spec["low"]), int(spec["high"]), log=bool(spec.get("log")))
    # optuna's choices are plain scalars; a list (hidden: [[64], [128]]) goes by its JSON text
    labels = [json.dumps(c, sort_keys=True) for c in spec["choices"]]
    return json.loads(trial.suggest_categorical(param, labels))


def _in_space(value: Any, spec: dict) -> bool:
    if spec["type"] == "categorical":
        return any(json.dumps(value, sort_keys=True, default=str) == json.dumps(c, sort_keys=True, default=str)
                   for c in spec["choices"])
    if not _number(value):
        return False
    return spec["low"] <= value <= spec["high"] and (spec["type"] == "float" or float(value).is_integer())


def _as_suggested(value: Any, spec: dict) -> Any:
    """A default value as optuna stores it for this range (categorical ones by their JSON text)."""
    if spec["type"] == "categorical":
        return json.dumps(value, sort_keys=True)
    return int(value) if spec["type"] == "int" else float(value)


def search(tuning: dict, seed: int, make: Callable[[dict], Any], score: Callable[[Any], float],
           defaults: dict) -> Search:
    """Search ``tuning["space"]`` within its budget: ``make(params)`` fits a candidate, ``score``
    gives its validation accuracy. The model's ``defaults`` go first where they lie in the space."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    space = tuning["space"]
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=int(seed)))
    if all(p in defaults and _in_space(defaults[p], s) for p, s in space.items()):
        study.enqueue_trial({p: _as_suggested(defaults[p], s) for p, s in space.items()})
    errors: list[str] = []

    def objective(trial) -> float:
        params = {p: _suggest(trial, p, s) for p, s in space.items()}
        try:
            value = float(score(make(params)))
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - a candidate that fails is one the search leaves out
            errors.append(f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}")
            raise optuna.TrialPruned() from None
        trial.set_user_attr("params", params)
        return value

    start = time.perf_counter()
    study.optimize(objective, n_trials=tuning.get("budget_trials"), timeout=tuning.get("budget_s"))
    seconds = time.perf_counter() - start
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not done:
        raise RuntimeError(f"tuning: every one of the {len(study.trials)} candidates failed; the first: "
                           f"{errors[0] if errors else '?'}")
    best = study.best_trial
    return Search(best.user_attrs["params"], seconds, len(study.trials), float(best.value))


def tune(trial, make: Callable[[dict], Any], fit: Callable[[Any], None], score: Callable[[Any], float],
         rec: dict) -> dict:
    """Run a tuned trial's search (``make(params)`` builds a candidate, ``fit`` fits it on the fit
    part, ``score`` is its validation accuracy); put ``tuned_params``, ``tuning_s`` and
    ``tuning_candidates`` in ``rec``; return the chosen parameters."""
    def fitted(params: dict):
        est = make(params)
        fit(est)
        return est

    defaults = make({}).get_params(deep=False)
    found = search(trial.tuning, trial.seed, fitted, score, defaults)
    rec.update(tuned_params=json.dumps(found.params, sort_keys=True), tuning_s=found.seconds,
               tuning_candidates=found.candidates)
    return found.params
