"""Scaling out for real: a suite sharded over Slurm (``hydra/launcher=submitit_slurm``) and Ray.

The Slurm cluster is `.ci/slurm-up`'s: one node (``localhost``) on loopback, so the run dir under
pytest's tmp_path is the "shared filesystem" every job writes its own records file into.
Ray runs from its own venv, `.venv-ray` (`make ray-venv`): hydra-ray-launcher pins
``cloudpickle<3``, which joblib >= 1.6 (this venv's) cannot have. Without the cluster or the venv
the test skips and says how to get it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from harness import api, store
from tests.conftest import ROOT, run_cli

pytestmark = pytest.mark.slow

SLURM_UP = ROOT / ".ci" / "slurm-up"
CLUSTER = "harness"  # ClusterName in the slurm.conf that .ci/slurm-up writes


def _why_not_up() -> str:
    """Why the test cannot submit jobs here, or '' when .ci/slurm-up's cluster is up."""
    if shutil.which("sinfo") is None or shutil.which("scontrol") is None:
        return "no Slurm: run .ci/slurm-up (root, apt-get)"
    try:
        # a controller that is down makes scontrol retry for about 10 s before it says so
        conf = subprocess.run(["scontrol", "show", "config"], capture_output=True, text=True, timeout=30)
        if conf.returncode != 0:
            return "Slurm is installed but slurmctld is not up: run .ci/slurm-up"
        if not re.search(rf"^ClusterName\s*=\s*{CLUSTER}\s*$", conf.stdout, re.M):
            return "this Slurm is not .ci/slurm-up's single-node cluster: no test jobs are sent to it"
        node = subprocess.run(["sinfo", "-h", "-N", "-n", "localhost", "-o", "%t"],
                              capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "Slurm is installed but slurmctld does not answer: run .ci/slurm-up"
    if node.stdout.strip() not in ("idle", "mix", "alloc"):
        return f"Slurm's node is {node.stdout.strip() or 'missing'}: run .ci/slurm-up"
    return ""


def _recorded_once(run_dir: Path, shards: int, overrides: list[str]) -> None:
    """Every trial the overrides plan is recorded exactly once, one records file per shard."""
    planned = {t.trial_id for t in api.plan(api.compose(overrides), overrides).trials}
    files = sorted(run_dir.glob("records-*.jsonl"))
    assert [f.name for f in files] == [f"records-{i}.jsonl" for i in range(shards)]
    recorded = Counter(json.loads(line)["trial_id"] for f in files for line in f.read_text().splitlines())
    assert set(recorded) == planned and set(recorded.values()) == {1}
    df = store.load(run_dir)
    assert (df["status"] == "ok").all() and (df["parallel_jobs"] == shards).all()
    assert (run_dir / "report.md").exists()


def _job_states(array_job: str) -> dict[str, str]:
    """``{array task id: JobState}`` of a finished array job, as slurmctld still shows it."""
    out = subprocess.run(["scontrol", "-o", "show", "job", array_job], capture_output=True, text=True,
                         timeout=30, check=True).stdout
    return {re.search(r"ArrayTaskId=(\S+)", line).group(1): re.search(r"JobState=(\S+)", line).group(1)
            for line in out.splitlines() if f"ArrayJobId={array_job} " in line}


def test_sharded_over_slurm_records_every_trial_once(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher",
                        reason="hydra-submitit-launcher is not installed (pip install -e .[slurm])")
    reason = _why_not_up()
    if reason:
        pytest.skip(reason)
    again = subprocess.run(["bash", str(SLURM_UP)], capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "already up" in again.stderr, again.stderr  # idempotent

    shards = 3  # more shards than the 2 cores CI has: one job waits in Slurm's queue
    overrides = ["suite=smoke", f"results_dir={tmp_path}", "run_id=slurm"]
    res = run_cli("run", *overrides, "hydra/launcher=submitit_slurm", f"n_shards={shards}",
                  "hydra.launcher.timeout_min=10", "hydra.launcher.cpus_per_task=1", timeout=500)
    assert res.returncode == 0, res.stderr[-3000:]

    run_dir = tmp_path / "smoke" / "slurm"
    _recorded_once(run_dir, shards, overrides)

    # the jobs were Slurm's: one array job whose tasks all completed on the node
    scripts = list((run_dir / ".submitit").glob("*/*_submission.sh"))
    assert len(scripts) == 1 and "#SBATCH --array=0-2" in scripts[0].read_text()
    array_job = scripts[0].name.split("_")[0]
    assert _job_states(array_job) == {str(i): "COMPLETED" for i in range(shards)}


def test_sharded_over_ray_in_its_own_venv_records_every_trial_once(tmp_path):
    harness = ROOT / ".venv-ray" / "bin" / "harness"
    if not harness.exists():
        pytest.skip("no .venv-ray: `make ray-venv` (hydra-ray-launcher pins cloudpickle<3, so not in .venv)")
    overrides = ["suite=smoke", f"results_dir={tmp_path}", "run_id=ray"]
    ray_init = ["num_cpus=2", "include_dashboard=false", "_node_ip_address=127.0.0.1"]  # loopback
    res = subprocess.run([str(harness), "run", *overrides, "hydra/launcher=ray", "n_shards=2",
                          *(f"+hydra.launcher.ray.init.{o}" for o in ray_init)],
                         capture_output=True, text=True, cwd=ROOT, timeout=500,
                         env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert res.returncode == 0, res.stderr[-3000:]
    _recorded_once(tmp_path / "smoke" / "ray", 2, overrides)
    # each shard ran in a Ray worker: Ray prefixes a task's output with its name and pid
    workers = re.findall(r"\(_run_job pid=(\d+)\)[^\n]*harness: 3 trials", res.stderr + res.stdout)
    assert len(set(workers)) == 2
