"""Datasets: shapes and dtypes, seeded splits, MNIST-1D and its cache, user files, configs."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from harness.data import KIND_NDIM, load_dataset
from harness.data import cache as cache_mod
from harness.data.mnist1d import load_mnist1d
from harness.errors import UserError
from tests.conftest import dataset_spec as spec
from harness.schema import KINDS

SUITES = Path(__file__).resolve().parents[1] / "suites"
DATASET_YAMLS = sorted((SUITES / "dataset").glob("*.yaml"))


@pytest.fixture(scope="module", autouse=True)
def shared_cache(tmp_path_factory):
    """One cache for the module, so the default MNIST-1D is generated once."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HARNESS_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


# -- bundled and synthetic ----------------------------------------------------
@pytest.mark.parametrize("name, kind, shape, n, k", [
    ("digits", "image", (8, 8), 1797, 10),
    ("breast_cancer", "tabular", (30,), 569, 2),
    ("wine", "tabular", (13,), 178, 3),
])
def test_bundled_shapes_and_dtypes(name, kind, shape, n, k):
    ds = load_dataset(spec(name), split=0)
    assert (ds.name, ds.kind, ds.shape, ds.n_classes) == (name, kind, shape, k)
    assert len(ds.X_train) + len(ds.X_test) == n
    assert len(ds.X_test) == pytest.approx(0.25 * n, abs=1)
    assert ds.X_train.dtype == ds.X_test.dtype == np.float32
    assert ds.y_train.dtype == ds.y_test.dtype == np.int64
    # stratified: every class in both splits
    assert set(np.unique(ds.y_train)) == set(np.unique(ds.y_test)) == set(range(k))


@pytest.mark.parametrize("name", ["digits", "xor", "spirals", "tabular_synth", "tabular_noisy"])
def test_split_is_reproducible_and_varies_with_split(name):
    a, b, c = (load_dataset(spec(name), split=s) for s in (0, 0, 1))
    assert np.array_equal(a.X_train, b.X_train) and np.array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.X_train, c.X_train)


def test_xor_labels_follow_quadrants():
    from harness.data.synthetic import xor

    X, y, _, _ = xor(n_samples=400, noise=0.0, seed=0)
    assert np.array_equal(y, (np.sign(X[:, 0]) == np.sign(X[:, 1])).astype(int))


def test_point_sets_are_balanced_2d():
    for name in ("xor", "circles", "moons", "spirals"):
        ds = load_dataset(spec(name, n_samples=200), split=3)
        assert ds.kind == "points" and ds.shape == (2,) and ds.n_classes == 2
        assert np.ptp(np.bincount(ds.y_train)) <= 0.2 * len(ds.y_train)


def test_tabular_synth_params():
    ds = load_dataset(spec("tabular_synth", n_samples=300, n_features=12, n_classes=3), split=0)
    assert ds.shape == (12,) and ds.n_classes == 3 and len(ds.y_train) == 225


# -- load_dataset contract --------------------------------------------------------
def string_loader(seed=0):
    """A user loader with text labels and integer X; load_dataset must normalise both."""
    X = np.arange(12).reshape(6, 2)
    return X[:4], np.array(["b", "c", "b", "c"]), X[4:], np.array(["a", "c"])


def test_labels_are_encoded_across_splits():
    cfg = OmegaConf.create({"name": "s", "kind": "tabular",
                            "loader": {"_target_": f"{__name__}.string_loader"}})
    with pytest.warns(UserWarning, match=r"test class\(es\) a never appear in training"):
        ds = load_dataset(cfg, split=0)
    assert ds.X_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert ds.y_train.tolist() == [1, 2, 1, 2] and ds.y_test.tolist() == [0, 2]


def test_kind_must_match_array_dimensions():
    cfg = spec("digits")
    cfg.kind = "tabular"
    with pytest.raises(UserError, match="kind tabular needs X_train with 2 dimensions"):
        load_dataset(cfg, split=0)


def test_config_mistakes_are_user_errors():
    with pytest.raises(UserError, match=r"loader\.path is required"):
        load_dataset(spec("csv"), split=0)
    with pytest.raises(UserError, match="bogus"):
        load_dataset(spec("xor", bogus=1), split=0)


