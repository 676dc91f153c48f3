"""``harness run`` and ``harness plan``: command-line arguments in, :mod:`harness.api` called.

A plain run composes, plans and executes through the API in this process, so the plan that
was checked is the plan that runs. Hydra's own entry point (``@hydra.main``) is used only
where Hydra is needed: multirun sweeps (``-m``), launchers (joblib, submitit) and Hydra's
informational options (``--help``, ``--cfg``, ``--info``, shell completion).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from harness import api, configdirs
from harness.config import suites_dir
from harness.errors import UserError


@dataclass
class RunArgs:
    """``harness run`` arguments, parsed as Hydra parses them."""

    overrides: list[str]
    config_dirs: list[str]  # HARNESS_CONFIG_PATH then every --config-dir, absolute, lowest priority first
    multirun: bool
    info: bool  # --help, --cfg, --info, -sc: Hydra answers, nothing runs
    hydra_argv: list[str]  # the options first, then the overrides, as Hydra's parser wants


def parse_run_args(args: list[str]) -> RunArgs:
    """Parse ``harness run`` arguments, options and overrides in any order.

    ``--config-dir`` may be repeated (Hydra's parser would keep the last one only).
    """
    from hydra._internal.utils import get_args_parser

    given_dirs, args = configdirs.split_args(list(args), "harness run")
    parser = get_args_parser()
    parser.error = lambda message: (_ for _ in ()).throw(UserError(f"{message}; see `harness run --help`"))
    ns, unknown = parser.parse_known_intermixed_args(args)
    if unknown:
        raise UserError(f"unknown option(s) {' '.join(unknown)}; see `harness run --help`")
    info = bool(ns.help or ns.hydra_help or ns.cfg or ns.info or ns.shell_completion)
    rest = list(args)
    for item in ns.overrides:
        rest.remove(item)
    return RunArgs(overrides=list(ns.overrides), config_dirs=configdirs.resolve(given_dirs),
                   multirun=bool(ns.multirun), info=info, hydra_argv=rest + list(ns.overrides))


def _value(overrides: list[str], key: str) -> str | None:
    return next((o.split("=", 1)[1] for o in overrides if o.startswith(f"{key}=")), None)


def _launch_options(overrides: list[str], multirun: bool) -> tuple[list[str], bool]:
    """Overrides a launch needs, and whether it is a multirun.

    The run id is fixed here, so every job of a launch shares one run dir.
    ``hydra/launcher=joblib`` (or submitit_*) without ``-m`` becomes a multirun over
    ``shard=0..n-1`` so that each job carries a batch of trials, not one trial.
    """
    extra = []
    resume = _value(overrides, "resume")
    if resume and resume not in ("null", "None"):
        extra += [f"hydra.run.dir={resume}", f"hydra.sweep.dir={resume}", "hydra.output_subdir=null"]
    elif _value(overrides, "run_id") is None:
        extra.append(f"run_id={api.new_run_id()}")
    launcher = _value(overrides, "hydra/launcher") or "basic"
    if launcher != "basic" and _value(overrides, "shard") is None:
        from harness.measure import usable_cores

        given = dict(o.split("=", 1) for o in overrides if "=" in o)
        n = int(given.get("n_shards") or given.get("hydra.launcher.n_jobs") or usable_cores())
        extra += ([] if "n_shards" in given else [f"n_shards={n}"]) + [f"shard=range(0,{n})"]
        multirun = True
    return extra, multirun


def _ours(overrides: list[str]) -> list[str]:
    """Overrides for harness's config; Hydra's own (launcher, sweeper, dirs) are Hydra's to check."""
    return [o for o in overrides if not o.lstrip("+~").startswith(("hydra.", "hydra/"))]


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


def _plans(overrides: list[str], config_dirs: list[str]) -> dict[tuple, tuple]:
    """Compose and plan every job of a multirun: ``{overrides: (cfg, plan)}``.

    A bad override fails here, in one line, before Hydra launches anything.
    """
    fixed = [o for o in overrides if "," not in o.split("=", 1)[-1] and "range(" not in o]
    try:  # Hydra first composes the overrides that don't sweep, on the default options
        api.compose(fixed, config_dirs)
    except UserError as exc:
        raise UserError(f"{exc}; in a multirun Hydra applies it to the default option before "
                        "sweeping: write it with ++ (e.g. ++model.estimator.epochs=3)") from None
    out = {}
    for combo in _sweep_combos(overrides):
        plain = tuple(o for o in combo if not o.startswith("shard="))
        if plain not in out:  # shards of one plan: planning once is enough
            cfg = api.compose(combo, config_dirs)
            run_dir = api.run_dir(cfg)  # a run id or suite name that is no plain name fails before Hydra writes
            try:  # and a results_dir that can't hold runs, before Hydra makes the sweep dir there
                run_dir.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise UserError(f"cannot create {run_dir.parent}: {exc.strerror or exc}; "
                                "pick a writable results_dir") from None
            out[plain] = (cfg, api.plan(cfg, combo))
    return out


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _summary(run_dirs: list[Path], args: list[str], report: bool, written: dict,
             interrupted: str = "", planned: dict | None = None) -> int:
    """What the run did, read back from its run dirs; the exit code.

    ``planned``: each run dir's planned trial ids, to say how many never ran when interrupted.
    """
    from harness import store

    code = 0
    for run_dir in run_dirs:
        if not run_dir.exists():
            continue
        df = store.load(run_dir)
        counts = df["status"].value_counts().to_dict()
        _say(f"harness: {', '.join(f'{v} {k}' for k, v in sorted(counts.items()))} -> {run_dir}")
        bad = df[df["status"].isin(["failed", "timeout"])]
        for r in bad.head(10).itertuples():
            _say(f"  failed: {r.dataset}/{r.features}/{r.model}@{r.device} split={r.split} seed={r.seed}: {r.error}")
        if len(bad) > 10:
            _say(f"  ... and {len(bad) - 10} more failures (see the records)")
        code = max(code, 1 if len(bad) else 0)
        if interrupted or "interrupted" in counts:
            again = " ".join(a for a in args if not a.startswith("resume="))
            wanted = (planned or {}).get(run_dir) or set()
            finished = set(df.loc[df["status"] != "interrupted", "trial_id"].dropna().astype(str))
            never = f"{len(wanted - finished)} of {len(wanted)} trials never ran; " if wanted else ""
            _say(f"harness: interrupted{' by ' + interrupted if interrupted else ''}; {never}"
                 f"records so far are kept in {run_dir}\n"
                 f"harness: resume with: harness run {again} resume={run_dir}")
            return 130
        if report:
            if run_dir not in written:
                from harness.report import write_report

                written[run_dir] = write_report([run_dir])
            md = Path(written[run_dir])  # write_report returns report.md; report.html is beside it
            print(f"harness: report (HTML):     {md.with_name('report.html')}\n"
                  f"harness: report (Markdown): {md}", flush=True)
    return code


def _run_plain(overrides: list[str], config_dirs: list[str], args: list[str]) -> int:
    cfg = api.compose(overrides, config_dirs)
    plan = api.plan(cfg, overrides)
    result = api.execute(plan, cfg)
    if result.resumed:
        _say(f"harness: resumed: {result.resumed} trials were already ok")
    written = {result.run_dir: result.report} if result.report else {}
    return _summary([result.run_dir], args, bool(cfg.report), written, result.interrupted,
                    {result.run_dir: {t.trial_id for t in plan.trials}})


def _run_hydra(ra: RunArgs, extra: list[str], multirun: bool, args: list[str]) -> int:
    """Hand the launch to ``@hydra.main``: multirun sweeps, launchers, Hydra's own options."""
    import hydra

    from harness.rundir import claim_launch

    plans = {} if ra.info else _plans(_ours(ra.overrides + extra), ra.config_dirs)
    state: dict = {"results": []}
    launcher_pid = os.getpid()

    def task(cfg) -> None:
        """Hydra's entry point, in this process or a launcher's job: plan (or reuse) and execute."""
        from hydra.core.hydra_config import HydraConfig

        hc = HydraConfig.get()
        if os.getpid() != launcher_pid and "joblib" in str(hc.launcher.get("_target_", "")):
            from harness.execution import die_with_parent

            die_with_parent(os.getppid(), pdeathsig=False)  # a joblib worker must not outlive harness
        overrides = list(hc.overrides.task)
        sweep = str(hc.mode) == "RunMode.MULTIRUN"
        run_dir = Path(hc.sweep.dir if sweep else hc.runtime.output_dir)
        planned = plans.get(tuple(o for o in _ours(overrides) if not o.startswith(("shard=", "config_dirs="))))
        try:
            plan = planned[1] if planned else api.plan(cfg, overrides)
            result = api.execute(plan, cfg, run_dir, job=str(hc.job.num) if sweep else "0", shared_dir=sweep)
        except UserError as exc:
            _say(f"harness: error: {exc}")
            state["code"] = 2
            return
        state["results"].append(result)
        if result.interrupted:
            raise KeyboardInterrupt  # stop the sweep too; the summary tells how to resume

    hydra_argv = (["-m"] if multirun and not ra.multirun else []) + ra.hydra_argv + extra
    if ra.config_dirs:  # planning looks for options where Hydra composes them
        hydra_argv.append(f"config_dirs=[{','.join(ra.config_dirs)}]")
    main = hydra.main(config_path=str(suites_dir()), config_name="config", version_base="1.3")(task)
    # Hydra's completion script registers itself for sys.argv[0]: the command, `harness`
    completing = any(a.split("=")[0] in ("-sc", "--shell-completion") for a in ra.hydra_argv)
    argv, sys.argv = sys.argv, ["harness" if completing else "harness run", *hydra_argv]
    os.environ.setdefault("HYDRA_FULL_ERROR", "0")
    api.register(ra.config_dirs)  # the run-id resolver, the schemas, the config dirs: before Hydra composes
    launches = [claim_launch(api.run_dir(cfg), bool(cfg.get("resume")))  # one launch per run dir
                for cfg in {api.run_dir(c): c for c, _ in plans.values()}.values()]
    try:
        main()
    except SystemExit as exc:  # Hydra exits 1 on errors it reports itself
        if exc.code not in (0, None):
            return 2 if ra.info else int(exc.code) if isinstance(exc.code, int) else 1
    except KeyboardInterrupt:
        if not any(r.interrupted for r in state["results"]):
            raise
    finally:
        sys.argv = argv
        for fd in launches:
            os.close(fd)
    if ra.info:
        return 0
    if "code" in state:
        return state["code"]
    planned: dict[Path, set] = {}
    for cfg, plan in plans.values():
        planned.setdefault(api.run_dir(cfg), set()).update(t.trial_id for t in plan.trials)
    report = any(bool(cfg.report) for cfg, _ in plans.values())
    interrupted = next((r.interrupted for r in state["results"] if r.interrupted), "")
    return _summary(sorted(planned), args, report, {}, interrupted, planned)


def run_app(args: list[str]) -> int:
    ra = parse_run_args(args)
    if ra.info:
        return _run_hydra(ra, [], ra.multirun, args)
    extra, multirun = _launch_options(ra.overrides, ra.multirun)
    if not multirun and not any(o.lstrip("+~").startswith(("hydra.", "hydra/")) for o in ra.overrides):
        return _run_plain(_ours(ra.overrides + extra), ra.config_dirs, args)
    return _run_hydra(ra, extra, multirun, args)


def plan_command(args: list[str]) -> int:
    ra = parse_run_args(args)
    total = 0
    for combo in (_sweep_combos(ra.overrides) if ra.multirun else [ra.overrides]):
        cfg = api.compose(combo, ra.config_dirs)
        plan = api.plan(cfg, combo)
        print(f"# suite {cfg.suite.name}: {len(plan.trials)} trials" + (f" ({' '.join(combo)})" if ra.multirun else ""))
        for t in plan.trials:
            print(f"{t.trial_id}  {t.label}")
        for line in plan.dropped:
            print(f"# left out: {line}")
        total += len(plan.trials)
    if ra.multirun:
        print(f"# {total} trials in all")
    return 0
