"""Expand a suite into trials: matrix × include − exclude, compatible combinations only.

A trial is one fit and one evaluation. Its ``key`` hashes everything that defines it except
the split and the seed, so the same trial can be matched across runs, commits, machines, splits
and seeds. A suite's ``splits`` (train/test splits: data randomness) and ``seeds`` (model
randomness) multiply; a suite without ``splits`` gives each seed its own split (split = seed).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from omegaconf import DictConfig, OmegaConf, open_dict

from harness.errors import UserError
from harness.tuning import budget as tuning_budget
from harness.tuning import spec_for

AXES = ("dataset", "features", "model", "device")
#: What a trial computes, per axis: the trial key hashes these and nothing else, so a
#: description, a name, ``kinds:`` or any other planning metadata can change freely without
#: breaking the pairing of runs across commits. ``keeps_shape`` counts: it decides the input
#: shape a deep model sees.
COMPUTES = {"dataset": ("loader",), "features": ("transformer", "keeps_shape"), "model": ("estimator",)}


#: Command-line choices that are a number, not an option: they replace a suite's list of them.
INDICES = ("seed", "split")
#: How a left-out combination's reason says an extra is missing (the run names each such extra).
NOT_INSTALLED = ", which is not installed"
#: A suite's validation share when it names none.
VAL_FRACTION = 0.1


def chosen_axes(overrides) -> dict[str, Any]:
    """Axes set on the command line (``model=svm_rbf``, ``seed=1``, ``split=2``): they replace a
    suite's matrix, seeds or splits."""
    out: dict[str, Any] = {}
    for item in overrides:
        key, sep, value = str(item).partition("=")
        if sep and key in (*AXES, *INDICES):
            if key in AXES and value.startswith("["):  # Hydra would merge the options into one config
                names = value.strip("[]").replace(" ", "")
                raise UserError(f"{item}: a list merges several {key} configs into one; to run each, "
                                f"use `harness run -m {key}={names}`")
            if key in INDICES:
                try:
                    value = int(value)
                except ValueError:
                    raise UserError(f"invalid override {item}: {key} must be an integer") from None
                if value < 0:
                    raise UserError(f"invalid override {item}: {key} must be 0 or more")
            out[key] = value
    return out


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _indices(suite: DictConfig, key: str) -> list[int] | None:
    """A suite's ``seeds`` or ``splits``: a count N (0..N-1) or a list of whole numbers >= 0; None when unset."""
    value = suite.get(key)
    if value is None:
        return None
    if OmegaConf.is_config(value):
        value = OmegaConf.to_container(value, resolve=True)
    fix = f"give {key}: N (for 0..N-1) or a list such as [0, 1, 2] (set suite.{key}=...)"
    if _whole(value):
        if value < 1:
            raise UserError(f"suite {suite.name}: {key}: {value} plans nothing; {fix}")
        return list(range(value))
    if not isinstance(value, list) or not value or not all(_whole(v) for v in value):
        raise UserError(f"suite {suite.name}: {key}: {value!r} is not a count or a list of whole numbers >= 0; {fix}")
    if len(set(value)) < len(value):
        raise UserError(f"suite {suite.name}: {key} {value} repeats a value; {fix}")
    return list(value)


def val_fraction(suite: DictConfig) -> float:
    """The suite's ``val_fraction``: the share of each training split carved for validation."""
    value = suite.get("val_fraction")
    value = VAL_FRACTION if value is None else value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise UserError(f"suite {suite.name}: val_fraction={value} is not a share of the training split: "
                        f"give a number from 0 (no validation) up to but not including 1 (set suite.val_fraction=...)")
    return float(value)


def split_seed_pairs(suite: DictConfig, chosen: dict[str, Any]) -> list[tuple[int, int]]:
    """The ``(split, seed)`` pairs each combination runs: splits x seeds, or (s, s) per seed
    for a suite without ``splits`` (split = seed); ``split=``/``seed=`` on the command line
    replace that list."""
    seeds = [chosen["seed"]] if "seed" in chosen else (_indices(suite, "seeds") or [0])
    splits = [chosen["split"]] if "split" in chosen else _indices(suite, "splits")
    if splits is None:
        return [(seed, seed) for seed in seeds]
    return [(split, seed) for split in splits for seed in seeds]


