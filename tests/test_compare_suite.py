"""Baselines and comparisons on a real tiny suite, end to end (suite=smoke, one seed)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A saved baseline of suite=smoke and a second run of it, made with the real CLI."""
    root = tmp_path_factory.mktemp("cmp")
    out = run_cli("baseline", "save", "suite=smoke", f"results_dir={root}", "--dir", str(root / "baselines"))
    assert out.returncode == 0, out.stderr
    first = sorted((root / "smoke").iterdir())
    run = run_cli("run", "suite=smoke", f"results_dir={root}", "report=false")
    assert run.returncode == 0, run.stderr
    cand = next(d for d in sorted((root / "smoke").iterdir()) if d not in first)
    return root, root / "baselines", cand


def test_the_baseline_is_a_copy_of_the_run_dir(saved):
    root, bdir, _ = saved
    (run,) = (bdir / "smoke").iterdir()
    source = root / "smoke" / run.name
    assert sorted(p.name for p in run.iterdir()) == sorted(p.name for p in source.iterdir()
                                                           if p.suffix in (".json", ".jsonl"))
    for f in run.iterdir():
        assert f.read_bytes() == (source / f.name).read_bytes()
    records = [json.loads(line) for line in (run / "records-0.jsonl").read_text().splitlines()]
    assert len(records) == 6 and all(r["status"] == "ok" for r in records)
    info = json.loads((run / "run.json").read_text())
    assert info["suite"] == "smoke" and info["fingerprint"]["id"] and info["calibration"]["score_s"] > 0


