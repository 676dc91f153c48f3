"""docs/findings.py: the README's findings and GPU sections come from runs, never by hand."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from harness.report import write_report
from test_report import ENV_CPU, ENV_GPU, make_run, rec

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def findings(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("findings_doc", ROOT / "docs" / "findings.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setattr(mod, "RESULTS", tmp_path / "findings")
    monkeypatch.setattr(mod, "GPU_RESULTS", tmp_path / "findings" / "gpu")
    monkeypatch.setattr(mod, "FIGURES", tmp_path / "figures")
    (tmp_path / "figures").mkdir()
    return mod


def hardware_run(path: Path, gpu: bool) -> Path:
    rows = [rec("mnist1d", "cnn", "deep", s, 0.95, fit_s=10.0, key="k-cnn") for s in range(2)]
    if gpu:
        rows += [rec("mnist1d", "cnn", "deep", s, 0.95, fit_s=0.5, key="k-cnn", device="cuda") for s in range(2)]
    else:
        rows += [rec("mnist1d", "cnn", "deep", s, None, device="cuda", key="k-cnn", status="skipped",
                     error="CUDA is not available", skip_reason="no_cuda") for s in range(2)]
    run = make_run(path, rows, suite="hardware", question="What does a GPU buy?",
                   env=ENV_GPU if gpu else ENV_CPU)
    write_report(run, plots=False)
    return run


def test_gpu_section_says_plainly_when_nothing_was_measured(findings, tmp_path):
    hardware_run(findings.RESULTS / "hardware" / "20260101-cpu", gpu=False)
    text = "\n".join(findings.gpu_section())
    assert "**Not measured yet.**" in text and "Test CPU" in text and "docs/findings.py --gpu" in text
    assert "speedup" not in text


def test_gpu_section_comes_from_gpu_runs(findings, tmp_path):
    hardware_run(findings.RESULTS / "hardware" / "20260101-cpu", gpu=False)
    hardware_run(findings.GPU_RESULTS / "hardware" / "20260102-gpu", gpu=True)
    text = "\n".join(findings.gpu_section())
    assert "Not measured" not in text
    assert "Measured on GPU: NVIDIA H100" in text and "### hardware" in text
    assert "cnn 20.0×" in text  # the CPU-over-GPU fit-time speedup of the run above


def test_section_lists_every_finding_in_the_words_of_the_template_table(findings, tmp_path):
    from harness import store
    from harness.report import content
    from harness.report.wording import sentence

    rows = [rec("mnist1d", "cnn", "deep", s, 0.95 + s / 1000, fit_s=10.0, val_accuracy=0.94) for s in range(3)]
    rows += [rec("mnist1d", "logreg", "classical", s, 0.80 + s / 1000, val_accuracy=0.79) for s in range(3)]
    run = make_run(tmp_path / "perceptron" / "20260101-run", rows, suite="perceptron", question="Q?",
                   hypothesis="H.")
    write_report(run, plots=False)
    found = content.build([run], store.load(run), [store.read_run_info(run)]).answers[0].findings
    assert [f.kind for f in found] == ["head_to_head", "selection", "all_ok"]
    lines = findings.section("perceptron", run, [])
    assert lines[:5] == ["### perceptron", "", "**Question.** Q?", "", "**Hypothesis.** H."]
    bullets = [ln for ln in lines if ln.startswith("- ")]
    assert bullets == ["- " + sentence(f) for f in found]
    assert bullets[0].startswith("- On mnist1d the best deep model (cnn, 95.1%) beats the best classical "
                                 "model (logreg on raw, 80.1%) by 15.0 points [15.0, 15.0] over 3 splits")
    assert bullets[1].startswith("- Chosen on validation; test read once")


def test_replace_between_keeps_everything_outside_the_markers(findings):
    text = "a\n<!-- gpu:start -->\nold\n<!-- gpu:end -->\nb\n"
    out = findings.replace_between(text, findings.GPU_START, findings.GPU_END, ["", "new", ""])
    assert out == "a\n<!-- gpu:start -->\nnew\n<!-- gpu:end -->\nb\n"
    with pytest.raises(SystemExit, match="no <!-- gpu:start -->"):
        findings.replace_between("no markers", findings.GPU_START, findings.GPU_END, [])


def test_a_tuned_run_brings_its_default_vs_tuned_table_and_who_wins(findings, tmp_path):
    from harness import store
    from test_tuning import _rec

    rows = []
    for split in range(3):  # on d: a wins on defaults, b tuned wins with tuning
        rows += [_rec("a", split, 0.90, 0.80), _rec("b", split, 0.85, 0.95),
                 _rec("b", split, 0.95, 0.90 + 0.01 * split, tuning="tuned", of="d-b-default")]
    w = store.RunWriter(tmp_path / "tuned" / "20260101-run")
    w.write_run_info({"run_id": "run", "suite": "syn", "config": {"suite": {"name": "syn", "question": "Q?"}}})
    for r in rows:
        w.record(r)
    lines = findings.section("tuned", tmp_path / "tuned" / "20260101-run", ["suite.splits=3"])
    assert lines[0] == "### tuned (suite.splits=3)"
    text = "\n".join(lines)
    assert "\n| d | b | 95.0 | 91.0 |" in text  # the default-vs-tuned table
    assert "\n- d: tuning changes who wins: on defaults a" in text


def test_one_suite_section_is_replaced_and_the_rest_kept(findings):
    """``--suites X`` rewrites X's section only: the other suites' runs need not be on this machine."""
    text = (f"intro\n{findings.START}\nMeasured on M.\n\n### perceptron\n\n- old p\n\n![p](p.png)\n\n"
            f"### features\n\n- f\n\n### tuned (suite.splits=3)\n\n- old t\n{findings.END}\nafter\n")
    out = findings.replace_section(text, "perceptron", ["### perceptron", "", "- new p", ""])
    assert out == text.replace("- old p\n\n![p](p.png)\n", "- new p\n")
    out = findings.replace_section(out, "tuned", ["### tuned (suite.splits=3)", "", "- new t", ""])
    assert out.endswith(f"### tuned (suite.splits=3)\n\n- new t\n{findings.END}\nafter\n")
    assert "### features\n\n- f\n\n### tuned" in out and out.startswith("intro\n")
    with pytest.raises(SystemExit, match="no findings section for ucr"):
        findings.replace_section(text, "ucr", ["### ucr"])
