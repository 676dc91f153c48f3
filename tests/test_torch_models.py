"""TorchClassifier: the scikit-learn contract, the runner's contract, and reference checks.

Everything here runs on CPU in well under a minute; the MNIST-1D accuracy check at full
default length is ``slow`` and the CUDA paths are ``gpu`` (skipped without a GPU).
"""

from __future__ import annotations

import functools
import math
import os
import re
from pathlib import Path

import numpy as np
import pytest

from harness.schema import DEEP_COLUMNS

torch = pytest.importorskip("torch")

from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.linear_model import Perceptron  # noqa: E402

from harness.models.torch import TorchClassifier  # noqa: E402
from harness.models.torch.examples import ResidualMLP  # noqa: E402

MODELS = Path(__file__).resolve().parent.parent / "suites" / "model"
TORCH_YAMLS = sorted(p for p in MODELS.glob("*.yaml")
                     if "harness.models.torch.TorchClassifier" in p.read_text())
INFO_KEYS = {*DEEP_COLUMNS, "epoch_s", "device", "bf16", "compile", "channels_last"}
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.fixture(autouse=True)
def _one_thread():
    """One intra-op thread: on a shared 2-core machine two threads ran 10x slower, not faster."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def separable(n=400, seed=0):
    """2-D points on either side of a line, with a margin."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (3 * n, 2)).astype(np.float32)
    s = X[:, 0] + 0.5 * X[:, 1]
    keep = np.abs(s) > 0.2
    return X[keep][:n], (s[keep][:n] > 0).astype(np.int64)


