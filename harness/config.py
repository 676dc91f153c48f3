"""Typed schemas for the configs, their validation, and where the bundled suites live.

The YAML files under ``suites/`` are the registry; the dataclasses here
only say what each kind of file must contain, so that a wrong override or a malformed
file fails when it is loaded, with a message that names the key.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from omegaconf import MISSING, DictConfig, OmegaConf

from harness.errors import UserError
from harness.schema import FAMILIES, KINDS

GROUPS = ("dataset", "features", "model", "device", "suite")


def plain(value: Any) -> Any:
    """A config node as plain Python (dicts, lists; interpolations resolved); anything else as it is."""
    return OmegaConf.to_container(value, resolve=True) if OmegaConf.is_config(value) else value


def suites_dir() -> Path:
    """The directory holding ``config.yaml`` and the config groups: the bundled suites.

    ``HARNESS_SUITES`` if set; else the package's own ``harness/_suites`` (a wheel carries the
    suites there; in the repository it is a link to ``suites/``); else the checkout's ``suites/``.
    """
    env = os.environ.get("HARNESS_SUITES")
    here = Path(__file__).resolve().parent
    candidates = [Path(env)] if env else [here / "_suites", here.parent / "suites"]
    path = next((p for p in candidates if (p / "config.yaml").is_file()), candidates[0])
    if not (path / "config.yaml").is_file():
        raise UserError(f"no suites found at {path} (reinstall harness: its wheel carries them in "
                        "harness/_suites; or set HARNESS_SUITES to the suites directory)")
    return path.resolve()


@dataclass
class DatasetSpec:
    name: str = MISSING
    description: str = ""
    kind: str = MISSING
    loader: Any = MISSING


@dataclass
class FeaturesSpec:
    name: str = MISSING
    description: str = ""
    applies_to: List[str] = field(default_factory=lambda: list(KINDS))
    keeps_shape: bool = False
    #: the input itself (scaled at most): the baseline that engineered features are measured against
    raw_input: bool = False
    transformer: Any = MISSING


@dataclass
class ModelSpec:
    name: str = MISSING
    description: str = ""
    family: str = MISSING
    kinds: List[str] = field(default_factory=lambda: list(KINDS))
    needs_shape: bool = False
    estimator: Any = MISSING
    #: estimator parameter -> range, searched where a suite asks for ``tuning:`` (harness/tuning.py)
    search_space: Dict[str, Any] = field(default_factory=dict)


@dataclass
class DeviceSpec:
    name: str = MISSING
    description: str = ""
    type: str = "cpu"  # cpu | cuda | auto
    threads: Optional[int] = None  # None: the usable cores other work leaves free at the start (cpus.py)


@dataclass
class TuningSpec:
    """A suite's tuning budget, the same for every model with a ``search_space`` (harness/tuning.py)."""

    budget_trials: Optional[int] = None  # candidates per tuned trial
    budget_s: Optional[float] = None  # seconds of search per tuned trial


@dataclass
class SuiteSpec:
    name: str = MISSING
    description: str = ""
    question: str = ""
    hypothesis: Optional[str] = None
    #: model randomness (weights, batch order, random features): one trial per seed and split
    seeds: List[int] = field(default_factory=lambda: [0])
    #: train/test splits (data randomness): a count N (0..N-1) or a list; null: split = seed
    splits: Any = None
    #: share of each training split carved (stratified, seeded by the split) for validation
    val_fraction: float = 0.1
    matrix: Dict[str, Any] = field(default_factory=dict)
    include: List[Any] = field(default_factory=list)
    exclude: List[Any] = field(default_factory=list)
    target_accuracy: Optional[float] = None
    #: published figures to print beside ours, by model name (accuracy in %)
    reference: Dict[str, Any] = field(default_factory=dict)
    trial_timeout_s: Optional[float] = None
    max_memory_gb: Optional[float] = None
    #: a budget: each model with a search space also runs tuned (null budgets: defaults only)
    tuning: TuningSpec = field(default_factory=TuningSpec)


@dataclass
class HarnessConfig:
    """The primary config: one chosen option per group plus run-wide settings."""

    dataset: DatasetSpec = MISSING
    features: FeaturesSpec = MISSING
    model: ModelSpec = MISSING
    device: DeviceSpec = MISSING
    suite: SuiteSpec = MISSING
    seed: int = 0
    split: Optional[int] = None  # split=K on the command line: only that split
    results_dir: str = "results"
    run_id: str = MISSING
    report: bool = True
    progress: bool = True
    resume: Optional[str] = None
    shard: int = 0
    n_shards: int = 1
    #: the user's config dirs (``--config-dir``), searched after the bundled suites
    config_dirs: List[str] = field(default_factory=list)


SPECS = {"dataset": DatasetSpec, "features": FeaturesSpec, "model": ModelSpec,
         "device": DeviceSpec, "suite": SuiteSpec}


