"""Splits apart from seeds: the plan's split x seed product, resampled published splits, the
validation carve every trial makes, the records that carry them, and pairing by split."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from omegaconf import OmegaConf

from harness import api, store
from harness.data import load_dataset
from harness.data.splits import resample_split, split_validation
from harness.errors import UserError
from harness.plan import expand


def suite(**kw):
    base = {"name": "t", "seeds": [0], "matrix": {"dataset": ["digits"], "features": ["raw"],
                                                 "model": ["logreg", "knn"], "device": ["cpu"]},
            "include": [], "exclude": []}
    base.update(kw)
    return OmegaConf.create(base)


# -- the plan ---------------------------------------------------------------------
def test_plan_is_the_cross_product_of_splits_and_seeds(compose):
    compose()
    plan = expand(suite(splits=3, seeds=[0, 7]), api.option)
    assert len(plan.trials) == 2 * 3 * 2
    per_model = {(t.split, t.seed) for t in plan.trials if t.model.name == "knn"}
    assert per_model == {(p, s) for p in range(3) for s in (0, 7)}
    assert len({t.trial_id for t in plan.trials}) == len(plan.trials)
    t = next(t for t in plan.trials if (t.split, t.seed) == (2, 7))
    assert t.trial_id.endswith("-cpu-p2-s7") and "split=2 seed=7" in t.label
    assert len({t.key for t in plan.trials if t.model.name == "knn"}) == 1  # key: neither split nor seed
    listed = expand(suite(splits=[4, 9]), api.option)
    assert {t.split for t in listed.trials} == {4, 9}


def test_a_suite_without_splits_gives_each_seed_its_own_split(compose):
    compose()
    plan = expand(suite(seeds=[0, 1, 2]), api.option)
    assert len(plan.trials) == 2 * 3 and all(t.split == t.seed for t in plan.trials)
    assert all(t.val_fraction == 0.1 for t in plan.trials)
    assert {t.val_fraction for t in expand(suite(val_fraction=0.25), api.option).trials} == {0.25}


def test_split_and_seed_on_the_command_line(compose):
    cfg = compose("suite=quick", "model=knn", "split=1")
    plan = api.plan(cfg, ["model=knn", "split=1"])
    assert {t.split for t in plan.trials} == {1} and {t.seed for t in plan.trials} == set(cfg.suite.seeds)
    cfg = compose("suite=quick", "model=knn", "split=2", "seed=5")
    plan = api.plan(cfg, ["model=knn", "split=2", "seed=5"])
    assert {(t.split, t.seed) for t in plan.trials} == {(2, 5)}
    assert plan.chosen["split"] == 2
    compose()  # a suite without splits: seed=K alone is also split K
    assert {(t.split, t.seed) for t in expand(suite(seeds=[0, 1]), api.option, chosen={"seed": 4}).trials} == {(4, 4)}
    both = expand(suite(seeds=[0, 1]), api.option, chosen={"split": 3})
    assert {(t.split, t.seed) for t in both.trials} == {(3, 0), (3, 1)}


@pytest.mark.parametrize("bad, match", [
    ({"splits": 0}, "plans nothing"), ({"splits": [1, 1]}, "repeats"), ({"splits": [-1]}, "whole numbers"),
    ({"splits": "three"}, "not a count"), ({"val_fraction": 1.0}, "val_fraction=1.0"),
])
def test_bad_splits_or_val_fraction_are_user_errors(compose, bad, match):
    compose()
    with pytest.raises(UserError, match=match):
        expand(suite(**bad), api.option)


def test_a_bad_split_override_is_one_line(compose):
    from harness.plan import chosen_axes

    with pytest.raises(UserError, match="split must be 0 or more"):
        chosen_axes(["split=-1"])
    with pytest.raises(UserError, match="invalid override split=x"):
        compose("split=x")


# -- resampled published splits -----------------------------------------------------
def published(n_train=300, n_test=100, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y_train, y_test = np.arange(n_train) % k, np.arange(n_test) % k
    return (rng.normal(size=(n_train, 4, 2)), y_train, rng.normal(size=(n_test, 4, 2)), y_test)


def test_split_zero_is_the_published_split():
    arrays = published()
    for got, want in zip(resample_split(*arrays, 0), arrays):
        assert got is want


def test_a_resample_keeps_the_sizes_the_classes_and_the_union():
    arrays = published(k=3)
    X_tr, y_tr, X_te, y_te = resample_split(*arrays, 1)
    assert X_tr.shape == arrays[0].shape and X_te.shape == arrays[2].shape
    union = np.bincount(np.concatenate([arrays[1], arrays[3]]))  # 134, 133, 133
    assert np.abs(np.bincount(y_te) - union * 100 / 400).max() <= 1  # stratified
    assert (np.bincount(y_tr) + np.bincount(y_te) == union).all()
    rows = lambda *Xs: sorted(r.tobytes() for X in Xs for r in X)  # noqa: E731
    assert rows(X_tr, X_te) == rows(arrays[0], arrays[2])
    # each row keeps its label
    label = {r.tobytes(): y for X, Y in ((arrays[0], arrays[1]), (arrays[2], arrays[3])) for r, y in zip(X, Y)}
    assert all(label[r.tobytes()] == y for r, y in zip(X_te, y_te))
    again = resample_split(*arrays, 1)
    assert np.array_equal(again[2], X_te)  # seeded by the split
    assert not np.array_equal(resample_split(*arrays, 2)[2], X_te)
    assert not np.array_equal(X_te, arrays[2])


def test_a_resample_of_skewed_classes_is_stratified():
    y_train = np.array([0] * 270 + [1] * 30)
    y_test = np.array([0] * 90 + [1] * 10)
    X_train, X_test = np.arange(300.0)[:, None], np.arange(300.0, 400.0)[:, None]
    _, y_tr, _, y_te = resample_split(X_train, y_train, X_test, y_test, 3)
    assert np.bincount(y_te).tolist() == [90, 10] and np.bincount(y_tr).tolist() == [270, 30]


def test_arrays_that_do_not_fit_together_are_left_to_the_loader_checks():
    X_train, y_train, X_test, y_test = published()
    odd = resample_split(X_train, y_train, X_test[:, :3], y_test, 1)
    assert odd[2].shape == (100, 3, 2)  # untouched: load_dataset names the problem


def test_npz_split_zero_is_the_files_and_others_resample(tmp_path):
    path = tmp_path / "split.npz"
    X_train, y_train, X_test, y_test = published()
    np.savez(path, X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test)
    cfg = OmegaConf.create({"name": "npz", "kind": "image",
                            "loader": {"_target_": "harness.data.files.load_npz", "path": str(path)}})
    zero, one = load_dataset(cfg, 0), load_dataset(cfg, 1)
    np.testing.assert_array_equal(zero.X_test, X_test.astype(np.float32))
    assert one.X_test.shape == zero.X_test.shape and not np.array_equal(one.X_test, zero.X_test)
    cfg.loader.seed = 0  # a seed in the config pins the file's split for every trial
    np.testing.assert_array_equal(load_dataset(cfg, 1).X_test, zero.X_test)


def test_mnist1d_split_resamples_the_generated_signals():
    from harness.data.mnist1d import load_mnist1d

    zero = load_mnist1d(num_samples=300)
    one = load_mnist1d(num_samples=300, split=1)
    assert [a.shape for a in one] == [a.shape for a in zero]
    assert not np.array_equal(one[2], zero[2])
    union = np.bincount(np.concatenate([zero[1], zero[3]]), minlength=10)
    assert np.abs(np.bincount(one[3], minlength=10) - union * len(one[3]) / 300).max() <= 1  # stratified
    sub = load_mnist1d(num_samples=300, split=1, n_train=100)
    np.testing.assert_array_equal(sub[2], one[2])  # n_train subsamples the split's training part only
    cfg = OmegaConf.create({"name": "mnist1d", "kind": "signal", "loader": {
        "_target_": "harness.data.mnist1d.load_mnist1d", "num_samples": 300, "seed": 42, "split": None}})
    np.testing.assert_array_equal(load_dataset(cfg, 1).X_test, one[2])  # split: null takes the trial's
    cfg.loader.split = 0
    np.testing.assert_array_equal(load_dataset(cfg, 1).X_test, zero[2])  # an integer pins it
    with pytest.raises(UserError, match="dataset.loader.split=-1"):
        load_mnist1d(num_samples=300, split=-1)


# -- the validation carve -----------------------------------------------------------
def test_the_validation_carve_is_stratified_seeded_and_disjoint():
    y = np.repeat(np.arange(4), 50)
    tr, va = split_validation(y, 0.2, seed=3)
    assert np.bincount(y[va]).tolist() == [10] * 4 and not np.intersect1d(tr, va).size
    assert len(tr) + len(va) == len(y)
    np.testing.assert_array_equal(va, split_validation(y, 0.2, 3)[1])
    assert not np.array_equal(va, split_validation(y, 0.2, 4)[1])
    assert len(split_validation(y, 0.0, 3)[1]) == 0 and len(split_validation(y, 30, 3)[1]) == 30


class Spy:
    """A classical model that remembers what it was fitted on and asked to predict."""

    seen: list = []

    def __init__(self, random_state=None):
        self.random_state = random_state

    def get_params(self, deep=False):
        return {"random_state": self.random_state}

    def set_params(self, **params):
        self.__dict__.update(params)
        return self

    def fit(self, X, y, X_val=None, y_val=None):  # takes X_val but does not declare it: none given
        Spy.seen.append(("fit", np.array(X), np.array(y)))
        Spy.given = X_val
        self.label_ = np.bincount(y).argmax()
        return self

    def predict(self, X):
        Spy.seen.append(("predict", np.array(X)))
        return np.full(len(X), self.label_)


def trial_of(compose, model: str, split=1, seed=2, **estimator):
    compose()
    plan = expand(suite(splits=[split], seeds=[seed], matrix={"dataset": ["digits"], "features": ["raw"],
                                                               "model": [model], "device": ["cpu"]}), api.option)
    trial = plan.trials[0]
    if estimator:
        trial.model = trial.model.copy()
        trial.model.estimator = OmegaConf.create(estimator)
    return trial


def test_classical_and_torch_trials_fit_and_validate_on_the_same_carve(compose, monkeypatch):
    from harness.models.torch.estimator import TorchClassifier
    from harness.trial import featurize, run_trial

    spy_trial = trial_of(compose, "logreg", _target_=f"{__name__}.Spy")
    data = load_dataset(spy_trial.dataset, spy_trial.split)
    feats = featurize(spy_trial, data)
    fit_idx, val_idx = split_validation(data.y_train, 0.1, spy_trial.split)  # seeded by the split
    np.testing.assert_array_equal(feats.val_idx, val_idx)
    Spy.seen.clear()
    rec = run_trial(spy_trial, data, feats, {}).record
    (_, X_fit, y_fit), (_, X_test), (_, X_val) = Spy.seen
    np.testing.assert_array_equal(X_fit, feats.X_train[fit_idx])
    np.testing.assert_array_equal(y_fit, data.y_train[fit_idx])
    np.testing.assert_array_equal(X_val, feats.X_train[val_idx])
    assert Spy.given is None  # a fit that merely takes X_val (as newer scikit-learn's do) gets none
    assert (rec["split"], rec["seed"], rec["n_val"], rec["n_train_fit"]) == (1, 2, len(val_idx), len(fit_idx))
    monkeypatch.setattr(Spy, "accepts_validation", True, raising=False)
    run_trial(spy_trial, data, feats, {})
    np.testing.assert_array_equal(Spy.given, feats.X_train[val_idx])  # declared: the carve
    assert rec["val_accuracy"] == pytest.approx(np.mean(data.y_train[val_idx] == np.bincount(y_fit).argmax()))

    got = {}
    real_fit = TorchClassifier.fit

    def fit(self, X, y, X_val=None, y_val=None):
        got.update(X=np.array(X), X_val=np.array(X_val), y_val=np.array(y_val))
        return real_fit(self, X, y, X_val=X_val, y_val=y_val)

    monkeypatch.setattr(TorchClassifier, "fit", fit)
    torch_trial = trial_of(compose, "mlp")
    torch_trial.model = torch_trial.model.copy()
    torch_trial.model.estimator.epochs = 1
    torch_trial.model.estimator.hidden = [16]
    out = run_trial(torch_trial, data, feats, {})
    assert out.record["status"] == "ok", out.record["error"]
    np.testing.assert_array_equal(got["X"], feats.X_train[fit_idx])
    np.testing.assert_array_equal(got["X_val"], X_val)
    np.testing.assert_array_equal(got["y_val"], data.y_train[val_idx])
    # its curve (and early stopping) scored that carve: the last point is the recorded val_accuracy
    assert out.record["val_accuracy"] == pytest.approx(out.curve[-1]["val_accuracy"])
    assert out.record["n_train_fit"] == len(fit_idx) and out.record["n_val"] == len(val_idx)


def test_features_are_fitted_on_the_rest_only(compose):
    from harness.trial import featurize

    trial = trial_of(compose, "logreg")
    data = load_dataset(trial.dataset, trial.split)
    feats = featurize(trial, data)  # raw: a StandardScaler
    rest = data.X_train.reshape(len(data.X_train), -1)[feats.fit_idx]
    assert np.abs(feats.X_train[feats.fit_idx].mean(axis=0)).max() < 1e-4  # centred on the rest
    assert np.allclose(feats.X_train[feats.fit_idx].std(axis=0)[rest.std(axis=0) > 0], 1, atol=1e-3)
    trial.val_fraction = 0.0
    none = featurize(trial, data)
    assert len(none.val_idx) == 0 and none.fit_part(data.y_train)[0] is none.X_train


def test_the_cache_shares_features_by_split_and_seeds_only_random_ones(compose):
    from harness.execution import InProcess

    ex = InProcess()
    a = trial_of(compose, "logreg", split=1, seed=0)
    b = trial_of(compose, "knn", split=1, seed=5)
    c = trial_of(compose, "logreg", split=2, seed=0)
    fa, fb, fc = (ex.prepare(t, {})[1] for t in (a, b, c))
    assert fa is fb  # raw features draw no random numbers: one featurization for every seed
    assert fc is not fa and not np.array_equal(fc.X_test, fa.X_test)
    pca = [trial_of(compose, "logreg", split=1, seed=s) for s in (0, 5)]
    for t in pca:
        t.features = api.option("features", "pca")
    fp = [ex.prepare(t, {})[1] for t in pca]
    assert fp[0] is not fp[1]  # a random transformer: its own features per seed


# -- records, the store, compare --------------------------------------------------
def test_records_carry_split_seed_and_val_accuracy(compose, tmp_path):
    cfg = compose("suite=smoke", "progress=false", "report=false", "model=logreg", "dataset=moons",
                  "suite.splits=[0,3]", "suite.seeds=[1]")
    result = api.execute(api.plan(cfg, ["model=logreg", "dataset=moons"]), cfg, tmp_path / "run")
    df = store.load(result.run_dir)
    assert sorted(zip(df["split"], df["seed"])) == [(0, 1), (3, 1)]
    assert df["val_accuracy"].between(0.5, 1).all() and (df["n_val"] == 75).all()
    assert df["trial_id"].str.endswith(("-p0-s1", "-p3-s1")).all()
    assert df.set_index("split")["accuracy"].nunique() == 2  # other data per split
    assert json.loads((tmp_path / "run" / "run.json").read_text())["schema_version"] == 2


def test_a_failed_trial_has_nan_val_accuracy(compose):
    from harness.trial import featurize, run_trial

    trial = trial_of(compose, "logreg", _target_="sklearn.linear_model.LogisticRegression", C=-1.0)
    data = load_dataset(trial.dataset, trial.split)
    rec = run_trial(trial, data, featurize(trial, data), {}).record
    assert rec["status"] == "failed" and math.isnan(rec["val_accuracy"])


def test_store_fills_schema_1_records(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    (old).mkdir()
    (old / "run.json").write_text(json.dumps({"schema_version": 1, "run_id": "old"}))
    with open(old / "records-0.jsonl", "w") as fh:
        for seed in (0, 1, 2):
            fh.write(json.dumps({"run_id": "old", "trial_id": f"k-cpu-s{seed}", "key": "k", "seed": seed,
                                 "status": "ok", "error": "", "accuracy": 0.9, "features": "raw"}) + "\n")
    w = store.RunWriter(new)
    w.write_run_info({"run_id": "new"})
    w.record({"run_id": "new", "trial_id": "k-cpu-p4-s0", "key": "k", "split": 4, "seed": 0, "status": "ok",
              "error": "", "accuracy": 0.9, "val_accuracy": 0.8, "features": "raw"})
    df = store.load([old, new]).set_index("trial_id")
    assert df.loc[["k-cpu-s0", "k-cpu-s1", "k-cpu-s2"], "split"].tolist() == [0, 1, 2]  # split = seed
    assert df.loc[["k-cpu-s0", "k-cpu-s1", "k-cpu-s2"], "val_accuracy"].isna().all()
    assert (df.loc["k-cpu-p4-s0", "split"], df.loc["k-cpu-p4-s0", "val_accuracy"]) == (4, 0.8)
    assert df["split"].dtype.kind == "i"


def test_compare_pairs_by_split_and_old_records_pair_as_split_seed():
    from harness.compare import Options, Side, compare
    from harness.compare.match import frame

    def rows(acc, splits, with_split=True, run="r"):
        out = []
        for p in splits:
            r = {"run_id": run, "suite": "s", "key": "k", "trial_id": f"k-cpu-p{p}-s0", "dataset": "d",
                 "features": "raw", "model": "m", "device": "cpu", "threads": 1, "status": "ok", "error": "",
                 "seed": 0 if with_split else p, "accuracy": acc[p]}
            if with_split:
                r["split"] = p
            out.append(r)
        return out

    def side(records):
        return Side(name="x", records=frame(records), runs={"r": {"run_id": "r"}})

    base = [0.90, 0.80, 0.85, 0.95, 0.70]
    cand = [a - 0.01 for a in base]  # 1 point worse on every split: only pairing by split sees it
    opts = Options(compare_time=False, metrics=("accuracy",))
    g = compare(side(rows(base, range(5))), side(rows(cand, range(5))), opts).groups[0]
    t = g.test("accuracy")
    assert "5 paired (split, seed) samples" in t.method and t.effect == pytest.approx(-1.0)
    assert g.seeds_base == [[p, 0] for p in range(5)]
    # an old baseline (no split; each seed was its split) pairs with a new run by split = seed
    old = rows(base, range(5), with_split=False)
    new = [{**r, "seed": r["split"]} for r in rows(cand, range(5))]
    t_old = compare(side(old), side(new), opts).groups[0].test("accuracy")
    assert "5 paired" in t_old.method and t_old.effect == pytest.approx(-1.0)