@dataclass
class Trial:
    dataset: DictConfig
    features: DictConfig
    model: DictConfig
    device: DictConfig
    seed: int  # model randomness: weights, batch order, random features
    overrides: dict[str, Any] = field(default_factory=dict)
    key: str = ""
    split: int = 0  # data randomness: the train/test split and the validation carve
    val_fraction: float = VAL_FRACTION  # of the training split, carved for validation
    #: a tuned trial's search (harness/tuning.py): space, budget and ``of`` (its default's key); None: defaults
    tuning: dict | None = None
    #: the thread count a re-run keeps, its original trial's (``harness compare --confirm``); not in
    #: the trial id. None: ``device.threads`` when pinned, else the run's thread policy
    threads: int | None = None

    @property
    def where(self) -> str:
        """The device and thread count: not part of the key, so CPU and GPU runs pair up."""
        threads = self.device.get("threads")
        return f"{self.device.name}" + (f"x{threads}" if threads else "")

    @property
    def trial_id(self) -> str:
        return f"{self.key}-{self.where}-p{self.split}-s{self.seed}" + ("-tuned" if self.tuning else "")

    @property
    def variant(self) -> str:
        """The suite's overrides in short form (``hidden=[64, 64]``, ``n_train=500``), or ""."""
        return ", ".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in self.overrides.items())

    @property
    def label(self) -> str:
        extra = "".join(f" {k}={v}" for k, v in self.overrides.items())
        return (f"{self.dataset.name}/{self.features.name}/{self.model.name}"
                f"@{self.device.name} split={self.split} seed={self.seed}{extra}" + (" tuned" if self.tuning else ""))


@dataclass
class Plan:
    suite: DictConfig
    trials: list[Trial]
    dropped: list[str]  # one line per incompatible combination left out
    chosen: dict[str, Any] = field(default_factory=dict)  # axes the command line chose
    overrides: list[str] = field(default_factory=list)  # the overrides the config was composed with

    def missing_extras(self) -> list[str]:
        """The reasons among ``dropped`` that name an extra not installed, each once."""
        return sorted({line.split(": ", 1)[1] for line in self.dropped if NOT_INSTALLED in line})


def trial_key(nodes: dict[str, DictConfig], tuning: dict | None = None) -> str:
    """Stable 12-hex hash of what a trial computes (:data:`COMPUTES`): split, seed and device excluded.

    Two trials with the same key fit the same model to the same data; their rows differ
    only in split, seed, device and threads, so GPU/CPU speedups and cross-run comparisons pair up.
    A tuned trial's key also hashes its ``tuning`` (space and budget); a default trial's has none.
    """
    payload = {}
    for axis, keys in COMPUTES.items():
        cont = OmegaConf.to_container(nodes[axis], resolve=True)
        payload[axis] = {k: cont.get(k) for k in keys}
    if tuning:
        payload["tuning"] = tuning
    blob = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()[:12]


def _as_list(value: Any) -> list:
    if OmegaConf.is_config(value):
        value = OmegaConf.to_container(value, resolve=True)
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _combos(spec: dict[str, Any]) -> Iterable[dict[str, Any]]:
    keys = list(spec)
    for values in itertools.product(*(_as_list(spec[k]) for k in keys)):
        yield dict(zip(keys, values))


def _matches(combo: dict[str, Any], pattern: dict[str, Any]) -> bool:
    return all(str(combo.get(k)) in {str(v) for v in _as_list(want)} for k, want in pattern.items())


def incompatibility(dataset: DictConfig, features: DictConfig, model: DictConfig) -> str | None:
    """Why this combination can't run, or None when it can."""
    kind = dataset.kind
    applies = list(features.applies_to)
    if kind not in applies:
        return f"features {features.name} apply to {'/'.join(applies)}, not {kind} data"
    kinds = list(model.kinds)
    if kind not in kinds:
        return f"model {model.name} takes {'/'.join(kinds)} data, not {kind}"
    if model.needs_shape and not features.keeps_shape:
        return f"model {model.name} needs shaped input; features {features.name} flatten it"
    target = str((model.get("estimator") or {}).get("_target_", ""))
    if target.startswith("harness.models.torch") and not _has_torch():
        return f'model {model.name} needs torch{NOT_INSTALLED}: pip install "harness[deep]"'
    return None


@functools.lru_cache(maxsize=1)
def _has_torch() -> bool:
    """Whether torch can be imported here, without importing it (it is the ``deep`` extra)."""
    import importlib.util

    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        return False


