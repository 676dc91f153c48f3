"""Environment capture and the per-trial meters."""

from __future__ import annotations

import json
import time

import numpy as np

from harness import environment, measure


def test_environment_is_complete_and_json_able():
    env = environment.capture()
    json.dumps(env)
    assert env["python"].count(".") == 2
    assert env["usable_cores"] >= 1 and env["cpu_count"] >= env["usable_cores"]
    assert env["cpu_model"]
    for pkg in ("numpy", "scikit-learn", "pandas", "hydra-core"):
        assert pkg in env["packages"]
    assert env["git_harness"] is None or len(env["git_harness"]["commit"]) == 40


def test_git_commit_outside_a_repo_is_none(tmp_path):
    assert environment.git_commit(tmp_path) is None


def test_stopwatch_measures_wall_and_cpu():
    w = measure.Stopwatch()
    calls = []
    with w.time(sync=lambda: calls.append(1)):
        time.sleep(0.05)
    assert 0.04 < w.wall_s < 1.0 and w.cpu_s < w.wall_s
    assert len(calls) == 2  # synchronised before and after, as on a GPU


def test_peak_rss_sees_a_big_allocation_after_reset():
    measure.reset_peak_rss()
    before = measure.peak_rss_mb()
    block = np.ones(64 * 2**20 // 8)  # 64 MiB touched
    after = measure.peak_rss_mb()
    del block
    assert after - before > 50


def test_thread_limit_sets_blas_pools():
    from threadpoolctl import threadpool_info

    with measure.thread_limit(1) as n:
        assert n == 1
        assert all(p["num_threads"] == 1 for p in threadpool_info())



class _Lib:
    def __init__(self, internal_api, filepath, num_threads=2):
        self.internal_api, self.filepath, self.num_threads = internal_api, filepath, num_threads

    def set_num_threads(self, n):
        self.num_threads = n


class _Pools:
    def __init__(self, *libs):
        self.lib_controllers = list(libs)


def test_two_openblas_copies_leave_the_threads_to_scipys():
    numpy_blas = _Lib("openblas", "/site-packages/numpy.libs/libscipy_openblas64_-x.so")
    scipy_blas = _Lib("openblas", "/site-packages/scipy.libs/libscipy_openblas-y.so")
    gomp = _Lib("openmp", "/site-packages/scikit_learn.libs/libgomp-z.so")
    measure._one_openblas_pool(_Pools(numpy_blas, scipy_blas, gomp), 2)
    assert (numpy_blas.num_threads, scipy_blas.num_threads, gomp.num_threads) == (1, 2, 2)


def test_one_openblas_copy_or_one_thread_is_left_alone():
    only = _Lib("openblas", "/usr/lib/libopenblas.so")
    measure._one_openblas_pool(_Pools(only, _Lib("openmp", "/usr/lib/libgomp.so")), 2)
    assert only.num_threads == 2
    a, b = _Lib("openblas", "/a/libopenblas.so", 1), _Lib("openblas", "/b/libopenblas.so", 1)
    measure._one_openblas_pool(_Pools(a, b), 1)
    assert (a.num_threads, b.num_threads) == (1, 1)


def test_thread_limit_puts_the_capped_copy_back_on_the_way_out():
    import scipy.linalg  # noqa: F401 - loads scipy's OpenBLAS beside numpy's (PyPI wheels)
    from threadpoolctl import threadpool_info

    before = sorted((p["filepath"], p["num_threads"]) for p in threadpool_info())
    with measure.thread_limit(2):
        inside = {p["filepath"]: p["num_threads"] for p in threadpool_info() if p["internal_api"] == "openblas"}
    assert sorted((p["filepath"], p["num_threads"]) for p in threadpool_info()) == before
    if len(inside) > 1:  # wheels: numpy's copy on one thread, scipy's on two
        assert sorted(inside.values()) == [1, 2]

def test_rss_now_is_below_or_at_the_peak():
    measure.reset_peak_rss()
    assert 0 < measure.rss_mb() <= measure.peak_rss_mb() + 1.0


# --- what a trial costs besides its work (benchmarks/overhead.py) ------------------------------

def test_thread_limit_scans_the_libraries_once_until_an_import(monkeypatch):
    import sys

    import threadpoolctl

    made = []
    real = threadpoolctl.ThreadpoolController
    monkeypatch.setattr(threadpoolctl, "ThreadpoolController", lambda: made.append(1) or real())
    monkeypatch.setattr(measure, "_controller", None)
    for _ in range(3):
        with measure.thread_limit(1):
            pass
    assert len(made) == 1  # a scan walks every shared object: once, not once per trial
    monkeypatch.setitem(sys.modules, "a_module_that_may_load_a_blas", object())
    with measure.thread_limit(1):
        pass
    assert len(made) == 2


def test_features_seed_builds_each_transformer_config_once(compose, monkeypatch):
    from harness import api, trial as trial_mod
    from tests.test_splits import trial_of

    builds = []
    real = trial_mod.build
    monkeypatch.setattr(trial_mod, "build", lambda node: builds.append(node) or real(node))
    monkeypatch.setattr(trial_mod, "_draws_random", {})
    raw = [trial_of(compose, m, seed=s) for m, s in (("logreg", 0), ("knn", 5), ("logreg", 7))]
    assert [trial_mod.features_seed(t) for t in raw] == [None, None, None]
    assert len(builds) == 1
    pca = trial_of(compose, "logreg", seed=5)
    pca.features = api.option("features", "pca")
    assert trial_mod.features_seed(pca) == 5 and trial_mod.features_seed(pca) == 5  # it draws random numbers
    assert len(builds) == 2


class PoolSpy:
    """Records the largest BLAS/OpenMP pool in force whenever it works (features and model)."""

    seen: list = []

    def __init__(self, **_):
        pass

    def get_params(self, deep=True):
        return {}

    def set_params(self, **_):
        return self

    def _note(self):
        from threadpoolctl import threadpool_info

        PoolSpy.seen.append(max(p["num_threads"] for p in threadpool_info()))

    def fit_transform(self, X, y=None):
        self._note()
        return X

    def transform(self, X):
        self._note()
        return X

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        self._note()
        return np.full(len(X), self.classes_[0])

    def predict_proba(self, X):
        self._note()
        return np.full((len(X), len(self.classes_)), 1.0 / len(self.classes_))


def test_features_and_scores_run_under_the_trials_thread_limit(compose, monkeypatch):
    from omegaconf import OmegaConf

    from harness.data import load_dataset
    from harness.trial import featurize, run_trial
    from tests.test_splits import trial_of

    trial = trial_of(compose, "logreg", _target_=f"{__name__}.PoolSpy")
    trial.features = trial.features.copy()
    trial.features.transformer = OmegaConf.create({"_target_": f"{__name__}.PoolSpy"})
    monkeypatch.setattr(PoolSpy, "seen", [])
    data = load_dataset(trial.dataset, trial.split)
    rec = run_trial(trial, data, featurize(trial, data, threads=1), {"threads": 1}).record
    assert rec["status"] == "ok", rec["error"]
    assert len(PoolSpy.seen) >= 6  # fit_transform, 2 transforms, predict, predict_proba, the validation predict
    assert set(PoolSpy.seen) == {1}  # an unlimited pool collapses on a busy machine, outside the timers too


def test_records_are_fsynced_at_most_once_per_sync_period(tmp_path, monkeypatch):
    from harness import store

    synced = []
    monkeypatch.setattr(store.os, "fsync", lambda fd: synced.append(fd))
    writer = store.RunWriter(tmp_path / "a", sync_s=3600)
    for i in range(3):
        writer.predictions(f"t{i}", np.array([0, 1]), np.array([1, 1]))
        writer.record({"trial_id": f"t{i}"})
    assert len(synced) == 1  # the first record; an fsync costs about what a small trial's bookkeeping does
    assert len((tmp_path / "a" / "records-0.jsonl").read_text().splitlines()) == 3  # written and flushed all the same
    synced.clear()
    writer = store.RunWriter(tmp_path / "b", sync_s=0)
    for i in range(3):
        writer.predictions(f"t{i}", np.array([0]), np.array([0]))
        writer.record({"trial_id": f"t{i}"})
    assert len(synced) == 3


def test_a_torch_model_gets_the_threads_and_every_other_pool_one():
    import scipy.linalg  # noqa: F401
    import torch
    from threadpoolctl import threadpool_info

    before = torch.get_num_threads()
    with measure.thread_limit(2, torch_model=True) as n:
        assert n == 2 and torch.get_num_threads() == 2
        blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
        assert blas and all(t == 1 for t in blas)
    assert torch.get_num_threads() == before
