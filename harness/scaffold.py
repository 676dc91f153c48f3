"""``harness init [DIR]``: a project's harness setup, ready to run and to gate its CI.

It writes, under DIR (default: the current directory), a config dir with an example model
(an estimator class of the project's own, in a small module next to its YAML), a dataset
(a CSV table, a small one written for the example), a ``ci`` suite, the workflow
``.github/workflows/regression.yml`` (harness's ``docs/ci-workflow.yml``, set to this config
dir) and ``results/.gitignore`` (run dirs stay out of git, baselines go in). It never
overwrites a file: when one exists, nothing is written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.errors import UserError

TEMPLATES = Path(__file__).resolve().parent / "templates"

#: The lines of the workflow template that ``harness init`` sets (a test keeps them in it).
WORKFLOW_CONFIG = 'HARNESS_CONFIG_PATH: ""'
WORKFLOW_INSTALL = "HARNESS_INSTALL: -e .[dev]"

RESULTS_GITIGNORE = """\
# harness: run dirs stay out of git; baselines (harness baseline save) are committed
/*
!/.gitignore
!/baselines/
"""


def example_table(n: int = 1200, n_features: int = 8, n_classes: int = 3, seed: int = 0) -> str:
    """A small classification table as CSV text: correlated Gaussian classes, column ``label``.

    The noise is correlated across features, so a model that weighs features well (little
    ``l2``) beats one that only follows the class means: the example's parameters matter.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    centers = rng.normal(0.0, 1.0, (n_classes, n_features))
    mixing = rng.normal(0.0, 1.0, (n_features, n_features))
    X = centers[y] + rng.normal(0.0, 1.0, (n, n_features)) @ mixing * 0.6
    header = ",".join([*(f"x{i}" for i in range(n_features)), "label"])
    rows = [",".join([*(f"{v:.4f}" for v in x), str(label)]) for x, label in zip(X, y)]
    return "\n".join([header, *rows]) + "\n"


def workflow(config_dir: str, install: str) -> str:
    """harness's CI workflow, set to the project's config dir and to install ``install``."""
    text = (TEMPLATES / "ci-workflow.yml").read_text()
    for marker in (WORKFLOW_CONFIG, WORKFLOW_INSTALL):
        if marker not in text:  # the template changed: better no workflow than a wrong one
            raise UserError(f"the workflow template lacks the line `{marker}`; reinstall harness")
    import json

    # JSON strings are YAML strings: any character of a path or a pip spec stays as it is
    return (text.replace(WORKFLOW_CONFIG, f"HARNESS_CONFIG_PATH: {json.dumps(config_dir)}")
            .replace(WORKFLOW_INSTALL, f"HARNESS_INSTALL: {json.dumps(install)}"))


def files(config_dir: str, install: str) -> dict[str, str]:
    """``{path relative to the project: content}`` of everything ``harness init`` writes."""
    data = f"{config_dir}/data/my_data.csv"
    return {
        f"{config_dir}/my_models.py": (TEMPLATES / "my_models.py").read_text(),
        f"{config_dir}/model/my_model.yaml": (TEMPLATES / "model.yaml").read_text()
        .replace("CONFIG_DIR", config_dir),
        f"{config_dir}/dataset/my_data.yaml": (TEMPLATES / "dataset.yaml").read_text().replace("DATA_PATH", data),
        data: example_table(),
        f"{config_dir}/suite/ci.yaml": (TEMPLATES / "suite-ci.yaml").read_text(),
        ".github/workflows/regression.yml": workflow(config_dir, install),
        "results/.gitignore": RESULTS_GITIGNORE,
    }


def init_command(args: list[str]) -> int:
    from harness import __version__

    parser = argparse.ArgumentParser(
        prog="harness init",
        description="Write a project's harness setup: a config dir with an example model (your own "
                    "estimator class), dataset (a CSV) and ci suite, and a CI workflow. Never overwrites.")
    parser.add_argument("dir", nargs="?", default=".", help="the project's root (default: here)")
    parser.add_argument("--config-dir", default="harness-config", metavar="NAME",
                        help="the config dir to create, relative to DIR (%(default)s)")
    parser.add_argument("--install", default=f"harness=={__version__}", metavar="SPEC",
                        help="what the workflow pip-installs, split at spaces: harness from where you get "
                             "it (harness@git+https://..., a wheel, an index) and your own package (%(default)s)")
    parser.error = lambda message: (_ for _ in ()).throw(UserError(f"{message}; see `harness init --help`"))
    ns = parser.parse_args(args)
    name = ns.config_dir.strip("/")
    if not name or Path(name).is_absolute() or ".." in Path(name).parts:
        raise UserError(f"--config-dir {ns.config_dir}: name a directory inside DIR (like harness-config)")
    root = Path(ns.dir)
    if root.exists() and not root.is_dir():
        raise UserError(f"{root} is a file; harness init needs a directory")
    todo = {root / rel: text for rel, text in files(name, ns.install).items()}
    existing = [str(p) for p in todo if p.exists() or p.is_symlink()]
    if existing:
        raise UserError(f"{existing[0]} exists{f' (and {len(existing) - 1} more)' if len(existing) > 1 else ''}; "
                        "harness init never overwrites: move it away or pick another DIR or --config-dir")
    for path, text in todo.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x") as f:  # "x": a file that appeared meanwhile is not overwritten either
            f.write(text)
    step = f"cd {root}, then " if str(root) != "." else ""
    print(f"harness init: wrote {len(todo)} files under {root}/ (config dir {name}/)\n"
          f"next, {step}from the project's root:\n"
          f"  harness list --config-dir {name} models\n"
          f"  harness run --config-dir {name} suite=ci\n"
          f"  harness baseline save --config-dir {name} suite=ci --repeats 3 && git add results/baselines\n"
          f".github/workflows/regression.yml gates every pull request; it installs `{ns.install}` "
          "(harness init --install SPEC to change)")
    return 0
