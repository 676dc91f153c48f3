"""``--confirm N``: re-run the flagged groups before their verdict stands.

On a shared runner the whole machine speeds up and slows down by tens of percent from one
minute to the next, and one run per side can't tell that from a slower model. Re-running
only the flagged groups N more times adds samples taken at other moments. Where the
baseline can be re-run too (the same code, packages and machine as this process, or a
re-runner given through the API), each round runs the baseline's and the candidate's trials
back to back, alternating which goes first, and their times are then compared pair by pair,
which takes the machine's drift out of the ratio.

Re-runs go through :func:`harness.api.rerun`, which rebuilds the flagged trials from this
checkout's own suite configs (results are data: nothing stored in them is instantiated), and
write ordinary run dirs next to the candidate run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from harness.compare.match import GROUP, Side, add_records
from harness.compare.verdict import Comparison, compare
from harness.errors import UserError

#: ``rerun(trial_ids, run_dir)`` runs those trials into ``run_dir``.
Rerun = Callable[[set, Path], None]


def rerun_from_info(info: dict, stream=None, config_dirs=()) -> Rerun:
    """A re-runner for the trials of the run described by ``info`` (a run.json).

    The trials are rebuilt by :func:`harness.api.rerun` from this checkout's configs, never
    from the config stored in the results.
    """
    def rerun(trial_ids: set, run_dir: Path) -> None:
        from harness import api

        api.rerun(info, trial_ids, run_dir, config_dirs=config_dirs, stream=stream)

    return rerun


def baseline_rerunnable(base: Side, cand: Side) -> str:
    """Empty when the baseline's runs used this very code, packages and machine; else why not."""
    from harness import environment, fingerprint

    here = environment.git_commit(Path(__file__).resolve().parent)
    packages = environment.package_versions()
    machine = fingerprint.fingerprint()["id"]
    for run in base.runs.values():
        env = run.get("environment") or {}
        git = env.get("git_harness") or {}
        if not run.get("config"):
            return "its run.json has no config"
        if not here or here.get("dirty") or git.get("commit") != here.get("commit") or git.get("dirty"):
            return "it was run with other code than this process (git commit differs or a tree is dirty)"
        if env.get("packages") != packages:
            return "it was run with other package versions"
        if (run.get("fingerprint") or {}).get("id") != machine:
            return "it was run on another machine"
    return ""


def _trial_ids(side: Side, groups) -> set:
    wanted = {(g.key, g.device, g.threads) for g in groups}
    df = side.records
    mask = [tuple(row) in wanted for row in df[list(GROUP)].itertuples(index=False)]
    return set(df.loc[mask, "trial_id"].astype(str))


def _absorb(side: Side, run_dir: Path, round_: int) -> None:
    from harness import store

    info = store.read_run_info(run_dir)
    add_records(side, store.load([run_dir]), {info.get("run_id", run_dir.name): info},
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
