"""Reports: statistics against references, findings (as values, and a few sentences) on synthetic
records, failure handling, escaping, combined runs, and the real HTML page in a headless browser."""

from __future__ import annotations

import math
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from harness import store
from harness.report import content, stats, write_report
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


def test_separated_needs_two_intervals_that_do_not_overlap():
    assert stats.separated(0.9, 0.01, 0.8, 0.01)
    assert not stats.separated(0.9, 0.06, 0.8, 0.05)
    assert not stats.separated(0.9, float("nan"), 0.8, 0.01)



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


def test_head_to_head_wins_ties_and_tally(tmp_path):
    rows = []
    for s, (a, b) in enumerate([(0.944, 0.789), (0.946, 0.791), (0.948, 0.793)]):
        rows += [rec("mnist1d", "cnn", "deep", s, a, fit_s=4.2),
                 rec("mnist1d", "random_forest", "classical", s, b)]
    for s, (a, b) in enumerate([(0.96, 0.965), (0.97, 0.975), (0.98, 0.97)]):
        rows += [rec("digits", "mlp", "deep", s, a, fit_s=2.0), rec("digits", "svm_rbf", "classical", s, b,
                                                                  features="hog", fit_s=0.5)]
    run = make_run(tmp_path / "run", rows, question="When do deep nets beat classical models?",
                   hypothesis="Deep nets win on mnist1d.")
    ans = answer(run)
    assert ans.challenger == "deep"
    # mnist1d: the deep model wins by 94.6 - 79.1 = 15.5 points and takes 4.2 times as long to fit
    win = only(ans.findings, "head_to_head", "mnist1d")
    assert win.verdict == "separated"
    assert (win.one("winner").model, win.one("winner").family) == ("cnn", "deep")
    assert (win.one("loser").model, win.one("loser").features) == ("random_forest", "raw")
    assert win.one("winner").mean == pytest.approx(0.946) and win.one("loser").mean == pytest.approx(0.791)
    assert win.numbers["points"] == pytest.approx(15.5) and win.numbers["fit_ratio"] == pytest.approx(4.2)
    # digits: both means 97.0, intervals overlap: a tie, the classical model 4 times faster
    tie = only(ans.findings, "head_to_head", "digits")
    assert tie.verdict == "overlap"
    assert (tie.one("a").model, tie.one("a").features, tie.one("b").model) == ("svm_rbf", "hog", "mlp")
    assert tie.numbers["points"] == pytest.approx(0.0, abs=1e-9)
    assert tie.numbers["fit_ratio"] == pytest.approx(0.25)
    tally = only(ans.findings, "tally")
    assert dict(tally.numbers) == {"datasets": 2, "win": 0, "tie": 1, "loss": 1}
    assert (tally.one("side").family, tally.one("rival").family) == ("classical", "deep")
    table = ans.head_to_head.set_index("dataset")
    assert table["outcome"].to_dict() == {"mnist1d": "loss", "digits": "tie"}
    assert table.loc["mnist1d", "points"] == pytest.approx(-15.5)
    # the page renders them: one sentence, the question, the hypothesis and a table row
    text = write_report(run, plots=False).read_text()
    assert ("On mnist1d the best deep model (cnn, 94.6% ± 0.5) beats the best classical model "
            "(random_forest on raw, 79.1% ± 0.5) by 15.5 points and needs 4.2× its fit time.") in text
    assert "**Question.** When do deep nets beat classical models?" in text
    assert "Deep nets win on mnist1d." in text
    assert "| digits | svm_rbf on hog | 97.0% ± 1.2 | mlp | 97.0% ± 2.5 | +0.0 | tie |" in text


def test_one_seed_is_a_tie_and_close_fit_times_go_unsaid(tmp_path):
    rows = [rec("moons", "svm_rbf", "classical", 0, 0.99, fit_s=1.0),
            rec("moons", "mlp", "deep", 0, 0.70, fit_s=1.1)]
    found = answer(make_run(tmp_path / "run", rows)).findings
    tie = only(found, "head_to_head", "moons")
    assert tie.verdict == "one_seed" and tie.numbers["points"] == pytest.approx(29.0)
    assert "fit_ratio" not in tie.numbers  # 1.1× is within fd.TIE_FIT_RATIO


def test_without_deep_rows_the_perceptron_is_the_challenger(tmp_path):
    rows = [rec("moons", "svm_rbf", "classical", s, 0.97 + s / 1000) for s in range(3)]
    rows += [rec("moons", "perceptron", "perceptron", s, 0.85 + s / 1000, fit_s=0.01) for s in range(3)]
    ans = answer(make_run(tmp_path / "run", rows))
    assert ans.challenger == "perceptron"
    f = only(ans.findings, "head_to_head", "moons")
    assert f.verdict == "separated" and f.one("winner").model == "svm_rbf"
    assert f.one("loser").family == "perceptron"
    assert f.numbers["points"] == pytest.approx(12.0) and f.numbers["fit_ratio"] == pytest.approx(100.0)
    assert "tally" not in kinds(ans.findings)  # one dataset: nothing to tally