def register_schemas() -> None:
    """Put the typed schema in Hydra's ConfigStore (``config.yaml`` lists it first)."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name="harness_schema", node=HarnessConfig)


@functools.lru_cache(maxsize=None)
def _schema(group: str) -> DictConfig:
    """A group's typed schema, built once (building it costs more than the merge)."""
    return OmegaConf.structured(SPECS[group])


def validate(group: str, node: DictConfig, where: str = "") -> DictConfig:
    """Check one option's config against its schema; return it typed."""
    from omegaconf.errors import OmegaConfBaseException

    try:
        typed = OmegaConf.merge(_schema(group), node)  # a new config: the cached schema is not changed
        for key in ("name",) + (("estimator",) if group == "model" else ()):
            if OmegaConf.is_missing(typed, key):
                raise UserError(f"{group} config {where or '?'} has no `{key}`: add it to the YAML file")
        _check_choices(group, typed, where)
    except OmegaConfBaseException as exc:
        msg = str(exc).splitlines()[0]
        raise UserError(f"{group} config {where or node.get('name', '?')} is invalid: {msg}") from None
    return typed


_CHOICES = {("dataset", "kind"): KINDS, ("features", "applies_to"): KINDS,
            ("model", "kinds"): KINDS, ("model", "family"): FAMILIES,
            ("device", "type"): ("cpu", "cuda", "auto")}


#: suite settings that are a limit: a positive number, or null for none
LIMITS = {"trial_timeout_s": "seconds", "max_memory_gb": "GiB"}


def check_limits(where: str = "", **limits) -> None:
    """Each of ``trial_timeout_s`` / ``max_memory_gb`` must be null (no limit) or a positive number."""
    import math

    for key, value in limits.items():
        if value is None:
            continue
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0
        if not ok:
            shown = f"{value:g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else value
            raise UserError(f"{f'suite {where}: ' if where else ''}{key}={shown} is not a limit: give a positive number of "
                            f"{LIMITS[key]}, or null for none (set suite.{key}=...)")


def _check_choices(group: str, typed: DictConfig, where: str) -> None:
    if group == "suite":
        check_limits(where or typed.get("name", "?"), **{k: typed.get(k) for k in LIMITS})
    if group == "model" and typed.get("search_space"):
        from harness.tuning import check_space_shape

        check_space_shape(typed.search_space, where or typed.get("name", "?"))
    if group == "dataset" and not OmegaConf.is_missing(typed, "loader"):
        from harness.data.params import check_loader_config

        check_loader_config(typed.loader, where or typed.get("name", "?"))
    for (g, key), allowed in _CHOICES.items():
        if g != group or OmegaConf.is_missing(typed, key):
            continue
        values = typed[key]
        for value in (values if OmegaConf.is_list(values) else [values]):
            if value not in allowed:
                raise UserError(f"{group} config {where or typed.get('name', '?')}: {key} '{value}' "
                                f"is not one of {', '.join(allowed)}")


def list_options(group: str) -> list[str]:
    """Names of the options of a group on Hydra's search path (or the bundled suites)."""
    names = {p.stem for p in (suites_dir() / group).glob("*.yaml")}
    try:
        from hydra.core.global_hydra import GlobalHydra

        gh = GlobalHydra.instance()
        if gh.is_initialized():
            names.update(gh.config_loader().get_group_options(group))
    except Exception:  # noqa: BLE001 - the bundled directory is enough for a message
        pass
    return sorted(names)


def plain_option(group: str, option: str, search: Sequence[str | Path]) -> DictConfig | None:
    """An option's YAML read directly, where that is exactly what Hydra would compose, else None.

    ``search``: the config dirs in Hydra's order (the user's, the last first, then the bundled
    suites); the first ``<dir>/<group>/<option>.yaml`` is the one Hydra loads. Hydra's compose
    of the whole primary config per option costs ~0.1 s; a plain option (a mapping with no
    ``defaults:`` list and no ``# @package`` header, which is every bundled option) is the
    file's own content, so reading it gives the same node. Anything else, including an option
    found in no dir (for Hydra's "unknown option" answer), is left to Hydra: None.
    """
    import io
    import re

    name = option if option.endswith(".yaml") else f"{option}.yaml"
    path = next((p for p in (Path(d, group, name) for d in search) if p.is_file()), None)
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8")
        if re.search(r"^\s*#\s*@", text, flags=re.MULTILINE):  # a header Hydra reads (# @package ...)
            return None
        node = OmegaConf.load(io.StringIO(text))  # as Hydra's file source loads it
    except Exception:  # noqa: BLE001 - unreadable or not YAML: Hydra's own error says it as before
        return None
    if not isinstance(node, DictConfig) or "defaults" in node:
        return None
    return node


def group_title(group: str) -> str:
    """The plural a user types after ``harness list`` (``models``, ``datasets``, ...)."""
    return {"dataset": "datasets", "features": "features", "model": "models",
            "device": "devices", "suite": "suites"}[group]
