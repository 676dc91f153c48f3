"""The one way into harness: compose a config, plan it, execute the plan, re-run trials, load results.

The CLI, ``harness compare --confirm``, ``harness baseline save``, the benchmarks, asv and the
tests all go through these functions. This is the only module that initialises Hydra and the
only one that knows the config search path: the user's config dirs (``HARNESS_CONFIG_PATH``
and ``--config-dir``, the later first), then the bundled suites; so an option of a config dir
replaces a bundled one of the same name. The dirs travel in the composed config as
``config_dirs``::

    from harness import api

    cfg = api.compose(["suite=smoke", "model=knn"])
    plan = api.plan(cfg)                    # the trials, already checked
    result = api.execute(plan, cfg)         # records in result.run_dir
    df = api.load(result.run_dir)           # one row per trial
"""

from __future__ import annotations

import contextlib
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

from omegaconf import DictConfig, OmegaConf, open_dict

from harness import configdirs
from harness.config import GROUPS, group_title, list_options, plain_option, register_schemas, suites_dir, validate
from harness.errors import UserError
from harness.plan import AXES, Plan, chosen_axes, expand

if TYPE_CHECKING:  # the runner (numpy, the store, the executors) loads when a plan is executed, not to plan
    from harness.runner import RunResult

#: Overrides that pick a whole option, a seed or a split: they replace that axis of a suite's matrix.
CHOSEN_KEYS = (*AXES, "seed", "split")

__all__ = ["compose", "option", "plan", "execute", "rerun", "load", "run_dir", "chosen_axes", "new_run_id", "register", "hydra_context",
           "Plan", "RunResult"]


