"""Regenerate the README's Findings section from real runs of the suites.

    python docs/findings.py                 # run every suite below, then rewrite README.md
    python docs/findings.py --reuse         # rewrite from the latest finished runs
    python docs/findings.py --suites perceptron tabular

Runs go to results/findings/<suite>/<run-id>/ (not committed); the summary figures are copied
to docs/findings/ and the text between the README's findings markers is replaced. Nothing in
the section is typed by hand: every sentence comes from harness.report's findings.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results" / "findings"
FIGURES = ROOT / "docs" / "findings"
START, END = "<!-- findings:start -->", "<!-- findings:end -->"

#: (suite, extra overrides) in the order the README tells them
SUITES = [
    ("perceptron", []),
    ("features", []),
    ("scaling", []),
    ("tabular", []),
    ("mnist1d_paper", []),
    ("hardware", []),
]


def latest_run(suite: str) -> Path | None:
    runs = sorted(p.parent for p in (RESULTS / suite).glob("*/report.md"))
    return runs[-1] if runs else None


def run_suite(suite: str, extra: list[str]) -> Path:
    cmd = [sys.executable, "-m", "harness.cli", "run", f"suite={suite}", f"results_dir={RESULTS}", *extra]
    print("$", " ".join(cmd[2:]), flush=True)
    t0 = time.perf_counter()
    res = subprocess.run(cmd, cwd=ROOT)
    print(f"  {suite}: exit {res.returncode} after {time.perf_counter() - t0:.0f} s", flush=True)
    if res.returncode not in (0, 1):  # 1: some trial failed, which the findings report
        raise SystemExit(f"suite {suite} did not finish (exit {res.returncode})")
    return latest_run(suite)


def section(suite: str, run_dir: Path, extra: list[str]) -> list[str]:
    from harness import store
    from harness.report import content

    info = store.read_run_info(run_dir)
    report = content.build([run_dir], store.load(run_dir), [info])
    ans = report.answers[0]
    cmd = " ".join(["harness run", f"suite={suite}", *extra])
    lines = [f"### {suite}", "", f"**Question.** {ans.question}", "",
             f"**Hypothesis.** {ans.hypothesis}", "",
             f"*From `{cmd}` ({sum(report.counts.values())} trials).*", ""]
    lines += [f"- {s}" for s in ans.sentences] + [""]
    for fig in sorted(run_dir.glob("fig-*.png")):
        if fig.stem in (f"fig-summary-{suite}", "fig-accuracy-vs-train-size", "fig-cpu-vs-gpu"):
            target = FIGURES / f"{suite}-{fig.stem.removeprefix('fig-')}.png"
            shutil.copyfile(fig, target)
            lines += [f"![{suite}: {fig.stem.removeprefix('fig-')}](docs/findings/{target.name})", ""]
    return lines


def machine(run_dir: Path) -> str:
    from harness import store

    env = store.read_run_info(run_dir).get("environment", {})
    git = ((env.get("git_harness") or {}).get("commit") or "")[:10]
    return (f"{env.get('cpu_model', '?')}, {env.get('usable_cores', '?')} cores, "
            f"{env.get('memory_gb', '?')} GB, no GPU" if not env.get("gpus") else "GPU: "
            + ", ".join(g["name"] for g in env["gpus"])) + (f"; harness commit `{git}`" if git else "")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reuse", action="store_true", help="use the latest finished run of each suite")
    ap.add_argument("--suites", nargs="*", help="only these suites (others keep their latest run)")
    ns = ap.parse_args()
    FIGURES.mkdir(parents=True, exist_ok=True)
    body, first = [], None
    for suite, extra in SUITES:
        fresh = not ns.reuse and (not ns.suites or suite in ns.suites)
        run_dir = run_suite(suite, extra) if fresh else latest_run(suite)
        if run_dir is None:
            body += [f"### {suite}", "", f"Not measured yet: run `python docs/findings.py --suites {suite}`.", ""]
            continue
        first = first or run_dir
        body += section(suite, run_dir, extra)
    head = ["", f"Measured on {machine(first)}, with the default configs; regenerate with "
            "`python docs/findings.py` (it runs the suites and rewrites this section).", ""] if first else [""]
    readme = ROOT / "README.md"
    text = readme.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"README.md has no {START} ... {END} markers")
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    readme.write_text(before + START + "\n".join(head + body) + END + after)
    print(f"rewrote the findings section of {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
