"""Shell completion: the subcommands, and Hydra's completion of ``harness run``/``plan`` overrides.

``harness completion bash`` (or ``zsh``) prints the script to ``eval``; so does Hydra's own
``harness run -sc install=bash``. The script registers a function that asks
``harness -sc query=bash`` for the choices of the line being typed (in ``COMP_LINE``):
the subcommand itself, then for ``run``, ``plan`` and ``baseline save`` Hydra's completion of config groups,
options and keys (``model=kn`` → ``model=knn``), for ``list`` the groups, and for the other
subcommands their options (files are completed by the shell itself).
"""

from __future__ import annotations

import os

from harness.errors import UserError

#: The shells Hydra's completion plugins serve with a bash-style ``query``.
SHELLS = ("bash", "zsh")

#: The options of the subcommands that are not Hydra's (``harness X --help`` has them all).
OPTIONS = {
    "list": ["--config-dir", "models", "datasets", "features", "devices", "suites"],
    "report": ["--out", "--no-plots"],
    "compare": ["--baseline", "--baseline-dir", "--confirm", "--md", "--json", "--config-dir", "--no-time",
                "--acc-tol", "--time-tol", "--allow-missing", "--cross-machine", "--normalise"],
    "baseline": ["save", "--from", "--repeats", "--dir", "--config-dir"],
    "init": ["--config-dir", "--install"],
    "completion": list(SHELLS),
}


def _hydra(args: list[str]) -> int:
    """Hydra's ``-sc`` answer for ``harness run`` (its script registers ``harness``)."""
    from harness.app import run_app

    return run_app(args)


def query(commands: list[str]) -> int:
    """Print the choices for ``COMP_LINE`` (up to ``COMP_POINT``), space-separated."""
    line = os.environ.get("COMP_LINE", "")
    point = os.environ.get("COMP_POINT", "")
    if point.isdigit():
        line = line[:int(point)]
    words = line.split(" ")
    if len(words) <= 2:  # `harness ru`: the subcommand itself
        print(" ".join(c for c in commands if c.startswith(words[-1] if len(words) == 2 else "")))
        return 0
    command = words[1]
    start = 3 if words[1:3] == ["baseline", "save"] and len(words) > 3 else 2  # where overrides begin
    if command in ("run", "plan") or start == 3:  # Hydra completes the overrides, as after `harness`
        from harness import configdirs

        try:  # the line's own config dirs count (their models, suites, ...)
            dirs, rest = configdirs.split_args(words[start:])
            dirs = configdirs.resolve(dirs, env=False)
        except UserError:  # `--config-dir` still being typed: the shell completes the path
            return 0
        os.environ["COMP_LINE"] = " ".join([words[0], *rest])
        os.environ.pop("COMP_POINT", None)
        return _hydra(["-sc", "query=bash", *(a for d in dirs for a in ("--config-dir", d))])
    print(" ".join(o for o in OPTIONS.get(command, []) if o.startswith(words[-1])))
    return 0


def shell_completion(arg: str, commands: list[str]) -> int:
    """``harness -sc ACTION=SHELL``: ``query`` answers a completion; ``install``/``uninstall`` print a script."""
    action, _, shell = arg.partition("=")
    if action not in ("query", "install", "uninstall") or shell not in SHELLS:
        raise UserError(f"-sc takes query=, install= or uninstall= with one of {', '.join(SHELLS)}; "
                        f"got {arg!r} (try `harness completion bash`)")
    if action == "query":
        return query(commands)
    return _hydra(["-sc", arg])


def completion_command(args: list[str]) -> int:
    """``harness completion SHELL``: print the script; ``eval "$(harness completion bash)"`` installs it."""
    if len(args) != 1 or args[0] not in SHELLS:
        raise UserError(f"say which shell: `harness completion bash` (one of {', '.join(SHELLS)}); "
                        'then eval "$(harness completion bash)" in your shell, or add that line to ~/.bashrc')
    return _hydra(["-sc", f"install={args[0]}"])
