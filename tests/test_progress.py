"""Progress while a run runs: the ETA from per-model estimates, plain and quiet output off a terminal,
the live display on one (with a deep net's epoch), and the report's paths at the end."""

from __future__ import annotations

import io
import os
import re
from types import SimpleNamespace

import pytest

from harness import progress
from harness.progress import remaining_s

ANSI = re.compile(r"\x1b\[")


def _trial(model: str, dataset: str = "digits", features: str = "raw", seed: int = 0):
    """What a display reads of a trial (harness.plan.Trial has these)."""
    return SimpleNamespace(model=SimpleNamespace(name=model), dataset=SimpleNamespace(name=dataset),
                           features=SimpleNamespace(name=features), variant="",
                           label=f"{dataset}/{features}/{model}@cpu split=0 seed={seed}")


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


# --------------------------------------------------------------------------- the estimator


def test_remaining_falls_back_from_the_same_trial_to_the_model_to_everything():
    done = [(("a", "x", "raw", ""), 2.0), (("a", "y", "raw", ""), 4.0), (("b", "x", "raw", ""), 10.0)]
    assert remaining_s([], [("a", "x", "raw", "")]) is None  # nothing finished: unknown
    assert remaining_s(done, [("a", "x", "raw", "")]) == 2.0  # the same model, dataset, features
    assert remaining_s(done, [("a", "x", "pca", "")]) == 2.0  # the same model and dataset
    assert remaining_s(done, [("a", "z", "raw", "")]) == 3.0  # the model's mean
    assert remaining_s(done, [("c", "z", "raw", "")]) == pytest.approx(16 / 3)  # everything's mean
    assert remaining_s(done, [("a", "x", "raw", "")] * 3) == 6.0
    # the running trial counts what is left of it, never less than nothing
    assert remaining_s(done, [], running=("b", "x", "raw", ""), running_s=4.0) == 6.0
    assert remaining_s(done, [], running=("b", "x", "raw", ""), running_s=15.0) == 0.0


def _planted():
    """A plan in harness's order (dataset, then split, then model): four models from 1 s to 60 s,
    five splits each, on a dataset and on one that takes 1.5 times as long."""
    seconds = {"logreg": 1.0, "svm_rbf": 2.0, "mlp": 20.0, "cnn": 60.0}
    return [((m, d, "raw", ""), s * f) for d, f in (("digits", 1.0), ("mnist1d", 1.5))
            for _ in range(5) for m, s in seconds.items()]


def test_per_model_estimates_beat_elapsed_over_done_on_a_planted_run():
    trials = _planted()
    total = sum(s for _, s in trials)
    ours, naive = [], []  # the predicted total (elapsed + left) ÷ the true total, after each trial
    for i in range(1, len(trials)):
        elapsed = sum(s for _, s in trials[:i])
        ours.append((elapsed + remaining_s(trials[:i], [k for k, _ in trials[i:]])) / total)
        naive.append(elapsed / i * len(trials) / total)
    first_split, both_datasets = 3, 23  # indexes: every model seen once; every model on each dataset
    # from the first split on, ours holds still while elapsed ÷ done swings with each slow trial
    assert max(ours[first_split:20]) == min(ours[first_split:20])
    assert max(naive[first_split:20]) / min(naive[first_split:20]) > 1.4
    # once each model ran on each dataset, the rest is known exactly
    assert ours[both_datasets:] == pytest.approx([1.0] * len(ours[both_datasets:]))
    mean_error = {name: sum(abs(x - 1) for x in xs[first_split:]) / len(xs[first_split:])
                  for name, xs in (("ours", ours), ("naive", naive))}
    assert mean_error["ours"] < 0.6 * mean_error["naive"], mean_error


# --------------------------------------------------------------------------- off a terminal


def test_plain_display_is_a_line_per_tenth_at_most_every_interval():
    clock, out = FakeClock(), io.StringIO()
    trials = [_trial("logreg", seed=s) for s in range(20)]
    show = progress.Plain(trials, out, interval_s=30.0, clock_fn=clock)
    for t in trials:
        with show.running(t):
            clock.t += 10.0
        show.finished(t, {"status": "ok", "accuracy": 0.9, "fit_s": 1.0})
    lines = out.getvalue().splitlines()
    # a tenth is 2 trials (20 s) but lines are 30 s apart: after 3, 6, ... trials; none after the last
    assert [int(line.split()[1].split("/")[0]) for line in lines] == [3, 6, 9, 12, 15, 18]
    assert lines[0] == "harness: 3/20 trials  3 ok  0 failed  0:00:30 elapsed  ETA 0:02:50"
    assert not ANSI.search(out.getvalue())


def test_several_jobs_get_plain_lines_with_their_number_even_on_a_terminal():
    trials = [_trial("logreg", seed=s) for s in range(2)]
    show = progress.display(True, TTY(), trials, jobs=4, job="2", interval_s=0)
    assert isinstance(show, progress.Plain) and show.prefix == "harness[job 2]"
    assert isinstance(progress.display(False, TTY(), trials), progress.Quiet)
    assert isinstance(progress.display(True, io.StringIO(), trials), progress.Plain)