# -- MNIST-1D and the cache -------------------------------------------------------
@pytest.mark.slow
def test_mnist1d_pinned_split_is_the_packages():
    from mnist1d.data import get_dataset_args, make_dataset

    ds = load_dataset(spec("mnist1d"), split=0)  # the YAML pins seed 42: split 0 is the package's
    ref = make_dataset(get_dataset_args())
    assert ds.kind == "signal" and ds.X_train.shape == (4000, 40) and ds.X_test.shape == (1000, 40)
    np.testing.assert_array_equal(ds.X_train, ref["x"].astype(np.float32))
    np.testing.assert_array_equal(ds.X_test, ref["x_test"].astype(np.float32))
    np.testing.assert_array_equal(ds.y_train, ref["y"])
    np.testing.assert_array_equal(ds.y_test, ref["y_test"])
    other = load_dataset(spec("mnist1d"), split=7)  # a resample of the same 5,000 signals, same sizes
    assert other.X_train.shape == ds.X_train.shape and not np.array_equal(other.X_train, ds.X_train)
    union = {r.tobytes() for r in np.concatenate([ds.X_train, ds.X_test])}
    assert {r.tobytes() for r in np.concatenate([other.X_train, other.X_test])} == union


def test_mnist1d_unpinned_follows_trial_split():
    cfg = spec("mnist1d", num_samples=200)
    del cfg.loader["seed"]
    a, b = load_dataset(cfg, split=0), load_dataset(cfg, split=1)
    assert a.X_train.shape == (160, 40) and not np.array_equal(a.X_train, b.X_train)


def test_mnist1d_leaves_global_rng_alone(fresh_cache):
    np.random.seed(5)
    random.seed(5)
    expected = (np.random.rand(), random.random())
    np.random.seed(5)
    random.seed(5)
    load_mnist1d(num_samples=100)
    assert (np.random.rand(), random.random()) == expected


def test_n_train_subsamples_train_and_keeps_test():
    full = load_mnist1d()
    sub = load_mnist1d(n_train=1000)
    assert sub[0].shape == (1000, 40)
    np.testing.assert_array_equal(sub[2], full[2])
    np.testing.assert_array_equal(sub[3], full[3])
    assert np.bincount(sub[1]).min() >= 99  # stratified: 100 per class
    rows = {r.tobytes() for r in full[0]}
    assert all(r.tobytes() in rows for r in sub[0])
    smaller = {r.tobytes() for r in load_mnist1d(n_train=300)[0]}
    assert smaller <= {r.tobytes() for r in sub[0]}  # nested: learning curves compare like with like
    assert not np.array_equal(load_mnist1d(n_train=300, seed=1)[0], load_mnist1d(n_train=300)[0])
    with pytest.raises(UserError, match="n_train=5000 exceeds"):
        load_mnist1d(n_train=5000)


def test_mnist1d_unknown_generator_arg():
    with pytest.raises(UserError, match="valid ones are"):
        load_mnist1d(num_samples=100, bogus=1)


def test_cache_hit_does_not_regenerate(fresh_cache):
    calls = []

    def make():
        calls.append(1)
        return {"a": np.arange(5.0), "b": np.ones((2, 3), np.int64)}

    first = cache_mod.cached_arrays("demo", {"n": 5, "z": [1, 2]}, make)
    second = cache_mod.cached_arrays("demo", {"z": [1, 2], "n": 5}, make)  # key order is irrelevant
    assert len(calls) == 1
    assert set(second) == {"a", "b"} and np.array_equal(first["b"], second["b"])
    cache_mod.cached_arrays("demo", {"n": 6, "z": [1, 2]}, make)
    assert len(calls) == 2
    assert not list(fresh_cache.glob("*.tmp"))  # written atomically, nothing left over


def test_mnist1d_second_call_reads_the_cache(fresh_cache):
    load_mnist1d(num_samples=300)
    (path,) = fresh_cache.glob("mnist1d-*.npz")
    mtime = path.stat().st_mtime_ns
    load_mnist1d(num_samples=300)
    assert path.stat().st_mtime_ns == mtime
    load_mnist1d(num_samples=300, iid_noise_scale=0.05)
    assert len(list(fresh_cache.glob("mnist1d-*.npz"))) == 2


