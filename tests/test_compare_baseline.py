"""Baselines are copies of run dirs, read like any run dirs; the old baseline files are refused."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from conftest import run_cli
from harness import store
from harness.compare import baseline as bl
from harness.compare import compare, load_side
from harness.errors import UserError
from test_compare import noisy_runs, rec, write_run


def _runs(tmp_path, n=3):
    rng = np.random.default_rng(0)
    dirs = []
    for i in range(n):
        d = write_run(tmp_path / "runs" / f"run{i}", [dict(r, run_id=f"run{i}") for r in noisy_runs(rng, n_runs=1)])
        writer = store.RunWriter(d)
        writer.predictions("k1-cpux1-s0", np.arange(6) % 3, np.arange(6) % 3)
        writer.curve("k1-cpux1-s0", [{"epoch": 1, "loss": 0.5}])
        dirs.append(d)
    return dirs


def _files(d):
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


def test_save_copies_each_run_dir_exactly_under_the_suite(tmp_path):
    dirs = _runs(tmp_path)
    out = bl.save([str(tmp_path / "runs" / "run*")], tmp_path / "baselines")
    assert out == tmp_path / "baselines" / "syn"
    assert sorted(p.name for p in out.iterdir()) == ["run0", "run1", "run2"]
    for d in dirs:
        assert _files(out / d.name) == _files(d)
        assert set(_files(d)) == {"run.json", "records-0.jsonl", "predictions-0.jsonl", "curves-0.jsonl"}
    # Read back with the same store code as the runs themselves.
    assert store.run_dirs(out) == [out / "run0", out / "run1", out / "run2"]
    side = load_side(str(bl.resolve("suite=syn", tmp_path / "baselines")))
    assert sorted(side.runs) == ["run0", "run1", "run2"] and len(side.records) == 9
    same = compare(side, load_side([str(d) for d in dirs]))
    assert same.exit_code == 0 and {g.verdict for g in same.groups} == {"unchanged"}


def test_saving_again_replaces_the_whole_suite_dir(tmp_path):
    dirs = _runs(tmp_path)
    bdir = tmp_path / "baselines"
    bl.save(dirs, bdir)
    (bdir / "syn" / "run0" / "stray.txt").write_text("left over")
    bl.save(dirs[2:], bdir)
    assert [p.name for p in (bdir / "syn").iterdir()] == ["run2"]
    assert sorted(p.name for p in bdir.iterdir()) == ["syn"]  # no temp or old dirs left behind


def test_save_refuses_two_suites_and_duplicate_run_ids(tmp_path):
    a = write_run(tmp_path / "a" / "same", [rec()])
    b = write_run(tmp_path / "b" / "same", [rec()])
    with pytest.raises(UserError, match="same run id"):
        bl.save([a, b], tmp_path / "baselines")
    other = write_run(tmp_path / "other", [dict(rec(), suite="elsewhere")])
    with pytest.raises(UserError, match="one suite"):
        bl.save([a, other], tmp_path / "baselines")
    assert not (tmp_path / "baselines").exists() or not any((tmp_path / "baselines").iterdir())


def test_copy_run_is_atomic_and_never_follows_symlinks(tmp_path):
    (src,) = _runs(tmp_path, 1)
    secret = tmp_path / "secret.jsonl"
    secret.write_text('{"trial_id": "not yours"}\n')
    os.symlink(secret, src / "records-9.jsonl")  # a symlinked file inside: left out
    (src / "notes.txt").write_text("not a run file")
    dst = store.copy_run(src, tmp_path / "copy" / "run0")
    assert sorted(p.name for p in dst.iterdir()) == ["curves-0.jsonl", "predictions-0.jsonl",
                                                     "records-0.jsonl", "run.json"]
    assert not any(p.is_symlink() for p in dst.iterdir())
    with pytest.raises(UserError, match="exists already"):
        store.copy_run(src, dst)
    os.symlink(src, tmp_path / "linked")
    with pytest.raises(UserError, match="not a symlink"):
        store.copy_run(tmp_path / "linked", tmp_path / "copy" / "run1")
    assert sorted(p.name for p in (tmp_path / "copy").iterdir()) == ["run0"]  # no temp dirs


def test_old_baseline_files_get_one_clear_error(tmp_path):
    run = write_run(tmp_path / "run", [rec()])
    old = tmp_path / "baselines" / "syn.jsonl"
    old.parent.mkdir()
    old.write_text(json.dumps(rec()) + "\n")
    for args in (["--baseline", str(old), str(run)],
                 ["--baseline", "suite=syn", "--baseline-dir", str(old.parent), str(run)],
                 [str(old), str(run)]):
        out = run_cli("compare", *args)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        err = out.stderr.strip()
        assert len(err.splitlines()) == 1 and "old format" in err
        assert "harness baseline save suite=syn" in err
    # A run dir's own files are not baselines: a records file stands for its run dir.
    ok = run_cli("compare", str(run / "records-0.jsonl"), str(run))
    assert ok.returncode == 0, ok.stderr


@pytest.mark.slow
def test_cli_baseline_save_from_and_compare(tmp_path):
    dirs = _runs(tmp_path)
    bdir = tmp_path / "baselines"
    out = run_cli("baseline", "save", "--from", *map(str, dirs), "--dir", str(bdir))
    assert out.returncode == 0, out.stderr
    assert f"{bdir / 'syn'}/" in out.stderr and "3 run dir(s)" in out.stderr
    cmp = run_cli("compare", "--baseline", "syn", "--baseline-dir", str(bdir), str(dirs[0]),
                  "--json", str(tmp_path / "c.json"))
    assert cmp.returncode == 0, cmp.stderr
    result = json.loads((tmp_path / "c.json").read_text())
    assert result["baseline"]["name"] == "baseline syn"
    assert result["baseline"]["files"] == [str(bdir / "syn" / f"run{i}") for i in range(3)]
    missing = run_cli("compare", "--baseline", "nosuch", "--baseline-dir", str(bdir), str(dirs[0]))
    assert missing.returncode == 2 and "harness baseline save suite=nosuch" in missing.stderr
