"""The ``harness`` command. Thin: parses the subcommand, imports what it needs lazily.

``harness --help`` must answer in well under a second, so nothing heavy (torch,
scikit-learn, pandas, even Hydra) is imported before a subcommand asks for it.
"""

from __future__ import annotations

import sys

USAGE = """\
usage: harness COMMAND [ARGS]

Measure when deep networks beat classical ML on engineered features, and what compute buys.

commands:
  run [OVERRIDES]        run a suite (default: quick) and write records and report.md;
                         Hydra overrides: suite=smoke dataset=digits model=svm_rbf seed=1,
                         -m for multirun, --cfg job, results_dir=PATH; `harness run --help`
  plan [OVERRIDES]       print the trials a run would execute, without running them
  list [GROUP]           list choices with descriptions: models, datasets, features, devices, suites
  report RUN_DIR [...]   (re)write report.md for run dirs or globs of them [--out DIR]
  compare BASE CAND      regression verdict per trial group (run dirs, globs, baseline dirs);
                         --baseline suite=ci CAND, --confirm N, --md FILE, --json FILE;
                         exit 0 no regression, 1 regression, 2 bad input
  baseline save [OVR]    run a suite (or --from RUN_DIR) and copy its runs to results/baselines/<suite>/
  init [DIR]             scaffold your project: a config dir (your model, your CSV, a ci suite)
                         and a CI workflow; never overwrites a file
  completion SHELL       print the shell completion script: eval "$(harness completion bash)"

Your config dirs (models, datasets, features, suites of your own) layer over the built-in ones:
--config-dir DIR (repeatable; run, plan, list, compare, baseline) and HARNESS_CONFIG_PATH
(dirs separated by ':'); a later dir wins over an earlier one and over a built-in option of
the same name. Results go to results/<suite>/<run-id>/ under the current directory
(results_dir=PATH to change); read them with harness.api.load(run_dir).
Exit codes: 0 ok, 1 some trial failed, 2 bad input (the message says what to fix).
"""


def _fail(message: str) -> int:
    print(f"harness: error: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE, end="")
        return 0
    if argv[0] in ("-V", "--version"):
        from harness import __version__
        print(f"harness {__version__}")
        return 0
    from harness.cpus import set_pool_env

    set_pool_env()  # short OpenMP spins unless the user chose, before any command loads OpenMP (harness/cpus.py)
    command, rest = argv[0], argv[1:]
    commands = {"run": _run, "plan": _plan, "list": _list, "report": _report,
                "compare": _compare, "baseline": _baseline, "init": _init, "completion": _completion}
    if command in ("-sc", "--shell-completion") or command.startswith("--shell-completion="):
        # the completion script's query (`harness -sc query=bash`), or Hydra's -sc at the top level
        command, rest = "-sc", ([command.split("=", 1)[1]] if "=" in command else rest)
        commands["-sc"] = lambda args: _shell_completion(args, [c for c in commands if c != "-sc"])
    if command not in commands:
        return _fail(f"unknown command '{command}'; choose one of: {', '.join(commands)} (see `harness --help`)")
    from harness.errors import UserError

    try:
        return commands[command](rest)
    except UserError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        print("harness: interrupted; records written so far are kept", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `harness plan ... | head`: the reader has seen enough
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # last resort: a path that can't be read or written is the user's to fix
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(f"{where}{exc.strerror or exc}; check that the path exists and is readable and writable")


def _run(args: list[str]) -> int:
    from harness.app import run_app

    return run_app(args)


def _plan(args: list[str]) -> int:
    from harness.app import plan_command

    return plan_command(args)


def _list(args: list[str]) -> int:
    from harness.listing import list_command

    return list_command(args)


def _report(args: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="harness report",
        description="Write report.md (+ PNG figures), report.html, summary.csv and summary.parquet "
                    "for one or more run dirs; several runs (e.g. a CPU and a GPU machine) are combined "
                    "and labelled by machine.")
    parser.add_argument("runs", nargs="+", help="run dirs or globs of them")
    parser.add_argument("--out", help="output directory (default: the first run dir)")
    parser.add_argument("--no-plots", action="store_true", help="tables and findings only (faster)")
    ns = parser.parse_args(args)
    from harness.report import write_report

    path = write_report(ns.runs, ns.out, plots=not ns.no_plots)
    print(f"harness: report written to {path} and {path.with_name('report.html')}")
    return 0


def _compare(args: list[str]) -> int:
    from harness.compare.command import compare_command

    return compare_command(args)


def _init(args: list[str]) -> int:
    from harness.scaffold import init_command

    return init_command(args)


def _completion(args: list[str]) -> int:
    from harness.completion import completion_command

    return completion_command(args)


def _shell_completion(args: list[str], commands: list[str]) -> int:
    from harness.completion import shell_completion
    from harness.errors import UserError

    if len(args) != 1:
        raise UserError("-sc takes one argument: query=bash, install=bash or uninstall=bash")
    return shell_completion(args[0], commands)


def _baseline(args: list[str]) -> int:
    from harness.compare.command import baseline_command

    return baseline_command(args)


if __name__ == "__main__":
    sys.exit(main())
