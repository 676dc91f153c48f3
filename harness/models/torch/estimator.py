"""``TorchClassifier``: torch networks behind the scikit-learn estimator API.

The runner treats every model alike (instantiate, ``set_params``, ``fit``, ``predict``),
so a deep net must look exactly like a scikit-learn classifier; what only deep nets
have (curves, FLOPs, warm-up) is read afterwards from ``curve_`` and ``trial_info_``.
"""

from __future__ import annotations

import math
import time
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
# scikit-learn's own parameter constraints: private, but what its estimators and most third-party
# ones use; `make test-oldest` checks it at the scikit-learn floor, `make test` at the newest.
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from harness.data.splits import split_validation

_POSITIVE = [Interval(Integral, 1, None, closed="left")]
_FLAG = ["boolean"]


class TorchClassifier(ClassifierMixin, BaseEstimator):
    """A torch network trained by harness's shared loop, as a scikit-learn classifier.

    Parameters
    ----------
    arch : {"perceptron", "mlp", "cnn", "gru"}
        Built-in architecture; ignored when ``module`` is given.
    module : callable, optional
        ``factory(input_shape, n_classes) -> nn.Module`` for a user's own network (in YAML,
        ``{_target_: pkg.Net, _partial_: true}``). It receives batches shaped
        ``(n, *input_shape)`` and returns logits.
    hidden : sequence of int
        MLP widths; ``()`` is the perceptron.
    activation, dropout, norm
        Nonlinearity name, dropout rate, and ``"batch"``, ``"layer"`` or None.
    channels, depth, kernel_size
        CNN width, number of conv blocks and kernel size.
    conv_dims : {1, 2} or None
        1-D or 2-D convolutions; None: 1-D for an ``input_shape`` ``(L,)``, else 2-D.
    hidden_size, n_layers, bidirectional
        GRU state size, stacked layers and direction.
    optimizer, lr, weight_decay, schedule
        ``"adamw"|"adam"|"sgd"``, peak learning rate, decoupled/L2 decay, and
        ``"onecycle"|"cosine"|"constant"``.
    epochs, max_steps, batch_size
        Passes over the data, an optional cap on optimiser steps, and the batch size.
    val_fraction : float
        Share (or count, if >= 1) of the *training* data held out for curves and early
        stopping; stratified and seeded. 0 disables validation. Not used when ``fit`` is given
        ``X_val`` (as harness trials do: they carve the suite's ``val_fraction`` themselves).
    early_stopping : int, optional
        Patience in evaluations; the best weights are restored. None: off.
    eval_every : int, optional
        Steps between evaluations; None: once an epoch.
    device : {"auto", "cpu", "cuda", "cuda:N"}
        Where to train; asking for an absent accelerator raises RuntimeError.
    random_state : int, RandomState or None
        Seeds weights, split and batch order: on CPU one seed gives one result.
    input_shape : tuple, optional
        Per-sample shape of the flat rows ``fit`` receives; None: ``(n_features,)``.
    target_accuracy : float, optional
        Validation accuracy whose first crossing is reported as ``time_to_target_s``.
    bf16, compile, channels_last : bool
        bf16 autocast (CUDA only), ``torch.compile``, channels-last memory (CUDA, 2-D conv).
    verbose : int
        Print one line per evaluation when > 0.

    Attributes
    ----------
    classes_, n_features_in_, module_, device_, curve_, trial_info_
    """

    #: A harness trial passes its validation carve to ``fit`` as ``X_val, y_val``.
    accepts_validation = True

    # Checked by ``fit`` and by the runner when it loads a config, so a misspelt override
    # (``arch=cnnn``) fails before any trial runs.
    _parameter_constraints: dict = {
        "arch": [StrOptions({"perceptron", "mlp", "cnn", "gru"})],
        "module": [callable, None],
        "hidden": ["array-like", None],
        "activation": [str],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "norm": [StrOptions({"batch", "layer", "none"}), None],
        "channels": _POSITIVE, "depth": _POSITIVE, "kernel_size": _POSITIVE,
        "conv_dims": [Interval(Integral, 1, 2, closed="both"), None],
        "hidden_size": _POSITIVE, "n_layers": _POSITIVE, "bidirectional": _FLAG,
        "optimizer": [StrOptions({"adamw", "adam", "sgd"})],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "schedule": [StrOptions({"onecycle", "cosine", "constant"})],
        "epochs": _POSITIVE, "max_steps": [*_POSITIVE, None], "batch_size": _POSITIVE,
        "val_fraction": [Interval(Real, 0, 1, closed="left"), *_POSITIVE],
        "early_stopping": [Interval(Integral, 0, None, closed="left"), None],
        "eval_every": [*_POSITIVE, None],
        "device": [str, None],
        "random_state": ["random_state"],
        "input_shape": ["array-like", None],
        "target_accuracy": [Interval(Real, 0, 1, closed="both"), None],
        "bf16": _FLAG, "compile": _FLAG, "channels_last": _FLAG,
        "verbose": ["verbose"],
    }

    def __init__(self, arch="mlp", module=None, hidden=(256, 256), activation="relu",
                 dropout=0.0, norm=None, channels=32, depth=3, kernel_size=5, conv_dims=None,
                 hidden_size=32, n_layers=1, bidirectional=False, optimizer="adamw", lr=3e-3,
                 weight_decay=0.01, schedule="onecycle", epochs=20, max_steps=None, batch_size=128,
                 val_fraction=0.1, early_stopping=None, eval_every=None, device="auto",
                 random_state=None, input_shape=None, target_accuracy=None, bf16=False,
                 compile=False, channels_last=False, verbose=0):
        self.arch = arch
        self.module = module
        self.hidden = hidden
        self.activation = activation
        self.dropout = dropout
        self.norm = norm
        self.channels = channels
        self.depth = depth
        self.kernel_size = kernel_size
        self.conv_dims = conv_dims
        self.hidden_size = hidden_size
        self.n_layers = n_layers
        self.bidirectional = bidirectional
        self.optimizer = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.schedule = schedule
        self.epochs = epochs
        self.max_steps = max_steps
        self.batch_size = batch_size
        self.val_fraction = val_fraction
        self.early_stopping = early_stopping
        self.eval_every = eval_every
        self.device = device
        self.random_state = random_state
        self.input_shape = input_shape
        self.target_accuracy = target_accuracy
        self.bf16 = bf16
        self.compile = compile
        self.channels_last = channels_last
        self.verbose = verbose

    # -- building -------------------------------------------------------------------
    def _shape(self, n_features: int) -> tuple[int, ...]:
        if self.input_shape is None:
            if self.module is None and self.arch in ("cnn", "gru"):
                raise ValueError(f"arch={self.arch!r} needs input_shape, the per-sample shape of "
                                 f"a signal or image (flat rows of {n_features} features have "
                                 "none; use mlp on tabular data)")
            return (n_features,)
        shape = tuple(int(s) for s in self.input_shape)
        if math.prod(shape) != n_features:
            raise ValueError(f"input_shape {shape} holds {math.prod(shape)} values but X has "
                             f"{n_features} features")
        return shape

    def _build(self, shape, n_classes: int):
        from torch import nn

        from . import nets

        if self.module is not None:
            if isinstance(self.module, nn.Module):
                raise TypeError("module must be a factory(input_shape, n_classes) -> nn.Module, "
                                "not a module instance (in YAML add `_partial_: true`)")
            net = self.module(shape, n_classes)
            if not isinstance(net, nn.Module):
                raise TypeError(f"module factory returned {type(net).__name__}, not nn.Module")
            return net
        return nets.build(self.arch, shape, n_classes, hidden=tuple(self.hidden or ()),
                          activation_name=self.activation, dropout=self.dropout, norm=self.norm,
                          channels=self.channels, depth=self.depth, kernel_size=self.kernel_size,
                          hidden_size=self.hidden_size, n_layers=self.n_layers,
                          bidirectional=self.bidirectional, conv_dims=self.conv_dims)

    def _loop_config(self):
        from .trainer import LoopConfig

        return LoopConfig(
            optimizer=self.optimizer, lr=float(self.lr), weight_decay=float(self.weight_decay),
            schedule=self.schedule, epochs=int(self.epochs), max_steps=self.max_steps,
            batch_size=int(self.batch_size), early_stopping=self.early_stopping,
            eval_every=self.eval_every, target_accuracy=self.target_accuracy,
            bf16=bool(self.bf16), verbose=int(self.verbose))

    # -- scikit-learn API -----------------------------------------------------------
    def fit(self, X, y, X_val=None, y_val=None):
        """Train from scratch on ``X`` (rows flattened from ``input_shape``) and ``y``.

        ``X_val, y_val``: the validation rows for the curve and early stopping (a trial passes
        the part it carved from its training split, the one every model of the trial is
        scored on). Without them ``val_fraction`` of ``X`` is carved here; given (even empty),
        all of ``X`` trains and ``val_fraction`` is not used.

        Everything before the first counted step (device start-up, transfers, FLOP count,
        compilation, throwaway warm-up steps) is timed as ``trial_info_["warmup_s"]``.
        """
        start = time.perf_counter()
        import torch

        from .device import draw_seed, resolve_device, seed_everything, synchronize
        from .flops import training_flops_per_sample
        from .nets import check_fits
        from .trainer import train, warmup

        self._validate_params()
        X, y = validate_data(self, X, y, dtype=np.float32)
        check_classification_targets(y)
        self.classes_, y_enc = np.unique(y, return_inverse=True)
        n_classes = len(self.classes_)
        shape = self._shape(X.shape[1])
        device = resolve_device(self.device)
        seed = draw_seed(self.random_state)
        seed_everything(seed)
        if device.type == "cuda":
            torch.empty(0, device=device)  # start the CUDA context here, inside the warm-up
            torch.cuda.reset_peak_memory_stats(device)

        if X_val is None:
            tr, va = split_validation(y_enc, self.val_fraction, seed)
            X_fit, y_fit, X_hold, y_hold = X[tr], y_enc[tr], X[va], y_enc[va]
        else:
            X_fit, y_fit = X, y_enc
            X_hold, y_hold = self._validation(X_val, y_val, X.shape[1])
        module = self._build(shape, n_classes)
        n_params = sum(p.numel() for p in module.parameters())
        flops = training_flops_per_sample(module, shape, n_classes)
        module.to(device)
        check_fits(module, shape, n_classes, device,
                   "module" if self.module is not None else f"arch={self.arch!r}")
        channels_last = bool(self.channels_last and device.type == "cuda"
                             and any(isinstance(m, torch.nn.Conv2d) for m in module.modules()))
        if channels_last:
            module.to(memory_format=torch.channels_last)
        model = torch.compile(module) if self.compile else module

        def tensors(X_part, y_part):
            Xt = torch.as_tensor(X_part).reshape(len(X_part), *shape).to(device)
            return Xt, torch.as_tensor(y_part, dtype=torch.long).to(device)

        X_tr, y_tr = tensors(X_fit, y_fit)
        X_va, y_va = tensors(X_hold, y_hold)
        cfg = self._loop_config()
        warmup(model, module, X_tr, y_tr, cfg, n_steps=3 if device.type == "cuda" else 1)
        seed_everything(seed)  # the counted run starts from the same RNG state every time
        synchronize(device)
        warmup_s = time.perf_counter() - start

        res = train(model, module, X_tr, y_tr, X_va, y_va, cfg, seed)
        self.module_ = module.eval()
        self.device_ = device
        self.curve_ = res.curve
        bf16 = bool(self.bf16 and device.type == "cuda")
        self.trial_info_ = {
            "n_params": int(n_params),
            "epochs": float(res.epochs),
            "steps": int(res.steps),
            "samples_per_s": float(res.samples / res.train_s),
            # one pass over the training split, training steps only (steady state, no evaluation)
            "epoch_s": float(res.train_s / res.epochs) if res.epochs > 0 else math.nan,
            "warmup_s": float(warmup_s),
            "peak_gpu_mb": (float(torch.cuda.max_memory_allocated(device)) / 2**20
                            if device.type == "cuda" else math.nan),
            "flops_per_sample": float(flops),
            "achieved_tflops": float(flops * res.samples / res.train_s / 1e12),
            "time_to_target_s": float(res.time_to_target_s),
            "device": str(device),
            "bf16": bf16,
            "compile": bool(self.compile),
            "channels_last": channels_last,
            "n_train_fit": int(len(y_fit)),
            "n_val": int(len(y_hold)),
            "val_accuracy": float(res.best_val_accuracy if self.early_stopping is not None
                                  else res.curve[-1]["val_accuracy"]),
        }
        return self

    def _validation(self, X_val, y_val, n_features: int):
        """Given validation rows as float32 rows and labels encoded like ``classes_``; a class
        the training rows lack gets -1, which no prediction matches."""
        if y_val is None:
            raise ValueError("fit got X_val without y_val; pass both, or neither")
        X_val = np.asarray(X_val, dtype=np.float32)
        X_val = X_val.reshape(len(X_val), n_features if X_val.size == 0 else -1)
        y_val = np.asarray(y_val).ravel()
        if X_val.shape[1] != n_features or len(X_val) != len(y_val):
            raise ValueError(f"X_val must hold rows of {n_features} features and one label each "
                             f"(got {X_val.shape} and {len(y_val)} labels)")
        pos = np.searchsorted(self.classes_, y_val).clip(0, len(self.classes_) - 1)
        known = self.classes_[pos] == y_val
        return np.ascontiguousarray(X_val), np.where(known, pos, -1).astype(np.int64)

    def predict_proba(self, X):
        """Class probabilities (softmax of the logits), rows summing to 1."""
        import torch

        from .device import synchronize
        from .trainer import predict_logits

        check_is_fitted(self, "module_")
        X = validate_data(self, X, dtype=np.float32, reset=False)
        shape = self._shape(X.shape[1])
        Xt = torch.as_tensor(X).reshape(len(X), *shape).to(self.device_)
        logits = predict_logits(self.module_, Xt, max(1024, int(self.batch_size)),
                                bool(self.bf16 and self.device_.type == "cuda"))
        proba = torch.softmax(logits.double(), dim=1).cpu().numpy()
        synchronize(self.device_)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X):
        """The most probable class of each row."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]
