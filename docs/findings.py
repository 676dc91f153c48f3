"""Regenerate the README's Findings section from real runs of the suites.

    python docs/findings.py                 # run every suite below, then rewrite README.md
    python docs/findings.py --reuse         # rewrite from the latest finished runs
    python docs/findings.py --suites perceptron tabular   # only these sections; the rest stay
    python docs/findings.py --gpu           # on a GPU machine: hardware and scaling on the GPU

Runs go to results/findings/<suite>/<run-id>/ (not committed); the summary figures are copied
to docs/findings/ and the text between the README's findings markers is replaced. The GPU
section (its own markers) comes from runs under results/findings/gpu/, or from a hardware run
above that had a GPU, and says plainly when there is none. Nothing in either section is typed
by hand: every sentence is a finding computed by harness.report.findings, put in words by
the template table in harness.report.wording.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results" / "findings"
FIGURES = ROOT / "docs" / "findings"
START, END = "<!-- findings:start -->", "<!-- findings:end -->"
GPU_START, GPU_END = "<!-- gpu:start -->", "<!-- gpu:end -->"
GPU_RESULTS = RESULTS / "gpu"
#: what --gpu runs on a GPU machine: the hardware sweep (CPU and GPU rows) and the data-size curve
GPU_SUITES = [("hardware", []), ("scaling", ["device=cuda"])]

#: (suite, extra overrides) in the order the README tells them
SUITES = [
    ("perceptron", []),
    ("features", []),
    ("scaling", []),
    ("tabular", []),
    ("mnist1d_paper", []),
    ("hardware", []),
    ("ucr", []),
    # 3 of the suite's 10 splits: about 2 hours on 2 cores (20 fits per tuned trial), the 10 about 6
    ("tuned", ["suite.splits=3"]),
]
#: suites that need an optional extra, as (module, install command): where the module is missing
#: the suite is not run and keeps its latest run (run it with a Python that has the extra:
#: ``.venv-ts/bin/python docs/findings.py --suites ucr``)
EXTRAS = {"ucr": ("aeon", 'pip install "harness[ts]"'), "tuned": ("optuna", 'pip install "harness[tune]"')}


def latest_run(suite: str, root: Path | None = None) -> Path | None:
    runs = sorted(p.parent for p in ((root or RESULTS) / suite).glob("*/report.md"))
    return runs[-1] if runs else None


def run_suite(suite: str, extra: list[str], root: Path | None = None) -> Path:
    """Run a suite with ``harness run`` in a fresh process; its run dir (named here, not guessed)."""
    from harness.api import new_run_id

    root, run_id = root or RESULTS, new_run_id()
    cmd = [sys.executable, "-m", "harness.cli", "run", f"suite={suite}", f"results_dir={root}",
           f"run_id={run_id}", *extra]
    print("$", " ".join(cmd[2:]), flush=True)
    t0 = time.perf_counter()
    res = subprocess.run(cmd, cwd=ROOT)
    print(f"  {suite}: exit {res.returncode} after {time.perf_counter() - t0:.0f} s", flush=True)
    if res.returncode not in (0, 1):  # 1: some trial failed, which the findings report
        raise SystemExit(f"suite {suite} did not finish (exit {res.returncode})")
    return root / suite / run_id


def can_run(suite: str) -> bool:
    """Whether this Python has what ``suite`` needs (:data:`EXTRAS`); says so where it has not."""
    import importlib.util

    module, install = EXTRAS.get(suite, (None, ""))
    if module is None or importlib.util.find_spec(module) is not None:
        return True
    print(f"  {suite}: not run, it needs {module} ({install}); its latest run is used", flush=True)
    return False


def gpu_rows(run_dir: Path) -> int:
    """How many trials of a run finished ok on a GPU."""
    from harness import store

    df = store.load(run_dir)
    if df.empty:
        return 0
    return int((df["status"].eq("ok") & df["device"].astype(str).str.startswith("cuda")).sum())


def gpu_section() -> list[str]:
    """The README's GPU section: from GPU runs where there are any, else a plain statement."""
    runs = []
    for suite, extra in GPU_SUITES:
        run = latest_run(suite, GPU_RESULTS)
        if run is None and not extra:  # a hardware run of the main findings that had a GPU
            run = latest_run(suite)
        if run is not None and gpu_rows(run):
            runs.append((suite, run, extra))
    if not runs:
        main = latest_run("hardware")
        where = f" ({machine(main)})" if main else ""
        return ["", "**Not measured yet.** No GPU was available to the sessions that produced the "
                f"findings above{where}: the hardware suite's GPU trials were skipped there, so no GPU "
                "figure appears in this README. On a machine with an NVIDIA GPU, "
                "`make setup TORCH=torch && .venv/bin/python docs/findings.py --gpu` runs `hardware` "
                "(CPU and GPU rows) and `scaling device=cuda` and fills this section from them.", ""]
    body = ["", f"Measured on {machine(runs[0][1])}; regenerate with `python docs/findings.py --gpu`.", ""]
    for suite, run, extra in runs:
        body += section(suite, run, extra, prefix="gpu-")
    return body


