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


def test_rss_now_is_below_or_at_the_peak():
    measure.reset_peak_rss()
    assert 0 < measure.rss_mb() <= measure.peak_rss_mb() + 1.0
