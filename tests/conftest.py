"""Fixtures: compose the real configs under suites/, shrunk by overrides, through harness.api."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def dataset_spec(name: str, **loader_overrides):
    """A bundled dataset config (``suites/dataset/<name>.yaml``) with loader values replaced."""
    from omegaconf import OmegaConf

    cfg = OmegaConf.load(ROOT / "suites" / "dataset" / f"{name}.yaml")
    for key, value in loader_overrides.items():
        cfg.loader[key] = value
    return cfg


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path_factory, monkeypatch):
    """Generated data goes to a per-session cache, never the user's."""
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "data-cache"))


@pytest.fixture(autouse=True)
def _steady_threads(monkeypatch):
    """Runs compared within one test must not get different thread counts from the load at each
    start (the default policy leaves busy cores out); tests/test_threads.py tests that policy."""
    monkeypatch.setenv("HARNESS_THREADS", "all")


@pytest.fixture
def compose(tmp_path):
    """``compose(*overrides)`` returns the composed primary config, results in tmp_path."""
    from harness import api

    def _compose(*overrides: str):
        return api.compose([f"results_dir={tmp_path / 'results'}", *overrides])

    return _compose


def run_cli(*args: str, cwd: Path | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run the real ``harness`` command in a subprocess."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True,
                          text=True, cwd=cwd or ROOT, timeout=timeout, env=env)


PLUGIN_MODELS = '''
import time
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


class Majority(BaseEstimator, ClassifierMixin):
    def __init__(self, boost=1, sleep_s=0.0):
        self.boost = boost
        self.sleep_s = sleep_s

    def fit(self, X, y):
        time.sleep(self.sleep_s)
        self.classes_, counts = np.unique(y, return_counts=True)
        self.label_ = self.classes_[np.argmax(counts)]
        return self

    def predict(self, X):
        return np.full(len(X), self.label_)


class Broken(BaseEstimator, ClassifierMixin):
    def fit(self, X, y):
        raise ValueError("boom: this model always fails")


class Hog(BaseEstimator, ClassifierMixin):
    def __init__(self, gb=4):
        self.gb = gb

    def fit(self, X, y):
        self.block_ = np.ones(int(self.gb * 2**30 // 8))
        return self
'''

PLUGIN_CONFIGS = {
    "majority": ("Predicts the most frequent training class", "userpkg.models.Majority", {"boost": 2}),
    "sleepy": ("Majority, after sleeping in fit", "userpkg.models.Majority", {"sleep_s": 0.3}),
    "hang": ("Sleeps for a minute in fit", "userpkg.models.Majority", {"sleep_s": 60}),
    "broken": ("Raises in fit", "userpkg.models.Broken", {}),
    "hog": ("Allocates gigabytes in fit", "userpkg.models.Hog", {"gb": 4}),
}


@pytest.fixture
def plugin_dir(tmp_path, monkeypatch):
    """A user's own package and config dir outside harness, on PYTHONPATH for subprocesses."""
    pkg = tmp_path / "userpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "models.py").write_text(PLUGIN_MODELS)
    conf = tmp_path / "myconf" / "model"
    conf.mkdir(parents=True)
    for name, (desc, target, params) in PLUGIN_CONFIGS.items():
        lines = [f"name: {name}", f"description: {desc}", "family: classical", "estimator:",
                 f"  _target_: {target}"] + [f"  {k}: {v}" for k, v in params.items()]
        (conf / f"{name}.yaml").write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("PYTHONPATH", f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    return tmp_path
