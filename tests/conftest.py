"""Fixtures: compose the real configs under suites/, shrunk by overrides (STYLE.md #7)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path_factory, monkeypatch):
    """Generated data goes to a per-session cache, never the user's."""
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "data-cache"))


@pytest.fixture
def compose(tmp_path):
    """``compose(*overrides)`` returns the composed primary config, results in tmp_path."""
    from hydra import compose as hcompose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from harness.app import setup
    from harness.config import suites_dir

    setup()
    GlobalHydra.instance().clear()
    ctx = initialize_config_dir(config_dir=str(suites_dir()), version_base="1.3", job_name="test")
    ctx.__enter__()

    def _compose(*overrides: str):
        return hcompose(config_name="config",
                        overrides=[f"results_dir={tmp_path / 'results'}", *overrides])

    yield _compose
    ctx.__exit__(None, None, None)


def run_cli(*args: str, cwd: Path | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run the real ``harness`` command in a subprocess."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True,
                          text=True, cwd=cwd or ROOT, timeout=timeout, env=env)