def expand(suite: DictConfig, load: Callable[[str, str], DictConfig],
           chosen: dict[str, Any] | None = None,
           selected: dict[str, DictConfig] | None = None) -> Plan:
    """Expand ``suite`` into trials.

    Parameters
    ----------
    suite : the suite's config (matrix, include, exclude, splits, seeds, val_fraction).
    load : ``load(group, option)`` returns an option's validated config.
    chosen : axes given on the command line (``model="svm_rbf"``, ``seed=1``, ``split=2``); each
        replaces that axis of the matrix, and include/exclude entries keep to it.
    selected : the composed config's nodes per axis; an axis value equal to the selected
        option uses this node, so command-line edits such as ``model.estimator.C=3`` apply.
    """
    chosen = dict(chosen or {})
    selected = selected or {}
    matrix = OmegaConf.to_container(suite.matrix, resolve=True) if suite.matrix else {}
    for axis in AXES:
        if axis not in matrix and axis not in chosen:
            if axis not in selected:
                raise UserError(f"suite {suite.name} has no `{axis}` in its matrix; add one, or pass {axis}=NAME")
            matrix[axis] = [selected[axis].name]
    pairs = split_seed_pairs(suite, chosen)
    fraction = val_fraction(suite)
    limits = tuning_budget(suite)
    for axis, value in chosen.items():
        if axis in AXES:
            matrix[axis] = [value]

    combos = list(_combos(matrix))
    for entry in _as_list(suite.include):
        entry = dict(entry)  # axes it doesn't name take the matrix's values
        if any(a in entry and not _matches({a: v}, {a: entry[a]}) for a, v in chosen.items() if a in AXES):
            continue
        combos.extend(_combos({**matrix, **entry, **{a: [v] for a, v in chosen.items() if a in AXES}}))
    exclude = [dict(e) for e in _as_list(suite.exclude)]
    combos = [c for c in combos if not any(_matches(c, e) for e in exclude)]

    cache: dict[tuple[str, str], DictConfig] = {}

    def node(axis: str, name: str) -> DictConfig:
        if axis in selected and selected[axis].name == name:
            return selected[axis]
        if (axis, name) not in cache:
            cache[(axis, name)] = load(axis, str(name))
        return cache[(axis, name)]

    trials, dropped, seen = [], [], {}
    for combo in combos:
        nodes = {axis: node(axis, combo[axis]) for axis in AXES}
        overrides = {k: v for k, v in combo.items() if k not in AXES}
        if overrides:
            nodes = {a: n.copy() for a, n in nodes.items()}
            for path, value in overrides.items():
                axis = path.split(".", 1)[0]
                if axis not in AXES or "." not in path:
                    raise UserError(f"suite {suite.name}: matrix key `{path}` is neither an axis "
                                    f"({', '.join(AXES)}) nor a dotted path such as dataset.loader.n_train")
                _set_path(nodes[axis], path.split(".", 1)[1], value, suite.name)
        why = incompatibility(nodes["dataset"], nodes["features"], nodes["model"])
        label = f"{combo['dataset']}/{combo['features']}/{combo['model']}"
        if why:
            dropped.append(f"{label}: {why}")
            continue
        key = trial_key(nodes)
        probe = Trial(seed=0, key=key, **nodes)
        if (key, probe.where) in seen:
            if seen[(key, probe.where)] != label:
                dropped.append(f"{label}: computes the same as {seen[(key, probe.where)]}")
            continue
        seen[(key, probe.where)] = label
        for split, seed in pairs:
            trials.append(Trial(seed=int(seed), split=int(split), val_fraction=fraction,
                                overrides=overrides, key=key, **nodes))
        # tuning (harness/tuning.py): a model with a search space also runs tuned, under its own key
        if limits and (spec := spec_for(nodes["model"], limits, fraction, suite.name)):
            tuned = {**spec, "of": key}
            trials += [Trial(seed=int(seed), split=int(split), val_fraction=fraction, overrides=overrides,
                             key=trial_key(nodes, spec), tuning=tuned, **nodes) for split, seed in pairs]
    trials.sort(key=lambda t: (t.dataset.name, t.split, t.seed, t.features.name))
    return Plan(suite=suite, trials=trials, dropped=sorted(set(dropped)), chosen=chosen)


def _set_path(cfg: DictConfig, path: str, value: Any, suite: str) -> None:
    parent_path, _, leaf = path.rpartition(".")
    parent = OmegaConf.select(cfg, parent_path) if parent_path else cfg
    if parent is None:
        raise UserError(f"suite {suite}: `{path}` does not exist in {cfg.name}'s config")
    with open_dict(parent):
        parent[leaf] = value