def test_one_family_only_names_the_best_and_a_missing_rival(tmp_path):
    rows = [rec("wine", "logreg", "classical", s, 0.9) for s in range(2)]
    rows += [rec("wine", "knn", "classical", s, 0.8) for s in range(2)]
    found = answer(make_run(tmp_path / "run", rows)).findings
    best = only(found, "best_model", "wine")
    assert best.one("best").model == "logreg" and best.one("best").mean == pytest.approx(0.9)
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
        rows += [rec("ecg", "logreg", "classical", s, 0.90 + s / 100, features="rocket"),
                 rec("ecg", "logreg", "classical", s, 0.70 + s / 100, features="identity", raw_input=True),
                 # named "raw" but not raw input (raw_input false): an engineered features set
                 rec("ecg", "knn", "classical", s, 0.60 + s / 100, features="raw", raw_input=False)]
    run = make_run(tmp_path / "run", rows)
    f = only(answer(run).findings, "features", "ecg")
    assert f.verdict == "help" and f.numbers["points"] == pytest.approx(20.0)
    assert (f.one("engineered").features, f.one("baseline").features) == ("rocket", "identity")
    assert f.one("baseline").raw_input and not f.one("engineered").raw_input
    # engineered features that lose, and ones the intervals do not separate
    worse = [{**r, "accuracy": 1.5 - r["accuracy"]} if r["features"] == "rocket" else r for r in rows]
    f = only(answer(make_run(tmp_path / "worse", worse)).findings, "features", "ecg")
    assert f.verdict == "no_help" and f.numbers["points"] == pytest.approx(-10.0)
    close = [{**r, "accuracy": r["accuracy"] - 0.195} if r["features"] == "rocket" else r for r in rows]
    f = only(answer(make_run(tmp_path / "close", close)).findings, "features", "ecg")
    assert f.verdict == "not_separated" and f.numbers["points"] == pytest.approx(0.5)


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
    none = [{**r, "accuracy": 0.985} if r["model"] == "random_forest" else r for r in rows]
    gap = only(answer(make_run(tmp_path / "none", none)).findings, "gap", "mnist1d")
    assert gap.verdict == "no_gap" and dict(gap.numbers) == {}


def test_scaling_findings_name_where_deep_overtakes(tmp_path):
    rows = []
    for n, (deep, classical) in {500: (0.60, 0.70), 2000: (0.77, 0.78), 8000: (0.95, 0.82)}.items():
        for s in range(3):
            rows += [rec("mnist1d", "cnn", "deep", s, deep + s / 1000, n_train=n, variant=f"n_train={n}",
                         key=f"cnn{n}"),
                     rec("mnist1d", "logreg", "classical", s, classical + s / 1000, n_train=n,
                         variant=f"n_train={n}", key=f"lr{n}")]
    found = answer(make_run(tmp_path / "run", rows)).findings
    lead = only(found, "size_leaders", "mnist1d")
    assert (lead.one("smallest").model, lead.one("smallest").stats["n_train"]) == ("logreg", 500)
    assert (lead.one("largest").model, lead.one("largest").stats["n_train"]) == ("cnn", 8000)
    over = only(found, "overtake", "mnist1d")
    assert over.verdict == "stays" and over.numbers["n_train"] == 8000
    assert over.one("ahead").mean == pytest.approx(0.951) and over.one("behind").model == "logreg"
    # the head-to-head is at the largest size only
    assert only(found, "head_to_head", "mnist1d").numbers["points"] == pytest.approx(13.0)
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
                     n_classes=2),
                 rec("xor", "logreg", "classical", s, 0.70, balanced_accuracy=0.70 + s / 100, n_classes=2)]
        for hidden, acc in (("[64]", 0.60), ("[64, 64]", 0.90), ("[64, 64, 64]", 0.91)):
            rows.append(rec("xor", "mlp", "deep", s, acc + s / 100, balanced_accuracy=acc + s / 100,
                            n_classes=2, p_hidden=hidden, key=f"mlp{hidden}"))
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
    assert depth.numbers["spread"] == pytest.approx(31.0)
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
    assert "| epoch | samples/s | TFLOP/s |" in text
    assert "| 4.00 s | 1,000 | 0.05 |" in text
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


# --------------------------------------------------------------------------- the template table


def test_every_kind_a_finding_can_have_has_a_template():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(fd))
    made = {n.args[0].value for n in ast.walk(tree) if isinstance(n, ast.Call)
            and getattr(n.func, "id", "") == "Finding" and n.args and isinstance(n.args[0], ast.Constant)}
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


def test_sentence_of_a_win_and_of_a_tie():
    win = fd.Finding("head_to_head", "circles",
                     (_s("winner", "mlp", 0.998, 0.002, family="deep", features="raw", raw_input=True),
                      _s("loser", "logreg", 0.49, 0.03, family="classical", features="raw", raw_input=True)),
                     {"points": 50.8, "fit_ratio": 0.5}, "separated")
    assert sentence(win) == ("On circles the best deep model (mlp, 99.8% ± 0.2) beats the best classical model "
                             "(logreg on raw, 49.0% ± 3.0) by 50.8 points and fits 2.0× faster.")
    tie = fd.Finding("head_to_head", "wine",
                     (_s("a", "svm_rbf", 0.97, math.nan, family="classical", features="pca"),
                      _s("b", "cnn", 0.96, math.nan, family="deep", features="raw", raw_input=True,
                         device="cuda", show_device=True)),
                     {"points": 1.0, "fit_ratio": 3.0}, "one_seed")
    assert sentence(tie) == ("On wine the best classical model (svm_rbf on pca, 97.0%, one seed) and the best deep "
                             "model (cnn@cuda, 96.0%, one seed) are 1.0 points apart, but without several seeds "
                             "there is no interval, so the evidence does not separate them; the deep model fits "
                             "3.0× faster.")


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
    assert "| to target |" in text and "| 500.0 ms |" in text
    html = (run / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 6 and "http://" not in html and "https://" not in html


# --------------------------------------------------------------------------- the real page in a browser

BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--enable-logging=stderr", "--v=0"]


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
