"""The user's config dirs: ``--config-dir`` (repeatable) and ``HARNESS_CONFIG_PATH``.

Config dirs layer over the bundled suites: an option (``model/my_model.yaml``) found in a
config dir is used before a bundled option of the same name, and of several config dirs the
later one wins. ``HARNESS_CONFIG_PATH`` (``os.pathsep``-separated) comes first, then the
``--config-dir`` options in the order given. A config dir is also put on ``sys.path``, so
that the estimator module a project keeps next to its YAML files can be named by
``_target_`` without installing it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Iterable

from harness.errors import UserError

#: The environment variable listing config dirs, separated by ``os.pathsep``.
ENV = "HARNESS_CONFIG_PATH"

_FLAGS = ("--config-dir", "-cd")


def from_env() -> list[str]:
    """The config dirs ``HARNESS_CONFIG_PATH`` names, in order (empty entries skipped)."""
    return [p for p in os.environ.get(ENV, "").split(os.pathsep) if p.strip()]


def resolve(given: Iterable[str | Path] = (), env: bool = True) -> list[str]:
    """``HARNESS_CONFIG_PATH`` then ``given``, as absolute paths; lowest priority first.

    A dir named twice keeps its last place (its highest priority).

    Raises
    ------
    UserError : a config dir that does not exist.
    """
    out: list[str] = []
    for d in [*(from_env() if env else []), *(given or ())]:
        path = Path(d).expanduser().resolve()
        if not path.is_dir():
            where = f" (from {ENV})" if str(d) in from_env() else ""
            raise UserError(f"config dir {d}{where} does not exist; pass a directory with model/, dataset/, "
                            "suite/, ... subdirectories (`harness init` makes one)")
        if str(path) in out:
            out.remove(str(path))
        out.append(str(path))
    return out


def importable(dirs: Iterable[str]) -> None:
    """Put the config dirs on ``sys.path`` (after what is there), so their modules import."""
    for d in dirs:
        if d not in sys.path:
            sys.path.append(d)


def split_args(args: list[str], prog: str = "harness") -> tuple[list[str], list[str]]:
    """``(config_dirs, rest)``: every ``--config-dir DIR`` / ``--config-dir=DIR`` / ``-cd DIR`` taken out.

    Hydra's own parser keeps only the last ``--config-dir``; harness takes them all.
    """
    dirs, rest = [], []
    i = 0
    while i < len(args):
        arg = args[i]
        flag, eq, value = arg.partition("=")
        if flag in _FLAGS and eq:
            dirs.append(value)
        elif arg in _FLAGS:
            if i + 1 >= len(args) or args[i + 1].startswith("-") or not args[i + 1]:
                raise UserError(f"{arg} needs a directory: `{prog} --config-dir DIR ...`")
            dirs.append(args[i + 1])
            i += 1
        else:
            rest.append(arg)
        i += 1
    return dirs, rest
