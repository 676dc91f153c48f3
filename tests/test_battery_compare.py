"""`harness compare` against hostile and unlucky input.

1. The baseline is re-run by ``--confirm`` only on evidence git gives, never on what a
   run.json says (anyone can edit it).
2. Strings from data cannot break the Markdown (a PR comment's table).
3. The gate does not pass on missing work; other suites and newer schemas are refused.
4. Bad input is one line and exit 2, never a traceback.

No test here runs anything stored in a results dir: re-runs are test functions.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from harness import cli, environment, fingerprint
from harness.compare import Options, compare, confirm, load_side, markdown, to_json
from harness.compare.command import run_compare
from harness.errors import UserError
from harness.schema import SCHEMA_VERSION
from test_compare import noisy_runs, rec, side

FORGED = "f" * 40


# --- helpers ------------------------------------------------------------------------------


def write_run(path: Path, rows, **info) -> Path:
    """A run dir written by hand: run.json exactly as given (``info``), records as given."""
    path.mkdir(parents=True, exist_ok=True)
    body = {"schema_version": 1, "run_id": path.name, "suite": "syn", "fingerprint": {"id": "fp-a"},
            "calibration": {"score_s": 0.01}, **info}
    (path / "run.json").write_text(json.dumps(body))
    (path / "records-0.jsonl").write_text("".join(json.dumps(dict(r, run_id=path.name)) + "\n" for r in rows))
    return path


def this_process_info() -> dict:
    """A run.json that claims everything `baseline_rerunnable` once trusted: same commit, clean
    tree, same packages, same machine."""
    return {"config": {"suite": {"name": "syn"}}, "fingerprint": {"id": fingerprint.fingerprint()["id"]},
            "environment": {"git_harness": {"commit": FORGED, "dirty": False},
                            "packages": environment.package_versions()}}


@pytest.fixture
def forged_clean_checkout(monkeypatch):
    """This process believes it runs from a clean checkout at commit FORGED (what the run.json says)."""
    monkeypatch.setattr(environment, "git_commit", lambda path: {"commit": FORGED, "dirty": False, "root": "/"})


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t", "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo.parent)}
    out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=True)
    return out.stdout.strip()


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A git checkout like this one (harness/, suites/, pyproject.toml) with a committed baseline;
    `baseline_rerunnable` is pointed at it."""
    root = tmp_path / "checkout"
    for rel, text in (("harness/code.py", "x = 1\n"), ("suites/s.yaml", "a: 1\n"), ("pyproject.toml", "[p]\n")):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "code")
    rows = noisy_runs(np.random.default_rng(0), n_runs=1)
    write_run(root / "results" / "baselines" / "syn" / "b1", rows, **this_process_info())
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "baseline")
    monkeypatch.setattr(confirm, "_checkout", lambda: root, raising=False)
    return root


def rerunnable(base_dir: Path) -> str:
    base = load_side(str(base_dir))
    return confirm.baseline_rerunnable(base, base)


def unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def cli_main(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["compare", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def one_line_error(code: int, err: str) -> bool:
    return code == 2 and err.startswith("harness: error:") and len(err.strip().splitlines()) == 1


# --- 1. the baseline is re-run only on git's evidence --------------------------------------


@pytest.mark.usefixtures("forged_clean_checkout")
def test_forged_run_json_outside_git_does_not_make_the_baseline_rerunnable(tmp_path, monkeypatch):
    """A run.json claiming HEAD's commit, clean, this machine: outside git it proves nothing.
    End to end through --confirm: only the candidate is re-run, and the note says why."""
    not_git = tmp_path / "not-git"
    not_git.mkdir()
    monkeypatch.setattr(confirm, "_checkout", lambda: not_git, raising=False)
    rows = noisy_runs(np.random.default_rng(1), n_runs=1)
    base_dir = write_run(tmp_path / "outside" / "base", rows, **this_process_info())
    slower = [dict(r, fit_s=r["fit_s"] * 3, predict_s=r["predict_s"] * 3) for r in rows]
    cand_dir = write_run(tmp_path / "outside" / "cand", slower, **this_process_info())

    ran = []

    def fake_rerun_from_info(info, stream=None, config_dirs=()):
        def rerun(trial_ids, run_dir):  # test code: writes what a re-run of the candidate would
            ran.append(Path(run_dir).name)
            write_run(Path(run_dir), [r for r in slower if r["trial_id"] in trial_ids], **this_process_info())
        return rerun

    monkeypatch.setattr(confirm, "rerun_from_info", fake_rerun_from_info)
    result = run_compare(load_side(str(base_dir)), load_side(str(cand_dir)), Options(), confirm_n=1)
    assert ran and all(name.endswith("-candidate") for name in ran), ran
    assert "candidate only" in result.confirm_note
    assert "The baseline was not re-run" in result.confirm_note and "not a git checkout" in result.confirm_note


@pytest.mark.usefixtures("forged_clean_checkout")
def test_run_dirs_outside_the_checkout_are_not_rerunnable(repo, tmp_path):
    rows = noisy_runs(np.random.default_rng(0), n_runs=1)
    outside = write_run(tmp_path / "elsewhere" / "b1", rows, **this_process_info())
    assert "not inside this git checkout" in rerunnable(outside)


def test_committed_unmodified_baseline_of_this_code_is_rerunnable(repo):
    assert rerunnable(repo / "results" / "baselines" / "syn") == ""


@pytest.mark.usefixtures("forged_clean_checkout")
def test_code_changed_since_the_baseline_was_committed(repo):
    (repo / "harness" / "code.py").write_text("x = 2  # slower now\n")
    git(repo, "commit", "-q", "-am", "change the code")
    assert "changed between" in rerunnable(repo / "results" / "baselines" / "syn")


@pytest.mark.usefixtures("forged_clean_checkout")
def test_suites_or_pyproject_changed_since_the_baseline_count_too(repo):
    (repo / "suites" / "s.yaml").write_text("a: 2\n")
    git(repo, "commit", "-q", "-am", "change a suite")
    assert "changed between" in rerunnable(repo / "results" / "baselines" / "syn")


@pytest.mark.usefixtures("forged_clean_checkout")
def test_an_edited_baseline_is_not_rerunnable(repo):
    run_json = repo / "results" / "baselines" / "syn" / "b1" / "run.json"
    run_json.write_text(run_json.read_text().replace('"syn"', '"syn" '))
    assert "not committed" in rerunnable(run_json.parent.parent)


@pytest.mark.usefixtures("forged_clean_checkout")
def test_an_uncommitted_file_in_the_baseline_is_not_rerunnable(repo):
    extra = repo / "results" / "baselines" / "syn" / "b1" / "records-1.jsonl"
    extra.write_text(json.dumps(rec(key="smuggled", run_id="b1")) + "\n")
    assert "not committed" in rerunnable(extra.parent.parent)


@pytest.mark.usefixtures("forged_clean_checkout")
def test_an_untracked_baseline_inside_the_checkout_is_not_rerunnable(repo):
    rows = noisy_runs(np.random.default_rng(0), n_runs=1)
    fresh = write_run(repo / "results" / "baselines" / "new" / "b1", rows, **this_process_info())
    assert "is not committed" in rerunnable(fresh.parent)


@pytest.mark.usefixtures("forged_clean_checkout")
def test_a_dirty_checkout_is_not_rerunnable(repo):
    (repo / "harness" / "code.py").write_text("x = 3  # not committed\n")
    assert "uncommitted changes" in rerunnable(repo / "results" / "baselines" / "syn")
    git(repo, "checkout", "-q", "--", "harness")
    (repo / "harness" / "new_module.py").write_text("y = 1\n")  # untracked code counts too
    assert "uncommitted changes" in rerunnable(repo / "results" / "baselines" / "syn")


def test_packages_and_machine_still_have_to_match(repo, tmp_path):
    run_json = repo / "results" / "baselines" / "syn" / "b1" / "run.json"
    info = json.loads(run_json.read_text())
    info["fingerprint"]["id"] = "another-box"
    run_json.write_text(json.dumps(info))
    git(repo, "commit", "-q", "-am", "a baseline of another machine")
    assert "another machine" in rerunnable(run_json.parent.parent)


# --- 2. Markdown: strings from data stay text ------------------------------------------------


def test_markdown_escapes_labels_errors_notes_and_names():
    evil = "<script>alert(1)</script> a|b\nc & `d`"
    base = [rec(key="k`1|x", model=evil, dataset="d|s", device="cpu|x"), rec(key="k2", model="ok")]
    cand = [rec(key="k`1|x", model=evil, dataset="d|s", device="cpu|x", status="failed"),
            rec(key="k2", model="ok", status="failed")]
    cand[0]["error"] = "ValueError: <img src=x onerror=alert(1)> | broke\r\nthe | table"
    b, c = side(base, fingerprint="fp|<b>"), side(cand, fingerprint="fp|<b>")
    b.name, c.name = "base|`name`\nx", "cand<i>"
    result = compare(b, c)
    result.confirm_note = "--confirm 1: note | with <tags>\nand lines"
    md = markdown(result)

    assert "<script" not in md and "<img" not in md and "<b>" not in md and "<tags>" not in md
    assert "&lt;script&gt;" in md and "&lt;img" in md and "&amp;" in md
    lines = md.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| verdict"))
    rows = lines[header + 2:]
    rows = rows[:next((i for i, line in enumerate(rows) if not line.startswith("|")), len(rows))]
    assert len(rows) == len(result.groups) == 2  # no newline from data split a row
    width = unescaped_pipes(lines[header])
    assert all(unescaped_pipes(r) == width for r in rows), rows
    # Backticks from data cannot open or close a code span: every row has an even number of them.
    assert all(r.count("`") % 2 == 0 for r in rows), rows
    names = next(line for line in lines if line.startswith("Baseline "))
    assert names.count("`") == 4 and "\n" not in names
    note = next(line for line in lines if line.startswith("--confirm 1"))
    assert "&lt;tags&gt;" in note and "and lines" in note


def test_markdown_escapes_the_time_note_fingerprints():
    result = compare(side([rec()], fingerprint="<b>a|b"), side([rec()], fingerprint="other"))
    md = markdown(result)
    assert "<b>" not in md and "&lt;b&gt;a\\|b" in md


# --- 3. the gate does not pass on missing work -------------------------------------------------


def test_missing_groups_fail_the_gate_unless_allowed():
    base = [rec(key=k) for k in "abcdef"]
    truncated = [rec(key="a")]
    result = compare(side(base), side(truncated))
    assert result.counts["missing"] == 5 and result.exit_code == 1
    assert "REGRESSION" in markdown(result)
    allowed = compare(side(base), side(truncated), Options(allow_missing=True))
    assert allowed.counts["missing"] == 5 and allowed.exit_code == 0


def test_cli_missing_groups_exit_1_and_allow_missing_exits_0(tmp_path, capsys):
    base = write_run(tmp_path / "base", [rec(key=k) for k in "abc"])
    cand = write_run(tmp_path / "cand", [rec(key="a")])
    code, out, err = cli_main(capsys, base, cand)
    assert code == 1 and "2 missing" in err
    code, out, err = cli_main(capsys, base, cand, "--allow-missing", "--json", tmp_path / "c.json")
    assert code == 0, err
    assert json.loads((tmp_path / "c.json").read_text())["options"]["allow_missing"] is True
    disjoint = write_run(tmp_path / "disjoint", [rec(key="z")])
    code, _, _ = cli_main(capsys, base, disjoint)
    assert code == 1


def test_allow_missing_is_in_the_help(capsys):
    with pytest.raises(SystemExit):
        cli.main(["compare", "--help"])
    assert "--allow-missing" in capsys.readouterr().out


def test_runs_of_different_suites_are_refused(tmp_path, capsys):
    base = write_run(tmp_path / "base", [rec(key=k) for k in "abcdef"], suite="quick")
    cand = write_run(tmp_path / "cand", [dict(rec(key="a"), suite="ci")], suite="ci")
    code, out, err = cli_main(capsys, base, cand)
    assert one_line_error(code, err) and "suite" in err and out == ""


def test_records_of_another_suite_are_refused_without_run_json(tmp_path, capsys):
    base = write_run(tmp_path / "base", [dict(rec(key="a"), suite="quick")], suite=None)
    cand = write_run(tmp_path / "cand", [dict(rec(key="a"), suite="ci")], suite=None)
    code, _, err = cli_main(capsys, base, cand)
    assert one_line_error(code, err) and "suite" in err


@pytest.mark.parametrize("which", ["base", "cand"])
def test_a_newer_schema_is_refused_on_either_side(tmp_path, capsys, which):
    runs = {name: write_run(tmp_path / name, [rec()]) for name in ("base", "cand")}
    info = json.loads((runs[which] / "run.json").read_text())
    (runs[which] / "run.json").write_text(json.dumps(dict(info, schema_version=99)))
    code, out, err = cli_main(capsys, runs["base"], runs["cand"])
    assert one_line_error(code, err) and "newer harness" in err and out == ""


def test_a_newer_schema_in_one_run_of_a_baseline_dir_is_refused(tmp_path, capsys):
    for i in range(3):
        write_run(tmp_path / "baselines" / "syn" / f"b{i}", [rec()], schema_version=SCHEMA_VERSION + (i == 2))
    cand = write_run(tmp_path / "cand", [rec()])
    code, _, err = cli_main(capsys, "--baseline", tmp_path / "baselines" / "syn", cand)
    assert one_line_error(code, err) and "b2" in err and "newer harness" in err


def test_a_schema_version_that_is_not_a_number_is_refused(tmp_path, capsys):
    base = write_run(tmp_path / "base", [rec()], schema_version="2")
    cand = write_run(tmp_path / "cand", [rec()])
    code, _, err = cli_main(capsys, base, cand)
    assert one_line_error(code, err) and "run.json" in err


# --- 4. bad input: one line, exit 2 -------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--md", "--json"])
def test_an_unwritable_output_path_is_one_line(tmp_path, capsys, flag):
    base = write_run(tmp_path / "base", [rec()])
    cand = write_run(tmp_path / "cand", [rec()])
    for target in (tmp_path / "no" / "such" / "dir" / "out", tmp_path):  # a missing dir; a directory
        code, out, err = cli_main(capsys, base, cand, flag, target)
        assert one_line_error(code, err) and f"cannot write {target}" in err, err


def test_a_run_json_that_is_a_list_is_one_line(tmp_path, capsys):
    base = write_run(tmp_path / "base", [rec()])
    cand = write_run(tmp_path / "cand", [rec()])
    (cand / "run.json").write_text("[1, 2, 3]")
    code, out, err = cli_main(capsys, base, cand)
    assert one_line_error(code, err) and str(cand / "run.json") in err


@pytest.mark.parametrize("field, value", [("fingerprint", "abc"), ("fingerprint", {"id": [1]}),
                                          ("calibration", [0.01]), ("run_id", {"a": 1}),
                                          ("environment", "x"), ("suite", 3)])
def test_run_json_fields_of_the_wrong_type_are_one_line(tmp_path, capsys, field, value):
    base = write_run(tmp_path / "base", [rec()])
    cand = write_run(tmp_path / "cand", [rec()], **{field: value})
    code, _, err = cli_main(capsys, base, cand)
    assert one_line_error(code, err) and field in err


def test_a_zero_or_negative_calibration_is_no_calibration():
    for score in (0, 0.0, -1.0):
        b, c = side([rec()], calibration=score), side([rec()], calibration=0.01)
        result = compare(b, c)
        assert result.exit_code == 0 and not result.load_note
        markdown(result)
        to_json(result)


def test_records_with_values_of_the_wrong_type_do_not_crash(tmp_path, capsys):
    rows = [rec(key="a"), rec(key="b", seed=1)]
    bad = [dict(rows[0], model=["x", "y"], dataset={"d": 1}, seed=1e999, threads="two"),
           dict(rows[1], key=["b"], error={"e": 1}, status="failed", accuracy="high", round=5)]
    base = write_run(tmp_path / "base", rows)
    cand_dir = tmp_path / "cand"
    cand_dir.mkdir()
    (cand_dir / "run.json").write_text(json.dumps({"schema_version": 1, "run_id": "cand", "suite": "syn",
                                                    "fingerprint": {"id": "fp-a"}}))
    (cand_dir / "records-0.jsonl").write_text("".join(json.dumps(r).replace("Infinity", "1e999") + "\n"
                                                      for r in bad))
    code, out, err = cli_main(capsys, base, cand_dir)
    assert code in (0, 1) and "Traceback" not in err and "| verdict" in out
    cand = load_side(str(cand_dir))
    assert (cand.records["round"] == 0).all()  # a `round` in a record doesn't make it a --confirm re-run


def test_damaged_predictions_are_one_line(tmp_path, capsys):
    base = write_run(tmp_path / "base", [rec()])
    cand = write_run(tmp_path / "cand", [rec()])
    (cand / "predictions-0.jsonl").write_text(json.dumps({"trial_id": "k1-cpux1-s0", "y_true": {"b64": "!!"},
                                                          "y_pred": {"dtype": "O"}}) + "\n")
    code, _, err = cli_main(capsys, base, cand)
    assert one_line_error(code, err) and "predictions" in err


def test_confirm_into_an_unwritable_place_is_one_line(tmp_path, monkeypatch):
    rows = noisy_runs(np.random.default_rng(1), n_runs=1)
    base = load_side(str(write_run(tmp_path / "base", rows)))
    cand = load_side(str(write_run(tmp_path / "cand", [dict(r, accuracy=0.5) for r in rows])))

    def refuse(info, stream=None, config_dirs=()):
        def rerun(trial_ids, run_dir):
            raise PermissionError(13, "Permission denied", str(run_dir))
        return rerun

    monkeypatch.setattr(confirm, "rerun_from_info", refuse)
    with pytest.raises(UserError, match="cannot write .*Permission denied"):
        run_compare(base, cand, Options(), confirm_n=1)


def test_baseline_save_refuses_a_run_id_that_leaves_the_suite_dir(tmp_path):
    from harness.compare import baseline as bl

    run = write_run(tmp_path / "runs" / "r1", [rec()], run_id="../../escaped")
    with pytest.raises(UserError, match="run_id"):
        bl.save([run], tmp_path / "out" / "baselines")
    assert not (tmp_path / "out" / "escaped").exists() and not (tmp_path / "escaped").exists()


def test_a_shallow_clone_cannot_tell_when_the_baseline_was_committed(repo, tmp_path, monkeypatch):
    """In a depth-1 clone the only commit seems to add everything: the code changed since the
    baseline was committed would look unchanged."""
    (repo / "harness" / "code.py").write_text("x = 2  # slower now\n")
    git(repo, "commit", "-q", "-am", "change the code")
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow))
    monkeypatch.setattr(confirm, "_checkout", lambda: shallow)
    assert "shallow" in rerunnable(shallow / "results" / "baselines" / "syn")


@pytest.mark.usefixtures("forged_clean_checkout")
def test_a_committed_symlink_in_the_baseline_is_not_rerunnable(repo, tmp_path):
    """git tracks a symlink, not what it points at: records outside git could change freely."""
    outside = tmp_path / "records.jsonl"
    outside.write_text(json.dumps(rec(key="elsewhere", run_id="b1")) + "\n")
    (repo / "results" / "baselines" / "syn" / "b1" / "records-1.jsonl").symlink_to(outside)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "a symlink")
    assert "symlink" in rerunnable(repo / "results" / "baselines" / "syn")