def __getattr__(name: str):
    """``api.RunResult``, loaded with the runner on first use (planning does not need it)."""
    if name == "RunResult":
        from harness.runner import RunResult

        return RunResult
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def new_run_id() -> str:
    """A run id that sorts by time: ``20261130-104827-5e0f``."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


#: The user's config dirs of the Hydra initialisation to come (lowest priority first).
_search_dirs: list[str] = []


def _search_path_plugin():
    """A Hydra search-path plugin that puts ``_search_dirs`` before the bundled suites.

    Hydra appends ``hydra.searchpath`` and ``--config-dir`` after its primary config dir, so a
    bundled option would win over the user's option of the same name; this plugin puts them
    in front instead, the last dir first.
    """
    from hydra.plugins.search_path_plugin import SearchPathPlugin

    class UserConfigDirs(SearchPathPlugin):
        def manipulate_search_path(self, search_path) -> None:
            for d in reversed(_search_dirs):  # each just before the primary dir: the last one first
                search_path.prepend(provider="harness", path=f"file://{d}", anchor="main")

    return UserConfigDirs


def register(config_dirs: Sequence[str] = ()) -> None:
    """Register the run-id resolver, the typed schemas and the user's config dirs (idempotent).

    ``config_dirs`` (absolute, lowest priority first) are searched before the bundled suites
    by the next Hydra initialisation: :func:`hydra_context` or ``@hydra.main``.
    """
    from hydra.core.plugins import Plugins

    if not OmegaConf.has_resolver("harness_run_id"):
        OmegaConf.register_new_resolver("harness_run_id", new_run_id, use_cache=True)
    register_schemas()
    _search_dirs[:] = list(config_dirs)
    plugins = Plugins.instance()
    if not any(c.__name__ == "UserConfigDirs" and c.__module__ == __name__
               for c in plugins.discover()):
        plugins.register(_search_path_plugin())


def _abs_dirs(config_dirs: Iterable[str | Path]) -> list[str]:
    """``HARNESS_CONFIG_PATH`` and ``config_dirs``, absolute, checked, importable."""
    dirs = configdirs.resolve(config_dirs)
    configdirs.importable(dirs)
    return dirs


def _searchpath(config_dirs: Sequence[str]) -> list[str]:
    return [f"hydra.searchpath=[{','.join(f'file://{d}' for d in config_dirs)}]"] if config_dirs else []


@contextlib.contextmanager
def hydra_context(config_dirs: Sequence[str] = ()):
    """Hydra initialised on ``config_dirs`` over the bundled suites for the block, unless it already is.

    Inside ``@hydra.main`` (launchers) Hydra is initialised by Hydra itself; everywhere else
    this initialises it and clears it again afterwards.
    """
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register(config_dirs)
    if GlobalHydra.instance().is_initialized():
        yield
        return
    with initialize_config_dir(config_dir=str(suites_dir()), version_base="1.3", job_name="harness"):
        yield


def _explain(exc: Exception, overrides: Sequence[str]) -> str:
    """One line for a composition error."""
    from hydra.errors import MissingConfigException

    if isinstance(exc, MissingConfigException) and getattr(exc, "missing_cfg_file", None):
        group, _, name = str(exc.missing_cfg_file).rpartition("/")
        if group in GROUPS:
            return (f"unknown {group} '{name}'; choose one of: {', '.join(list_options(group))} "
                    f"(see `harness list {group_title(group)}`)")
    cause = exc
    while cause.__cause__ is not None:
        cause = cause.__cause__
    text = " ".join(str(cause).split())
    key = getattr(cause, "full_key", None)
    for marker in ("full_key:", "object_type="):
        text = text.split(marker)[0].strip()
    if key:
        bad = next((o for o in overrides if o.lstrip("+~").split("=")[0] == key), key)
        hint = " (to add a new key, prefix it with +)" if "not in struct" in text else ""
        return f"invalid override {bad}: {text}{hint}"
    return text or exc.__class__.__name__


def compose(overrides: Sequence[str] = (), config_dirs: Iterable[str | Path] = ()) -> DictConfig:
    """The primary config for ``overrides``, as ``harness run`` composes it.

    Parameters
    ----------
    overrides : Hydra overrides (``suite=smoke``, ``model=knn``, ``model.estimator.C=3``).
    config_dirs : the user's config dirs, searched after the bundled suites (``--config-dir``).
        They are kept in the config as ``config_dirs`` so that planning finds their options.

    Raises
    ------
    UserError : one line naming the bad override or the unknown option.
    """
    from hydra import compose as hydra_compose

    dirs = _abs_dirs(config_dirs)
    overrides = [o for o in overrides if not str(o).startswith("config_dirs=")]
    with hydra_context(dirs):
        try:
            cfg = hydra_compose(config_name="config", overrides=[*overrides, *_searchpath(dirs)])
        except Exception as exc:  # noqa: BLE001 - every composition error is the user's input
            raise UserError(_explain(exc, list(overrides))) from None
    for group in GROUPS:  # an option chosen on the command line gets the checks a suite's matrix gets
        validate(group, cfg[group], where=_chosen_name(group, overrides, cfg))
    with open_dict(cfg):
        cfg.config_dirs = dirs
    return cfg


def _chosen_name(group: str, overrides: Sequence[str], cfg: DictConfig) -> str:
    chosen = chosen_axes([o for o in overrides if not str(o).startswith("seed=")]).get(group)
    if chosen is None and group == "suite":
        chosen = next((str(o).split("=", 1)[1] for o in overrides if str(o).startswith("suite=")), None)
    return str(chosen or OmegaConf.select(cfg, f"{group}.name", default="?", throw_on_missing=False))


@contextlib.contextmanager
def _options(config_dirs: Sequence[str]):
    """``load(group, option)`` for the block: one option's validated config from the search path.

    A plain option file is read directly (:func:`harness.config.plain_option`: what Hydra would
    compose, without composing the whole primary config once per option); any other option goes
    through Hydra, initialised on the first such option only.
    """
    from hydra.errors import MissingConfigException

    search = [*reversed(config_dirs), str(suites_dir())]  # Hydra's order: the last config dir first
    with contextlib.ExitStack() as stack:
        hydra_on = []

        def composed(group: str, option: str) -> DictConfig:
            from hydra import compose as hydra_compose

            if not hydra_on:
                stack.enter_context(hydra_context(config_dirs))
                hydra_on.append(True)
            try:  # through the primary config, so that every config dir on the search path counts
                return hydra_compose(config_name="config",
                                     overrides=[f"{group}={option}", *_searchpath(config_dirs)])[group]
            except MissingConfigException:
                raise UserError(f"unknown {group} '{option}'; choose one of: {', '.join(list_options(group))} "
                                f"(see `harness list {group_title(group)}`)") from None

        def load(group: str, option: str) -> DictConfig:
            node = plain_option(group, option, search)
            return validate(group, composed(group, option) if node is None else node, where=option)

        yield load


def option(group: str, name: str, config_dirs: Iterable[str | Path] = ()) -> DictConfig:
    """One option's config (``option("model", "knn")``), checked against its group's schema."""
    dirs = _abs_dirs(config_dirs)
    with _options(dirs) as load:
        return load(group, name)


def plan(cfg: DictConfig, overrides: Sequence[str] = ()) -> Plan:
    """Expand ``cfg.suite`` into trials and check every model's parameters.

    ``overrides`` are those ``cfg`` was composed with: an axis they choose (``model=knn``,
    ``seed=1``) replaces the suite's matrix. The plan returned is the one to execute.

    Raises
    ------
    UserError : the suite plans no trial, or a model cannot be built from its config.
    """
    from harness.paramcheck import check_model

    selected = {axis: cfg[axis] for axis in AXES}
    dirs = [str(d) for d in cfg.get("config_dirs") or []]
    configdirs.importable(dirs)
    with _options(dirs) as load:
        result = expand(cfg.suite, load, chosen=chosen_axes(overrides), selected=selected)
    if not result.trials:
        why = (f" ({len(result.dropped)} combinations were incompatible: {result.dropped[0]} ...)"
               if result.dropped else "")
        raise UserError(f"suite {cfg.suite.name} plans no trials{why}; check its matrix and your overrides")
    checked = set()
    for trial in result.trials:
        if id(trial.model) not in checked:
            checked.add(id(trial.model))
            check_model(trial.model.estimator, trial.model.name)
    result.overrides = list(overrides)
    return result


def execute(plan: Plan, cfg: DictConfig, run_dir: Path | str | None = None, *, job: str = "0",
            stream=None, shared_dir: bool = False) -> "RunResult":
    """Run the plan's trials not yet ok, record each as it ends, write the report.

    ``cfg.resume`` (a run dir) appends to that run and skips its ok trials; ``cfg.shard`` of
    ``cfg.n_shards`` runs every n-th trial (launchers spread a plan over jobs this way). The
    run dir defaults to ``<results_dir>/<suite>/<run_id>``. Records already written stay
    whatever happens; a user's mistake raises UserError.
    """
    from harness.runner import execute as run_plan

    return run_plan(cfg, plan, run_dir=run_dir, job=job, stream=stream, shared_dir=shared_dir)


def run_dir(cfg: DictConfig) -> Path:
    """The run dir a run of ``cfg`` writes: its ``resume`` dir, else ``<results_dir>/<suite>/<run_id>``.

    Raises UserError when the suite name or run id is not a plain name (``run_id=../../x``).
    """
    from harness.rundir import run_dir_of

    return run_dir_of(cfg)


def _safe_choices(overrides: Iterable[str]) -> list[str]:
    """Of a stored run's overrides, only those that pick an option or a seed by name."""
    from harness.rundir import is_plain_name

    safe = []
    for item in overrides or ():
        key, sep, value = str(item).partition("=")
        if sep and key in CHOSEN_KEYS and is_plain_name(value):
            safe.append(f"{key}={value}")
    return safe


