"""``--confirm N``: re-run the flagged groups before their verdict stands.

On a shared runner the whole machine speeds up and slows down by tens of percent from one
minute to the next, and one run per side can't tell that from a slower model. Re-running
only the flagged groups N more times adds samples taken at other moments. Where the
baseline can be re-run too (git shows its run dirs committed unmodified at the code this
process runs, on the same packages and machine; or a re-runner given through the API), each
round runs the baseline's and the candidate's trials back to back, alternating which goes
first, and their times are then compared pair by pair, which takes the machine's drift out of
the ratio.

Re-runs go through :func:`harness.api.rerun`, which rebuilds the flagged trials from this
checkout's own suite configs (results are data: nothing stored in them is instantiated), and
write ordinary run dirs next to the candidate run.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Callable

from harness.compare.match import GROUP, Side, add_records, read_info
from harness.compare.verdict import Comparison, compare

#: ``rerun(trial_ids, run_dir)`` runs those trials into ``run_dir``; ``trial_ids`` maps each to
#: the thread count it ran with, which the re-run keeps.
Rerun = Callable[[dict, Path], None]


def rerun_from_info(info: dict, stream=None, config_dirs=()) -> Rerun:
    """A re-runner for the trials of the run described by ``info`` (a run.json).

    The trials are rebuilt by :func:`harness.api.rerun` from this checkout's configs, never
    from the config stored in the results.
    """
    def rerun(trial_ids: set, run_dir: Path) -> None:
        from harness import api

        api.rerun(info, trial_ids, run_dir, config_dirs=config_dirs, stream=stream)

    return rerun


#: What makes a trial what it is, in a checkout: the code and the suite configs.
CODE_PATHS = ("harness", "suites", "pyproject.toml")


def _git(root: Path, *args: str) -> subprocess.CompletedProcess | None:
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None


def _checkout() -> Path:
    """The directory holding the harness package that runs: its checkout, when it is one."""
    return Path(__file__).resolve().parent.parent.parent


def _same_code_in_git(dirs, root: Path, config_dirs=()) -> str:
    """Empty when git shows ``dirs`` committed, unmodified, and made at this checkout's code; else why not.

    Only what git says counts: a run.json's commit, dirty flag, packages and fingerprint are
    text anyone can edit, and a forged "same commit" would make the baseline re-run with the
    candidate's code, which hides the very regression compare is there to find.
    """
    top = _git(root, "rev-parse", "--show-toplevel")
    if top is None or top.returncode != 0 or not top.stdout.strip():
        return f"this process's code ({root}) is not a git checkout, so nothing shows the baseline was made by it"
    top_dir = Path(top.stdout.strip()).resolve()
    code_paths = list(CODE_PATHS)
    for c in config_dirs:  # the user's configs (and the modules kept there) make the trials too
        try:
            code_paths.append(str(Path(c).resolve().relative_to(top_dir)) or ".")
        except ValueError:
            return f"the config dir {c} is outside this checkout ({top_dir}), so git can't show it unchanged"
    dirty = _git(top_dir, "status", "--porcelain", "--", *code_paths)
    if dirty is None or dirty.returncode != 0 or dirty.stdout.strip():
        return f"this checkout has uncommitted changes in {', '.join(code_paths)}"
    shallow = _git(top_dir, "rev-parse", "--is-shallow-repository")
    shallow = shallow is None or shallow.returncode != 0 or shallow.stdout.strip() != "false"
    for d in dirs:
        d = Path(d).resolve()
        try:
            d.relative_to(top_dir)
        except ValueError:
            return f"its run dir {d} is not inside this git checkout ({top_dir})"
        rel = str(d.relative_to(top_dir)) or "."
        tracked = _git(top_dir, "ls-files", "--stage", "--", rel)
        if tracked is None or tracked.returncode != 0 or not tracked.stdout.strip():
            return f"its run dir {rel} is not committed"
        if any(line.startswith("120000") for line in tracked.stdout.splitlines()):
            return f"its run dir {rel} holds a symlink, whose target git does not track"
        changed = _git(top_dir, "status", "--porcelain", "--untracked-files=all", "--ignored=matching", "--", rel)
        if changed is None or changed.returncode != 0 or changed.stdout.strip():
            return f"its run dir {rel} has changes that are not committed"
        last = _git(top_dir, "log", "-1", "--format=%H %P", "--", rel)
        commit, *parents = (last.stdout.split() if last is not None and last.returncode == 0 else []) or [""]
        if not commit:
            return f"git shows no commit for its run dir {rel}"
        if not parents and shallow:
            return (f"this clone is shallow, so the commit that last changed {rel} can't be told "
                    "(fetch the history: fetch-depth: 0)")
        same = _git(top_dir, "diff", "--quiet", commit, "HEAD", "--", *code_paths)
        if same is None or same.returncode != 0:
            return (f"its run dir {rel} was last committed at {commit[:12]}, and {', '.join(code_paths)} "
                    "changed between that commit and HEAD")
    return ""


def baseline_rerunnable(base: Side, cand: Side, root: Path | str | None = None, config_dirs=()) -> str:
    """Empty when the baseline's runs were made by this very code, packages and machine; else why not.

    The code is judged by git alone (see :func:`_same_code_in_git`) in the checkout at ``root``
    (default: the one this module lives in); the package versions and the machine fingerprint
    stored in the runs must also match this process's. ``config_dirs`` (the user's) count as
    code: they must be in the checkout and unchanged too.
    """
    from harness import environment, fingerprint

    if not base.files:
        return "it has no run dirs on disk"
    why = _same_code_in_git(base.files, Path(root) if root is not None else _checkout(), config_dirs)
    if why:
        return why
    packages = environment.package_versions()
    machine = fingerprint.fingerprint()["id"]
    for run in base.runs.values():
        env = run.get("environment") or {}
        if not run.get("config"):
            return "its run.json has no config"
        if env.get("packages") != packages:
            return "it was run with other package versions"
        if (run.get("fingerprint") or {}).get("id") != machine:
            return "it was run on another machine"
    return ""


def _trial_ids(side: Side, groups) -> dict[str, int]:
    """The trials of ``groups`` on ``side``, each with the thread count it ran with (-1: unknown).

    A re-run keeps that count: left to the thread policy, a trial first run on 2 threads and
    re-run on a busier machine would get 1, and its rows would fall outside the group they confirm.
    """
    wanted = {(g.key, g.device, g.threads) for g in groups}
    df = side.records
    mask = [tuple(row) in wanted for row in df[list(GROUP)].itertuples(index=False)]
    return dict(zip(df.loc[mask, "trial_id"].astype(str), df.loc[mask, "threads"].astype(int)))


def _absorb(side: Side, run_dir: Path, round_: int) -> None:
    from harness import store

    info = read_info(run_dir)
    add_records(side, store.load([run_dir]), {str(info.get("run_id") or run_dir.name): info},
                store.load_predictions([run_dir]), round_)


def confirm(result: Comparison, n: int, rerun_candidate: Rerun, rerun_baseline: Rerun | None = None,
            out_dir: Path | None = None, why_not_baseline: str = "", log=None) -> Comparison:
    """Re-run the flagged groups ``n`` times and compare again; the new verdicts stand."""
    flagged = result.flagged()
    if n <= 0 or not flagged:
        result.confirm_note = "" if n <= 0 else "--confirm: nothing flagged, nothing re-run."
        return result
    base, cand = result.baseline, result.candidate
    if out_dir is None:  # next to the candidate run; a second --confirm gets a fresh dir
        out_dir = Path(f"{cand.files[0]}.confirm")
        for i in range(2, 1000):
            if not out_dir.exists():
                break
            out_dir = Path(f"{cand.files[0]}.confirm-{i}")
    out_dir = Path(out_dir)
    # With a baseline to re-run, each group's baseline and candidate trials run back to back
    # (a second or so apart: the machine's speed barely moves in that time), alternating
    # which goes first. Without one, each round re-runs every flagged trial of the candidate.
    batches = [[g] for g in flagged] if rerun_baseline is not None else [flagged]
    for r in range(1, n + 1):
        for b, batch in enumerate(batches):
            steps = [("candidate", cand, rerun_candidate)]
            if rerun_baseline is not None:
                steps.append(("baseline", base, rerun_baseline))
                steps = steps if (r + b) % 2 else steps[::-1]
            for name, side, fn in steps:
                ids = _trial_ids(side, batch)
                run_dir = out_dir / f"r{r}-{b:03d}-{name}"
                if log:
                    log(f"harness compare: --confirm round {r}/{n}: {name}, {len(ids)} trial(s) -> {run_dir}")
                fn(ids, run_dir)
                _absorb(side, run_dir, r)
    keys = frozenset((g.key, g.device, g.threads) for g in flagged)
    new = compare(base, cand, result.options, interleaved=keys if rerun_baseline else frozenset())
    how = (f"re-run {n}x interleaved with the baseline" if rerun_baseline
           else f"re-run {n}x (candidate only)")
    for g in new.groups:
        if (g.key, g.device, g.threads) in keys:
            g.confirmed = how
    new.confirm_note = (f"--confirm {n}: {len(flagged)} flagged group(s) {how}; their verdicts use the "
                        + ("interleaved pairs for time." if rerun_baseline else "pooled samples.")
                        + ("" if rerun_baseline or not why_not_baseline
                           else f" The baseline was not re-run: {why_not_baseline}."))
    return new
