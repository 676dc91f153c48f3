"""Hydra glue for ``harness run`` and ``harness plan``: compose, validate, hand over.

Overrides are checked by composing them before Hydra takes over, so a wrong one gets a
single line and exit code 2 instead of Hydra's multi-line error.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from pathlib import Path

from harness.config import GROUPS, group_plural, list_options, register_schemas, suites_dir
from harness.errors import UserError

CHOSEN_KEYS = ("dataset", "features", "model", "device", "seed")
_STATE: dict = {}


def _run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


def setup() -> None:
    from omegaconf import OmegaConf

    if not OmegaConf.has_resolver("harness_run_id"):
        OmegaConf.register_new_resolver("harness_run_id", _run_id, use_cache=True)
    register_schemas()


def chosen_axes(overrides: list[str]) -> dict:
    """Axes the user set on the command line (``model=svm_rbf``, ``seed=1``): they replace the matrix's."""
    out = {}
    for item in overrides:
        key, sep, value = item.partition("=")
        if sep and key in CHOSEN_KEYS:
            out[key] = int(value) if key == "seed" else value
    return out


def _explain(exc: Exception, overrides: list[str]) -> str:
    """One line for a composition error."""
    from hydra.errors import MissingConfigException

    if isinstance(exc, MissingConfigException) and getattr(exc, "missing_cfg_file", None):
        group, _, name = str(exc.missing_cfg_file).rpartition("/")
        if group in GROUPS:
            return (f"unknown {group} '{name}'; choose one of: {', '.join(list_options(group))} "
                    f"(see `harness list {group_plural(group)}`)")
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


def compose(overrides: list[str], config_dir: str | None = None):
    """Compose the primary config like ``harness run`` would (Hydra must be initialised)."""
    from hydra import compose as hcompose

    from harness import config

    config.SEARCHPATH[:] = [f"file://{Path(config_dir).resolve()}"] if config_dir else []
    extra = [f"hydra.searchpath=[{config.SEARCHPATH[0]}]"] if config_dir else []
    try:
        return hcompose(config_name="config", overrides=list(overrides) + extra)
    except Exception as exc:  # noqa: BLE001 - every composition error is the user's input
        raise UserError(_explain(exc, overrides)) from None


def _sweep_combos(overrides: list[str], limit: int = 64) -> list[list[str]]:
    """The override lists a multirun would launch (the first ``limit``)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except Exception as exc:  # noqa: BLE001
        raise UserError(f"cannot parse overrides: {' '.join(str(exc).split())}") from None
    batches = BasicSweeper.split_arguments(parsed, None)
    return [combo for batch in batches for combo in batch][:limit] or [[]]


def validate(overrides: list[str], config_dir: str | None, multirun: bool) -> list[Path]:
    """Compose and plan every job a run would launch; return their run dirs."""
    from hydra import initialize_config_dir

    from harness.runner import make_plan

    dirs, seen = [], set()
    with initialize_config_dir(config_dir=str(suites_dir()), version_base="1.3", job_name="harness"):
        if multirun:  # Hydra first composes the overrides that don't sweep, on the defaults
            fixed = [o for o in overrides if "," not in o.split("=", 1)[-1] and "range(" not in o]
            try:
                compose(fixed, config_dir)
            except UserError as exc:
                raise UserError(f"{exc}; in a multirun Hydra applies it to the default option "
                                f"before sweeping: write it with ++ (e.g. ++model.estimator.epochs=3)") from None
        for combo in (_sweep_combos(overrides) if multirun else [overrides]):
            plain = tuple(o for o in combo if not o.startswith("shard="))
            if plain in seen:  # shards of one plan: planning once is enough
                continue
            seen.add(plain)
            cfg = compose(combo, config_dir)
            make_plan(cfg, chosen_axes(combo))
            _STATE["report"] = bool(cfg.report)
            dirs.append(Path(cfg.resume or Path(cfg.results_dir) / cfg.suite.name / cfg.run_id))
    return sorted(set(dirs))


def _task(cfg) -> None:
    """Hydra's entry point: hand the composed config to the plain runner."""
    from hydra.core.hydra_config import HydraConfig

    from harness.runner import execute

    hc = HydraConfig.get()
    task_overrides = list(hc.overrides.task)
    multirun = str(hc.mode) == "RunMode.MULTIRUN"
    run_dir = Path(hc.sweep.dir if multirun else hc.runtime.output_dir)
    job = str(hc.job.num) if multirun else "0"
    _STATE["report"] = bool(cfg.report)
    try:
        result = execute(cfg, chosen_axes(task_overrides), run_dir=run_dir, job=job,
                         overrides=task_overrides, shared_dir=multirun)
    except UserError as exc:
        print(f"harness: error: {exc}", file=sys.stderr)
        _STATE["code"] = 2
        return
    _STATE.setdefault("results", []).append(result)
    if result.interrupted:
        raise KeyboardInterrupt  # stop a multirun too; run_app tells how to resume