def rerun(info: dict, trial_ids: set, run_dir: Path | str, *, config_dirs: Iterable[str | Path] = (),
          stream=None) -> "RunResult":
    """Run again, into ``run_dir``, the trials ``trial_ids`` of the run that ``info`` describes.

    ``info`` is a run's ``run.json``. Results are data: nothing in it is instantiated. The
    trials come from this checkout's own configs: its suite, and the options and seed its
    command line chose by name, composed afresh and matched to ``trial_ids`` by trial id.
    Command-line edits of a config (``model.estimator.C=3``) are not replayed; such trials
    are reported as no longer planned. When ``trial_ids`` maps each id to the thread count its
    original recorded, the re-run keeps that count, whatever the machine's load says now, so the
    re-run rows land in the original's comparison group.
    """
    from harness.rundir import is_plain_name

    suite = str(info.get("suite") or "")
    if not is_plain_name(suite):
        raise UserError(f"run {info.get('run_id', '?')} names no suite in its run.json; it can't be re-run")
    run_dir = Path(run_dir)
    choices = _safe_choices(info.get("overrides") or [])
    overrides = [f"suite={suite}", *[c for c in choices if not c.startswith("suite=")],
                 f"run_id={run_dir.name}", f"results_dir={run_dir.parent}", "report=false", "progress=false"]
    cfg = compose(overrides, config_dirs)
    full = plan(cfg, overrides)
    trials = [t for t in full.trials if t.trial_id in trial_ids]
    if isinstance(trial_ids, Mapping):
        for t in trials:
            t.threads = int(trial_ids[t.trial_id]) if int(trial_ids[t.trial_id]) > 0 else None
    if len(trials) < len(set(trial_ids)):
        missing = len(set(trial_ids)) - len(trials)
        raise UserError(f"re-run: {missing} of the trials are no longer planned by suite {suite} in this "
                        "checkout (its configs or the run's command-line edits differ); re-run the whole "
                        "suite instead")
    narrowed = Plan(suite=full.suite, trials=trials, dropped=[], overrides=full.overrides)
    return execute(narrowed, cfg, run_dir, stream=stream)


def load(run_dirs, all_records: bool = False):
    """The records of run dirs (or globs, or parents of run dirs) as a DataFrame, one row per trial."""
    from harness import store

    return store.load(run_dirs, all_records=all_records)
