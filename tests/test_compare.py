"""Verdicts of `harness compare` on synthetic record sets, and its command line."""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import pytest

from conftest import run_cli
from harness.compare import Options, Side, compare, markdown, to_dict
from harness.compare.match import frame
from harness.compare.verdict import Untested
from harness.store import RunWriter


def rec(key="k1", seed=0, run_id="r0", acc=0.90, fit=0.10, predict=0.02, status="ok",
        model="logreg", dataset="digits", device="cpu", threads=1, rss=200.0, **extra):
    where = f"{device}x{threads}"
    return {"run_id": run_id, "suite": "syn", "key": key, "trial_id": f"{key}-{where}-s{seed}",
            "dataset": dataset, "features": "raw", "model": model, "family": "classical",
            "device": device, "seed": seed, "status": status,
            "error": "" if status == "ok" else "RuntimeError: boom",
            "accuracy": acc if status == "ok" else None, "balanced_accuracy": acc if status == "ok" else None,
            "f1_macro": acc if status == "ok" else None, "fit_s": fit if status == "ok" else None,
            "predict_s": predict if status == "ok" else None, "peak_rss_mb": rss if status == "ok" else None,
            "threads": threads, **extra}


def side(rows, fingerprint="fp-a", calibration=0.01, predictions=None) -> Side:
    runs = {r["run_id"]: {"run_id": r["run_id"], "fingerprint": {"id": fingerprint},
                          "calibration": {"score_s": calibration}} for r in rows}
    return Side(name="syn", records=frame(rows), predictions=predictions or {}, runs=runs)


def noisy_runs(rng, n_runs=3, seeds=(0, 1, 2), factor=1.0, acc_shift=0.0, keys=("k1",), prefix="r",
               fit=0.10, acc_sd=0.0):
    rows = []
    for r in range(n_runs):
        for key in keys:
            for s in seeds:
                rows.append(rec(key=key, seed=s, run_id=f"{prefix}{r}",
                                acc=0.90 + 0.01 * s + acc_shift + rng.normal(0, acc_sd),
                                fit=fit * factor * rng.lognormal(0, 0.02),
                                predict=0.02 * factor * rng.lognormal(0, 0.02)))
    return rows


def verdicts(result):
    return {(g.key, g.verdict) for g in result.groups}


def test_identical_sides_are_unchanged():
    rng = np.random.default_rng(0)
    rows = noisy_runs(rng)
    result = compare(side(rows), side(rows))
    assert verdicts(result) == {("k1", "unchanged")}
    assert result.exit_code == 0


def test_accuracy_drop_is_a_regression():
    rng = np.random.default_rng(1)
    base = noisy_runs(rng, n_runs=1)
    cand = [dict(r, accuracy=r["accuracy"] - 0.02 + d, balanced_accuracy=r["accuracy"] - 0.02 + d,
                 f1_macro=r["accuracy"] - 0.02 + d)
            for r, d in zip(base, [0.001, -0.002, 0.0015])]
    result = compare(side(base), side(cand))
    g = result.groups[0]
    assert g.verdict == "regressed" and result.exit_code == 1
    t = g.test("accuracy")
    assert t.effect == pytest.approx(-2.0, abs=0.2) and t.high < 0 and "paired t" in t.method


def test_small_accuracy_drop_within_tolerance_is_unchanged():
    base = noisy_runs(np.random.default_rng(2), n_runs=1)
    cand = [dict(r, accuracy=r["accuracy"] - 0.003) for r in base]  # 0.3 points, every seed
    result = compare(side(base), side(cand), Options(metrics=("accuracy",)))
    assert result.groups[0].verdict == "unchanged"


def test_slower_time_is_a_regression_and_faster_an_improvement():
    rng = np.random.default_rng(3)
    base = noisy_runs(rng)
    slow = noisy_runs(rng, factor=1.3, prefix="c")
    result = compare(side(base), side(slow))
    g = result.groups[0]
    assert g.verdict == "regressed"
    fit = g.test("fit_s")
    assert fit.outcome == "regressed" and fit.effect == pytest.approx(1.3, rel=0.05) and fit.low > 1.1
    fast = compare(side(base), side(noisy_runs(rng, factor=0.7, prefix="c")))
    assert fast.groups[0].verdict == "improved" and fast.exit_code == 0


def test_noise_only_is_unchanged():
    rng = np.random.default_rng(4)
    flagged = 0
    for i in range(20):
        result = compare(side(noisy_runs(rng, keys=("a", "b", "c"))),
                         side(noisy_runs(rng, keys=("a", "b", "c"), prefix="c")))
        flagged += sum(g.verdict != "unchanged" for g in result.groups)
    assert flagged == 0


