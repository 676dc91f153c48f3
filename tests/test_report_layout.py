"""What report.html shows a reader before they read: verdicts and the summary figure first, every
model its own colour and label, numbers as people write them, p-values that agree with the
decisions beside them, and a CD diagram that names what it left out."""

from __future__ import annotations

import random
import re

import numpy as np
import pandas as pd
import pytest

from harness.report import findings as fd
from harness.report import stats, write_report
from harness.report.render import fmt_flops, fmt_p, fmt_s, sig
from harness.report.wording import sentence
from test_report import make_run, rec

CLASSICAL = ["logreg", "svm_rbf", "knn", "random_forest", "hist_gb", "extra_trees"]
DATASETS = ["digits", "mnist1d", "moons", "xor"]
SCIENTIFIC = re.compile(r"\d[eE][+-]?\d")


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    """A run of ten models on four datasets over three splits: cnn only on two of them (so the
    Friedman test leaves it out), a slow deep model (fit times in the hundreds of seconds)."""
    rng = np.random.default_rng(0)
    rows = []
    sizes = {"n_train": 800, "n_test": 200}
    for d, dataset in enumerate(DATASETS):
        models = [(m, "classical", 0.80 + 0.01 * i) for i, m in enumerate(CLASSICAL)]
        models += [("perceptron", "perceptron", 0.70), ("mlp", "deep", 0.90)]
        models += [("cnn", "deep", 0.95)] if d < 2 else []
        for model, family, acc in models:
            for s in range(3):
                rows.append(rec(dataset, model, family, s, float(acc + 0.02 * d + rng.normal(0, 0.003)),
                                fit_s=340.0 if model == "cnn" else 0.5 + 0.1 * s, val_accuracy=acc, **sizes))
    run = make_run(tmp_path_factory.mktemp("layout") / "run", rows, question="Which model is most accurate?",
                   hypothesis="The CNN wins.")
    write_report(run)
    return run


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_verdicts_and_summary_figure_come_before_the_prose(report_dir):
    html = (report_dir / "report.html").read_text()
    section = html[html.index('<section id="findings-syn">'):]
    section = section[:section.index("</section>")]
    # one kind of comparison: the heading names it, and the table starts with who and the verdict
    verdicts = section.index("Head-to-heads: paired verdicts over splits (best of each family)")
    assert re.search(r"<thead><tr><th[^>]*>dataset</th><th[^>]*>A</th><th[^>]*>B</th><th[^>]*>verdict</th>",
                     section[verdicts:])
    table = section.index("<table", verdicts)
    figure = section.index('<figure id="fig-summary-syn">')
    prose = section.index('<ul class="findings">')
    hypothesis = section.index("Hypothesis")
    assert verdicts < table < figure < hypothesis < prose
    # the figure is inline SVG, scaled to the page's width, never wider than drawn
    svg = section[figure:section.index("</figure>", figure)]
    assert "<svg" in svg and 'width="100%"' in svg and "max-width:" in svg and "<img" not in svg
    # the runs' details moved below the results, out of the first screen
    assert html.index('<section id="runs">') > html.index('<section id="results">')


def test_every_model_has_its_own_colour_and_no_faint_yellow():
    import colorsys

    from harness.report.style import Palette

    for n in (3, 9, 13, 14, 30):
        models = {f"m{i}": "classical" if i % 3 else "deep" for i in range(n)}
        palette = Palette(models)
        colours = [palette(m)[0] for m in models]
        assert len(set(colours)) == n, colours
        for c in colours:
            r, g, b = (int(c[i:i + 2], 16) / 255 for i in (1, 3, 5))
            hue, light, _ = colorsys.rgb_to_hls(r, g, b)
            assert light < 0.7, c  # nothing pale on white
            assert not (0.12 < hue < 0.2 and light > 0.55), c  # no light yellow
    assert "#F0E442" not in Palette({f"m{i}": "x" for i in range(30)}).style.values()


def test_summary_figure_labels_models_in_distinct_colours(report_dir):
    html = (report_dir / "report.html").read_text()
    start = html.index('<figure id="fig-summary-syn">')
    svg = html[start:html.index("</figure>", start)]
    words = _text(svg)
    # each row names the model its family chose; the legend names every model shown with its family
    for d, dataset in enumerate(DATASETS):
        deep = "cnn" if d < 2 else "mlp"
        assert f"{dataset}: {deep}" in words and f"{dataset}: extra_trees" in words
    assert "cnn (deep)" in words and "perceptron (perceptron)" in words
    # the fit-time figure: one colour per model, as many as there are models
    start = html.index('<figure id="fig-accuracy-vs-fit-time">')
    svg = html[start:html.index("</figure>", start)]
    legend = [m for m in CLASSICAL + ["perceptron", "mlp", "cnn"] if f"{m} (" in _text(svg)]
    assert len(legend) == 9
    fills = set(re.findall(r"fill:\s*(#[0-9a-fA-F]{6})", svg)) - {"#ffffff", "#000000"}
    assert len(fills) >= 8  # nine models; black is one of them, white the background


