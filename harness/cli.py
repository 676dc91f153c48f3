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

Results go to results/<suite>/<run-id>/ ; read them with harness.api.load(run_dir).
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
    command, rest = argv[0], argv[1:]
    commands = {"run": _run, "plan": _plan, "list": _list, "report": _report,
                "compare": _compare, "baseline": _baseline}
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


def _baseline(args: list[str]) -> int:
    from harness.compare.command import baseline_command

    return baseline_command(args)


if __name__ == "__main__":
    sys.exit(main())