def test_slowdown_inside_tolerance_is_unchanged():
    rng = np.random.default_rng(5)
    result = compare(side(noisy_runs(rng)), side(noisy_runs(rng, factor=1.05, prefix="c")))
    assert result.groups[0].test("fit_s").outcome == "unchanged"


def test_new_missing_and_failed_groups():
    base = [rec(key="kept"), rec(key="gone"), rec(key="breaks")]
    cand = [rec(key="kept"), rec(key="fresh"), rec(key="breaks", status="failed")]
    result = compare(side(base), side(cand))
    assert verdicts(result) == {("kept", "unchanged"), ("gone", "missing"), ("fresh", "new"),
                                ("breaks", "failed")}
    assert [g.key for g in result.regressions] == ["breaks", "gone"]  # missing work fails the gate too
    assert result.exit_code == 1
    assert result.groups[0].verdict == "failed"  # regressions first
    allowed = compare(side(base), side(cand), Options(allow_missing=True))
    assert [g.key for g in allowed.regressions] == ["breaks"]
    # A group that failed in the baseline too is reported, but is no new regression.
    again = compare(side([rec(key="breaks", status="failed")]), side([rec(key="breaks", status="failed")]))
    assert again.groups[0].verdict == "failed" and again.exit_code == 0


def test_skipped_trials_are_left_out():
    base = [rec(key="gpu", device="cuda")]
    cand = [rec(key="gpu", device="cuda", status="skipped")]
    assert compare(side(base), side(cand)).groups[0].verdict == "missing"


def test_groups_are_key_device_and_threads():
    base = [rec(threads=1), rec(threads=2)]
    cand = [rec(threads=1)]
    result = compare(side(base), side(cand))
    assert {(g.threads, g.verdict) for g in result.groups} == {(1, "unchanged"), (2, "missing")}


def test_threads_come_from_the_column_not_the_trial_id():
    """An old record without ``threads`` is unknown (-1), whatever its trial id looks like."""
    old = {k: v for k, v in rec(status="failed", threads=4).items() if k != "threads"}
    assert old["trial_id"].endswith("cpux4-s0")
    df = frame([old, rec(key="k2", threads=2)])
    assert df["threads"].tolist() == [-1, 2]
    # The other side knows the thread count of that key and device: the failure lands in its group.
    result = compare(side([rec(threads=1)]), side([old]))
    assert [(g.threads, g.verdict) for g in result.groups] == [(1, "failed")]
    assert result.exit_code == 1


def test_time_only_on_the_same_machine_unless_cross_machine():
    rng = np.random.default_rng(6)
    base = noisy_runs(rng)
    cand = noisy_runs(rng, factor=2.0, prefix="c")  # a machine twice as slow...
    other = compare(side(base, "fp-a", 0.01), side(cand, "fp-b", 0.02))
    assert other.time_mode == "off" and "--cross-machine" in other.time_note
    assert other.groups[0].verdict == "unchanged" and other.groups[0].test("fit_s") is None
    # ...whose calibration is twice as slow too: normalised, nothing changed.
    cross = compare(side(base, "fp-a", 0.01), side(cand, "fp-b", 0.02), Options(cross_machine=True))
    assert cross.time_mode == "normalised" and "calibration" in cross.time_note
    assert cross.groups[0].test("fit_s").effect == pytest.approx(1.0, rel=0.05)
    assert cross.groups[0].verdict == "unchanged"
    assert "calibration" in markdown(cross)


def test_times_under_the_floor_are_not_tested():
    rng = np.random.default_rng(7)
    base = noisy_runs(rng, fit=0.001)
    cand = noisy_runs(rng, fit=0.001, factor=2.0, prefix="c")
    result = compare(side(base), side(cand), Options(metrics=(), time_metrics=("fit_s",)))
    g = result.groups[0]
    (fit,) = g.tests
    assert fit.outcome == "untested" and fit.untested is Untested.BELOW_FLOOR and "too short" in fit.note
    # Twice as slow, but under the floor: more samples can't make it measurable, so no re-run.
    assert fit.effect == pytest.approx(2.0, rel=0.1) and not g.flagged
    assert to_dict(result)["groups"][0]["tests"][0]["untested"] == "below_floor"
    # Above the floor the same slowdown is flagged (and judged).
    slow = compare(side(noisy_runs(rng)), side(noisy_runs(rng, factor=2.0, prefix="c")),
                   Options(metrics=(), time_metrics=("fit_s",)))
    assert slow.groups[0].flagged and slow.groups[0].tests[0].untested is None


def _predictions(n, wrong, seed):
    y = np.arange(n) % 3
    pred = y.copy()
    pred[wrong] = (y[wrong] + 1) % 3
    return y, pred


