"""The CI recipe of docs/ci.md proven end to end, in a project that is not harness.

harness's wheel is built and installed into a fresh virtual environment outside this
repository (its dependencies come from this environment's site-packages, through a ``.pth``
line, so the test needs no package index; harness itself is imported from the wheel; torch
is made unimportable there, so the classical path is proven torch-free). A toy
project is scaffolded there by ``harness init``: its own estimator module and ``ci`` suite.
Then, as its CI would: run, save the baseline, commit; a change that makes the estimator
about 4 points less accurate fails ``harness compare --baseline ... --confirm 3`` (exit 1,
the re-runs finding the project's model through its config dir); the same code passes
(exit 0); and the workflow's own steps (base and candidate runs on one machine, the
comparison, the PR comment) run as GitHub would run them, on a pull request.

A 30%-slower fit is not tested here: on a shared 2-core machine the load changes by more
than that between runs (docs/ci.md, "Noise"), so such a test would fail by chance; the
time gate is measured, with its false-alarm rate, by ``benchmarks/compare_quality.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT
from tests.test_package import build_wheel

BUG = ("self.l2 * W", "(self.l2 + 0.009) * W")  # a change of code, not of a parameter: same trial key


#: Installed in the test's venv: torch can't be imported there, as where it is not installed
#: (torch is the ``deep`` extra; classical models and the user's own estimator don't need it).
NO_TORCH = """\
import sys


class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