def replace_between(text: str, start: str, end: str, lines: list[str]) -> str:
    if start not in text or end not in text:
        raise SystemExit(f"README.md has no {start} ... {end} markers")
    before, rest = text.split(start, 1)
    return before + start + "\n".join(lines) + end + rest.split(end, 1)[1]


def replace_section(text: str, suite: str, lines: list[str]) -> str:
    """``text`` with the findings section of ``suite`` (from its ``### suite`` heading to the next
    heading or the end marker) replaced by ``lines``, and everything else kept as it is."""
    body_start = text.index(START) + len(START)
    body = text[body_start:text.index(END)]
    heading = next((m.start() for m in re.finditer(rf"^### {re.escape(suite)}(?: \(.*\))?$", body, re.M)), None)
    if heading is None:
        raise SystemExit(f"README.md has no findings section for {suite}; run `python docs/findings.py` to write "
                         "them all")
    nxt = body.find("\n### ", heading)
    end = len(body) if nxt < 0 else nxt + 1
    new = "\n".join(lines) + ("\n" if nxt >= 0 else "")
    return text[:body_start] + body[:heading] + new + body[end:] + text[body_start + len(body):]


def section(suite: str, run_dir: Path, extra: list[str], prefix: str = "") -> list[str]:
    from harness import store
    from harness.report import content, markdown, tuning, write_report
    from harness.report.ucr import published_blocks

    write_report([run_dir])  # its figures and report.md drawn by this code, whenever the run was made
    info = store.read_run_info(run_dir)
    report = content.build([run_dir], store.load(run_dir), [info])
    ans = report.answers[0]
    cmd = " ".join(["harness run", f"suite={suite}", *extra])
    lines = [f"### {suite}" + (f" ({' '.join(extra)})" if extra else ""), "", f"**Question.** {ans.question}", "",
             f"**Hypothesis.** {ans.hypothesis}", "",
             f"*From `{cmd}` ({sum(report.counts.values())} trials; {provenance(run_dir)}).*", ""]
    lines += [f"- {s}" for s in ans.sentences] + [""]
    lines += [line for b in published_blocks(report) for line in markdown.block(b)]  # UCR runs only
    lines += [line for b in tuning.blocks(report) for line in markdown.block(b)]  # runs with tuning: only
    for fig in sorted(run_dir.glob("fig-*.png")):
        if fig.stem in (f"fig-summary-{suite}", "fig-accuracy-vs-train-size", "fig-cpu-vs-gpu", "fig-published"):
            target = FIGURES / f"{prefix}{suite}-{fig.stem.removeprefix('fig-')}.png"
            shutil.copyfile(fig, target)
            lines += [f"![{suite}: {fig.stem.removeprefix('fig-')}](docs/findings/{target.name})", ""]
    return lines


