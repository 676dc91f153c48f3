"""Figures drawn in forked children: the same bytes as drawn here, errors kept as notes, a child
that dies costs nothing, and no fork where it is not safe."""

from __future__ import annotations

import os

import pytest

from harness.report import forked, write_report
from harness.report import figures as figs
from test_report_layout import report_dir  # noqa: F401  (a fixture: a run of ten models)

PARENT = os.getpid()


def _value(i):
    return lambda: f"figure {i} from {'a child' if os.getpid() != PARENT else 'here'}"


def _fails():
    raise ValueError("no data to draw")


def _dies_in_a_child():
    if os.getpid() != PARENT:
        os._exit(3)  # as a crash in a library would
    return "drawn here"


@pytest.fixture
def forking(monkeypatch):
    monkeypatch.setattr(forked, "can_fork", lambda: True)  # the test process may have imported torch


@pytest.mark.usefixtures("forking")
def test_results_come_back_in_order_from_children():
    got = forked.run([_value(i) for i in range(5)], workers=2)
    assert got == [(True, f"figure {i} from a child") for i in range(5)]


@pytest.mark.usefixtures("forking")
def test_an_error_is_returned_not_raised_and_a_dead_child_is_redone_here():
    got = forked.run([_fails, _dies_in_a_child, lambda: None], workers=2)
    assert got == [(False, "ValueError: no data to draw"), (True, "drawn here"), (True, None)]


def test_one_worker_or_no_fork_runs_here(monkeypatch):
    assert forked.run([_value(0), _value(1)], workers=1) == [(True, "figure 0 from here"), (True, "figure 1 from here")]
    monkeypatch.setattr(forked, "can_fork", lambda: False)
    assert forked.run([_value(0), _fails], workers=4) == [(True, "figure 0 from here"),
                                                           (False, "ValueError: no data to draw")]


def test_can_fork_only_without_torch(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "torch", object())
    assert not forked.can_fork()


def test_a_report_drawn_in_children_is_the_one_drawn_here(report_dir, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setattr(figs, "MAX_WORKERS", 1)
    write_report([report_dir], tmp_path / "here")
    monkeypatch.setattr(figs, "MAX_WORKERS", 4)
    monkeypatch.setattr("harness.cpus.usable_cores", lambda: 2)
    monkeypatch.setattr(forked, "can_fork", lambda: True)
    write_report([report_dir], tmp_path / "children")
    here = sorted(p.name for p in (tmp_path / "here").iterdir())
    assert here == sorted(p.name for p in (tmp_path / "children").iterdir())
    assert any(name.endswith(".png") for name in here)
    for name in here:
        assert (tmp_path / "here" / name).read_bytes() == (tmp_path / "children" / name).read_bytes(), name