sys.meta_path.insert(0, NoTorch())
"""


def _venv(where: Path, wheel: Path) -> Path:
    """A fresh venv with harness installed from ``wheel``, without torch; the dependencies come from this env."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True, timeout=120)
    python = where / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # after the venv's own site-packages: the wheel's harness comes first in any case
    Path(purelib, "_harness_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    Path(purelib, "_harness_test_no_torch.py").write_text(NO_TORCH)
    Path(purelib, "_harness_test_no_torch.pth").write_text("import _harness_test_no_torch\n")
    res = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
                          str(wheel)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return where / "bin"


class Project:
    def __init__(self, root: Path, bindir: Path):
        self.root = root
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("PYTHONPATH", "HARNESS_SUITES", "HARNESS_CONFIG_PATH", "VIRTUAL_ENV")}
        self.env.update(PATH=f"{bindir}{os.pathsep}{os.environ['PATH']}", PYTHONWARNINGS="ignore",
                        GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org",
                        GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org")

    def sh(self, *cmd: str, env: dict | None = None, ok: bool = True) -> subprocess.CompletedProcess:
        res = subprocess.run(list(cmd), cwd=self.root, capture_output=True, text=True, timeout=600,
                             env={**self.env, **(env or {})})
        if ok:
            assert res.returncode == 0, f"{' '.join(cmd)}: {res.returncode}\n{res.stdout}\n{res.stderr}"
        return res

    def commit(self, message: str) -> str:
        self.sh("git", "add", "-A")
        self.sh("git", "commit", "-q", "-m", message)
        return self.sh("git", "rev-parse", "HEAD").stdout.strip()


def _step(flow: dict, name: str) -> str:
    return next(s["run"] for s in flow["jobs"]["regression"]["steps"] if s.get("name") == name)


def _github_step(p: Project, script: str, values: dict, env: dict, tmp: Path) -> dict:
    """Run a workflow step's script as GitHub would (``bash -eo pipefail``); its outputs."""
    script = re.sub(r"\$\{\{\s*([\w.]+)\s*\}\}", lambda m: values[m.group(1)], script)
    files = {k: tmp / k.lower() for k in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_STEP_SUMMARY")}
    for f in files.values():
        f.touch()
    p.sh("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script,
         env={**env, **{k: str(v) for k, v in files.items()}, "RUNNER_TEMP": str(tmp)})
    out = dict(line.split("=", 1) for line in files["GITHUB_OUTPUT"].read_text().splitlines() if "=" in line)
    env.update(dict(line.split("=", 1) for line in files["GITHUB_ENV"].read_text().splitlines() if "=" in line))
    return out


@pytest.mark.slow  # a wheel, a venv, about twenty small runs: a minute or two
def test_a_project_adopts_harness_from_its_wheel(tmp_path):
    bindir = _venv(tmp_path / "venv", build_wheel(tmp_path))
    p = Project(tmp_path / "toy", bindir)
    p.root.mkdir()

    where = p.sh("python", "-c", "import harness; print(harness.__file__)").stdout.strip()
    assert Path(where).is_relative_to(tmp_path / "venv"), where  # the wheel's, not this checkout's
    assert p.sh("python", "-c", "import torch", ok=False).returncode == 1  # and no torch: all below is torch-free

    # the installed package finds its suites; a run writes into the current directory
    listed = p.sh("harness", "list", "suites").stdout
    assert all(f"  {s.stem} " in listed for s in (ROOT / "suites" / "suite").glob("*.yaml")), listed
    p.sh("harness", "run", "suite=smoke", "run_id=first")
    assert (p.root / "results" / "smoke" / "first" / "report.md").is_file()

    # scaffold, run, save the baseline (config dir from the environment), commit
    p.sh("harness", "init")
    p.sh("git", "init", "-q")
    p.sh("harness", "run", "--config-dir", "harness-config", "suite=ci", "run_id=ci1")
    p.sh("harness", "baseline", "save", "suite=ci", "--repeats", "2", env={"HARNESS_CONFIG_PATH": "harness-config"})
    base_sha = p.commit("harness: the ci suite and its baseline")
    tracked = p.sh("git", "ls-files", "results").stdout.split()
    assert tracked and all(t.startswith("results/baselines/ci/") or t == "results/.gitignore" for t in tracked)

    # a change that costs accuracy: the gate fails, after re-running the project's own model
    models = p.root / "harness-config" / "my_models.py"
    models.write_text(models.read_text().replace(*BUG))
    head_sha = p.commit("a worse model")
    p.sh("harness", "run", "--config-dir", "harness-config", "suite=ci", "run_id=worse")
    res = p.sh("harness", "compare", "--baseline", "suite=ci", "results/ci/worse", "--confirm", "3",
               "--config-dir", "harness-config", ok=False)
    assert res.returncode == 1, res.stdout + res.stderr
    assert re.search(r"\*\*regressed\*\* \| my_data/raw/my_model", res.stdout), res.stdout
    assert "re-run 3x" in res.stdout and (p.root / "results" / "ci" / "worse.confirm").is_dir()

    # the same code as the baseline passes
    models.write_text(models.read_text().replace(BUG[1], BUG[0]))
    p.sh("harness", "run", "--config-dir", "harness-config", "suite=ci", "run_id=same")
    res = p.sh("harness", "compare", "--baseline", "suite=ci", "results/ci/same", "--confirm", "3",
               "--config-dir", "harness-config", ok=False)
    assert res.returncode == 0, res.stdout + res.stderr
    p.sh("git", "checkout", "-q", "--", ".")

    # the workflow harness init wrote, its steps run as on a pull request from head to base
    flow = yaml.safe_load((p.root / ".github" / "workflows" / "regression.yml").read_text())
    env = {k: str(v) for k, v in flow["env"].items()}
    values = {"github.event_name": "pull_request", "github.event.pull_request.base.sha": base_sha,
              "github.server_url": "https://github.example", "github.repository": "me/toy",
              "github.run_id": "1"}
    runs = _github_step(p, _step(flow, "Runs, base and candidate on this same runner"), values, env, tmp_path)
    assert runs["base_ok"] == "true"
    assert p.sh("git", "rev-parse", "HEAD").stdout.strip() == head_sha  # switched back
    values["steps.runs.outputs.base_ok"] = runs["base_ok"]
    compared = _github_step(p, _step(flow, "Compare"), values, env, tmp_path)
    assert compared["code"] == "1"
    comment = (p.root / "comment.md").read_text()
    assert comment.startswith("<!-- harness-regression -->") and "**regressed**" in comment
    assert "![" not in comment and "not shown here" in comment  # no image link that would break
    assert (tmp_path / "github_step_summary").read_text() == comment

    # a push (no base run): accuracy is still gated, against the committed baseline
    push = tmp_path / "push"
    push.mkdir()
    env = {k: str(v) for k, v in flow["env"].items()}
    values.update({"github.event_name": "push"})
    runs = _github_step(p, _step(flow, "Runs, base and candidate on this same runner"), values, env, push)
    assert runs["base_ok"] == "false" and not (push / "harness-results" / "base").exists()
    values["steps.runs.outputs.base_ok"] = runs["base_ok"]
    assert _github_step(p, _step(flow, "Compare"), values, env, push)["code"] == "1"
    assert "**regressed**" in (p.root / "comment.md").read_text()