def test_compare_with_the_saved_baseline_is_clean(saved):
    root, bdir, cand = saved
    out = run_cli("compare", "--baseline", "suite=smoke", "--baseline-dir", str(bdir), str(cand),
                  "--json", str(root / "same.json"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "same machine fingerprint" in out.stdout
    result = json.loads((root / "same.json").read_text())
    assert result["counts"]["unchanged"] == 6 and result["time_mode"] == "same"


def _worse_baseline(bdir: Path, dest: Path) -> Path:
    """A copy of the baseline whose models were perfect: the candidate then lost accuracy."""
    from harness.store import decode_labels, encode_labels

    (src,) = (bdir / "smoke").iterdir()
    run = dest / "smoke" / src.name
    run.mkdir(parents=True, exist_ok=True)
    rows = [json.loads(line) for line in (src / "records-0.jsonl").read_text().splitlines()]
    (run / "records-0.jsonl").write_text("".join(json.dumps({**r, "accuracy": 1.0}) + "\n" for r in rows))
    preds = []
    for line in (src / "predictions-0.jsonl").read_text().splitlines():
        obj = json.loads(line)
        obj["y_pred"] = encode_labels(decode_labels(obj["y_true"]))
        preds.append(json.dumps(obj) + "\n")
    (run / "predictions-0.jsonl").write_text("".join(preds))
    # These records were not produced by this code. The baseline is not re-runnable anyway (git
    # shows no commit of it); a run.json's commit is no evidence either way, edited or not.
    info = json.loads((src / "run.json").read_text())
    info["environment"]["git_harness"] = {"commit": "0" * 40, "dirty": False}
    (run / "run.json").write_text(json.dumps(info))
    return dest


def test_accuracy_regression_fails_and_confirm_reruns_flagged_groups(saved):
    root, bdir, cand = saved
    better = _worse_baseline(bdir, root / "perfect")
    out = run_cli("compare", "--baseline", "smoke", "--baseline-dir", str(better), str(cand),
                  "--md", str(root / "worse.md"), "--confirm", "1", "--json", str(root / "worse.json"))
    assert out.returncode == 1, out.stdout + out.stderr
    md = (root / "worse.md").read_text()
    assert "REGRESSION" in md and "McNemar" in md
    result = json.loads((root / "worse.json").read_text())
    assert result["counts"]["regressed"] >= 1
    assert "--confirm 1" in result["confirm_note"] and "candidate only" in result["confirm_note"]
    reruns = sorted(Path(f"{cand}.confirm").iterdir())
    assert reruns and reruns[0].name.startswith("r1-")
    assert (reruns[0] / "run.json").exists()


def test_interleaved_confirmation_through_the_api(saved):
    """A baseline that can be re-run: each flagged group re-runs on both sides, back to back."""
    root, bdir, cand = saved
    from harness.compare import Options, compare, confirm, load_side

    base, cand_side = load_side(str(bdir / "smoke")), load_side(str(cand))
    # A zero tolerance flags every timed group, so something is re-run.
    opts = Options(time_tol=1.0, time_low=10.0, min_time_s=0.0, metrics=())
    first = compare(base, cand_side, opts)
    flagged = first.flagged()
    assert flagged
    result = confirm.confirm(first, 1, confirm.rerun_from_info(cand_side.first_run()),
                             confirm.rerun_from_info(base.first_run()), out_dir=root / "interleaved")
    names = sorted(p.name for p in (root / "interleaved").iterdir())
    assert any(n.endswith("-baseline") for n in names) and any(n.endswith("-candidate") for n in names)
    confirmed = [g for g in result.groups if g.confirmed]
    assert confirmed and all("interleaved" in g.confirmed for g in confirmed)
    # every re-run group is judged on interleaved pairs: a re-run keeps its original's thread
    # count, so its rows land in the group they confirm however busy the machine is now
    fits = [g.test("fit_s") for g in confirmed]
    assert all(fit is not None and "interleaved pairs" in fit.method for fit in fits), [
        (g.label, fit and fit.method) for g, fit in zip(confirmed, fits)]
    assert result.exit_code == 0  # time_low=10: nothing can clear it


def test_baseline_save_from_runs_and_cross_machine(saved, tmp_path):
    root, _, cand = saved
    out = run_cli("baseline", "save", "--from", str(cand), "--dir", str(tmp_path))
    assert out.returncode == 0, out.stderr
    saved_json = tmp_path / "smoke" / cand.name / "run.json"
    info = json.loads(saved_json.read_text())
    info["fingerprint"]["id"] = "another-box"
    saved_json.write_text(json.dumps(info))
    other = run_cli("compare", "--baseline", str(tmp_path / "smoke"), str(cand))
    assert other.returncode == 0 and "Time not compared: different machines" in other.stdout
    cross = run_cli("compare", "--baseline", str(tmp_path / "smoke"), str(cand), "--cross-machine")
    assert cross.returncode in (0, 1) and "divided by its run's calibration" in cross.stdout


FLAKY_MODEL = '''
import os
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


class Flaky(BaseEstimator, ClassifierMixin):
    """Predicts the most frequent class; fails on two-feature data while the marker file exists."""

    def fit(self, X, y):
        if X.shape[1] == 2 and os.path.exists(os.environ["FLAKY_MARKER"]):
            raise RuntimeError("flaky: failed this time")
        self.classes_, counts = np.unique(y, return_counts=True)
        self.label_ = self.classes_[np.argmax(counts)]
        return self

    def predict(self, X):
        return np.full(len(X), self.label_)
'''


def test_a_trial_fixed_by_resume_counts_as_it_finally_ended(tmp_path, monkeypatch):
    """A trial that failed and then succeeded on `resume=` is ok, for compare as for store.load."""
    from harness import store

    (tmp_path / "flakypkg").mkdir()
    (tmp_path / "flakypkg" / "__init__.py").write_text(FLAKY_MODEL)
    conf = tmp_path / "myconf" / "model"
    conf.mkdir(parents=True)
    (conf / "flaky.yaml").write_text("name: flaky\ndescription: fails while a marker file exists\n"
                                     "family: classical\nestimator:\n  _target_: flakypkg.Flaky\n")
    marker = tmp_path / "marker"
    monkeypatch.setenv("PYTHONPATH", f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    monkeypatch.setenv("FLAKY_MARKER", str(marker))
    args = ["--config-dir", str(tmp_path / "myconf"), "suite=smoke", "model=flaky",
            f"results_dir={tmp_path / 'results'}", "report=false", "progress=false"]
    base = run_cli("run", *args, "run_id=base")
    assert base.returncode == 0, base.stderr
    marker.write_text("")
    first = run_cli("run", *args, "run_id=cand")
    assert first.returncode not in (0, 2), first.stderr  # the moons trial failed
    cand = tmp_path / "results" / "smoke" / "cand"
    marker.unlink()
    again = run_cli("run", *args, f"resume={cand}")
    assert again.returncode == 0, again.stderr

    every = store.load(cand, all_records=True)
    assert sorted(every["status"]) == ["failed", "ok", "ok"]  # the failure is still on disk
    assert list(store.load(cand)["status"]) == ["ok", "ok"]
    out = run_cli("compare", str(tmp_path / "results" / "smoke" / "base"), str(cand),
                  "--json", str(tmp_path / "c.json"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert json.loads((tmp_path / "c.json").read_text())["counts"]["unchanged"] == 2
