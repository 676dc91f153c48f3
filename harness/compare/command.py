"""``harness compare`` and ``harness baseline``: argument parsing and the exit code."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.errors import UserError


def _parser(prog: str, description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)

    def error(message):
        raise UserError(f"{message}; see `{prog} --help`")

    parser.error = error
    return parser


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def compare_command(args: list[str]) -> int:
    from harness.compare import baseline as bl
    from harness.compare.verdict import QUALITY, TIMES, Options

    d = Options()  # the defaults live in Options, once
    p = _parser("harness compare", "Compare a candidate run with a baseline: verdict per trial "
                "group; exit 0 no regression, 1 regression, 2 bad input.")
    p.add_argument("runs", nargs="+", metavar="RUN",
                   help="BASELINE CANDIDATE (run dirs, quoted globs of run dirs, or dirs holding run dirs); "
                        "with --baseline, only the candidate")
    p.add_argument("--baseline", metavar="SUITE", help="compare with the committed baseline of a suite "
                   "(suite=ci, ci, or a baseline dir: results/baselines/<suite>/)")
    p.add_argument("--baseline-dir", default=str(bl.DEFAULT_DIR), help="where baselines live (%(default)s)")
    p.add_argument("--acc-tol", type=float, default=d.acc_tol, help="points of accuracy that count (%(default)s)")
    p.add_argument("--time-tol", type=float, default=d.time_tol, help="time ratio that counts (%(default)s)")
    p.add_argument("--time-low", type=float, default=d.time_low,
                   help="the ratio's 95%% interval must clear this (default: --time-tol)")
    p.add_argument("--alpha", type=float, default=d.alpha, help="false discovery rate (%(default)s)")
    p.add_argument("--min-time", type=float, default=d.min_time_s,
                   help="seconds under which times aren't tested (%(default)s)")
    p.add_argument("--min-mem", type=float, default=d.min_mem_mb,
                   help="MB of memory growth under which memory isn't tested (%(default)s)")
    p.add_argument("--metrics", default=",".join(d.metrics), help="quality metrics (%(default)s)")
    p.add_argument("--time-metrics", default=",".join(d.time_metrics),
                   help=f"time and memory metrics (%(default)s; any of {', '.join(TIMES)})")
    p.add_argument("--no-time", action="store_true", help="compare quality only")
    p.add_argument("--cross-machine", action="store_true",
                   help="compare times across machine fingerprints, normalised by each run's calibration")
    p.add_argument("--normalise", action="store_true",
                   help="on the same machine too, divide times by each run's calibration: takes out "
                        "a shared runner's load (and hides a slowdown of numpy/scikit-learn themselves)")
    p.add_argument("--load-guard", type=float, default=d.load_guard,
                   help="when the two sides' calibrations differ by more than this factor, the machine's "
                        "load differed: unpaired times are not judged (%(default)s; 0 turns it off)")
    p.add_argument("--confirm", type=int, default=0, metavar="N",
                   help="re-run the flagged groups N more times before the verdict stands")
    p.add_argument("--config-dir", action="append", default=[], metavar="DIR",
                   help="your config dirs, as the runs were made with (repeatable; after HARNESS_CONFIG_PATH): "
                        "--confirm re-runs find your models and suites there")
    p.add_argument("--allow-missing", action="store_true",
                   help="don't fail (exit 1) when groups of the baseline are missing from the candidate")
    p.add_argument("--md", metavar="FILE", help="write the Markdown here instead of stdout")
    p.add_argument("--json", metavar="FILE", help="also write the comparison as JSON")
    ns = p.parse_args(args)

    from harness.compare.match import load_side

    if ns.baseline:
        base_spec, cand_specs = str(bl.resolve(ns.baseline, ns.baseline_dir)), ns.runs
    elif len(ns.runs) == 2:
        base_spec, cand_specs = ns.runs[0], ns.runs[1:]
    else:
        raise UserError(f"pass BASELINE CANDIDATE (got {len(ns.runs)} paths; quote globs so the shell "
                        "leaves them alone), or --baseline SUITE CANDIDATE")
    for name, value in (("--acc-tol", ns.acc_tol), ("--min-time", ns.min_time), ("--min-mem", ns.min_mem)):
        if value < 0:
            raise UserError(f"{name} must be at least 0, got {value:g}")
    if ns.time_tol < 1 or not 0 < ns.alpha < 1 or ns.confirm < 0:
        raise UserError("--time-tol must be at least 1, --alpha between 0 and 1, --confirm at least 0")
    opts = Options(acc_tol=ns.acc_tol, time_tol=ns.time_tol, time_low=ns.time_low, alpha=ns.alpha,
                   metrics=tuple(m for m in ns.metrics.split(",") if m),
                   time_metrics=tuple(m for m in ns.time_metrics.split(",") if m),
                   min_time_s=ns.min_time, min_mem_mb=ns.min_mem, compare_time=not ns.no_time,
                   cross_machine=ns.cross_machine, normalise=ns.normalise, load_guard=ns.load_guard,
                   allow_missing=ns.allow_missing)
    for flag, given, known in (("--metrics", opts.metrics, QUALITY), ("--time-metrics", opts.time_metrics, TIMES)):
        unknown = set(given) - set(known)
        if unknown:
            raise UserError(f"unknown {flag} {', '.join(sorted(unknown))}; choose from {', '.join(known)}")

    from harness import configdirs
    from harness.compare.match import check_same_suite

    dirs = configdirs.resolve(ns.config_dir)  # a missing dir fails now, before anything is read

    base = load_side(base_spec, name=ns.baseline and f"baseline {Path(base_spec).name}")
    cand = load_side(cand_specs)
    check_same_suite(base, cand)
    result = run_compare(base, cand, opts, ns.confirm, config_dirs=dirs)

    from harness.compare import render

    text = render.markdown(result)
    if ns.json:
        _write(ns.json, render.to_json(result))
    if ns.md:
        _write(ns.md, text)
    else:
        print(text, end="")
    counts = ", ".join(f"{v} {k}" for k, v in result.counts.items() if v)
    _log(f"harness compare: {counts} -> exit {result.exit_code}"
         + (f" (Markdown: {ns.md})" if ns.md else ""))
    return result.exit_code


def _write(path: str, text: str) -> None:
    try:
        Path(path).write_text(text)
    except (OSError, ValueError) as exc:  # a missing or read-only dir, a directory, a NUL in the name
        raise UserError(f"cannot write {path}: {getattr(exc, 'strerror', None) or exc}") from None


def run_compare(base, cand, opts, confirm_n: int = 0, config_dirs=()):
    """Compare, then re-run flagged groups (``confirm_n`` rounds) where asked.

    ``config_dirs``: the user's config dirs, where the re-runs look for the runs' options.
    """
    from harness.compare import confirm
    from harness.compare.verdict import compare

    result = compare(base, cand, opts)
    if confirm_n and result.flagged():
        if len(cand.files) != 1 or not cand.files[0].is_dir():
            raise UserError("--confirm re-runs the candidate: pass one candidate run dir")
        rerun_cand = confirm.rerun_from_info(cand.first_run(), config_dirs=config_dirs)
        why = confirm.baseline_rerunnable(base, cand, config_dirs=config_dirs)
        rerun_base = None if why else confirm.rerun_from_info(base.first_run(), config_dirs=config_dirs)
        try:
            result = confirm.confirm(result, confirm_n, rerun_cand, rerun_base, why_not_baseline=why, log=_log)
        except OSError as exc:  # the re-runs go next to the candidate run: that dir must be writable
            raise UserError(f"--confirm: cannot write {exc.filename or 'the re-runs'}: "
                            f"{exc.strerror or exc}") from None
    elif confirm_n:
        result.confirm_note = "--confirm: nothing flagged, nothing re-run."
    return result


def baseline_command(args: list[str]) -> int:
    from harness.compare import baseline as bl

    p = _parser("harness baseline", "Save a suite's baseline (copies of its run dirs) "
                "under results/baselines/<suite>/ to commit it.")
    sub = p.add_subparsers(dest="action", metavar="save")
    save = sub.add_parser("save", help="run a suite (or take --from runs) and save its baseline")
    save.error = p.error
    save.add_argument("overrides", nargs="*", help="Hydra overrides of `harness run` (suite=ci ...); "
                      "--config-dir DIR (repeatable) and HARNESS_CONFIG_PATH as for `harness run`")
    save.add_argument("--from", dest="from_runs", nargs="+", metavar="RUN_DIR",
                      help="save these run dirs (globs too) instead of running the suite")
    save.add_argument("--repeats", type=int, default=1,
                      help="run the suite this many times: more samples of time (%(default)s)")
    save.add_argument("--dir", default=str(bl.DEFAULT_DIR),
                      help="baselines directory; the suite's runs go to DIR/<suite>/ (%(default)s)")
    from harness import configdirs

    given, args = configdirs.split_args(list(args), "harness baseline save")
    ns, extra = p.parse_known_args(args)
    extra += [a for d in given for a in ("--config-dir", d)]  # for `harness run`, in their order
    if extra and ns.action == "save":  # --config-dir DIR and the like go on to `harness run`
        ns.overrides = list(ns.overrides) + extra
    elif extra:
        raise UserError(f"unrecognized arguments: {' '.join(extra)}; see `harness baseline --help`")
    if ns.action != "save":
        raise UserError("say what to do: `harness baseline save suite=NAME` (see `harness baseline --help`)")

    if ns.from_runs:
        if ns.overrides:
            suite = next((o.split("=", 1)[1] for o in ns.overrides if o.startswith("suite=")), None)
            if suite is None or len(ns.overrides) > 1:
                raise UserError("with --from, pass only suite=NAME (the runs are saved as they are)")
        else:
            suite = None
        out = bl.save(ns.from_runs, ns.dir, suite)
    else:
        if ns.repeats < 1:
            raise UserError(f"--repeats must be at least 1, got {ns.repeats}")
        dirs = run_suite(ns.overrides, ns.repeats)
        out = bl.save(dirs, ns.dir)
    runs = sorted(r.name for r in out.iterdir())
    _log(f"harness baseline: wrote {out}/ ({len(runs)} run dir(s): {', '.join(runs)}); commit it")
    return 0


def run_suite(overrides: list[str], repeats: int = 1) -> list[Path]:
    """Run a suite ``repeats`` times, each in a fresh process; return the run dirs.

    The suite is composed and planned once, here (a bad override fails in one line); each
    run executes that plan in a new process, so the runs are alike: peak memory, for one,
    grows with what a process has loaded before.
    """
    import multiprocessing

    from harness import api
    from harness.app import parse_run_args

    ra = parse_run_args(list(overrides))
    if ra.multirun or ra.info:
        raise UserError("harness baseline save runs one suite; drop -m/--multirun and Hydra's options")
    given = next((o.split("=", 1)[1] for o in ra.overrides if o.startswith("run_id=")), None)
    if given and repeats > 1:
        raise UserError("run_id=... names one run; drop it to save several (--repeats)")
    plain = [o for o in ra.overrides if not o.startswith("run_id=")] + ["report=false"]
    cfg = api.compose(plain, ra.config_dirs)
    plan = api.plan(cfg, plain)
    spawn = multiprocessing.get_context("spawn")
    dirs = []
    for i in range(repeats):
        run_id = given or f"{api.new_run_id()}-base{i + 1}"
        run_cfg = api.compose([*plain, f"run_id={run_id}"], ra.config_dirs)
        run_dir = Path(run_cfg.results_dir) / run_cfg.suite.name / run_id
        _log(f"harness baseline: run {i + 1}/{repeats} -> {run_dir}")
        proc = spawn.Process(target=_execute, args=(plan, run_cfg, run_dir))
        proc.start()
        proc.join()
        if proc.exitcode == 2 or not run_dir.is_dir():
            raise UserError(f"run {i + 1} of suite {run_cfg.suite.name} failed before recording anything "
                            "(see the message above)")
        if proc.exitcode:
            _log("harness baseline: some trials did not succeed; they are saved as they are")
        dirs.append(run_dir)
    return dirs


def _execute(plan, cfg, run_dir: Path) -> None:
    """A fresh process's work for :func:`run_suite`: execute the plan; exit with the run's code."""
    from harness import api

    try:
        result = api.execute(plan, cfg, run_dir)
    except UserError as exc:
        print(f"harness: error: {exc}", file=sys.stderr)
        sys.exit(2)
    sys.exit(result.exit_code)