def _summary(results, args: list[str]) -> int:
    code = 0
    for r in results:
        if r.interrupted:
            again = " ".join(a for a in args if not a.startswith("resume="))
            print(f"harness: interrupted by {r.interrupted}; records so far are kept in {r.run_dir}\n"
                  f"harness: resume with: harness run {again} resume={r.run_dir}", file=sys.stderr)
            return 130
        if r.resumed:
            print(f"harness: resumed: {r.resumed} trials were already ok", file=sys.stderr)
        counts = ", ".join(f"{v} {k}" for k, v in sorted(r.counts.items()))
        print(f"harness: {counts} -> {r.run_dir}", file=sys.stderr)
        for line in r.failures[:10]:
            print(f"  failed: {line}", file=sys.stderr)
        if len(r.failures) > 10:
            print(f"  ... and {len(r.failures) - 10} more failures (see the records)", file=sys.stderr)
        code = max(code, r.exit_code)
    if results and _STATE.get("report"):
        report = results[-1].report
        if report is None:  # jobs of a multirun share one dir: report it once, at the end
            from harness.report import write_report
            report = write_report([results[-1].run_dir])
        print(f"harness: report: {report}")
    return code


def _summary_from_disk(run_dirs: list[Path], args: list[str]) -> int:
    from harness import store
    from harness.report import write_report

    code = 0
    for run_dir in run_dirs:
        if not run_dir.exists():
            continue
        df = store.load(run_dir)
        counts = df["status"].value_counts().to_dict()
        print(f"harness: {', '.join(f'{v} {k}' for k, v in sorted(counts.items()))} -> {run_dir}",
              file=sys.stderr)
        bad = df[df["status"].isin(["failed", "timeout"])]
        for r in bad.head(10).itertuples():
            print(f"  failed: {r.dataset}/{r.features}/{r.model}@{r.device} seed={r.seed}: {r.error}",
                  file=sys.stderr)
        if "interrupted" in counts:
            again = " ".join(a for a in args if not a.startswith("resume="))
            print(f"harness: resume with: harness run {again} resume={run_dir}", file=sys.stderr)
            code = max(code, 130)
        code = max(code, 1 if len(bad) else 0)
        if _STATE.get("report", True):
            print(f"harness: report: {write_report([run_dir])}")
    return code


def _split(args: list[str]) -> tuple[list[str], str | None, bool, bool, list[str]]:
    """Parse ``harness run`` arguments as Hydra does, options and overrides in any order.

    Returns (overrides, --config-dir, multirun, informational, argv for Hydra with the
    options first, since Hydra's own parser wants overrides last).
    """
    from hydra._internal.utils import get_args_parser

    parser = get_args_parser()
    parser.error = lambda message: (_ for _ in ()).throw(UserError(f"{message}; see `harness run --help`"))
    ns, unknown = parser.parse_known_intermixed_args(args)
    if unknown:
        raise UserError(f"unknown option(s) {' '.join(unknown)}; see `harness run --help`")
    info = bool(ns.help or ns.hydra_help or ns.cfg or ns.info or ns.shell_completion)
    rest = list(args)
    for item in ns.overrides:
        rest.remove(item)
    return list(ns.overrides), ns.config_dir, bool(ns.multirun), info, rest + list(ns.overrides)