def test_single_seed_uses_mcnemar_on_stored_predictions():
    n = 500
    base_rows, cand_rows = [rec(acc=0.96)], [rec(acc=0.92)]
    tid = base_rows[0]["trial_id"]
    base_pred = {tid: _predictions(n, np.arange(20), 0)}            # 20 wrong
    cand_pred = {tid: _predictions(n, np.arange(5, 45), 0)}         # 40 wrong, 35 new
    result = compare(side(base_rows, predictions=base_pred), side(cand_rows, predictions=cand_pred))
    t = result.groups[0].test("accuracy")
    assert t.method.startswith("McNemar") and t.outcome == "regressed"
    assert t.effect == pytest.approx(-4.0)
    # Without predictions one seed can't be tested: no verdict from noise.
    bare = compare(side(base_rows), side(cand_rows)).groups[0]
    assert bare.test("accuracy").outcome == "untested" and bare.verdict == "unchanged"
    assert bare.test("accuracy").untested is Untested.TOO_FEW
    assert bare.flagged  # 4 points down: worth re-running, unlike a time under the floor
    assert "−4.00 (untested)" in markdown(compare(side(base_rows), side(cand_rows)))


def test_reproducible_trials_use_mcnemar_across_seeds():
    n = 300
    base_rows, cand_rows, bp, cp = [], [], {}, {}
    for s in range(3):
        for run in ("r0", "r1"):  # the baseline repeats every seed with identical results
            base_rows.append(rec(seed=s, run_id=run, acc=0.95))
        cand_rows.append(rec(seed=s, run_id="c0", acc=0.93))
        tid = base_rows[-1]["trial_id"]
        bp[tid] = _predictions(n, np.arange(15), s)
        cp[tid] = _predictions(n, np.arange(21), s)
    g = compare(side(base_rows, predictions=bp), side(cand_rows, predictions=cp)).groups[0]
    t = g.test("accuracy")
    assert "reproducible" in t.method and t.effect == pytest.approx(-2.0)
    assert t.outcome == "regressed"


def test_benjamini_hochberg_across_groups_keeps_chance_findings_out():
    """A finding that stands alone (p = 0.006) is no discovery among 30 groups."""
    def rows(key, drops):
        base = [rec(key=key, seed=s, acc=0.9) for s in range(3)]
        cand = [rec(key=key, seed=s, acc=0.9 - d) for s, d in enumerate(drops)]
        return base, cand

    b1, c1 = rows("k0", [0.010, 0.013, 0.0115])
    opts = Options(compare_time=False, metrics=("accuracy",))
    alone = compare(side(b1), side(c1), opts).groups[0].test("accuracy")
    assert alone.p == pytest.approx(0.0056, abs=0.0005) and alone.outcome == "regressed"
    base, cand = list(b1), list(c1)
    for i in range(1, 30):
        b, c = rows(f"k{i}", [0.0, 0.0, 0.0])
        base += b
        cand += c
    crowd = compare(side(base), side(cand), opts)
    t = next(g for g in crowd.groups if g.key == "k0").test("accuracy")
    assert t.p == pytest.approx(alone.p) and t.q == pytest.approx(min(1.0, 30 * alone.p))
    assert t.outcome == "unchanged" and crowd.exit_code == 0


def test_interleaved_confirmation_pairs_rounds():
    rng = np.random.default_rng(9)
    base = noisy_runs(rng, n_runs=1)
    cand = noisy_runs(rng, n_runs=1, prefix="c", factor=2.0)  # the machine was busy for the candidate
    for r in range(1, 4):  # interleaved re-runs: the machine's speed changes, the pair shares it
        speed = rng.uniform(0.7, 1.5)
        base += [dict(x, round=r, fit_s=x["fit_s"] * speed, run_id=f"b{r}") for x in noisy_runs(rng, 1)]
        cand += [dict(x, round=r, fit_s=x["fit_s"] * speed, run_id=f"c{r}") for x in noisy_runs(rng, 1)]
    key = ("k1", "cpu", 1)
    result = compare(side(base), side(cand), interleaved=frozenset({key}))
    fit = result.groups[0].test("fit_s")
    assert "interleaved pairs" in fit.method and fit.outcome == "unchanged"
    unpaired = compare(side(base), side(cand)).groups[0].test("fit_s")
    assert "Mann-Whitney" in unpaired.method


def test_markdown_and_json_put_regressions_first():
    base = [rec(key="a", model="aaa"), rec(key="b", model="bbb")]
    cand = [rec(key="a", model="aaa"), rec(key="b", model="bbb", status="failed")]
    result = compare(side(base), side(cand))
    md = markdown(result)
    assert md.index("bbb") < md.index("aaa") and "REGRESSION" in md
    data = to_dict(result)
    json.dumps(data, allow_nan=False)
    assert data["exit_code"] == 1 and data["groups"][0]["verdict"] == "failed"


