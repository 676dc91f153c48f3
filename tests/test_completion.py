"""Tab completion: the subcommands, and Hydra's completion of `harness run` and `plan` overrides."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli


def _query(line: str, **env) -> subprocess.CompletedProcess:
    """What the completion script asks: ``harness -sc query=bash`` with the line in COMP_LINE."""
    full = {**os.environ, "COMP_LINE": line, "COMP_POINT": str(len(line)), **env}
    return subprocess.run([sys.executable, "-m", "harness.cli", "-sc", "query=bash"], capture_output=True,
                          text=True, env=full, cwd=ROOT, timeout=120)


@pytest.mark.parametrize("line, expect", [
    ("harness ", {"run", "plan", "list", "report", "compare", "baseline", "init", "completion"}),
    ("harness pl", {"plan"}),
    ("harness list da", {"datasets"}),
    ("harness compare --con", {"--confirm", "--config-dir"}),
])
def test_subcommands_and_their_options_complete(line, expect):
    res = _query(line)
    assert res.returncode == 0, res.stderr
    assert set(res.stdout.split()) == expect


@pytest.mark.slow  # Hydra composes in a subprocess
@pytest.mark.parametrize("line, expect", [
    ("harness run model=svm", {"model=svm_rbf"}),
    ("harness plan suite=sm", {"suite=smoke"}),
    ("harness baseline save suite=sm", {"suite=smoke"}),
    ("harness baseline sa", {"save"}),
])
def test_run_and_plan_overrides_complete_through_hydra(line, expect):
    res = _query(line)
    assert res.returncode == 0, res.stderr
    assert set(res.stdout.split()) == expect


@pytest.mark.slow
def test_completion_finds_the_options_of_the_lines_config_dir(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "zzmine.yaml").write_text(
        "name: zzmine\nfamily: classical\nestimator:\n  _target_: sklearn.linear_model.LogisticRegression\n")
    res = _query(f"harness run --config-dir {tmp_path} model=zz")
    assert res.stdout.split() == ["model=zzmine"], res.stderr


@pytest.mark.slow
@pytest.mark.parametrize("args", [("completion", "bash"), ("run", "-sc", "install=bash")])
def test_the_script_registers_harness_itself(args):
    res = run_cli(*args)
    assert res.returncode == 0, res.stderr
    last = res.stdout.strip().splitlines()[-1]
    assert last.endswith("-F hydra_bash_completion harness"), last  # not `harness run`


def test_bad_shell_is_one_line():
    res = run_cli("completion", "tcsh")
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "bash" in res.stderr
    res = run_cli("-sc", "query=tcsh")
    assert res.returncode == 2 and res.stderr.count("\n") == 1


BASH_SESSION = r'''
eval "$(harness completion bash)"
complete() { :; }  # nothing more to register
try() {
  COMP_LINE="$1"; COMP_POINT=${#1}; read -ra COMP_WORDS <<< "$1"
  [[ "$1" == *" " ]] && COMP_WORDS+=("")
  COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
  hydra_bash_completion
  echo "${COMPREPLY[*]}"
}
try "harness ru"
try "harness run suite=sm"
try "harness plan dataset=dig"
try "harness list mod"
'''


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash here")
def test_bash_completes_with_the_installed_script(tmp_path):
    """The real thing: bash evaluates the script and calls its completion function."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shim = bindir / "harness"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m harness.cli "$@"\n')
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    res = subprocess.run(["bash", "-c", BASH_SESSION], capture_output=True, text=True, env=env,
                         cwd=Path(tmp_path), timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["run", "suite=smoke", "dataset=digits", "models"], res.stdout + res.stderr
