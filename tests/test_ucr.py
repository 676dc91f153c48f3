"""The UCR problems (aeon's bundled copies), 1-NN DTW, FCN/ResNet and the published figures.

aeon is an optional extra (``pip install "harness[ts]"``): the tests that read its data skip
without it, and the ones that check the message a user without it sees run everywhere.
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from harness.data import load_dataset
from harness.errors import UserError
from tests.conftest import dataset_spec as spec

SUITES = Path(__file__).resolve().parents[1] / "suites"
NEEDS_AEON = "aeon is the ts extra (pip install \"harness[ts]\"): the UCR problems and dtw_1nn need it"
UCR_YAMLS = sorted((SUITES / "dataset").glob("ucr_*.yaml"))


@pytest.fixture
def aeon():
    return pytest.importorskip("aeon", reason=NEEDS_AEON)


@pytest.fixture
def without_aeon(monkeypatch):
    """What an install without the extra sees: every aeon import fails."""
    for mod in [m for m in sys.modules if m == "aeon" or m.startswith("aeon.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "aeon", None)
    monkeypatch.setitem(sys.modules, "aeon.datasets", None)
    monkeypatch.setitem(sys.modules, "aeon.classification.distance_based", None)


# -- without the extra ----------------------------------------------------------------
@pytest.mark.usefixtures("without_aeon")
def test_without_aeon_a_ucr_dataset_says_how_to_install_it():
    with pytest.raises(UserError, match=re.escape('pip install "harness[ts]"')) as err:
        load_dataset(spec("ucr_gunpoint"), split=0)
    assert "\n" not in str(err.value) and str(err.value).startswith("dataset ucr_gunpoint: aeon is not installed")


@pytest.mark.usefixtures("without_aeon")
def test_without_aeon_dtw_1nn_is_refused_when_planned():
    from harness.trial import check_estimator_config

    cfg = OmegaConf.load(SUITES / "model" / "dtw_1nn.yaml")
    with pytest.raises(UserError, match=re.escape('pip install "harness[ts]"')):
        check_estimator_config(cfg.estimator, "dtw_1nn")


# -- the loader -------------------------------------------------------------------------
@pytest.mark.parametrize("path", UCR_YAMLS, ids=lambda p: p.stem)
def test_every_ucr_dataset_loads_as_a_signal(aeon, path):
    ds = load_dataset(OmegaConf.load(path), split=0)
    assert ds.kind == "signal" and ds.X_train.ndim == 2 and ds.n_classes >= 2
    sizes = re.search(r"length (\d+), (\d+) train / (\d+) test, (\d+) classes", OmegaConf.load(path).description)
    assert sizes, "the description states the archive's sizes"
    length, n_train, n_test, k = map(int, sizes.groups())
    assert (ds.shape, len(ds.y_train), len(ds.y_test), ds.n_classes) == ((length,), n_train, n_test, k)


def test_split_0_is_the_archives_own_split(aeon):
    from aeon.datasets import load_gunpoint

    ds = load_dataset(spec("ucr_gunpoint"), split=0)
    assert (ds.X_train.shape, ds.X_test.shape) == ((50, 150), (150, 150))
    X_train, y_train = load_gunpoint(split="train")
    X_test, y_test = load_gunpoint(split="test")
    np.testing.assert_allclose(ds.X_train, X_train[:, 0, :], rtol=1e-6)
    np.testing.assert_allclose(ds.X_test, X_test[:, 0, :], rtol=1e-6)
    # labels "1"/"2" encode to 0/1 in order
    assert (ds.y_train == (y_train == "2")).all() and (ds.y_test == (y_test == "2")).all()


def test_a_resample_keeps_the_sizes_and_the_classes(aeon):
    base = load_dataset(spec("ucr_arrowhead"), split=0)
    one, again, two = (load_dataset(spec("ucr_arrowhead"), split=s) for s in (1, 1, 2))
    pooled = np.bincount(np.concatenate([base.y_train, base.y_test]))
    for ds in (one, two):
        assert (len(ds.y_train), len(ds.y_test)) == (36, 175)
        assert (np.bincount(np.concatenate([ds.y_train, ds.y_test])) == pooled).all()
        # stratified: each class's share of the training split is its share of the pool, +-1 sample
        expected = pooled * 36 / pooled.sum()
        assert np.all(np.abs(np.bincount(ds.y_train, minlength=3) - expected) <= 1)
        assert not np.array_equal(ds.X_train, base.X_train)
    np.testing.assert_array_equal(one.X_train, again.X_train)  # a split is the same split every time
    assert not np.array_equal(one.X_train, two.X_train)
    # the pool is the same rows, reshuffled: nothing is lost or made up
    rows = lambda d: np.sort(np.concatenate([d.X_train, d.X_test]).sum(axis=1))  # noqa: E731
    np.testing.assert_allclose(rows(one), rows(base), rtol=1e-5)


def test_dataset_loader_seed_pins_the_archive_split(aeon):
    pinned = load_dataset(spec("ucr_gunpoint", seed=0), split=3)
    base = load_dataset(spec("ucr_gunpoint"), split=0)
    np.testing.assert_array_equal(pinned.X_train, base.X_train)


@pytest.mark.parametrize("problem, message", [
    ("Nope", "not bundled with aeon (harness reads offline only); choose one of: ACSF1, ArrowHead"),
    ("../GunPoint", "not bundled with aeon"),
    ("BasicMotions", "BasicMotions is multivariate (6 channels of length 100)"),
    ("PickupGestureWiimoteZ", "PickupGestureWiimoteZ has series of unequal length"),
])
def test_problems_that_cannot_load_are_one_line(aeon, problem, message):
    with pytest.raises(UserError, match=re.escape(message)) as err:
        load_dataset(spec("ucr", problem=problem), split=0)
    assert "\n" not in str(err.value)


# -- 1-NN DTW ------------------------------------------------------------------------------
def test_dtw_1nn_reproduces_the_archives_figure_on_gunpoint(aeon):
    """Full-window DTW 1-NN is deterministic: the archive's DTW (w=100) error on GunPoint is
    0.0933, 14 of 150 test series."""
    from hydra.utils import instantiate

    ds = load_dataset(spec("ucr_gunpoint"), split=0)
    est = instantiate(OmegaConf.load(SUITES / "model" / "dtw_1nn.yaml").estimator)
    est.set_params(input_shape=ds.shape)
    errors = int((est.fit(ds.X_train, ds.y_train).predict(ds.X_test) != ds.y_test).sum())
    assert errors == 14
    # a 0-width band is the Euclidean distance: the archive's ED (w=0) error is 0.0867 (13 of 150)
    est.set_params(window=0.0)
    assert int((est.fit(ds.X_train, ds.y_train).predict(ds.X_test) != ds.y_test).sum()) == 13


def test_dtw_1nn_reads_channels_from_the_input_shape(aeon):
    from harness.models.dtw import DTWNeighbors

    rng = np.random.default_rng(0)
    # two channels; only the second tells the classes apart
    X = rng.normal(size=(40, 2, 30))
    y = np.arange(40) % 2
    X[:, 1, :] += np.where(y == 1, 3.0, -3.0)[:, None]
    est = DTWNeighbors(input_shape=(2, 30)).fit(X.reshape(40, -1), y)
    assert (est.predict(X.reshape(40, -1)) == y).all()
    with pytest.raises(ValueError, match="not a series"):
        DTWNeighbors(input_shape=(7,)).fit(X.reshape(40, -1), y)


# -- FCN and ResNet ---------------------------------------------------------------------------
@pytest.mark.parametrize("net", ["FCN", "ResNet"])
@pytest.mark.parametrize("shape", [(50,), (3, 50)])
def test_fcn_and_resnet_take_a_signal_with_or_without_channels(net, shape):
    torch = pytest.importorskip("torch")
    from harness.models.torch import ts_nets

    module = getattr(ts_nets, net)(shape, 4)
    assert module(torch.zeros(5, *shape)).shape == (5, 4)
    with pytest.raises(ValueError, match="needs a signal"):
        getattr(ts_nets, net)((2, 3, 50), 4)


def test_resnet_has_the_published_layout():
    pytest.importorskip("torch")
    from torch import nn

    from harness.models.torch.ts_nets import FCN, ResNet

    convs = [m for m in ResNet((100,), 3).modules() if isinstance(m, nn.Conv1d)]
    # 3 blocks x 3 convs, plus the 1x1 shortcut of the two blocks that change width
    assert [c.kernel_size[0] for c in convs if c.kernel_size[0] > 1] == [8, 5, 3] * 3
    assert [c.out_channels for c in convs if c.kernel_size[0] == 1] == [64, 128]
    assert [c.out_channels for c in FCN((100,), 3).modules() if isinstance(c, nn.Conv1d)] == [128, 256, 128]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["fcn", "resnet"])
def test_fcn_and_resnet_on_a_cpu_budget_learn_gunpoint(aeon, name):
    """The shipped CPU-budget configs, cut further to about 100 optimiser steps, still reach 90% on
    the archive split. With Keras's batch-norm momentum (0.01 in torch's terms) the running
    statistics lagged the weights over so few steps, and the same runs predicted at chance."""
    pytest.importorskip("torch")
    from hydra.utils import instantiate

    ds = load_dataset(spec("ucr_gunpoint"), split=0)
    est = instantiate(OmegaConf.load(SUITES / "model" / f"{name}.yaml").estimator)
    est.set_params(input_shape=ds.shape, random_state=0, device="cpu", epochs={"fcn": 40, "resnet": 20}[name])
    est.fit(ds.X_train, ds.y_train, X_val=ds.X_train[:0], y_val=ds.y_train[:0])
    assert (est.predict(ds.X_test) == ds.y_test).mean() >= 0.9


# -- the published figures ---------------------------------------------------------------------
def test_every_published_figure_names_its_source_and_a_dataset_we_ship():
    from harness.data.ucr_published import METHODS, published

    pub = published()
    assert len(pub) and not pub.duplicated(["dataset", "method"]).any()
    assert pub["source"].str.contains(r"github\.com/\S+ .*commit [0-9a-f]{40}").all()
    assert pub["accuracy"].between(0, 100).all()
    assert set(pub["method"]) <= set(METHODS.values())
    for name in pub["dataset"].unique():
        assert (SUITES / "dataset" / f"{name}.yaml").is_file()


def test_ours_beside_the_published_figure():
    from harness.data.ucr_published import beside

    rows = [("ucr_gunpoint", "rocket", "rocket_ridge", 0, 1.0), ("ucr_gunpoint", "rocket", "rocket_ridge", 0, 0.98),
            ("ucr_gunpoint", "rocket", "rocket_ridge", 1, 0.5),  # a resample: not the published split
            ("ucr_osuleaf", "series", "dtw_1nn", 0, 0.55), ("ucr_osuleaf", "series", "logreg", 0, 0.4)]
    records = pd.DataFrame(rows, columns=["dataset", "features", "model", "split", "accuracy"]).assign(status="ok")
    out = beside(records).set_index("dataset")
    assert list(out.index) == ["ucr_gunpoint", "ucr_osuleaf"]  # logreg reproduces no published method
    gp, osu = out.loc["ucr_gunpoint"], out.loc["ucr_osuleaf"]
    assert (gp["n"], gp["ours"], gp["published"]) == (2, pytest.approx(99.0), 100.0)
    assert gp["reproduced"] and gp["delta"] == pytest.approx(-1.0)
    assert osu["published"] == pytest.approx(59.09) and not osu["reproduced"] and math.isnan(osu["ours_std"])


# -- the suite, shrunk ---------------------------------------------------------------------------
@pytest.mark.slow
def test_suite_ucr_runs_shrunk_end_to_end(aeon, compose, tmp_path):
    """One small problem on its archive split, every model of the suite, few epochs and kernels."""
    from omegaconf import open_dict

    from harness import store
    from harness.api import execute, plan as make_plan
    from harness.data.ucr_published import beside

    cfg = compose("suite=ucr", "dataset=ucr_gunpoint", "progress=false")
    plan = make_plan(cfg, ["dataset=ucr_gunpoint", "split=0"])
    assert {t.model.name for t in plan.trials} == {"dtw_1nn", "fcn", "resnet", "rocket_ridge", "logreg"}
    assert {(t.dataset.name, t.split) for t in plan.trials} == {("ucr_gunpoint", 0)}
    for t in plan.trials:
        with open_dict(t.model.estimator), open_dict(t.features.transformer):
            if "epochs" in t.model.estimator:
                t.model.estimator.epochs, t.model.estimator.max_steps = 1, 3
            if "n_kernels" in t.features.transformer:
                t.features.transformer.n_kernels = 100
    result = execute(plan, cfg, tmp_path / "run")
    df = store.load(tmp_path / "run")
    assert result.exit_code == 0 and len(df) == len(plan.trials)
    assert set(df["status"]) == {"ok"}, df[df["status"] != "ok"][["model", "error"]].to_string()
    assert (df["n_train"] == 50).all() and (df["n_test"] == 150).all()
    assert "## Findings: suite ucr" in (tmp_path / "run" / "report.md").read_text()
    table = beside(df)
    assert set(table["method"]) == {"ROCKET", "1-NN DTW", "FCN", "ResNet"}
    dtw = table[table["method"] == "1-NN DTW"].iloc[0]
    # deterministic, and the series reach it unscaled: the archive's own baseline, to the test series
    assert dtw["ours"] == pytest.approx(100 * (1 - 14 / 150)) and dtw["reproduced"]
