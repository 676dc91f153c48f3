"""Baselines and comparisons on a real tiny suite, end to end (suite=smoke, one seed)."""

from __future__ import annotations

import json
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


def test_baseline_files_hold_records_predictions_and_machine(saved):
    _, bdir, _ = saved
    records = [json.loads(line) for line in (bdir / "smoke.jsonl").read_text().splitlines()]
    assert len(records) == 6 and all(r["status"] == "ok" for r in records)
    assert len((bdir / "smoke.predictions.jsonl").read_text().splitlines()) == 6
    info = json.loads((bdir / "smoke.run.json").read_text())
    assert info["suite"] == "smoke" and info["config"]["suite"]["name"] == "smoke"
    (run,) = info["baseline"]["runs"].values()
    assert run["fingerprint"]["id"] and run["calibration"]["score_s"] > 0


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

    dest.mkdir(exist_ok=True)
    rows = [json.loads(line) for line in (bdir / "smoke.jsonl").read_text().splitlines()]
    (dest / "smoke.jsonl").write_text("".join(json.dumps({**r, "accuracy": 1.0}) + "\n" for r in rows))
    preds = []
    for line in (bdir / "smoke.predictions.jsonl").read_text().splitlines():
        obj = json.loads(line)
        obj["y_pred"] = encode_labels(decode_labels(obj["y_true"]))
        preds.append(json.dumps(obj) + "\n")
    (dest / "smoke.predictions.jsonl").write_text("".join(preds))
    # These records were not produced by this code, so the baseline must not look re-runnable
    # (on a clean checkout at the baseline's commit it would, and --confirm would re-run it too).
    info = json.loads((bdir / "smoke.run.json").read_text())
    for run in info["baseline"]["runs"].values():
        run["environment"]["git_harness"] = {"commit": "0" * 40, "dirty": False}
    (dest / "smoke.run.json").write_text(json.dumps(info))
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

    base, cand_side = load_side(str(bdir / "smoke.jsonl")), load_side(str(cand))
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
    fit = confirmed[0].test("fit_s")
    assert fit is not None and "interleaved pairs" in fit.method
    assert result.exit_code == 0  # time_low=10: nothing can clear it


def test_baseline_save_from_runs_and_cross_machine(saved, tmp_path):
    root, _, cand = saved
    out = run_cli("baseline", "save", "--from", str(cand), "--dir", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "smoke.jsonl").exists()
    info = json.loads((tmp_path / "smoke.run.json").read_text())
    (run,) = info["baseline"]["runs"].values()
    run["fingerprint"]["id"] = "another-box"
    (tmp_path / "smoke.run.json").write_text(json.dumps(info))
    other = run_cli("compare", "--baseline", str(tmp_path / "smoke.jsonl"), str(cand))
    assert other.returncode == 0 and "Time not compared: different machines" in other.stdout
    cross = run_cli("compare", "--baseline", str(tmp_path / "smoke.jsonl"), str(cand), "--cross-machine")
    assert cross.returncode in (0, 1) and "divided by its run's calibration" in cross.stdout