def test_no_scientific_notation_in_the_prose(report_dir):
    md = (report_dir / "report.md").read_text()
    html = (report_dir / "report.html").read_text()
    findings = html[html.index('<ul class="findings">'):]
    findings = findings[:findings.index("</ul>")]
    assert not SCIENTIFIC.search(_text(findings)), _text(findings)
    prose = [ln for ln in md.splitlines() if not ln.startswith(("|", "!["))]
    assert not [ln for ln in prose if SCIENTIFIC.search(ln)]
    assert "340 s" in md or "340.0" not in md  # cnn's fit time reads as seconds wherever it is said


def test_number_formats():
    assert [fmt_s(x) for x in (3.4e2, 5.0, 0.0123, 2e-6, 1234.5)] == ["340 s", "5.00 s", "12.3 ms", "2.00 µs",
                                                                      "1,234 s"]
    assert [fmt_s(x, trim=True) for x in (3.4e2, 5.0, 0.5)] == ["340 s", "5 s", "500 ms"]
    assert fmt_s(0.99996) == "1.00 s" and sig(99.96) == "100" and sig(0.000123) == "0.000123"
    assert [fmt_flops(x) for x in (2.5, 0.05, 3e-6)] == ["2.50 TFLOP/s", "50.0 GFLOP/s", "3.00 MFLOP/s"]
    gap = fd.Finding("gap", "mnist1d", (fd.Subject(role="baseline", model="rf", features="raw", stats={"mean": 0.8}),
                                        fd.Subject(role="target", model="cnn", family="deep", stats={"mean": 0.98}),
                                        fd.Subject(role="engineered", model="lr", features="rocket",
                                                   stats={"mean": 0.96})),
                     {"gap": 18.0, "closed": 90.0, "cost_s": 342.0, "deep_fit_s": 0.0042}, "closed")
    text = sentence(gap)
    assert "in 342 s of feature extraction and fit against the deep model's 4.2 ms of fit" in text
    assert not SCIENTIFIC.search(text)


def test_the_ranks_sentence_lists_every_model():
    models = [f"model{i}" for i in range(12)]
    scores = pd.DataFrame([[0.5 + 0.01 * j + 0.001 * d for j in range(12)] for d in range(4)], columns=models)
    found = fd.rank_findings(stats.average_ranks(scores), stats.friedman(scores), len(scores))
    text = sentence(found[0])
    assert all(f"{m} " in text for m in models) and "…" not in text and ".." not in text
    assert text.endswith("model0 12.0.")


@pytest.mark.parametrize("p, alpha, shown", [(0.0498, 0.05, "p = 0.0498"), (0.04996, 0.05, "p = 0.04996"),
                                             (0.0502, 0.05, "p = 0.050"), (0.031, 0.05, "p = 0.031"),
                                             (2e-9, 0.05, "p < 0.0001"), (0.5, 0.05, "p = 0.50")])
def test_p_is_printed_with_the_digits_its_decision_needs(p, alpha, shown):
    assert fmt_p(p, alpha) == shown


def test_a_printed_p_never_contradicts_its_decision():
    rng = random.Random(1)
    for _ in range(2000):
        p = rng.choice([0.05 + rng.uniform(-1e-3, 1e-3), 0.05 + rng.uniform(-1e-6, 1e-6), rng.random()])
        text = fmt_p(p, 0.05)
        assert not SCIENTIFIC.search(text)
        if text.startswith("p < "):
            assert p < 0.05
        else:
            assert (float(text.removeprefix("p = ")) < 0.05) == (p < 0.05), (p, text)


def test_friedman_sentence_and_diagram_agree_on_p_and_name_what_was_left_out():
    from harness.report.cdplot import cd_diagram

    scores = pd.DataFrame({"a": [0.9, 0.8, 0.7], "b": [0.8, 0.7, 0.6], "c": [0.7, 0.6, 0.5],
                           "cnn": [0.1, np.nan, 0.2]}, index=["d1", "d2", "d3"])
    fried = stats.friedman(scores)
    assert fried.left_out == ["cnn"]
    fried.p_value = 0.0498  # the case the issue saw: rejects at 0.05, printed as "0.05"
    fig = cd_diagram(fried)
    title = fig._suptitle.get_text()
    assert "Friedman p = 0.0498" in title and "left out, not run on every dataset: cnn" in title
    found = fd.rank_findings(stats.average_ranks(scores), fried, len(scores))
    said = " ".join(sentence(f) for f in found)
    assert "p = 0.0498 < 0.05" in said and "The test leaves out cnn" in said


def test_the_cd_diagram_in_the_page_names_the_left_out_model(report_dir):
    html = (report_dir / "report.html").read_text()
    start = html.index('<figure id="fig-critical-difference">')
    svg = _text(html[start:html.index("</figure>", start)])
    assert "left out, not run on every dataset: cnn" in svg


