"""Reports: statistics against references, findings (as values, and a few sentences) on synthetic
records, failure handling, escaping, combined runs, and the real HTML page in a headless browser."""

from __future__ import annotations

import json

import math
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from harness import store
from harness.report import content, stats, tables, write_report
from harness.report import findings as fd
from harness.report.plots import pareto_front
from harness.report.wording import TEMPLATES, sentence
from harness.schema import RECORD_COLUMNS

# --------------------------------------------------------------------------- statistics


def test_t_interval_matches_scipy():
    from scipy import stats as ss

    x = [0.91, 0.93, 0.94, 0.90, 0.95]
    mean, half, n = stats.mean_ci(x + [float("nan")])
    lo, hi = ss.t.interval(0.95, len(x) - 1, loc=np.mean(x), scale=ss.sem(x))
    assert n == 5 and mean == pytest.approx(np.mean(x))
    assert half == pytest.approx((hi - lo) / 2)
    # by hand: n=2, values 0 and 1 -> sd = 1/sqrt(2), sem = 1/2, t(0.975, 1) = 12.7062
    assert stats.mean_ci([0.0, 1.0])[1] == pytest.approx(12.7062 / 2, rel=1e-4)
    assert math.isnan(stats.mean_ci([0.5])[1]) and stats.mean_ci([])[2] == 0
    halves = stats.t_half_width([0.1, 0.1, 0.1], [1, 3, 30])
    assert math.isnan(halves[0])
    assert halves[1:] == pytest.approx([ss.t.ppf(0.975, 2) * 0.1 / math.sqrt(3),
                                        ss.t.ppf(0.975, 29) * 0.1 / math.sqrt(30)])