# --- the command line ------------------------------------------------------------------


def write_run(path, rows, fingerprint="fp-a"):
    w = RunWriter(path)
    w.write_run_info({"run_id": path.name, "suite": "syn", "fingerprint": {"id": fingerprint},
                      "calibration": {"score_s": 0.01}})
    for r in rows:
        w.record(r)
    return path


@pytest.mark.slow
def test_cli_exit_codes(tmp_path):
    rng = np.random.default_rng(10)
    base = write_run(tmp_path / "base", noisy_runs(rng, n_runs=1))
    same = write_run(tmp_path / "same", noisy_runs(np.random.default_rng(10), n_runs=1))
    worse_rows = [dict(r, accuracy=r["accuracy"] - 0.03) for r in noisy_runs(np.random.default_rng(10), n_runs=1)]
    worse = write_run(tmp_path / "worse", worse_rows)

    ok = run_cli("compare", str(base), str(same), "--json", str(tmp_path / "c.json"))
    assert ok.returncode == 0, ok.stderr
    written = json.loads((tmp_path / "c.json").read_text())
    assert "no regression" in ok.stdout and written["exit_code"] == 0
    # The command line's defaults are the API's (Options), not a second copy of them.
    assert written["options"] == json.loads(json.dumps(asdict(Options())))

    bad = run_cli("compare", str(base), str(worse), "--md", str(tmp_path / "c.md"))
    assert bad.returncode == 1, bad.stderr
    assert "regressed" in (tmp_path / "c.md").read_text() and bad.stdout == ""

    for args in (["compare", str(base), str(tmp_path / "nowhere")],
                 ["compare", str(base)],
                 ["compare", str(base), str(same), "--time-tol", "0.5"],
                 ["compare", "--baseline", "suite=nosuch", str(same)],
                 ["compare", str(base), str(same), "--bogus"],
                 ["compare", str(base), str(same), "--metrics", "accuracy,speed"],
                 ["baseline"]):
        out = run_cli(*args)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        assert out.stderr.startswith("harness: error:") and len(out.stderr.strip().splitlines()) == 1


def test_cli_empty_run_dir(tmp_path):
    run = write_run(tmp_path / "run", [rec()])
    empty = write_run(tmp_path / "empty", [])
    out = run_cli("compare", str(empty), str(run))
    assert out.returncode == 2 and "no records" in out.stderr


def test_load_guard_leaves_times_of_a_busier_machine_unjudged():
    rng = np.random.default_rng(11)
    base = noisy_runs(rng)
    busy = noisy_runs(rng, factor=1.6, prefix="c")  # the whole machine was slower: so was its calibration
    result = compare(side(base, calibration=0.010), side(busy, calibration=0.017))
    fit = result.groups[0].test("fit_s")
    assert fit.outcome == "untested" and fit.untested is Untested.LOAD and "calibration" in fit.note
    assert result.exit_code == 0 and "Load:" in markdown(result)
    assert result.groups[0].flagged  # --confirm would re-run it
    off = compare(side(base, calibration=0.010), side(busy, calibration=0.017), Options(load_guard=0))
    assert off.groups[0].test("fit_s").outcome == "regressed"


def test_memory_is_gated_on_growth_above_a_floor_not_on_the_process_peak():
    # The process-wide peak grew 25% (a fresh environment), the trial's own growth did not.
    base = [rec(seed=s, run_id="b", rss=200.0, mem_growth_mb=40.0) for s in range(5)]
    same = [rec(seed=s, run_id="c", rss=250.0, mem_growth_mb=40.5) for s in range(5)]
    result = compare(side(base), side(same), Options(n_boot=200))
    assert result.exit_code == 0 and result.groups[0].test("peak_rss_mb") is None
    # The trial's own memory grew by half: that is a regression.
    worse = [rec(seed=s, run_id=f"c{s}", rss=200.0, mem_growth_mb=60.0 + s) for s in range(5)]
    base_runs = [rec(seed=s, run_id=f"b{s}", rss=200.0, mem_growth_mb=40.0 + s) for s in range(5)]
    result = compare(side(base_runs), side(worse), Options(n_boot=200))
    mem = result.groups[0].test("mem_growth_mb")
    assert mem.outcome == "regressed" and result.exit_code == 1
    # Growth under the floor is too small to measure: untested.
    tiny = compare(side([rec(seed=s, run_id="b", mem_growth_mb=2.0) for s in range(5)]),
                   side([rec(seed=s, run_id="c", mem_growth_mb=4.0) for s in range(5)]), Options(n_boot=200))
    assert tiny.groups[0].test("mem_growth_mb").outcome == "untested" and tiny.exit_code == 0