def test_corrupt_cache_is_regenerated(fresh_cache):
    calls = []

    def make():
        calls.append(1)
        return {"a": np.arange(3)}

    cache_mod.cached_arrays("demo", {"n": 3}, make)
    path = cache_mod.cache_path("demo", {"n": 3})
    path.write_bytes(b"not a zip file")
    with pytest.warns(UserWarning, match="regenerating"):
        out = cache_mod.cached_arrays("demo", {"n": 3}, make)
    assert len(calls) == 2 and np.array_equal(out["a"], np.arange(3))
    assert cache_mod.cached_arrays("demo", {"n": 3}, make) and len(calls) == 2


# -- user files -------------------------------------------------------------------
@pytest.fixture
def table():
    import pandas as pd

    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "id": np.arange(40), "a": rng.normal(size=40), "b": rng.integers(0, 5, 40),
        "label": np.where(np.arange(40) % 2, "cat", "dog"),
    })


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_table_loader(tmp_path, table, suffix):
    path = tmp_path / f"data{suffix}"
    table.to_csv(path, index=False) if suffix == ".csv" else table.to_parquet(path)
    cfg = spec("csv", path=str(path), target="label", drop=["id"])
    ds = load_dataset(cfg, split=0)
    assert ds.kind == "tabular" and ds.shape == (2,) and len(ds.y_train) == 30
    assert ds.n_classes == 2 and ds.y_train.dtype == np.int64
    assert not np.array_equal(ds.X_train, load_dataset(cfg, split=1).X_train)


def test_table_errors_name_the_problem(tmp_path, table):
    from harness.data.files import load_table

    path = tmp_path / "data.csv"
    table.to_csv(path, index=False)
    missing = tmp_path / "nope.csv"
    with pytest.raises(UserError, match=f"data file not found: {missing}"):
        load_table(missing, target="label")
    with pytest.raises(UserError, match="target column 'lbl'.*available columns: id, a, b, label"):
        load_table(path, target="lbl")
    table.assign(colour="red").to_csv(path, index=False)
    with pytest.raises(UserError, match="non-numeric feature column.*colour"):
        load_table(path, target="label")


def test_npz_loader(tmp_path):
    path = tmp_path / "split.npz"
    rng = np.random.default_rng(0)
    arrays = {"X_train": rng.normal(size=(20, 4, 4)), "y_train": np.arange(20) % 3,
              "X_test": rng.normal(size=(6, 4, 4)), "y_test": np.arange(6) % 3}
    np.savez(path, **arrays)
    cfg = spec("npz", path=str(path))
    cfg.kind = "image"
    ds = load_dataset(cfg, split=0)
    assert ds.shape == (4, 4) and ds.X_test.dtype == np.float32 and ds.n_classes == 3
    np.savez(path, X_train=arrays["X_train"], y_train=arrays["y_train"])
    with pytest.raises(UserError, match="lacks key.*X_test, y_test"):
        load_dataset(cfg, split=0)


# -- conformance: every dataset config --------------------------------------------
SMALL = {"n_samples": 200, "num_samples": 300}


@pytest.mark.parametrize("path", DATASET_YAMLS, ids=lambda p: p.stem)
def test_dataset_config_conforms(path):
    cfg = OmegaConf.load(path)
    assert set(cfg) == {"name", "description", "kind", "loader"}
    assert cfg.name == path.stem
    assert cfg.description and "\n" not in cfg.description.strip()
    assert cfg.kind in KINDS and "_target_" in cfg.loader
    if "???" in OmegaConf.to_yaml(cfg):
        return  # a user file: covered by the loader tests above
    for key, value in SMALL.items():
        if key in cfg.loader:
            cfg.loader[key] = value
    if str(cfg.loader._target_).startswith("harness.data.ucr."):
        pytest.importorskip("aeon", reason='the UCR problems need the ts extra: pip install "harness[ts]"')
    ds = load_dataset(cfg, split=0)
    assert ds.X_train.ndim == ds.X_test.ndim == KIND_NDIM[cfg.kind]
    assert ds.n_classes >= 2 and len(ds.y_test) > 0


def test_every_kind_has_a_dataset():
    kinds = {OmegaConf.load(p).kind for p in DATASET_YAMLS}
    assert kinds == set(KINDS)