def test_names_from_data_stay_text_inside_the_inline_figures(tmp_path):
    evil = "<script>alert(1)</script>"
    rows = [rec(f'd{d}"><img src=x onerror=alert(2)>', model, "classical", s, 0.9 - 0.01 * i + 0.001 * s)
            for d in range(3) for i, model in enumerate([evil, "logreg", "knn"]) for s in range(2)]
    run = make_run(tmp_path / "run", rows)
    write_report(run)
    html = (run / "report.html").read_text()
    assert html.count("<svg") >= 3  # the figures are there, inline
    assert html.count("<script") == 1 and "<img src=x" not in html and "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_summary_figure_marks_the_published_figures_it_compares_with(tmp_path):
    import json

    from harness import store

    rows = [rec("mnist1d", model, family, s, acc + 0.001 * s)
            for model, family, acc in (("logreg", "classical", 0.33), ("mlp", "deep", 0.70), ("cnn", "deep", 0.95),
                                       ("gru", "deep", 0.90)) for s in range(3)]
    run = make_run(tmp_path / "run", rows)
    info = store.read_run_info(run)
    info["config"]["suite"]["reference"] = {"logreg": 32, "mlp": 68, "cnn": 94, "gru": 91}
    (run / "run.json").write_text(json.dumps(info))
    write_report(run)
    html = (run / "report.html").read_text()
    start = html.index('<figure id="fig-summary-syn">')
    svg = html[start:html.index("</figure>", start)]
    words = _text(svg)
    # every model with a published figure has its row (not only the best of its family) and the mark
    assert all(f"mnist1d: {m}" in words for m in ("logreg", "mlp", "cnn", "gru")) and "published figure" in words
    # without a reference: one row per family, no mark
    plain = make_run(tmp_path / "plain", rows)
    write_report(plain)
    html = (plain / "report.html").read_text()
    start = html.index('<figure id="fig-summary-syn">')
    words = _text(html[start:html.index("</figure>", start)])
    assert "mnist1d: cnn" in words and "mnist1d: mlp" not in words and "published figure" not in words


def test_a_speed_sweep_gets_a_throughput_summary_with_place_and_batch(tmp_path):
    """The hardware question (model size × batch × threads): its summary figure plots samples/s and
    GFLOP/s against parameters, one line per model, place and batch, not one dot per family."""
    rows = []
    for model, family in (("mlp", "deep"), ("cnn", "deep")):
        for width, n_params in ((16, 1e4), (64, 1e5), (256, 1e6)):
            for threads in (1, 2):
                for batch in (64, 512):
                    key = f"{model}-{width}-{batch}"
                    for s in range(2):
                        rows.append(rec("mnist1d", model, family, s, 0.9, key=key, threads=threads,
                                        trial_id=f"{key}-cpux{threads}-s{s}",
                                        n_params=n_params, samples_per_s=1e6 / n_params * threads * batch / 64,
                                        achieved_tflops=1e-3 * threads, p_width=width, p_batch_size=batch))
    run = make_run(tmp_path / "run", rows, suite="hardware")
    write_report(run)
    html = (run / "report.html").read_text()
    start = html.index('<figure id="fig-summary-hardware">')
    words = _text(html[start:html.index("</figure>", start)])
    for shown in ("Training throughput", "GFLOP/s", "1 CPU thread", "CPU, more threads", "batch 64", "batch 512",
                  "mlp (deep)", "cnn (deep)"):
        assert shown in words, shown
    assert "chose on validation" not in words
    # an accuracy suite keeps the figure of the model each family chose
    plain = make_run(tmp_path / "plain", [rec("digits", m, f, s, 0.9) for m, f in (("logreg", "classical"),
                                                                                    ("mlp", "deep")) for s in range(3)])
    write_report(plain)
    html = (plain / "report.html").read_text()
    start = html.index('<figure id="fig-summary-syn">')
    assert "Training throughput" not in _text(html[start:html.index("</figure>", start)])


def test_a_speed_sweep_varies_size_and_how_a_model_ran():
    """A network has other parameter counts on other datasets (input length, classes), and a suite
    may compare a model's sizes for accuracy (the perceptron suite's 1-3 hidden layers): neither is a
    speed sweep, so such a suite keeps the summary of the model each family chose. Sizes with
    batch sizes or places (threads, GPU) varying too are the hardware question."""
    from harness.report.plots import is_throughput_sweep

    rows = pd.DataFrame({"dataset": ["gunpoint", "osuleaf", "arrowhead", "gunpoint"],
                         "model": ["fcn", "fcn", "fcn", "resnet"], "device": "cpu", "variant": "",
                         "n_params_median": [1e5, 2e5, 3e5, 5e5], "samples_per_s_median": [100.0] * 4})
    assert not is_throughput_sweep(rows)
    sizes = rows.assign(dataset="gunpoint", variant=["hidden=[64]", "hidden=[64, 64]", "hidden=[64, 64, 64]", ""])
    assert not is_throughput_sweep(sizes)
    batches = sizes.assign(variant=["batch_size=64, hidden=[64]", "batch_size=512, hidden=[64, 64]",
                                    "batch_size=64, hidden=[64, 64, 64]", ""])
    assert is_throughput_sweep(batches)
    assert is_throughput_sweep(sizes.assign(threads=[1, 2, 1, None]))
    assert is_throughput_sweep(sizes.assign(device=["cpu", "cuda", "cuda", "cpu"]))