def test_ranks_by_hand_ties_averaged():
    scores = pd.DataFrame({"a": [0.9, 0.8, 0.7], "b": [0.8, 0.8, 0.9], "c": [0.7, 0.6, np.nan]},
                          index=["d1", "d2", "d3"])
    ranks = stats.rank_matrix(scores)
    assert ranks.loc["d2"].tolist() == [1.5, 1.5, 3.0]  # a tie shares the mean rank
    assert ranks.loc["d3"].tolist()[:2] == [2.0, 1.0] and math.isnan(ranks.loc["d3", "c"])
    avg = stats.average_ranks(scores)
    assert avg.to_dict() == pytest.approx({"a": (1 + 1.5 + 2) / 3, "b": (2 + 1.5 + 1) / 3, "c": 3.0})
    assert list(avg.index) == ["a", "b", "c"] or list(avg.index) == ["b", "a", "c"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_friedman_matches_scipy_with_and_without_ties(seed):
    from scipy import stats as ss

    rng = np.random.default_rng(seed)
    scores = pd.DataFrame(rng.random((7, 5)).round(1 if seed else 3), columns=list("abcde"))
    ours = stats.friedman(scores)
    ref = ss.friedmanchisquare(*[scores[c] for c in scores])
    assert ours.statistic == pytest.approx(ref.statistic) and ours.p_value == pytest.approx(ref.pvalue)
    assert ours.n_datasets == 7 and sorted(ours.models) == list("abcde")


def test_friedman_needs_three_complete_datasets_and_models():
    assert stats.friedman(pd.DataFrame({"a": [1, 2], "b": [2, 1], "c": [0, 0]})) is None
    gappy = pd.DataFrame({"a": [0.9, 0.8, 0.7], "b": [0.8, 0.7, 0.6], "c": [0.7, 0.6, 0.5],
                          "d": [0.1, np.nan, 0.2]})
    f = stats.friedman(gappy)
    assert f.models == ["a", "b", "c"]  # d did not run on every dataset: left out, not imputed
    assert f.statistic == pytest.approx(6.0)  # perfect agreement: chi2 = N (k - 1)


def test_nemenyi_cd_matches_demsar_table_and_scipy():
    from scipy.stats import studentized_range

    demsar = {2: 1.960, 3: 2.343, 4: 2.569, 5: 2.728, 6: 2.850, 7: 2.949, 8: 3.031, 9: 3.102, 10: 3.164}
    for k, q in demsar.items():
        assert stats.range_quantile(0.95, k) / math.sqrt(2) == pytest.approx(q, abs=2e-3)
    assert stats.range_quantile(0.95, 15) == pytest.approx(studentized_range.ppf(0.95, 15, np.inf), abs=1e-4)
    # Demšar's worked example: 4 classifiers, 14 datasets, CD = 1.25
    assert stats.nemenyi_cd(4, 14) == pytest.approx(1.25, abs=0.01)


def test_cliques_and_pareto_front():
    ranks = pd.Series({"a": 1.0, "b": 1.5, "c": 3.0, "d": 3.2})
    assert stats.cliques(ranks, 1.0) == [["a", "b"], ["c", "d"]]
    assert stats.cliques(ranks, 5.0) == [["a", "b", "c", "d"]]
    x, y = np.array([1.0, 2.0, 3.0, 0.5, 2.5]), np.array([0.8, 0.9, 0.85, 0.5, 0.95])
    assert pareto_front(x, y).tolist() == [3, 0, 1, 4]


# --------------------------------------------------------------------------- synthetic runs

ENV_CPU = {"hostname": "cpu-box", "cpu_model": "Test CPU", "usable_cores": 4, "gpus": [],
           "python": "3.11", "packages": {"scikit-learn": "1.5"}}
ENV_GPU = {"hostname": "gpu-box", "cpu_model": "Test CPU", "usable_cores": 16,
           "gpus": [{"name": "NVIDIA H100"}], "python": "3.11",
           "packages": {"scikit-learn": "1.5", "torch": "2.5"}}


def rec(dataset, model, family, seed, accuracy, fit_s=1.0, features="raw", device="cpu", status="ok",
        error="", **kw):
    """One record as trial.py writes it; ``raw_input`` defaults to the raw features set's value."""
    r = {c: None for c in RECORD_COLUMNS}
    key = kw.pop("key", f"{dataset}-{features}-{model}-{kw.get('n_train', '')}")
    r.update(run_id="run", suite="syn", key=key, trial_id=f"{key}-{device}-s{seed}", dataset=dataset,
             features=features, model=model, family=family, device=device, seed=seed, status=status,
             error=error, accuracy=accuracy, f1_macro=accuracy, fit_s=fit_s, predict_s=fit_s / 100,
             raw_input=features == "raw", skip_reason="")
    r.update(kw)
    return r


def make_run(path, records, suite="syn", question="", hypothesis="", env=ENV_CPU, curves=()):
    w = store.RunWriter(path)
    w.write_run_info({"run_id": path.name, "suite": suite, "environment": env,
                      "config": {"suite": {"name": suite, "question": question, "hypothesis": hypothesis}}})
    for r in records:
        w.record({**r, "suite": suite})
    for trial_id, points in curves:
        w.curve(trial_id, points)
    return path


def answer(run) -> content.SuiteAnswer:
    """The computed answer of a one-suite run (what the report's findings section says)."""
    report = content.build([run], store.load(run), [store.read_run_info(run)])
    assert len(report.answers) == 1
    return report.answers[0]


def only(found, kind, dataset=None) -> fd.Finding:
    """The one finding of ``kind`` (on ``dataset``)."""
    hits = [f for f in found if f.kind == kind and (dataset is None or f.dataset == dataset)]
    assert len(hits) == 1, (kind, dataset, [f.kind for f in found])
    return hits[0]


def kinds(found) -> list[str]:
    return [f.kind for f in found]


# --------------------------------------------------------------------------- findings as values


def test_head_to_head_paired_verdicts_tally_and_verdict_table(tmp_path):
    rows = []
    sizes = {"n_train": 800, "n_test": 200}  # n_test / n_train = 0.25 in the corrected interval
    for s, (a, b) in enumerate([(0.944, 0.789), (0.946, 0.791), (0.948, 0.793)]):
        rows += [rec("mnist1d", "cnn", "deep", s, a, fit_s=4.2, **sizes),
                 rec("mnist1d", "random_forest", "classical", s, b, **sizes)]
    for s, (a, b) in enumerate([(0.96, 0.965), (0.97, 0.975), (0.98, 0.97)]):
        rows += [rec("digits", "mlp", "deep", s, a, fit_s=2.0, **sizes),
                 rec("digits", "svm_rbf", "classical", s, b, features="hog", fit_s=0.5, **sizes)]
    run = make_run(tmp_path / "run", rows, question="When do deep nets beat classical models?",
                   hypothesis="Deep nets win on mnist1d.")
    ans = answer(run)
    assert ans.challenger == "deep"
    # mnist1d: per split the deep model is 15.5 points ahead every time: sd 0, the interval a point
    win = only(ans.findings, "head_to_head", "mnist1d")
    assert win.verdict == "b_better"  # A is the classical side
    assert (win.one("b").model, win.one("b").family) == ("cnn", "deep")
    assert (win.one("a").model, win.one("a").features) == ("random_forest", "raw")
    assert win.one("b").mean == pytest.approx(0.946) and win.one("a").mean == pytest.approx(0.791)
    assert win.numbers["points"] == pytest.approx(-15.5) and win.numbers["splits"] == 3
    assert (win.numbers["low"], win.numbers["high"]) == (pytest.approx(-15.5), pytest.approx(-15.5))
    assert win.numbers["fit_ratio"] == pytest.approx(1 / 4.2)
    # digits: d = +0.5, +0.5, -1.0 points: mean 0, s = 0.866 points, half-width
    # t(0.975, 2)·s·√(1/3 + 1/4) = 4.302653·0.866025·0.763763 = 2.846 points; the half-width never
    # falls below 1.96·s·√0.25 = 0.85 points, so no number of splits fits it inside ±0.5: undecided
    tie = only(ans.findings, "head_to_head", "digits")
    assert tie.verdict == "undecided"
    assert (tie.one("a").model, tie.one("a").features, tie.one("b").model) == ("svm_rbf", "hog", "mlp")
    assert tie.numbers["points"] == pytest.approx(0.0, abs=1e-9)
    assert tie.numbers["high"] == pytest.approx(4.302653 * math.sqrt(0.75e-4) * math.sqrt(1 / 3 + 0.25) * 100,
                                                rel=1e-5)
    assert tie.numbers["cap"] == 100 and "more_splits" not in tie.numbers
    assert tie.numbers["fit_ratio"] == pytest.approx(0.25)
    tally = only(ans.findings, "tally")
    assert dict(tally.numbers) == {"datasets": 2, "win": 0, "equivalent": 0, "undecided": 1, "loss": 1}
    assert (tally.one("side").family, tally.one("rival").family) == ("classical", "deep")
    rank_test = only(ans.findings, "no_signed_rank")  # two datasets: too few for a signed-rank test
    assert dict(rank_test.numbers) == {"datasets": 2, "min_datasets": 6}
    table = ans.verdicts.set_index("dataset")
    assert table["verdict"].to_dict() == {"mnist1d": "b_better", "digits": "undecided"}
    assert table.loc["mnist1d", "points"] == pytest.approx(-15.5) and table.loc["mnist1d", "splits"] == 3
    # the page renders them: one sentence per comparison, the question, the hypothesis, the verdict table
    text = write_report(run, plots=False).read_text()
    assert ("On mnist1d the best deep model (cnn, 94.6%) beats the best classical model (random_forest on raw, "
            "79.1%) by 15.5 points \\[15.5, 15.5\\] over 3 splits and needs 4.2× its fit time.") in text
    assert ("On digits the best classical model (svm_rbf on hog, 97.0%) against the best deep model (mlp, 97.0%) "
            "is undecided (+0.0 points \\[-2.8, +2.8\\] over 3 splits): more than 100 splits would likely be needed "
            "to decide it; the classical model fits 4.0× faster.") in text
    assert "**Question.** When do deep nets beat classical models?" in text
    assert "Deep nets win on mnist1d." in text
    # who and the verdict first; two kinds of comparison (families, features), so a column names each
    assert ("| digits | best of each family | svm_rbf on hog | mlp | undecided: \\> 100 splits | +0.0 | "
            "\\[-2.8, +2.8\\] | 97.0% | 97.0% | 3 |") in text
    assert ("| mnist1d | best of each family | random_forest on raw | cnn | B better | -15.5 | \\[-15.5, -15.5\\] "
            "| 79.1% | 94.6% | 3 |") in text
    assert "| digits | engineered features vs raw input | svm_rbf on hog | mlp |" in text
    assert "overlap" not in text and "separated" not in text  # no second verdict from the intervals
    html = (run / "report.html").read_text()
    assert "Head-to-heads: paired verdicts over splits" in html and "undecided: &gt; 100 splits" in html


def test_one_split_is_undecided_and_close_fit_times_go_unsaid(tmp_path):
    rows = [rec("moons", "svm_rbf", "classical", 0, 0.99, fit_s=1.0),
            rec("moons", "mlp", "deep", 0, 0.70, fit_s=1.1)]
    found = answer(make_run(tmp_path / "run", rows)).findings
    tie = only(found, "head_to_head", "moons")
    assert tie.verdict == "undecided" and tie.numbers["points"] == pytest.approx(29.0)
    assert tie.numbers["splits"] == 1 and "low" not in tie.numbers and "more_splits" not in tie.numbers
    assert "fit_ratio" not in tie.numbers  # 1.1× is within fd.TIE_FIT_RATIO
    assert sentence(tie) == ("On moons the best classical model (svm_rbf on raw, 99.0%) against the best deep "
                             "model (mlp, 70.0%) is undecided (+29.0 points on one split, which gives no "
                             "interval): more splits would decide it.")


def test_without_deep_rows_the_perceptron_is_the_challenger(tmp_path):
    rows = [rec("moons", "svm_rbf", "classical", s, 0.97 + s / 1000) for s in range(3)]
    rows += [rec("moons", "perceptron", "perceptron", s, 0.85 + s / 1000, fit_s=0.01) for s in range(3)]
    ans = answer(make_run(tmp_path / "run", rows))
    assert ans.challenger == "perceptron"
    f = only(ans.findings, "head_to_head", "moons")
    assert f.verdict == "a_better" and f.one("a").model == "svm_rbf"
    assert f.one("b").family == "perceptron"
    assert f.numbers["points"] == pytest.approx(12.0) and f.numbers["fit_ratio"] == pytest.approx(100.0)
    assert "tally" not in kinds(ans.findings)  # one dataset: nothing to tally


def test_one_family_only_names_the_best_and_a_missing_rival(tmp_path):
    rows = [rec("wine", "logreg", "classical", s, 0.9, val_accuracy=0.85) for s in range(2)]
    rows += [rec("wine", "knn", "classical", s, 0.8, val_accuracy=0.75) for s in range(2)]
    found = answer(make_run(tmp_path / "run", rows)).findings
    best = only(found, "best_model", "wine")
    assert best.one("best").model == "logreg" and best.one("best").mean == pytest.approx(0.9)
    assert best.one("best").stats["val"] == pytest.approx(0.85)
    assert only(found, "selection").verdict == "validation"
    rows += [rec("iris", "mlp", "deep", s, 0.95) for s in range(2)]
    found = answer(make_run(tmp_path / "two", rows)).findings
    rival = only(found, "no_rival", "iris")
    assert rival.one("best").model == "mlp" and rival.one("missing").family == "classical"
    assert only(found, "no_rival", "wine").one("missing").family == "deep"


def test_failed_skipped_and_nan_rows_are_reported_not_fatal(tmp_path):
    rows = [rec("wine", "logreg", "classical", s, 0.9 + s / 100) for s in range(3)]
    rows += [rec("wine", "knn", "classical", 0, None, status="failed", error="ValueError: boom | bad"),
             rec("wine", "knn", "classical", 1, 0.8),
             rec("wine", "svm_rbf", "classical", 0, None, status="timeout", error="timed out after 60 s"),
             rec("wine", "cnn", "deep", 0, None, device="cuda", status="skipped", error="no GPU here",
                 skip_reason="no_cuda"),
             rec("wine", "cnn", "deep", 1, float("nan"))]  # ok but no accuracy
    run = make_run(tmp_path / "run", rows)
    found = answer(run).findings
    assert dict(only(found, "not_ok").numbers) == {"trials": 8, "failed": 1, "skipped": 1, "timeout": 1}
    assert only(found, "no_accuracy").numbers["trials"] == 1
    assert only(found, "no_gpu").numbers["trials"] == 1  # by skip_reason, not by the error's words
    md = write_report(run).read_text()
    assert "1 failed, 1 skipped, 1 timeout" in md and "left out of every statistic" in md
    assert "1 ok trial has no accuracy (NaN)" in md
    assert "## Failures" in md and "ValueError: boom \\| bad" in md and "no GPU here" in md
    assert "| raw | svm_rbf | classical | cpu | — |" in md  # all failed: no numbers, no crash
    summary = pd.read_csv(run / "summary.csv")
    knn = summary[summary["model"] == "knn"].iloc[0]
    assert (knn["n_trials"], knn["n_ok"], knn["n_failed"], knn["accuracy_mean"]) == (2, 1, 1, 0.8)
    assert pd.read_parquet(run / "summary.parquet").shape == summary.shape
    assert "could not be drawn" not in md


def test_gpu_skips_come_from_skip_reason_not_error_text(tmp_path):
    rows = [rec("mnist1d", "cnn", "deep", s, 0.9) for s in range(2)]
    rows += [rec("mnist1d", "cnn", "deep", 0, None, device="cuda", status="skipped", error="CUDA mentioned",
                 skip_reason=""),
             rec("mnist1d", "cnn", "deep", 1, None, device="cuda", status="skipped", error="no device",
                 skip_reason="no_cuda"),
             rec("mnist1d", "mlp", "deep", 0, None, status="interrupted", error="interrupted by SIGINT",
                 skip_reason="interrupted")]
    assert only(answer(make_run(tmp_path / "run", rows)).findings, "no_gpu").numbers["trials"] == 1


def test_empty_and_all_failed_runs_still_write_a_report(tmp_path):
    run = make_run(tmp_path / "run", [rec("d", "m", "classical", 0, None, status="failed", error="x")])
    md = write_report(run).read_text()
    assert "1 failed" in md and "no figures" in md
    empty = make_run(tmp_path / "empty", [])
    with pytest.warns(UserWarning, match="no records"):
        assert "No records to summarise" in write_report(empty).read_text()


def test_html_and_markdown_escape_every_string_from_data(tmp_path):
    evil = "<script>alert(1)</script>"
    rows = [rec('d"><img src=x onerror=alert(2)>', evil, "classical", s, 0.9, error="") for s in range(2)]
    rows += [rec("d2", evil, "classical", 0, None, status="failed", error="<b>bold</b> & <i>")]
    run = make_run(tmp_path / "run", rows, question="Is <script>alert(3)</script> escaped?")
    md = write_report(run, plots=False).read_text()
    html = (run / "report.html").read_text()
    assert html.count("<script") == 1  # ours, and nothing else
    assert "alert(" not in html.split("<script>")[1]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;i&gt;" in html
    assert "<img src=x" not in html and "<b>bold" not in html and "<script>alert" not in html
    assert "<script>alert" not in md and "<b>bold" not in md and "\\<script\\>alert(1)" in md


def test_combined_runs_are_labelled_by_machine_with_gpu_speedup(tmp_path):
    cpu = [rec("mnist1d", "cnn", "deep", s, 0.94, fit_s=20.0, key="k-cnn") for s in range(3)]
    cpu += [rec("mnist1d", "logreg", "classical", s, 0.80, fit_s=1.0, key="k-lr") for s in range(3)]
    gpu = [rec("mnist1d", "cnn", "deep", s, 0.94, fit_s=2.0, device="cuda", key="k-cnn", samples_per_s=5e4)
           for s in range(3)]
    a = make_run(tmp_path / "results" / "a", cpu, env=ENV_CPU)
    b = make_run(tmp_path / "results" / "b", gpu, env=ENV_GPU)
    md = write_report([a, b], out=tmp_path / "combined", plots=False)
    assert md == tmp_path / "combined" / "report.md"
    text = md.read_text()
    assert "cpu-box (Test CPU)" in text and "gpu-box (NVIDIA H100)" in text
    assert "| device | machine |" in text
    assert "GPU over CPU fit-time speedup, median over trial keys: cnn 10.0×" in text
    summary = pd.read_csv(tmp_path / "combined" / "summary.csv")
    row = summary[summary["device"] == "cuda"].iloc[0]
    assert row["machine"] == "gpu-box (NVIDIA H100)" and row["gpu_speedup"] == pytest.approx(10.0)
    assert row["samples_per_s_median"] == pytest.approx(5e4)
    assert summary.loc[summary["device"] == "cpu", "gpu_speedup"].isna().all()




def test_curves_are_read_through_the_store_whatever_the_key_order(tmp_path):
    from harness.report import curves

    run = make_run(tmp_path / "run", [], curves=[("t1", [{"wall_s": 0.1, "val_accuracy": 0.5},
                                                         {"wall_s": 0.2, "val_accuracy": None}]),
                                                  ("t2", [{"wall_s": 0.1, "val_accuracy": 0.7}])])
    with open(run / "curves-0.jsonl", "a") as fh:
        fh.write('{"points": [{"val_accuracy": 0.9, "wall_s": 0.4}], "trial_id": "t3"}\n')  # keys reordered
        fh.write('{"trial_id": "t1", "points": [{"wall_s": 0.3, "val_acc')  # torn last line
    meta = pd.DataFrame({"run_dir": [str(run)] * 2, "trial_id": ["t1", "t3"]})
    with pytest.warns(UserWarning, match="corrupt line"):
        got = curves.load([run], meta)
    assert sorted(got) == ["t1", "t3"]
    assert got["t1"][0].tolist() == [0.1] and got["t1"][1].tolist() == [0.5]
    assert got["t3"][0].tolist() == [0.4] and got["t3"][1].tolist() == [0.9]

def test_engineered_features_and_raw_input_go_by_the_column_not_the_name(tmp_path):
    rows = []
    for s in range(3):
        rows += [rec("ecg", "logreg", "classical", s, 0.90 + s / 100, features="rocket", val_accuracy=0.9),
                 rec("ecg", "logreg", "classical", s, 0.70 + s / 100, features="identity", raw_input=True,
                     val_accuracy=0.7),
                 # named "raw" but not raw input (raw_input false): an engineered features set
                 rec("ecg", "knn", "classical", s, 0.60 + s / 100, features="raw", raw_input=False,
                     val_accuracy=0.6)]
    run = make_run(tmp_path / "run", rows)
    f = only(answer(run).findings, "features", "ecg")
    assert f.verdict == "a_better" and f.numbers["points"] == pytest.approx(20.0)
    assert (f.one("engineered").features, f.one("baseline").features) == ("rocket", "identity")
    assert f.one("baseline").raw_input and not f.one("engineered").raw_input
    assert sentence(f) == ("On ecg engineered features help: logreg on rocket (91.0%) beats the best model on raw "
                           "input (logreg, 71.0%) by 20.0 points [20.0, 20.0] over 3 splits.")
    # rocket still chosen on validation, but worse on test: the verdict reads test once, for it
    worse = [{**r, "accuracy": 1.5 - r["accuracy"]} if r["features"] == "rocket" else r for r in rows]
    f = only(answer(make_run(tmp_path / "worse", worse)).findings, "features", "ecg")
    assert f.one("engineered").features == "rocket"
    assert f.verdict == "b_better" and f.numbers["points"] == pytest.approx(-12.0)
    # d = -10, -12, -14 points, s = 2; no sizes recorded: n_test/n_train taken as 1, so the half-width is
    # t(0.975, 2)·2·√(1/3 + 1) = 4.302653·2·1.154701 = 9.94 points
    assert sentence(f) == ("On ecg engineered features do not help: the best model on raw input (logreg, 71.0%) "
                           "beats logreg on rocket (59.0%) by 12.0 points [2.1, 21.9] over 3 splits.")
    # within half a point on every split: practically equivalent
    close = [{**r, "accuracy": r["accuracy"] - 0.198} if r["features"] == "rocket" else r for r in rows]
    f = only(answer(make_run(tmp_path / "close", close)).findings, "features", "ecg")
    assert f.verdict == "equivalent" and f.numbers["points"] == pytest.approx(0.2)
    assert "make no practical difference" in sentence(f) and "within ±0.5 points" in sentence(f)
    # a spread too wide to decide
    noisy = [{**r, "accuracy": r["accuracy"] - 0.2 + (0.03, -0.03, 0.0)[r["seed"]]} if r["features"] == "rocket"
             else r for r in rows]
    f = only(answer(make_run(tmp_path / "noisy", noisy)).findings, "features", "ecg")
    assert f.verdict == "undecided" and "may or may not help" in sentence(f)


def test_gap_closed_by_engineered_features_and_its_cost(tmp_path):
    rows = []
    for s in range(3):
        rows += [rec("mnist1d", "cnn", "deep", s, 0.98, fit_s=5.0),
                 rec("mnist1d", "random_forest", "classical", s, 0.78, fit_s=1.0),
                 rec("mnist1d", "logreg", "classical", s, 0.96, fit_s=2.0, features="rocket", features_s=1.5)]
    run = make_run(tmp_path / "run", rows)
    gap = only(answer(run).findings, "gap", "mnist1d")
    # 78 -> 98 is a 20-point gap; rocket reaches 96, 18 of the 20 points: 90%
    assert gap.verdict == "closed"
    assert gap.numbers["gap"] == pytest.approx(20.0) and gap.numbers["closed"] == pytest.approx(90.0)
    assert gap.numbers["cost_s"] == pytest.approx(3.5) and gap.numbers["deep_fit_s"] == pytest.approx(5.0)
    assert [gap.one(r).model for r in ("baseline", "target", "engineered")] == ["random_forest", "cnn", "logreg"]
    text = write_report(run, plots=False).read_text()
    assert ("On mnist1d engineered features close 90% of the 20.0-point gap between classical models on raw "
            "input (random_forest on raw, 78.0% ± 0.0) and the best deep model (cnn, 98.0% ± 0.0): logreg on "
            "rocket reaches 96.0% ± 0.0 in 3.5 s of feature extraction and fit against the deep model's "
            "5 s of fit.") in text
    # features that beat the deep model more than close the gap; a classical model on raw that
    # already beats the deep one leaves no gap
    more = [{**r, "accuracy": 0.99} if r["features"] == "rocket" else r for r in rows]
    gap = only(answer(make_run(tmp_path / "more", more)).findings, "gap", "mnist1d")
    assert gap.verdict == "surpassed" and gap.numbers["beyond"] == pytest.approx(1.0)
    assert gap.numbers["closed"] == pytest.approx(105.0)
    none = [{**r, "accuracy": 0.99} if r["model"] == "random_forest" else r for r in rows]
    gap = only(answer(make_run(tmp_path / "none", none)).findings, "gap", "mnist1d")
    assert gap.verdict == "b_better" and gap.numbers["points"] == pytest.approx(-1.0) and "gap" not in gap.numbers
    assert sentence(gap) == ("On mnist1d there is no gap to close: the best deep model (cnn, 98.0%) is not shown to "
                             "beat classical models on raw input (random_forest on raw, 99.0%); the classical model "
                             "beats the deep model by 1.0 points [1.0, 1.0] over 3 splits.")
    # a deep model ahead on average but not decidedly: no gap is claimed either
    unsure = [{**r, "accuracy": 0.98 + (0.03, -0.03, 0.0)[r["seed"]]} if r["model"] == "cnn" else
              {**r, "accuracy": 0.97} if r["model"] == "random_forest" else r for r in rows]
    gap = only(answer(make_run(tmp_path / "unsure", unsure)).findings, "gap", "mnist1d")
    assert gap.verdict == "undecided" and gap.numbers["points"] == pytest.approx(1.0)


def test_scaling_findings_name_where_deep_overtakes(tmp_path):
    rows = []
    for n, (deep, classical) in {500: (0.60, 0.70), 2000: (0.77, 0.78), 8000: (0.95, 0.82)}.items():
        for s in range(3):
            rows += [rec("mnist1d", "cnn", "deep", s, deep + s / 1000, n_train=n, variant=f"n_train={n}",
                         key=f"cnn{n}", val_accuracy=deep),
                     rec("mnist1d", "logreg", "classical", s, classical + s / 1000, n_train=n,
                         variant=f"n_train={n}", key=f"lr{n}", val_accuracy=classical)]
    found = answer(make_run(tmp_path / "run", rows)).findings
    lead = only(found, "size_leaders", "mnist1d")
    assert (lead.one("smallest").model, lead.one("smallest").stats["n_train"]) == ("logreg", 500)
    assert (lead.one("largest").model, lead.one("largest").stats["n_train"]) == ("cnn", 8000)
    over = only(found, "overtake", "mnist1d")
    assert over.verdict == "stays" and over.numbers["n_train"] == 8000
    assert over.one("ahead").mean == pytest.approx(0.951) and over.one("behind").model == "logreg"
    # the head-to-head is at the largest size only (classical minus deep), and agrees with the overtake
    h2h = only(found, "head_to_head", "mnist1d")
    assert h2h.numbers["points"] == pytest.approx(-13.0) and h2h.verdict == "b_better"
    # the deep model ahead at 2,000 but not at 8,000: it overtakes, though not for good
    flip = [{**r, "accuracy": 0.90} if r["key"] == "cnn2000" else r for r in rows]
    flip = [{**r, "accuracy": 0.81} if r["key"] == "cnn8000" else r for r in flip]
    over = only(answer(make_run(tmp_path / "flip", flip)).findings, "overtake", "mnist1d")
    assert over.verdict == "not_always" and over.numbers["n_train"] == 2000
    never = [r for r in rows if r["key"] != "cnn8000"]
    assert only(answer(make_run(tmp_path / "never", never)).findings, "overtake", "mnist1d").verdict == "never"


def test_reference_figures_and_missing_gpu_are_stated(tmp_path):
    rows = [rec("mnist1d", "cnn", "deep", s, 0.97 + s / 1000) for s in range(3)]
    rows += [rec("mnist1d", "cnn", "deep", s, math.nan, device="cuda", status="skipped",
                 error="CUDA is not available on this machine", skip_reason="no_cuda") for s in range(2)]
    run = make_run(tmp_path / "run", rows)
    info = store.read_run_info(run)
    info["config"]["suite"]["reference"] = {"cnn": 94, "gru": 91}
    (run / "run.json").write_text(__import__("json").dumps(info))
    found = answer(run).findings
    ref = only(found, "reference")
    assert [(s.role, s.model) for s in ref.subjects] == [("ran", "cnn"), ("not_run", "gru")]
    assert ref.subjects[0].stats["points"] == pytest.approx(3.1) and ref.subjects[0].mean == pytest.approx(0.971)
    assert ref.subjects[1].stats["published"] == 91
    assert only(found, "no_gpu").numbers["trials"] == 2
    text = write_report(run, plots=False).read_text()
    assert "cnn 97.1% ± 0.2 against the published 94% (+3.1 points); gru not run (published 91%)" in text
    assert "its 2 GPU trials were skipped, so the GPU rows are absent" in text


def test_near_chance_and_depth_findings(tmp_path):
    rows = []
    for s in range(3):
        rows += [rec("xor", "perceptron", "perceptron", s, 0.50 + s / 100, balanced_accuracy=0.50 + s / 100,
                     n_classes=2, val_accuracy=0.5),
                 rec("xor", "logreg", "classical", s, 0.70, balanced_accuracy=0.70 + s / 100, n_classes=2,
                     val_accuracy=0.7)]
        for hidden, acc in (("[64]", 0.60), ("[64, 64]", 0.90), ("[64, 64, 64]", 0.91)):
            rows.append(rec("xor", "mlp", "deep", s, acc + s / 100, balanced_accuracy=acc + s / 100,
                            n_classes=2, p_hidden=hidden, key=f"mlp{hidden}", val_accuracy=acc))
    run = make_run(tmp_path / "run", rows)
    found = answer(run).findings
    # the perceptron (51%) is within 10 points of chance (50%); logreg (71%) is not
    near = only(found, "near_chance", "xor")
    assert [s.model for s in near.of("near")] == ["perceptron"]
    assert near.one("near").mean == pytest.approx(0.51)
    assert near.numbers["chance"] == pytest.approx(50.0) and near.numbers["n_classes"] == 2
    assert near.numbers["within"] == fd.NEAR_CHANCE
    assert (near.one("top").model, near.one("top").variant) == ("mlp", "hidden=[64, 64, 64]")
    depth = only(found, "variants", "xor")
    assert [s.variant for s in depth.of("variant")] == ["hidden=[64]", "hidden=[64, 64]", "hidden=[64, 64, 64]"]
    assert depth.one("best").variant == "hidden=[64, 64, 64]" and depth.one("worst").variant == "hidden=[64]"
    assert depth.verdict == "a_better" and depth.numbers["points"] == pytest.approx(31.0)
    assert sentence(depth) == ("On xor the variant of mlp matters (hidden=[64] 61.0% ± 2.5, hidden=[64, 64] 91.0% ± "
                               "2.5, hidden=[64, 64, 64] 92.0% ± 2.5): the best on validation, hidden=[64, 64, 64], "
                               "beats the worst, hidden=[64], by 31.0 points [31.0, 31.0] over 3 splits on test.")
    # without validation scores there is no best variant to choose, and nothing is said
    blind = [{**r, "val_accuracy": None} for r in rows]
    assert "variants" not in kinds(answer(make_run(tmp_path / "blind", blind)).findings)
    text = write_report(run, plots=False).read_text()
    assert ("On xor perceptron on raw (51.0% ± 2.5) is near chance: balanced accuracy within 10 points of "
            "50.0% (1 in 2 classes), where mlp with hidden=\\[64, 64, 64\\] reaches 92.0% ± 2.5.") in text


def test_a_thread_sweep_is_not_pooled_and_its_speedup_is_stated(tmp_path):
    rows = []
    for s in range(2):
        for key, one, two in (("k-small", 1.0, 0.8), ("k-big", 4.0, 2.5)):
            rows += [rec("mnist1d", "mlp", "deep", s, 0.7, fit_s=one, key=key, threads=1,
                         trial_id=f"{key}-cpux1-s{s}"),
                     rec("mnist1d", "mlp", "deep", s, 0.7, fit_s=two, key=key, threads=2,
                         trial_id=f"{key}-cpux2-s{s}")]
            # a GPU trial of the same key, skipped on this machine: no thread count
            rows.append(rec("mnist1d", "mlp", "deep", s, None, key=key, device="cuda", status="skipped",
                            error="CUDA is not available", skip_reason="no_cuda"))
    run = make_run(tmp_path / "run", rows)
    threads = only(answer(run).findings, "threads")
    # 1.0/0.8 = 1.25 and 4.0/2.5 = 1.6: median 1.425
    assert threads.one("model").model == "mlp"
    assert dict(threads.numbers) == pytest.approx({"fewer": 1, "more": 2, "median": 1.425, "min": 1.25,
                                                   "max": 1.6, "configs": 2})
    text = write_report(run, plots=False).read_text()
    summary = pd.read_csv(run / "summary.csv")
    # one row per thread count, not one pooled row per key; device and threads stay apart
    assert sorted(summary["device"]) == ["cpu", "cpu", "cpu", "cpu", "cuda", "cuda"]
    assert summary.groupby("device")["threads"].apply(lambda t: sorted(t.dropna())).to_dict() == {
        "cpu": [1, 1, 2, 2], "cuda": []}
    big = summary[summary["key"] == "k-big"].set_index("threads")["fit_s_median"]
    assert big[1] == pytest.approx(4.0) and big[2] == pytest.approx(2.5)
    assert "| cpu×2 |" in text  # the label is made when rendering
    assert ("2 CPU threads instead of 1 fit mlp 1.4× faster (median over 2 configurations, "
            "range 1.25–1.60×; below 1 means slower).") in text


def test_throughput_range_over_a_hardware_sweep(tmp_path):
    rows = []
    for i, (sps, tflops) in enumerate([(1000.0, 0.05), (5000.0, 0.02), (20000.0, 0.01), (80000.0, 0.004)]):
        rows += [rec("mnist1d", "mlp", "deep", s, 0.6, key=f"k{i}", p_width=2 ** (8 - i), samples_per_s=sps,
                     achieved_tflops=tflops, epoch_s=4000 / sps) for s in range(2)]
    run = make_run(tmp_path / "run", rows)
    f = only(answer(run).findings, "throughput", "mnist1d")
    assert (f.one("slowest").variant, f.one("slowest").stats["samples_per_s"]) == ("width=256", 1000)
    assert (f.one("fastest").variant, f.one("fastest").stats["samples_per_s"]) == ("width=32", 80000)
    assert (f.one("peak").variant, f.one("peak").stats["tflops"]) == ("width=256", pytest.approx(0.05))
    text = write_report(run, plots=False).read_text()
    # the per-dataset table shows time per epoch, throughput and achieved compute
    assert "| epoch | samples/s | achieved FLOP/s |" in text
    assert "| 4.00 s | 1,000 | 50.0 GFLOP/s |" in text  # 0.05 TFLOP/s, in the unit that reads best
    assert "its arithmetic peaks at 50 GFLOP/s (width=256)" in text
    # a data-size sweep is not a hardware sweep
    sizes = [{**r, "n_train": 500 * (1 + int(r["key"][1:]))} for r in rows]
    assert "throughput" not in kinds(answer(make_run(tmp_path / "sizes", sizes)).findings)
    # three configurations are variants, not a sweep (fewer than fd.MIN_SWEEP_CONFIGS)
    assert "throughput" not in kinds(answer(make_run(tmp_path / "few", rows[:6])).findings)


def test_rank_and_friedman_findings():
    scores = pd.DataFrame({"a": [0.9, 0.8, 0.7], "b": [0.8, 0.7, 0.6], "c": [0.7, 0.6, 0.5],
                           "d": [0.1, np.nan, 0.2]}, index=["d1", "d2", "d3"])
    found = fd.rank_findings(stats.average_ranks(scores), stats.friedman(scores), len(scores))
    assert kinds(found) == ["ranks", "friedman", "friedman_left_out"]
    ranks, test, left = found
    assert [(s.model, s.stats["rank"]) for s in ranks.subjects] == [("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 4.0)]
    assert ranks.numbers == {"datasets": 3, "models": 4}
    # perfect agreement over 3 datasets and 3 models: chi2 = N (k - 1) = 6, p = exp(-3)
    assert test.verdict == "rejects" and test.numbers["statistic"] == pytest.approx(6.0)
    assert test.numbers["p_value"] == pytest.approx(math.exp(-3))
    assert (test.numbers["datasets"], test.numbers["models"]) == (3, 3)
    assert [s.model for s in left.subjects] == ["d"]
    few = fd.rank_findings(stats.average_ranks(scores.iloc[:2]), stats.friedman(scores.iloc[:2]), 2)
    assert kinds(few) == ["ranks", "no_friedman"]
    assert few[1].numbers == {"min_datasets": stats.MIN_DATASETS, "min_models": stats.MIN_MODELS}
    # a model that ran on fewer datasets says on how many, so its rank is not read as over all
    on = fd.rank_findings(stats.average_ranks(scores), stats.friedman(scores), len(scores), scores.notna().sum())
    assert [s.stats.get("on") for s in on[0].subjects] == [None, None, None, 2]
    assert sentence(on[0]).endswith("a 1.0, b 2.0, c 3.0, d 4.0 (on 2 only).")
    flat = pd.DataFrame({"a": [0.9, 0.8, 0.7], "b": [0.8, 0.9, 0.7], "c": [0.7, 0.8, 0.9]})
    assert fd.rank_findings(stats.average_ranks(flat), stats.friedman(flat), 3)[1].verdict == "does_not_reject"


def test_store_load_migrates_records_written_before_raw_input_and_skip_reason(tmp_path):
    rows = [rec("wine", "logreg", "classical", 0, 0.9, features="raw"),
            rec("wine", "logreg", "classical", 0, 0.9, features="pca"),
            rec("wine", "cnn", "deep", 0, None, device="cuda", status="skipped", error="CUDA is not available"),
            rec("wine", "mlp", "deep", 0, None, status="interrupted", error="interrupted by SIGTERM")]
    for r in rows:  # a schema-1 record from before these columns
        del r["raw_input"], r["skip_reason"]
    new = rec("wine", "knn", "classical", 0, 0.8, features="raw", raw_input=False, key="new")
    df = store.load(make_run(tmp_path / "run", rows + [new])).set_index("key")
    assert df["raw_input"].tolist() == [True, False, True, True, False]
    assert df["skip_reason"].tolist() == ["", "", "no_cuda", "interrupted", ""]


# --------------------------------------------------------------------------- selection on validation


def test_a_model_best_on_test_but_worst_on_validation_is_not_chosen(tmp_path):
    rows = []
    for s in range(3):
        rows += [rec("d", "lucky", "classical", s, 0.95, val_accuracy=0.70),  # best on test, worst on validation
                 rec("d", "lucky", "classical", s, 0.60, features="pca", val_accuracy=0.80),
                 rec("d", "steady", "classical", s, 0.85, val_accuracy=0.90),
                 rec("d", "cnn", "deep", s, 0.80 + s / 100, val_accuracy=0.85)]
    run = make_run(tmp_path / "run", rows)
    info = store.read_run_info(run)
    info["config"]["suite"]["reference"] = {"lucky": 90}
    (run / "run.json").write_text(__import__("json").dumps(info))
    report = content.build([run], store.load(run), [store.read_run_info(run)])
    found = report.answers[0].findings
    h2h = only(found, "head_to_head", "d")
    assert h2h.one("a").model == "steady" and h2h.one("a").mean == pytest.approx(0.85)  # test read for the chosen
    # each model's features are chosen on validation too: lucky on pca (val 80%), at its test accuracy
    assert report.scores.loc["d"].to_dict() == pytest.approx({"cnn": 0.81, "lucky": 0.60, "steady": 0.85})
    assert only(found, "reference").one("ran").mean == pytest.approx(0.60)
    assert only(found, "features", "d").one("engineered").features == "pca"
    assert only(found, "selection").verdict == "validation"
    chosen = tables.choose(report.summary, ["dataset", "family"])
    assert chosen.loc[("d", "classical"), "model"] == "steady"
    assert set(chosen["chosen_on"]) == {"validation"}
    best = only(answer(make_run(tmp_path / "one", [r for r in rows if r["family"] == "classical"])).findings,
                "best_model", "d")
    assert best.one("best").model == "steady"
    text = write_report(run, plots=False).read_text()
    assert "Chosen on validation; test read once" in text and "| val % |" in text


def test_without_validation_scores_the_choice_never_reads_test(tmp_path):
    rows = []
    for s in range(2):
        rows += [rec("d", "zeta", "classical", s, 0.99),  # best on test, but not raw-first-then-by-name
                 rec("d", "beta", "classical", s, 0.99, features="pca"),
                 rec("d", "alpha", "classical", s, 0.50)]
    found = answer(make_run(tmp_path / "run", rows)).findings
    assert only(found, "best_model", "d").one("best").model == "alpha"  # raw input first, then by name
    sel = only(found, "selection")
    assert sel.verdict == "fallback" and dict(sel.numbers) == {"configs": 3, "missing": 3}
    # a group with one candidate lacking a score falls back as a whole (no score to compare it with)
    mixed = [{**r, "val_accuracy": 0.9} if r["model"] == "zeta" else r for r in rows]
    summary = tables.summarize(tables.prepare(store.load(make_run(tmp_path / "mixed", mixed))))
    chosen = tables.choose(summary, ["dataset"])
    assert chosen.iloc[0]["model"] == "alpha" and chosen.iloc[0]["chosen_on"] == "fallback"
    text = write_report(make_run(tmp_path / "page", rows), plots=False).read_text()
    assert "Validation scores are missing for 3 of 3 configurations" in text
    # a suite that carves no validation on purpose (val_fraction: 0) is told as such, not as old records
    run = make_run(tmp_path / "none", rows)
    info = store.read_run_info(run)
    info["config"]["suite"]["val_fraction"] = 0.0
    (run / "run.json").write_text(json.dumps(info))
    assert only(answer(run).findings, "selection").verdict == "no_validation"
    text = write_report(run, plots=False).read_text()
    assert "the suite carves none (val_fraction: 0" in text and "Validation scores are missing" not in text
    # records whose run.json names another suite say nothing of its val_fraction: not "carves none"
    info["suite"] = "renamed"
    (run / "run.json").write_text(json.dumps(info))
    assert only(answer(run).findings, "selection").verdict == "fallback"


def test_the_summary_figure_says_how_each_family_was_picked(tmp_path):
    """On validation when every candidate has a score; by name when none has (a suite that
    carves no validation split), and the figure's title and caption must not claim otherwise."""
    from harness.report.plots import how_chosen

    rows = [rec("d", m, f, s, 0.9) for m, f in (("logreg", "classical"), ("mlp", "deep")) for s in range(2)]

    def summary(rs):
        return tables.summarize(tables.prepare(store.load(make_run(tmp_path / str(len(list(tmp_path.iterdir()))),
                                                                   rs))))

    assert how_chosen(summary(rows)) == "each family's model, by name (no validation split)"
    scored = [{**r, "val_accuracy": 0.8} for r in rows]
    assert how_chosen(summary(scored)) == "the model each family chose on validation"
    half = [{**r, "val_accuracy": 0.8} if r["family"] == "deep" else r for r in rows]
    assert "on validation where scored, else by name" in how_chosen(summary(half))
    md = write_report(make_run(tmp_path / "page", rows)).read_text()
    assert "One row per dataset and family: each family's model, by name" in md


def test_choose_breaks_validation_ties_by_fit_time_and_keeps_groups_apart():
    summary = pd.DataFrame({
        "dataset": ["d"] * 4 + ["e"], "family": ["classical"] * 5, "model": ["a", "b", "c", "c", "a"],
        "features": ["raw", "raw", "pca", "raw", "raw"], "raw_input": [True, True, False, True, True],
        "variant": [""] * 5, "key": list("pqrst"), "threads": pd.array([pd.NA, pd.NA, 1, 2, pd.NA], dtype="Int64"),
        "val_accuracy_mean": [0.9, 0.9, 0.95, 0.5, 0.7], "accuracy_mean": [0.1, 0.99, 0.2, 0.99, 0.5],
        "accuracy_n": [3, 3, 3, 0, 3], "fit_s_median": [2.0, 1.0, 5.0, 0.1, 1.0]})
    chosen = tables.choose(summary, ["dataset", "family"])
    # c/pca has the best validation score; c/raw has no result and is never a candidate
    assert chosen.loc[("d", "classical"), "key"] == "r" and chosen.loc[("e", "classical"), "key"] == "t"
    tied = tables.choose(summary[summary["model"] != "c"], ["dataset"])
    assert tied.loc["d", "model"] == "b"  # equal validation scores: the faster fit, whatever the test scores
    by_threads = tables.choose(summary, ["dataset", "model", "threads"])
    assert len(by_threads) == 4 and set(by_threads["chosen_on"]) == {"validation"}


def test_no_report_code_selects_on_test_accuracy():
    """Sorting, idxmax/idxmin or nlargest on a test metric would pick a best on test."""
    import inspect

    from harness.report import plots

    metric = r"\"(balanced_)?accuracy_mean\""
    picks = [rf"(sort_values|idxmax|idxmin|nlargest|nsmallest)\(\s*\[?\s*{metric}",
             rf"\[{metric}\]\s*\.\s*(idxmax|idxmin|max|argmax)", r'aggfunc="max"']
    for module in (fd, tables, plots, content):
        source = inspect.getsource(module)
        for pattern in picks:
            assert not re.search(pattern, source), (module.__name__, pattern)
    assert "accuracy_mean" not in inspect.getsource(tables.choose).split('"""')[-1]


def test_signed_rank_across_six_datasets(tmp_path):
    rows = []
    for i, ds in enumerate("abcdef"):
        for s in range(2):
            rows += [rec(ds, "logreg", "classical", s, 0.80 + i / 100 + s / 1000),
                     rec(ds, "mlp", "deep", s, 0.80 + s / 1000 - 0.001 * (s + 1))]
    found = answer(make_run(tmp_path / "run", rows)).findings
    test = only(found, "signed_rank")
    # differences 0.15, 1.15, ..., 5.15 points: all positive, W = 0, exact p = 2 / 2^6
    assert test.verdict == "rejects" and test.numbers["p_value"] == pytest.approx(2 / 64)
    assert test.numbers["median"] == pytest.approx(2.65) and test.numbers["datasets"] == 6


# --------------------------------------------------------------------------- the template table


def test_every_kind_a_finding_can_have_has_a_template():
    import ast
    import inspect

    from harness.report import tuning

    made = {n.args[0].value for module in (fd, tuning) for n in ast.walk(ast.parse(inspect.getsource(module)))
            if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "Finding" and n.args
            and isinstance(n.args[0], ast.Constant)}
    assert made == set(TEMPLATES)


def test_findings_module_holds_no_english():
    """Sentences live in wording.TEMPLATES: findings.py has no string with a space but its docstrings."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(fd))
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef)) and n.body
            and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    words = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
             and id(n) not in docs and " " in n.value]
    assert words == []


def _s(role, model, mean, ci, **kw):
    return fd.Subject(role=role, model=model, stats={"mean": mean, "ci": ci}, **kw)


def _pair(verdict, points, low=None, high=None, splits=5, **more):
    a = _s("a", "logreg", 0.49, 0.03, family="classical", features="raw", raw_input=True)
    b = _s("b", "mlp", 0.998, 0.002, family="deep", features="raw", raw_input=True)
    numbers = {"points": points, "splits": splits, "rope": 0.5, **more}
    if low is not None:
        numbers.update(low=low, high=high)
    return fd.Finding("head_to_head", "circles", (a, b), numbers, verdict)


def test_sentences_of_the_four_verdicts():
    won = _pair("b_better", -50.8, -52.0, -49.6, fit_ratio=2.0)
    assert sentence(won) == ("On circles the best deep model (mlp, 99.8%) beats the best classical model (logreg on "
                             "raw, 49.0%) by 50.8 points [49.6, 52.0] over 5 splits and fits 2.0× faster.")
    assert sentence(_pair("a_better", 1.2, 0.4, 2.0)) == (
        "On circles the best classical model (logreg on raw, 49.0%) beats the best deep model (mlp, 99.8%) by "
        "1.2 points [0.4, 2.0] over 5 splits.")
    assert sentence(_pair("equivalent", 0.1, -0.2, 0.4, fit_ratio=3.0)) == (
        "On circles the best classical model (logreg on raw, 49.0%) and the best deep model (mlp, 99.8%) are "
        "practically equivalent (within ±0.5 points: +0.1 points [-0.2, +0.4] over 5 splits); the deep model fits "
        "3.0× faster.")
    assert sentence(_pair("undecided", 0.8, -0.6, 2.2, more_splits=7)) == (
        "On circles the best classical model (logreg on raw, 49.0%) against the best deep model (mlp, 99.8%) is "
        "undecided (+0.8 points [-0.6, +2.2] over 5 splits): about 7 more splits would likely decide it.")
    assert sentence(_pair("undecided", 0.1, -3.0, 3.2, cap=100)).endswith(
        "more than 100 splits would likely be needed to decide it.")
    assert sentence(_pair("undecided", 0.0, splits=0)).endswith("is undecided (no split in common): the two need "
                                                                "splits in common.")
    show = fd.Finding("head_to_head", "wine",
                      (_s("a", "svm_rbf", 0.97, math.nan, family="classical", features="pca"),
                       _s("b", "cnn", 0.96, math.nan, family="deep", features="raw", raw_input=True,
                          device="cuda", show_device=True)), {"points": 1.0, "splits": 1, "rope": 0.5}, "undecided")
    assert sentence(show) == ("On wine the best classical model (svm_rbf on pca, 97.0%) against the best deep model "
                              "(cnn@cuda, 96.0%) is undecided (+1.0 points on one split, which gives no interval): "
                              "more splits would decide it.")


def test_signed_rank_and_selection_sentences():
    sides = (fd.Subject(role="side", family="classical"), fd.Subject(role="rival", family="deep"))
    test = fd.Finding("signed_rank", None, sides, {"datasets": 6, "statistic": 0.0, "p_value": 0.03125,
                                                   "median": -3.5, "alpha": 0.05}, "rejects")
    assert sentence(test) == ("Across 6 datasets a Wilcoxon signed-rank test of the per-dataset differences (classical "
                              "minus deep, median -3.5 points) rejects no difference (W = 0, p = 0.031 < 0.05).")
    chosen = fd.Finding("selection", None, (), {"configs": 4, "missing": 0}, "validation")
    assert sentence(chosen).startswith("Chosen on validation; test read once:")
    old = fd.Finding("selection", None, (), {"configs": 4, "missing": 1}, "fallback")
    assert sentence(old) == ("Validation scores are missing for 1 of 4 configurations (records from before "
                             "val_accuracy was recorded): a choice among candidates without one falls back to raw "
                             "input first, then by name, never to test accuracy; every other choice was made on "
                             "validation, test read once.")


def test_sentence_of_near_chance_threads_and_quality():
    near = fd.Finding("near_chance", "xor",
                      (_s("near", "perceptron", 0.51, 0.025, family="perceptron", features="raw"),
                       _s("near", "logreg", 0.55, 0.01, family="classical", features="raw", variant="C=1")),
                      {"chance": 50.0, "n_classes": 2, "within": 10.0})
    assert sentence(near) == ("On xor perceptron on raw (51.0% ± 2.5) and logreg on raw (55.0% ± 1.0) are near "
                              "chance: balanced accuracy within 10 points of 50.0% (1 in 2 classes).")
    threads = fd.Finding("threads", None, (fd.Subject(role="model", model="mlp"),),
                         {"fewer": 1, "more": 4, "median": 2.5, "min": 2.0, "max": 3.0, "configs": 1})
    assert sentence(threads) == ("4 CPU threads instead of 1 fit mlp 2.5× faster (median over 1 configuration, "
                                 "range 2.00–3.00×; below 1 means slower).")
    assert sentence(fd.Finding("not_ok", None, (), {"trials": 1200, "timeout": 2, "failed": 1})) == (
        "Of 1,200 trials, 1 failed, 2 timeout: they are left out of every statistic and listed under Failures.")


@pytest.mark.slow
def test_cli_report_combines_two_runs_into_out(tmp_path):
    from tests.conftest import run_cli

    a = make_run(tmp_path / "a", [rec("wine", "logreg", "classical", s, 0.9) for s in range(2)], env=ENV_CPU)
    b = make_run(tmp_path / "b", [rec("wine", "logreg", "classical", s, 0.9) for s in range(2)], env=ENV_GPU)
    proc = run_cli("report", str(a), str(b), "--out", str(tmp_path / "out"), "--no-plots")
    assert proc.returncode == 0, proc.stderr
    assert "report.html" in proc.stdout
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert sorted(summary["machine"]) == ["cpu-box (Test CPU)", "gpu-box (NVIDIA H100)"]


@pytest.mark.slow
def test_every_figure_on_a_deep_suite_with_sizes_curves_and_gpus(tmp_path):
    rows, curves = [], []
    for d, ds in enumerate(["a", "b", "c"]):
        for m, (model, family) in enumerate([("cnn", "deep"), ("mlp", "deep"), ("logreg", "classical"),
                                             ("perceptron", "perceptron")]):
            for n in (100, 1000):
                for device in ("cpu", "cuda"):
                    for s in range(2):
                        acc = 0.5 + 0.1 * m + 0.05 * d + (0.1 if n == 1000 else 0) + s / 200
                        fit = (1 + m) * (0.2 if device == "cuda" else 1)
                        r = rec(ds, model, family, s, min(acc, 0.99), fit_s=fit, device=device, n_train=n,
                                p_dataset_n_samples=n,
                                time_to_target_s=0.5 if family == "deep" else None)
                        rows.append(r)
                        if family == "deep":
                            curves.append((r["trial_id"], [{"wall_s": t, "step": t, "epoch": t,
                                                            "train_loss": 1 / t,
                                                            "val_accuracy": acc * (1 - 1 / (t + 1))}
                                                           for t in range(1, 6)]))
    run = make_run(tmp_path / "run", rows, curves=curves, env=ENV_GPU)
    text = write_report(run).read_text()
    for slug in ("summary-syn", "accuracy-vs-fit-time", "accuracy-vs-train-size", "curves", "cpu-vs-gpu",
                 "critical-difference"):
        assert (run / f"fig-{slug}.png").stat().st_size > 5000, slug
        assert f"(fig-{slug}.png)" in text
    assert "could not be drawn" not in text
    assert "with 100 training samples" in text and "n_train=1000" in text
    assert "Friedman test over 3 datasets and 4 models" in text
    assert "| to target |" in text and "| 500 ms |" in text
    html = (run / "report.html").read_text()
    # every figure inline as SVG (its namespaces are names, not fetches); nothing loaded from a network
    assert html.count("<figure") == 6 and html.count("<svg") == 6 and "data:image/png" not in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//|url\((["']?)(https?:)?//""", html)


# --------------------------------------------------------------------------- the real page in a browser

BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--enable-logging=stderr", "--v=0"]


#: Runs in the report inside a 420-px iframe (headless chromium's window is at least 500 px wide)
#: and posts to the page around it: the page's width, then where the verdicts, the summary
#: figure and the findings in words begin.
PHONE_PROBE = """
(function () {
  function at(el) { return el ? el.getBoundingClientRect().top + window.scrollY : -1; }
  var sec = document.querySelector('section[id^="findings-"]');
  parent.postMessage([document.documentElement.scrollWidth, window.innerWidth, at(sec.querySelector('table')),
                      at(sec.querySelector('figure svg')), at(sec.querySelector('ul.findings'))].join(' '), '*');
})();
"""
PHONE = """<!doctype html><html><body><iframe src="phone-probe.html" style="border:0;width:420px;height:900px"></iframe>
<script>addEventListener('message', function (e) { document.body.setAttribute('data-probe', e.data); });</script>
</body></html>"""


SORT_PROBE = """
var t = document.querySelector('#results table.sortable'), heads = t.tHead.rows[0].cells;
var i = [].findIndex.call(heads, function (h) { return h.textContent.indexOf('accuracy') === 0; });
function col() {
  return [].map.call(t.tBodies[0].rows, function (r) { return r.cells[i].getAttribute('data-v'); }).join(' ');
}
heads[i].click(); document.body.setAttribute('data-asc', col());
heads[i].click(); document.body.setAttribute('data-desc', col());
"""


def _chromium() -> str:
    for exe in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(exe):
            return path
    pytest.skip("no chromium on PATH: `make test` installs Debian's chromium with .ci/install-chromium "
                "where apt-get and root are available; here they were not")


def _browse(exe, url, tmp_path, *args, name):
    profile = tmp_path / f"profile-{name}"
    profile.mkdir()
    proc = subprocess.run([exe, *BROWSER_FLAGS, f"--user-data-dir={profile}", *args, url],
                          capture_output=True, text=True, timeout=180)
    console = [ln for ln in proc.stderr.splitlines() if ":CONSOLE" in ln]
    return proc, console


@pytest.mark.slow
def test_smoke_report_opens_in_headless_chromium(compose, tmp_path):
    from matplotlib.image import imread

    from harness import api

    exe = _chromium()
    cfg = compose("suite=smoke", "progress=false")
    result = api.execute(api.plan(cfg), cfg, tmp_path / "run")
    assert result.report == tmp_path / "run" / "report.md"
    page = tmp_path / "run" / "report.html"
    url = page.resolve().as_uri()
    proc, console = _browse(exe, url, tmp_path, "--dump-dom", name="dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert console == [], console
    dom = proc.stdout
    assert "Findings: suite smoke" in dom and "Does the harness run end to end" in dom
    assert 'tabindex="0" title="sort by this column"' in dom  # the sorting script ran: CSP let it
    # click the accuracy header twice (a test copy without the CSP, to let this probe run)
    probe = tmp_path / "run" / "probe.html"
    html = page.read_text()
    html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    probe.write_text(html.replace("</body>", f"<script>{SORT_PROBE}</script></body>"))
    proc, console = _browse(exe, probe.resolve().as_uri(), tmp_path, "--dump-dom", name="probe")
    assert console == [], console
    asc = [float(v) for v in re.search(r'data-asc="([^"]*)"', proc.stdout).group(1).split()]
    desc = [float(v) for v in re.search(r'data-desc="([^"]*)"', proc.stdout).group(1).split()]
    assert len(asc) == 3 and asc == sorted(asc) and desc == sorted(asc, reverse=True)
    shot = tmp_path / "shot.png"
    proc, console = _browse(exe, url, tmp_path, f"--screenshot={shot}", "--window-size=1200,2000", name="shot")
    assert proc.returncode == 0 and console == [], (console, proc.stderr[-2000:])
    pixels = imread(shot)[..., :3]
    assert pixels.shape[:2] == (2000, 1200)
    assert pixels.std() > 0.05 and (pixels.mean(axis=2) < 0.9).mean() > 0.02  # not blank: text and figures
    # on a phone (420 px) nothing but a table's own scroller is wider than the screen, and the
    # verdicts and the summary figure are on the first screens, above the findings in words
    (tmp_path / "run" / "phone-probe.html").write_text(html.replace("</body>", f"<script>{PHONE_PROBE}</script></body>"))
    (tmp_path / "run" / "phone.html").write_text(PHONE)
    proc, console = _browse(exe, (tmp_path / "run" / "phone.html").resolve().as_uri(), tmp_path, "--dump-dom",
                            "--window-size=500,900", "--virtual-time-budget=5000", name="phone")
    assert console == [], console
    width, viewport, *at = map(float, re.search(r'data-probe="([^"]*)"', proc.stdout).group(1).split())
    assert viewport == 420 and width <= 420, (viewport, width)
    tops = dict(zip(("verdicts", "figure", "findings"), at))
    assert 0 < tops["verdicts"] < tops["figure"] < tops["findings"], tops
    assert tops["figure"] < 2 * 900, tops  # the figure within the second screen