def _launch_options(overrides: list[str], multirun: bool) -> tuple[list[str], bool]:
    """Overrides Hydra needs for resume and for launchers that spread one plan over jobs.

    ``hydra/launcher=joblib`` (or submitit_*) without ``-m`` becomes a multirun over
    ``shard=0..n-1`` so that each job carries a batch of trials, not one trial.
    """
    extra = []
    resume = next((o.split("=", 1)[1] for o in overrides if o.startswith("resume=")), None)
    if resume and resume not in ("null", "None"):
        extra += [f"hydra.run.dir={resume}", f"hydra.sweep.dir={resume}", "hydra.output_subdir=null"]
    elif not any(o.startswith("run_id=") for o in overrides):
        extra.append(f"run_id={_run_id()}")  # fixed here, so every job of a launch shares it
    launcher = next((o.split("=", 1)[1] for o in overrides if o.startswith("hydra/launcher=")), "basic")
    if launcher != "basic" and not any(o.startswith("shard=") for o in overrides):
        from harness.measure import usable_cores

        given = dict(o.split("=", 1) for o in overrides if "=" in o)
        n = int(given.get("n_shards") or given.get("hydra.launcher.n_jobs") or usable_cores())
        extra += ([] if "n_shards" in given else [f"n_shards={n}"]) + [f"shard=range(0,{n})"]
        multirun = True
    return extra, multirun


def run_app(args: list[str]) -> int:
    import hydra

    setup()
    overrides, config_dir, multirun, info, hydra_argv = _split(args)
    extra, multirun_now = _launch_options(overrides, multirun)
    if multirun_now and not multirun:
        hydra_argv = ["-m", *hydra_argv]
    multirun = multirun_now
    hydra_argv += extra
    _STATE.clear()
    run_dirs = []
    if not info:
        # Hydra's own settings (launcher, sweeper, dirs) are Hydra's to check
        ours = [o for o in overrides + extra if not o.lstrip("+~").startswith(("hydra.", "hydra/"))]
        run_dirs = validate(ours, config_dir, multirun)
    main = hydra.main(config_path=str(suites_dir()), config_name="config", version_base="1.3")(_task)
    argv, sys.argv = sys.argv, ["harness run", *hydra_argv]
    os.environ.setdefault("HYDRA_FULL_ERROR", "0")
    try:
        main()
    except SystemExit as exc:  # Hydra exits 1 on errors it reports itself
        if exc.code not in (0, None):
            return 2 if info else int(exc.code) if isinstance(exc.code, int) else 1
    except KeyboardInterrupt:
        if not any(r.interrupted for r in _STATE.get("results", [])):
            raise
    finally:
        sys.argv = argv
    if "code" in _STATE:
        return _STATE["code"]
    if multirun and not info:  # jobs may have run in other processes: read what they wrote
        return _summary_from_disk(run_dirs, args)
    return _summary(_STATE.get("results", []), args)


def plan_command(args: list[str]) -> int:
    from hydra import initialize_config_dir

    from harness.runner import make_plan

    setup()
    overrides, config_dir, multirun, _, _ = _split(args)
    with initialize_config_dir(config_dir=str(suites_dir()), version_base="1.3", job_name="harness"):
        total = 0
        for combo in (_sweep_combos(overrides) if multirun else [overrides]):
            cfg = compose(combo, config_dir)
            plan = make_plan(cfg, chosen_axes(combo))
            print(f"# suite {cfg.suite.name}: {len(plan.trials)} trials"
                  + (f" ({' '.join(combo)})" if multirun else ""))
            for t in plan.trials:
                print(f"{t.trial_id}  {t.label}")
            for line in plan.dropped:
                print(f"# left out: {line}")
            total += len(plan.trials)
    if multirun:
        print(f"# {total} trials in all")
    return 0