def xor(n=800, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
    return X, ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(np.int64)


def blobs(n=300, d=6, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    X = rng.normal(0, 1, (n, d)) + 3 * np.eye(k, d)[y]
    return X.astype(np.float32), y.astype(np.int64)


def split(X, y, frac=0.75):
    n = int(len(X) * frac)
    return X[:n], y[:n], X[n:], y[n:]


def small(**kw):
    base = dict(arch="mlp", hidden=(32,), epochs=5, batch_size=32, device="cpu", random_state=0)
    return TorchClassifier(**{**base, **kw})


@pytest.fixture(scope="module")
def mnist1d():
    from mnist1d.data import get_dataset_args, make_dataset

    d = make_dataset(get_dataset_args())
    X, Xt = d["x"].astype(np.float32), d["x_test"].astype(np.float32)
    mu, sd = X.mean(0), X.std(0)
    return (X - mu) / sd, d["y"].astype(np.int64), (Xt - mu) / sd, d["y_test"].astype(np.int64)


# -- against a reference: scikit-learn's Perceptron ------------------------------------------
def test_perceptron_matches_sklearn_on_separable_data():
    Xtr, ytr, Xte, yte = split(*separable())
    ours = TorchClassifier(arch="perceptron", epochs=30, lr=0.05, batch_size=32,
                           device="cpu", random_state=0).fit(Xtr, ytr)
    ref = Perceptron(random_state=0).fit(Xtr, ytr)
    assert ours.score(Xte, yte) > 0.95 and ref.score(Xte, yte) > 0.95


def test_perceptron_fails_xor_like_sklearn_but_mlp_solves_it():
    Xtr, ytr, Xte, yte = split(*xor())
    ours = TorchClassifier(arch="perceptron", epochs=20, lr=0.05, batch_size=32,
                           device="cpu", random_state=0).fit(Xtr, ytr)
    ref = Perceptron(random_state=0).fit(Xtr, ytr)
    assert ours.score(Xte, yte) < 0.7 and ref.score(Xte, yte) < 0.7
    net = TorchClassifier(arch="mlp", hidden=(16, 16), epochs=40, lr=0.02, batch_size=32,
                          device="cpu", random_state=0).fit(Xtr, ytr)
    assert net.score(Xte, yte) > 0.9


def test_mlp_without_hidden_layers_is_the_perceptron():
    X, y = blobs()
    a = small(arch="perceptron").fit(X, y)
    b = small(arch="mlp", hidden=[]).fit(X, y)
    assert a.trial_info_["n_params"] == b.trial_info_["n_params"] == 6 * 3 + 3
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


# -- reproducibility -----------------------------------------------------------------------
def test_same_seed_same_predictions_other_seed_differs():
    X, y = blobs(d=10)
    kw = dict(hidden=(32,), dropout=0.2, epochs=3)
    p0 = small(**kw).fit(X, y).predict_proba(X)
    p0_again = small(**kw).fit(X, y).predict_proba(X)
    p1 = small(random_state=1, **kw).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(p0, p0_again)
    assert not np.allclose(p0, p1)


# -- the runner's contract -----------------------------------------------------------------
def test_trial_info_and_curve_are_complete_and_sane():
    X, y = blobs()
    est = small(hidden=(16, 16), epochs=4, eval_every=3, target_accuracy=0.5).fit(X, y)
    info = est.trial_info_
    assert INFO_KEYS <= set(info)
    assert all(isinstance(v, (int, float, str, bool)) for v in info.values())
    assert info["n_params"] == sum(p.numel() for p in est.module_.parameters())
    assert info["flops_per_sample"] > 0 and info["achieved_tflops"] > 0
    assert info["steps"] == 4 * (270 // 32) and info["epochs"] == pytest.approx(4)
    assert info["samples_per_s"] > 0 and 0 <= info["warmup_s"] < 30
    # one epoch of 270 samples at the measured throughput
    assert info["epoch_s"] == pytest.approx(270 // 32 * 32 / info["samples_per_s"], rel=1e-6)
    assert math.isnan(info["peak_gpu_mb"]) and info["device"] == "cpu"
    assert info["bf16"] is False and info["compile"] is False and info["channels_last"] is False
    assert 0 < info["time_to_target_s"] < 30
    curve = est.curve_
    assert len(curve) == math.ceil(info["steps"] / 3)
    assert set(curve[0]) == {"wall_s", "step", "epoch", "train_loss", "val_accuracy"}
    walls = [c["wall_s"] for c in curve]
    assert walls == sorted(walls) and walls[0] > 0 and curve[-1]["step"] == info["steps"]
    first_hit = next(c["wall_s"] for c in curve if c["val_accuracy"] >= 0.5)
    assert info["time_to_target_s"] == first_hit


def test_no_target_gives_nan_time_to_target():
    X, y = blobs()
    assert math.isnan(small().fit(X, y).trial_info_["time_to_target_s"])


def test_validation_is_carved_from_training_data_stratified():
    X, y = blobs(n=300, k=3)
    est = small(val_fraction=0.2, batch_size=50, epochs=1).fit(X, y)
    info = est.trial_info_
    assert (info["n_train_fit"], info["n_val"]) == (240, 60)
    assert info["steps"] == 240 // 50  # only the 240 kept rows are trained on
    none = small(val_fraction=0.0, batch_size=50, epochs=1).fit(X, y)
    assert (none.trial_info_["n_train_fit"], none.trial_info_["n_val"]) == (300, 0)
    assert math.isnan(none.curve_[-1]["val_accuracy"])


def test_validation_split_is_stratified_and_seeded():
    from harness.models.torch.estimator import split_validation

    y = np.repeat(np.arange(4), 50)
    tr, va = split_validation(y, 0.2, seed=3)
    assert np.bincount(y[va]).tolist() == [10] * 4 and len(np.intersect1d(tr, va)) == 0
    np.testing.assert_array_equal(va, split_validation(y, 0.2, seed=3)[1])


def test_given_validation_rows_replace_the_internal_carve():
    X, y = blobs(n=300, k=3)
    X_val, y_val = blobs(n=60, k=3, seed=1)
    est = small(val_fraction=0.2, batch_size=50, epochs=1).fit(X, y, X_val=X_val, y_val=y_val)
    info = est.trial_info_
    assert (info["n_train_fit"], info["n_val"]) == (300, 60)  # all of X trains; val_fraction unused
    assert info["steps"] == 300 // 50
    # the curve scores the rows given: its last point is the fitted model's accuracy on them
    assert est.curve_[-1]["val_accuracy"] == pytest.approx(np.mean(est.predict(X_val) == y_val))
    # a label the training rows lack can't be predicted: scored wrong, not an error
    unseen = small(epochs=1).fit(X, y, X_val=X_val, y_val=np.full(60, 7))
    assert unseen.curve_[-1]["val_accuracy"] == 0.0
    empty = small(epochs=1).fit(X, y, X_val=X_val[:0], y_val=y_val[:0])  # given empty: no validation
    assert empty.trial_info_["n_val"] == 0 and math.isnan(empty.curve_[-1]["val_accuracy"])
    with pytest.raises(ValueError, match="without y_val"):
        small(epochs=1).fit(X, y, X_val=X_val)


def test_early_stopping_stops_and_keeps_the_best():
    X, y = blobs()
    est = small(epochs=200, early_stopping=2, lr=0.05).fit(X, y)
    accs = [c["val_accuracy"] for c in est.curve_]
    assert est.trial_info_["steps"] < 200 * (270 // 32)
    assert est.trial_info_["val_accuracy"] <= max(accs)


@pytest.mark.parametrize("shape", [(8, 8), (40,)])
def test_cnn_runs_on_images_and_signals(shape):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, math.prod(shape))).astype(np.float32)
    y = np.arange(120) % 3
    est = TorchClassifier(arch="cnn", norm="batch", channels=8, depth=2, epochs=2, batch_size=32,
                          input_shape=shape, device="cpu", random_state=0).fit(X, y)
    assert est.predict(X).shape == (120,)
    conv = torch.nn.Conv2d if len(shape) == 2 else torch.nn.Conv1d
    assert any(isinstance(m, conv) for m in est.module_.modules())


@pytest.mark.parametrize("shape", [(8, 8), (40,)])
def test_gru_reads_rows_or_values_as_steps(shape):
    X = np.random.default_rng(0).normal(size=(60, math.prod(shape))).astype(np.float32)
    est = TorchClassifier(arch="gru", hidden_size=8, epochs=1, batch_size=32,
                          input_shape=shape, device="cpu", random_state=0).fit(X, np.arange(60) % 2)
    assert est.module_.gru.input_size == (1 if len(shape) == 1 else shape[1])
    assert est.predict_proba(X).shape == (60, 2)


def test_input_shape_must_match_the_features():
    X, y = blobs(d=6)
    with pytest.raises(ValueError, match="input_shape"):
        small(input_shape=(2, 4)).fit(X, y)


def test_custom_module_factory():
    X, y = blobs()
    est = small(module=functools.partial(ResidualMLP, width=16, blocks=1), arch="cnn")
    est.fit(X, y)
    assert isinstance(est.module_, ResidualMLP) and est.score(X, y) > 0.8
    with pytest.raises(TypeError, match="_partial_"):
        small(module=ResidualMLP((6,), 3)).fit(X, y)


def test_predict_proba_rows_sum_to_one_and_labels_round_trip():
    X, y = blobs()
    labels = np.array(["a", "b", "c"])[y]
    est = small().fit(X, labels)
    proba = est.predict_proba(X)
    assert proba.shape == (300, 3) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    assert set(est.predict(X)) <= {"a", "b", "c"} and list(est.classes_) == ["a", "b", "c"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_a_clear_error():
    X, y = blobs()
    with pytest.raises(RuntimeError, match="CUDA is not available") as err:
        small(device="cuda").fit(X, y)
    assert "\n" not in str(err.value)


# -- the optimizer: torch's fused kernel where it has one, else the per-tensor loop ----------
OPTIMIZERS = {"adamw": "AdamW", "adam": "Adam", "sgd": "SGD"}


def _has_fused(cls_name, params) -> bool:
    try:
        getattr(torch.optim, cls_name)(params, lr=0.1, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return False
    return True


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_is_fused_where_this_torch_has_the_kernel(name):
    from harness.models.torch.trainer import make_optimizer

    params = list(torch.nn.Linear(3, 2).parameters())
    opt = make_optimizer(name, iter(params), 0.01, 0.001)  # a generator, as module.parameters()
    assert [id(p) for p in opt.param_groups[0]["params"]] == [id(p) for p in params]
    assert bool(opt.defaults.get("fused")) == _has_fused(OPTIMIZERS[name], params)
    assert opt.defaults["lr"] == 0.01 and opt.defaults["weight_decay"] == 0.001
    if name == "sgd":
        assert opt.defaults["momentum"] == 0.9 and opt.defaults["nesterov"]


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_falls_back_where_fused_is_refused(name, monkeypatch):
    """torch < 2.4 refuses ``fused=True`` on CPU when the optimizer is built."""
    from harness.models.torch.trainer import make_optimizer

    real = getattr(torch.optim, OPTIMIZERS[name])

    def no_fused(params, fused=None, **kw):
        if fused:
            raise RuntimeError("`fused=True` requires all the params to be floating point "
                               "Tensors of supported devices: ['cuda'].")
        return real(params, **kw)

    monkeypatch.setattr(torch.optim, OPTIMIZERS[name], no_fused)
    params = list(torch.nn.Linear(3, 2).parameters())
    opt = make_optimizer(name, iter(params), 0.01, 0.0)  # the generator is read once, kept
    assert isinstance(opt, real) and not opt.defaults.get("fused")
    assert [id(p) for p in opt.param_groups[0]["params"]] == [id(p) for p in params]
    with pytest.raises(ValueError, match="unknown optimizer"):
        make_optimizer("lbfgs", iter(params), 0.01, 0.0)


# -- bad input: a diverging run, an architecture that does not fit ---------------------------
DIVERGED = re.compile(r"FloatingPointError: training diverged at step (\d+) \(loss=(nan|inf)\); "
                      r"lower lr \(lr=1e\+06\) or use a schedule with warm-up")


@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_diverging_fit_names_its_first_bad_step_in_one_line(optimizer):
    from harness.trial import one_line

    X, y = blobs()
    steps = []
    for every in (1, 100):  # the step is exact however rarely the loop evaluates
        with pytest.raises(FloatingPointError) as err:
            small(lr=1e6, optimizer=optimizer, schedule="constant", eval_every=every).fit(X, y)
        match = DIVERGED.fullmatch(one_line(err.value))  # what the runner records
        assert match, one_line(err.value)
        steps.append(int(match.group(1)))
    assert steps[0] == steps[1] >= 1


def test_diverging_trial_is_recorded_failed_and_the_suite_goes_on(compose, tmp_path):
    from harness import store
    from harness import api

    cfg = compose("suite=smoke", "progress=false", "report=false", "model=mlp",
                  "model.estimator.lr=1e6", "model.estimator.optimizer=sgd",
                  "model.estimator.schedule=constant",
                  "model.estimator.epochs=2", "model.estimator.hidden=[16]")
    result = api.execute(api.plan(cfg, ["model=mlp"]), cfg, tmp_path / "run")
    df = store.load(tmp_path / "run")
    assert sorted(df["dataset"]) == ["digits", "moons"]  # digits fails first, moons still runs
    failed = df[df["status"] == "failed"]
    assert "digits" in set(failed["dataset"]) and result.exit_code == 1
    errors = failed["error"].tolist()
    assert all(DIVERGED.fullmatch(e) for e in errors), errors


@pytest.mark.parametrize("kw,match", [
    ({"arch": "cnn", "conv_dims": 2, "input_shape": (13,)},
     r"a 2-D cnn needs input_shape \(H, W\) or \(C, H, W\), got \(13,\)"),
    ({"arch": "cnn"}, r"arch='cnn' needs input_shape"),
    ({"arch": "gru"}, r"arch='gru' needs input_shape"),
    ({"arch": "cnn", "input_shape": (1, 1, 1, 13)}, r"cnn needs input_shape"),
    ({"arch": "gru", "input_shape": (1, 1, 13)}, r"gru needs input_shape"),
    ({"module": lambda shape, k: ResidualMLP((40,), k)},
     r"module does not fit input_shape \(13,\): mat1 and mat2"),
    ({"module": lambda shape, k: ResidualMLP(shape, k + 1)}, r"to \(2, 4\), not logits"),
])
def test_architecture_that_does_not_fit_the_data_is_a_one_line_value_error(kw, match):
    X = np.random.default_rng(0).normal(size=(60, 13)).astype(np.float32)
    with pytest.raises(ValueError, match=match) as err:
        small(**kw).fit(X, np.arange(60) % 3)
    assert "\n" not in str(err.value)


def test_cnn_conv_dims_one_reads_channels_first_signals():
    X = np.random.default_rng(0).normal(size=(64, 40)).astype(np.float32)
    est = small(arch="cnn", conv_dims=1, input_shape=(2, 20), channels=4, depth=1, epochs=1)
    first = next(m for m in est.fit(X, np.arange(64) % 2).module_.modules()
                 if isinstance(m, torch.nn.Conv1d))
    assert first.in_channels == 2


# -- scikit-learn's estimator contract -----------------------------------------
def test_clone_get_set_params_and_not_fitted():
    est = TorchClassifier(arch="cnn", hidden=[64, 64], lr=0.01)
    params = est.get_params()
    assert {"random_state", "device", "input_shape", "target_accuracy"} <= set(params)
    twin = clone(est)
    assert twin.get_params() == params and twin is not est
    twin.set_params(random_state=3, device="cpu", input_shape=(4, 4), target_accuracy=0.9)
    assert twin.random_state == 3 and twin.input_shape == (4, 4)
    assert est.random_state is None  # the original is untouched
    with pytest.raises(NotFittedError):
        est.predict(np.zeros((2, 16), np.float32))
    fitted = small().fit(*blobs())
    assert not hasattr(clone(fitted), "module_")


@pytest.mark.parametrize("bad", [{"arch": "cnnn"}, {"optimizer": "adamx"}, {"lr": -1.0},
                                 {"val_fraction": 1.5}, {"norm": "group"}])
def test_bad_hyperparameters_fail_before_training(bad):
    est = TorchClassifier(**bad)
    with pytest.raises(ValueError, match=next(iter(bad))):
        est._validate_params()  # what the runner calls when it loads a config
    with pytest.raises(ValueError):
        est.fit(*blobs())


def test_fit_returns_self_and_refit_starts_over():
    X, y = blobs()
    est = small()
    assert est.fit(X, y) is est
    first = est.predict_proba(X)
    np.testing.assert_array_equal(est.fit(X, y).predict_proba(X), first)


def test_pickle_round_trip():
    import pickle

    X, y = blobs()
    est = small().fit(X, y)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict_proba(X), est.predict_proba(X))


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
def test_sklearn_check_estimator():
    from sklearn.utils.estimator_checks import check_estimator

    check_estimator(TorchClassifier(hidden=(32,), epochs=30, batch_size=32, device="cpu"))


# -- the YAML files are the registry -------------------------------------
@pytest.mark.parametrize("path", TORCH_YAMLS, ids=lambda p: p.stem)
def test_model_yaml_instantiates_and_fits(path):
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    cfg = OmegaConf.load(path)
    assert cfg.name == path.stem and cfg.family in ("perceptron", "deep")
    assert "\n" not in cfg.description and cfg.description
    est = instantiate(cfg.estimator)
    assert isinstance(est, TorchClassifier)
    est._validate_params()
    shape = (40,)
    est.set_params(random_state=0, device="cpu", input_shape=shape, target_accuracy=0.5,
                   epochs=5, max_steps=3, batch_size=16)
    X = np.random.default_rng(0).normal(size=(100, 40)).astype(np.float32)
    est.fit(X, np.arange(100) % 4)
    assert est.trial_info_["steps"] == 3 and len(est.curve_) >= 1


@pytest.mark.slow
def test_cnn_yaml_shortened_reaches_90_percent_on_mnist1d(mnist1d):
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    X, y, Xt, yt = mnist1d
    est = instantiate(OmegaConf.load(MODELS / "cnn.yaml").estimator)
    est.set_params(random_state=0, device="cpu", input_shape=(40,), epochs=8)
    assert est.fit(X, y).score(Xt, yt) > 0.9


@pytest.mark.slow
@pytest.mark.parametrize("name,floor", [("cnn", 0.97), ("mlp", 0.70), ("gru", 0.88),
                                        ("perceptron_torch", 0.25)])
def test_yaml_defaults_reach_their_anchor_on_mnist1d(mnist1d, name, floor):
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    X, y, Xt, yt = mnist1d
    est = instantiate(OmegaConf.load(MODELS / f"{name}.yaml").estimator)
    est.set_params(random_state=0, device="cpu", input_shape=(40,), target_accuracy=0.9)
    assert est.fit(X, y).score(Xt, yt) > floor


# -- XGBoost, an optional extra ---------------------------------------------------------
def test_xgboost_without_the_extra_says_how_to_install_it(monkeypatch):
    import sys

    from omegaconf import OmegaConf

    from harness.errors import UserError
    from harness.trial import check_estimator_config

    monkeypatch.setitem(sys.modules, "xgboost", None)  # what an install without it sees
    cfg = OmegaConf.load(MODELS / "xgboost.yaml")
    with pytest.raises(UserError, match=re.escape("pip install -e .[boost]")) as err:
        check_estimator_config(cfg.estimator, cfg.name)
    assert "\n" not in str(err.value)


def test_xgboost_yaml_builds_a_classifier_the_runner_can_place():
    pytest.importorskip("xgboost", reason="xgboost is an optional extra: pip install -e .[boost]")
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    cfg = OmegaConf.load(MODELS / "xgboost.yaml")
    assert cfg.family == "classical" and "\n" not in cfg.description
    est = instantiate(cfg.estimator, _convert_="all")
    assert type(est).__name__ == "XGBClassifier" and "device" in est.get_params(deep=False)
    assert est.get_params()["tree_method"] == "hist"
    est.set_params(random_state=0, device="cpu", n_estimators=20)
    Xtr, ytr, Xte, yte = split(*blobs())
    assert est.fit(Xtr, ytr).score(Xte, yte) > 0.9


# -- GPU paths: exercised where a CUDA device is lent ------------------------------------
@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("arch,shape", [("cnn", (8, 8)), ("cnn", (40,)), ("gru", (40,)),
                                        ("mlp", (40,))])
def test_cuda_fit_records_gpu_columns(arch, shape):
    X = np.random.default_rng(0).normal(size=(256, math.prod(shape))).astype(np.float32)
    est = TorchClassifier(arch=arch, norm="batch", channels=8, epochs=2, batch_size=64,
                          input_shape=shape, device="cuda", random_state=0, bf16=True,
                          channels_last=True).fit(X, np.arange(256) % 4)
    info = est.trial_info_
    assert info["device"].startswith("cuda") and info["bf16"] is True
    assert info["peak_gpu_mb"] > 0 and info["flops_per_sample"] > 0
    assert info["channels_last"] is (arch == "cnn" and len(shape) == 2)
    np.testing.assert_allclose(est.predict_proba(X).sum(1), 1.0, atol=1e-9)


@pytest.mark.gpu
@needs_cuda
def test_cuda_compile_warmup_is_measured():
    X, y = blobs(n=512)
    est = small(device="cuda", compile=True, epochs=2).fit(X, y)
    assert est.trial_info_["compile"] is True and est.trial_info_["warmup_s"] > 0
    assert est.score(X, y) > 0.5


SPY = '''
def build(input_shape, n_classes, **_):
    import torch  # not at import time: the trial must not depend on the module loading torch
    with open(__file__ + ".threads", "a") as fh:
        fh.write(f"{torch.get_num_threads()}\\n")
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(int(input_shape[-1]), n_classes))
'''


@pytest.mark.slow
def test_device_threads_pin_torch_in_the_first_deep_trial_of_a_process(tmp_path, monkeypatch):
    """torch is imported lazily; device.threads must still hold when the first model is built."""
    from conftest import run_cli

    (tmp_path / "threadspy.py").write_text(SPY)
    monkeypatch.setenv("PYTHONPATH", f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    res = run_cli("run", "suite=smoke", "dataset=moons", "model=torch_custom", "device.threads=1",
                  "model.estimator.module._target_=threadspy.build", "model.estimator.epochs=1",
                  f"results_dir={tmp_path / 'out'}", "report=false", timeout=180)
    assert res.returncode == 0, res.stdout + res.stderr
    assert (tmp_path / "threadspy.py.threads").read_text().split() == ["1"]


# -- benchmarks/time_to_accuracy.py states the figures against the goals ----------------------
def test_time_to_accuracy_states_each_goal_met_or_missed():
    import importlib.util

    path = MODELS.parent.parent / "benchmarks" / "time_to_accuracy.py"
    spec = importlib.util.spec_from_file_location("time_to_accuracy", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    fast = {"to90": 0.4, "to975": 1.0, "train_s": 3.0, "test": 0.98}
    lines = bench.goals([fast, {**fast, "to90": 0.6, "train_s": 4.0, "test": 0.976}], 2)
    assert lines == ["  goal on 2 CPU cores: 90% validation accuracy in <= 1.5 s: 0.50 s, met",
                     "  goal on 2 CPU cores: mean test accuracy >= 97.5%: 97.80%, met",
                     "  goal on 2 CPU cores: training <= 5 s: 3.50 s, met"]
    slow = {**fast, "to90": math.nan, "train_s": 6.0, "test": 0.96}  # never reached 90%
    lines = bench.goals([fast, slow], 1)
    assert all(line.startswith("  goal on 2 CPU cores, measured on 1 thread(s): ") for line in lines)
    assert [line.rsplit(", ", 1)[1] for line in lines] == ["MISSED", "MISSED", "met"]
    assert "never (some seed)" in lines[0] and "97.00%" in lines[1] and "4.50 s" in lines[2]
