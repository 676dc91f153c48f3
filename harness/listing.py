"""``harness list``: every choice of every config group, with its one-line description."""

from __future__ import annotations

from pathlib import Path

from harness.config import GROUPS, group_title, suites_dir
from harness.errors import UserError

ALIASES = {"models": "model", "datasets": "dataset", "features": "features", "feature": "features",
           "devices": "device", "suites": "suite"}


def describe(path: Path) -> tuple[str, str]:
    """(detail, description) read from a config file without composing it."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (yaml.YAMLError, OSError, UnicodeDecodeError):
        return "", "(unreadable YAML)"
    if not isinstance(data, dict):
        return "", f"(not a config: the file holds a YAML {type(data).__name__}, not a mapping of keys)"
    detail = data.get("family") or data.get("kind") or ",".join(map(str, data.get("applies_to") or [])) or ""
    return str(detail), str(data.get("description", "")).strip()


def list_command(args: list[str]) -> int:
    """``harness list [--config-dir DIR ...] [GROUP]``: bundled options, then the config dirs' (which win)."""
    from harness import configdirs

    groups = list(GROUPS)
    given, args = configdirs.split_args(list(args), "harness list")
    dirs = [suites_dir(), *map(Path, configdirs.resolve(given))]
    if args:
        want = ALIASES.get(args[0], args[0])
        if want not in GROUPS:
            raise UserError(f"unknown group '{args[0]}'; choose one of: models, datasets, features, devices, suites")
        groups = [want]
    for group in groups:
        files = {}
        for d in dirs:
            for p in sorted((d / group).glob("*.yaml")):
                files[p.stem] = p
        print(f"{group_title(group)}:")
        width = max((len(n) for n in files), default=0)
        for name, path in sorted(files.items()):
            detail, desc = describe(path)
            print(f"  {name:<{width}}  {('[' + detail + '] ') if detail else ''}{desc}")
        print()
    return 0