def test_a_run_off_a_terminal_prints_no_trial_lines(compose, tmp_path):
    from harness import api

    cfg = compose("suite=smoke", "report=false", "model=knn", "dataset=moons")
    out = io.StringIO()
    result = api.execute(api.plan(cfg, ["model=knn", "dataset=moons"]), cfg, tmp_path / "run", stream=out)
    assert result.counts["ok"] == 1
    lines = [line for line in out.getvalue().splitlines() if "warning" not in line]
    assert len(lines) == 1 and lines[0].startswith("harness: 1 trials of suite smoke -> "), lines
    assert not ANSI.search(out.getvalue())


# --------------------------------------------------------------------------- on a terminal


def _console(buf):
    from rich.console import Console

    return Console(file=buf, force_terminal=True, width=160, color_system=None)


def test_live_display_shows_the_running_trial_and_a_deep_nets_epoch(compose):
    from harness import api
    from harness.execution import InProcess

    over = ["model=mlp", "dataset=moons", "model.estimator.epochs=3", "model.estimator.hidden=[8]"]
    cfg = compose("suite=smoke", "report=false", *over)
    trial = api.plan(cfg, over).trials[0]
    buf = io.StringIO()
    show = progress.display(True, buf, [trial], console=_console(buf))
    assert isinstance(show, progress.Live)
    try:
        with show.running(trial):
            out = InProcess().run(trial, {"device": "cpu", "threads": 1})
            frame = show.render()
            show.live.refresh()  # what rich's thread draws twice a second
        show.finished(trial, out.record)
    finally:
        show.close()
    assert out.record["status"] == "ok", out.record["error"]
    text = buf.getvalue()
    assert trial.label in text
    assert re.search(r"epoch 3/3  step \d+/\d+  val acc \d\.\d{3}", text), text
    assert "1/1 trials  1 ok  0 failed" in text and "✓ " + trial.label in text
    assert frame is not None


def test_live_display_marks_a_failed_trial_with_its_error_and_counts_it():
    buf = io.StringIO()
    trials = [_trial("logreg"), _trial("broken"), _trial("knn")]
    show = progress.display(True, buf, trials, console=_console(buf))
    try:
        for t, record in zip(trials, [{"status": "ok", "accuracy": 0.9, "fit_s": 0.5},
                                      {"status": "failed", "error": "ValueError: boom"}]):
            with show.running(t):
                pass
            show.finished(t, record)
    finally:
        show.close()
    text = buf.getvalue()
    assert "✓ digits/raw/logreg@cpu" in text and "acc 0.900  fit 0.50 s" in text
    assert re.search(r"✗ digits/raw/broken@cpu split=0 seed=0  \d\.\d s  failed: ValueError: boom", text), text
    assert "2/3 trials  1 ok  1 failed" in text and "ETA 0:00:00" in text


def test_a_run_on_a_terminal_draws_the_live_display(compose, tmp_path):
    from harness import api

    cfg = compose("suite=smoke", "report=false", "model=knn", "dataset=moons")
    out = TTY()
    api.execute(api.plan(cfg, ["model=knn", "dataset=moons"]), cfg, tmp_path / "run", stream=out)
    text = out.getvalue()
    assert ANSI.search(text) and "moons/raw/knn@cpu split=0 seed=0" in text
    assert "1/1 trials  1 ok  0 failed" in text


@pytest.mark.slow  # a worker process that imports torch
def test_a_worker_process_sends_a_deep_nets_epochs_to_the_parent(compose):
    from harness import api
    from harness.execution import Isolated

    over = ["model=mlp", "dataset=moons", "model.estimator.epochs=2", "model.estimator.hidden=[8]"]
    cfg = compose("suite=smoke", "report=false", *over)
    trial = api.plan(cfg, over).trials[0]
    points, executor = [], Isolated(timeout_s=300, max_memory_gb=None)
    try:
        with progress.listening(points.append):
            out = executor.run(trial, {"device": "cpu", "threads": 1})
    finally:
        executor.close()
    assert out.record["status"] == "ok", out.record["error"]
    assert [p["epoch"] for p in points] == [1.0, 2.0] and all(p["epochs"] == 2 for p in points)


# --------------------------------------------------------------------------- the end of a run


def test_a_run_ends_with_the_reports_html_and_markdown_paths(tmp_path, capsys, monkeypatch):
    import harness.report
    from harness.app import run_app

    real = harness.report.write_report  # the real report, without drawing its figures (seconds)
    monkeypatch.setattr(harness.report, "write_report", lambda run_dirs: real(run_dirs, plots=False))
    code = run_app(["suite=smoke", "model=knn", "dataset=moons", "progress=false", f"results_dir={tmp_path}"])
    assert code == 0
    captured = capsys.readouterr()
    assert [line for line in captured.err.splitlines() if "warning" not in line][0].startswith("harness: 1 ok -> ")
    paths = dict(re.fullmatch(r"harness: report \((HTML|Markdown)\): +(\S+)", line).groups()
                 for line in captured.out.splitlines() if line.startswith("harness: report"))
    assert paths.keys() == {"HTML", "Markdown"}
    assert paths["HTML"].endswith("/report.html") and paths["Markdown"].endswith("/report.md")
    assert all(os.path.isfile(p) for p in paths.values())