def machine(run_dir: Path) -> str:
    from harness import store

    env = store.read_run_info(run_dir).get("environment", {})
    return (f"{env.get('cpu_model', '?')}, {env.get('usable_cores', '?')} cores, "
            f"{env.get('memory_gb', '?')} GB, no GPU" if not env.get("gpus") else "GPU: "
            + ", ".join(g["name"] for g in env["gpus"]))


def provenance(run_dir: Path) -> str:
    """``run 20261125-0906-…, harness commit abc1234567`` (`+dirty` when the tree had changes)."""
    from harness import store

    info = store.read_run_info(run_dir)
    git = (info.get("environment") or {}).get("git_harness") or {}
    commit = (git.get("commit") or "")[:10]
    return f"run {info.get('run_id', run_dir.name)}" + (
        f", harness commit `{commit}`{'+dirty' if git.get('dirty') else ''}" if commit else "")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reuse", action="store_true", help="use the latest finished run of each suite")
    ap.add_argument("--suites", nargs="*", choices=[suite for suite, _ in SUITES], metavar="SUITE",
                    help="run only these suites and rewrite only their sections (the others stay as they are)")
    ap.add_argument("--gpu", action="store_true",
                    help="run only the GPU suites (hardware; scaling device=cuda) and rewrite the GPU section")
    ns = ap.parse_args()
    # Every usable core for unpinned trials, whatever the load at each suite's start: the hardware
    # suite compares 1 thread with all of them, and findings mean the same machine throughout.
    os.environ.setdefault("HARNESS_THREADS", "all")
    FIGURES.mkdir(parents=True, exist_ok=True)
    readme = ROOT / "README.md"
    if ns.gpu:
        import torch

        if not torch.cuda.is_available():
            raise SystemExit(f"--gpu: torch {torch.__version__} sees no CUDA device here; run it on a GPU "
                             "machine with a CUDA build of torch (make setup TORCH=torch)")
        for suite, extra in GPU_SUITES:
            run_suite(suite, extra, GPU_RESULTS)
        readme.write_text(replace_between(readme.read_text(), GPU_START, GPU_END, gpu_section()))
        print(f"rewrote the GPU section of {readme}")
        return 0
    # Every run first, then the README and its figures: a run records whether the working tree
    # was clean, and writing figures between runs would make the later ones "dirty".
    runs = {suite: run_suite(suite, extra) for suite, extra in SUITES
            if not ns.reuse and (not ns.suites or suite in ns.suites) and can_run(suite)}
    if ns.suites:  # only their sections: the other suites' runs need not be here (results/ is not committed)
        text = readme.read_text()
        for suite, extra in SUITES:
            if suite in ns.suites:
                run_dir = runs.get(suite) or latest_run(suite)
                if run_dir is None:
                    raise SystemExit(f"no run of {suite} under {RESULTS}; run `python docs/findings.py --suites {suite}`")
                text = replace_section(text, suite, section(suite, run_dir, extra))
        readme.write_text(text)
        print(f"rewrote the findings of {', '.join(ns.suites)} in {readme}")
        return 0
    body, first = [], None
    for suite, extra in SUITES:
        run_dir = runs[suite] if suite in runs else latest_run(suite)
        if run_dir is None:
            body += [f"### {suite}", "", f"Not measured yet: run `python docs/findings.py --suites {suite}`.", ""]
            continue
        first = first or run_dir
        body += section(suite, run_dir, extra)
    head = ["", f"Measured on {machine(first)}, with the default configs; regenerate with "
            "`python docs/findings.py` (it runs the suites and rewrites this section).", ""] if first else [""]
    text = replace_between(readme.read_text(), START, END, head + body)
    readme.write_text(replace_between(text, GPU_START, GPU_END, gpu_section()))
    print(f"rewrote the findings and GPU sections of {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
