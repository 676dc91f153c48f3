"""Check a model's parameters when planning, remembering the configs that passed.

:func:`harness.trial.check_estimator_config` builds the estimator and runs its declared
parameter constraints, which imports its library: scikit-learn alone takes most of a second to
import, and planning needs nothing else from it. A config that passed is remembered in the
harness cache (``checked-estimators.json`` in ``$HARNESS_CACHE_DIR``, else ``~/.cache/harness``)
with what decided it: the source files of the estimator's class, of its bases and of their
packages' ``__init__``; the interpreter and ``sys.path``; the installed packages (the
modification time of site-packages, which every install and uninstall changes). Planning the
same config again skips the build while none of these changed.

Only a check that depends on nothing else is remembered: the ``_target_`` is the class itself
(a factory may need an optional library, and is checked every time), a nested ``_target_`` is
``_partial_`` (a network's class handed to TorchClassifier as ``module``: named, not called; its
module's files count too), and the class declares scikit-learn's ``_parameter_constraints``. A
config that fails is never remembered, so a bad override fails at every plan with the same one
line.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import sysconfig
import tempfile
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

#: How many passed configs the cache keeps; the least recently checked go first.
KEEP = 256


def cache_file() -> Path:
    """Where passed checks are remembered."""
    env = os.environ.get("HARNESS_CACHE_DIR")
    return (Path(env).expanduser() if env else Path.home() / ".cache" / "harness") / "checked-estimators.json"


def check_model(node: DictConfig, name: str) -> None:
    """Check ``model.estimator`` as :func:`harness.trial.check_estimator_config` does, unless this
    very config passed before and nothing that decided it has changed since.

    Raises
    ------
    UserError : the model cannot be built, or a parameter breaks its constraints (one line).
    """
    try:
        container = OmegaConf.to_container(node, resolve=True)
        key = _key(container)
    except Exception:  # noqa: BLE001 - an interpolation that fails: the full check says why
        container, key = None, None
    if key is not None and _unchanged(_read().get(key)):
        return
    from harness.trial import check_estimator_config

    est = check_estimator_config(node, name)
    files = deciding_files(est, container) if key is not None else None
    if files:
        _remember(key, {"model": name, "files": _stamps(files), "installed": _stamps(_site_dirs())})


def deciding_files(est, container) -> list[str] | None:
    """The source files a passed check of ``container`` depends on; None when it may depend on more."""
    target = container.get("_target_") if isinstance(container, dict) else None
    nested: list[str] = []
    if not isinstance(target, str) or not hasattr(est, "_parameter_constraints") or not _partials(container, nested):
        return None
    module_name, _, attr = target.rpartition(".")
    if getattr(sys.modules.get(module_name), attr, None) is not type(est):
        return None  # a factory, or not the class it names
    modules = {module_name, *(klass.__module__ for klass in type(est).__mro__)}
    for name in nested:
        module, _, attr = name.rpartition(".")
        if getattr(sys.modules.get(module), attr, None) is None:
            return None
        modules.add(module)
    modules |= {m.split(".")[0] for m in modules}  # a package's __init__ changes with its version
    files = {getattr(sys.modules.get(m), "__file__", None) for m in modules}
    return sorted(f for f in files if f)


def _partials(value, out: list[str], top: bool = True) -> bool:
    """Put the nested ``_target_`` names into ``out``; False when one is called as the estimator
    is built (not ``_partial_``), which may depend on anything."""
    if isinstance(value, dict):
        if not top and "_target_" in value:
            if value.get("_partial_") is not True:
                return False
            out.append(str(value["_target_"]))
        return all(_partials(v, out, top=False) for k, v in value.items() if k != "_target_")
    if isinstance(value, list):
        return all(_partials(v, out, top=False) for v in value)
    return True


def _key(container) -> str:
    blob = json.dumps({"estimator": container, "python": [sys.prefix, sys.version], "path": sys.path},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _site_dirs() -> list[str]:
    paths = sysconfig.get_paths()
    return sorted({p for p in (paths.get("purelib"), paths.get("platlib")) if p and os.path.isdir(p)})


def _stamps(paths) -> list[list]:
    out = []
    for path in paths:
        try:
            st = os.stat(path)
            out.append([path, st.st_mtime_ns, st.st_size])
        except OSError:
            out.append([path, None, None])
    return out


def _unchanged(entry) -> bool:
    if not isinstance(entry, dict) or not isinstance(entry.get("files"), list):
        return False
    try:
        files = [f[0] for f in entry["files"]]
    except (TypeError, IndexError, KeyError):
        return False
    return entry["files"] == _stamps(files) and entry.get("installed") == _stamps(_site_dirs())


def _read() -> dict:
    try:
        data = json.loads(cache_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _remember(key: str, entry: dict) -> None:
    """Add ``entry`` (written whole to a temporary file, then moved: never half a file); a cache
    that can't be written is no error, only slower plans."""
    path = cache_file()
    data = _read()
    data.pop(key, None)
    data[key] = entry
    data = dict(list(data.items())[-KEEP:])
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".checked-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(tmp, path)
    except OSError:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
