"""Regression tracking: compare a candidate's records with a baseline's, group by group.

``harness compare BASELINE CANDIDATE`` matches trials by group (key, device, threads),
treats seeds and repeated runs as samples, and calls each group improved, regressed,
unchanged, new, missing or failed (see :mod:`harness.compare.verdict` for the tests).
Modules: ``match`` (loading and grouping), ``stats`` (the tests), ``verdict``,
``confirm`` (re-running flagged groups), ``baseline`` (committed baselines: copies of run dirs),
``render`` (Markdown, JSON) and ``command`` (the CLI).

    from harness.compare import load_side, compare, markdown
    result = compare(load_side("results/baselines/ci"), load_side("results/ci/<run-id>"))
    print(markdown(result)); result.exit_code
"""

from harness.compare.match import Side, load_side
from harness.compare.render import markdown, to_dict, to_json
from harness.compare.verdict import Comparison, Group, Options, Test, compare

__all__ = ["Comparison", "Group", "Options", "Side", "Test", "compare", "load_side", "markdown",
           "to_dict", "to_json"]
