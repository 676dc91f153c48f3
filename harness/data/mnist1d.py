"""MNIST-1D (Greydanus, 2020): ten 1-D digit templates, shifted, scaled, sheared and noised.

Generated offline with the ``mnist1d`` package's own generator (never its
downloader), so that ``num_samples=5000, seed=42`` reproduces the package's
standard 4,000/1,000 split exactly. Generation costs about 0.25 ms per sample;
the result is cached on disk by its parameters, so only the first trial pays.
"""

from __future__ import annotations

import numpy as np

from harness.data.cache import cached_arrays
from harness.data.params import check_params
from harness.data.splits import resample_split
from harness.errors import UserError

#: Generator arguments we pass through; ``url`` (the downloader's) is left out.
GENERATOR_ARGS = (
    "template_len", "padding", "scale_coeff", "max_translation", "corr_noise_scale",
    "iid_noise_scale", "shear_scale", "shuffle_seq", "final_seq_length",
)


def load_mnist1d(
    num_samples: int = 5000, train_split: float = 0.8, seed: int = 42,
    n_train: int | None = None, split: int = 0, **generator_args,
):
    """Generate (or read from the cache) an MNIST-1D split.

    Parameters
    ----------
    num_samples : int
        Total samples, train and test; a multiple of 10 keeps the classes balanced.
    train_split : float
        Fraction of the generated samples used for training (the package's split:
        the first ``int(num_samples * train_split)`` samples).
    seed : int
        Generator seed; 42 is the package's standard data set.
    split : int
        Which train/test split of the generated signals: 0 is the package's own (the first
        ``train_split`` of them), ``k > 0`` a stratified resample of all of them with the same
        sizes (:func:`~harness.data.splits.resample_split`).
    n_train : int, optional
        Keep only this many training samples (a stratified subsample drawn with
        ``seed``, nested: a smaller one is part of a larger one); the test split
        is unchanged, so accuracies are comparable across training-set sizes (within a split).
        For large sizes generate once with a big ``num_samples`` and vary
        ``n_train`` only: the generated split changes with ``num_samples``.
    **generator_args
        Any of :data:`GENERATOR_ARGS` (e.g. ``shuffle_seq=True``, ``iid_noise_scale``).

    Returns
    -------
    tuple
        ``(X_train, y_train, X_test, y_test)``; ``X`` has shape ``(n, final_seq_length)``.
    """
    unknown = sorted(set(generator_args) - set(GENERATOR_ARGS))
    if unknown:
        raise UserError(
            f"unknown MNIST-1D generator argument(s) {', '.join(unknown)}; "
            f"valid ones are {', '.join(GENERATOR_ARGS)}"
        )
    check_params(n_train=n_train, split=split)
    if int(num_samples) < 10 or not 0.0 < float(train_split) < 1.0:
        raise UserError(
            f"MNIST-1D needs num_samples >= 10 and 0 < train_split < 1 "
            f"(got num_samples={num_samples}, train_split={train_split})"
        )
    params = _generator_params(int(num_samples), float(train_split), int(seed), generator_args)
    data = cached_arrays("mnist1d", params, lambda: _generate(params))
    X_train, y_train, X_test, y_test = resample_split(data["x"], data["y"], data["x_test"], data["y_test"],
                                                      int(split))
    if n_train is not None:
        X_train, y_train = _subsample(X_train, y_train, int(n_train), int(seed))
    return X_train, y_train, X_test, y_test


def _generator_params(num_samples, train_split, seed, generator_args) -> dict:
    from mnist1d.data import get_dataset_args

    params = get_dataset_args(as_dict=True)
    params.pop("url", None)
    params.update({k: _plain(v) for k, v in generator_args.items()})
    params.update(num_samples=num_samples, train_split=train_split, seed=seed)
    params["generator"] = _package_version()
    return params


def _generate(params: dict) -> dict[str, np.ndarray]:
    """Run the package's generator without disturbing the global RNG state it seeds."""
    import random

    from mnist1d.data import make_dataset
    from mnist1d.utils import ObjectView

    args = {k: v for k, v in params.items() if k != "generator"}
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        d = make_dataset(ObjectView(args))
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    return {
        "x": d["x"].astype(np.float32), "y": d["y"].astype(np.int64),
        "x_test": d["x_test"].astype(np.float32), "y_test": d["y_test"].astype(np.int64),
    }


def _subsample(X, y, n_train: int, seed: int):
    """Stratified and nested: the first ``n_train`` of one seeded, class-balanced order.

    Each sample's key is its rank in a random permutation of its class, scaled to
    ``[0, 1)``; sorting by key interleaves the classes in proportion, so every
    prefix is stratified and a smaller ``n_train`` is a subset of a larger one.
    """
    if n_train > len(y):
        raise UserError(
            f"n_train={n_train} exceeds the {len(y)} generated training samples; "
            f"raise num_samples or train_split"
        )
    if n_train < 1:
        raise UserError(f"n_train must be a positive number of samples, got {n_train}")
    rng = np.random.default_rng(seed)
    key = np.empty(len(y))
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        rank = rng.permutation(len(members)) + rng.uniform(size=len(members))
        key[members] = rank / len(members)
    idx = np.sort(np.argsort(key, kind="stable")[:n_train])
    return X[idx], y[idx]


def _plain(value):
    """YAML lists arrive as ListConfig; the generator and the cache key want lists."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        return value
    return [_plain(v) for v in value]


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"mnist1d=={version('mnist1d')}"
    except PackageNotFoundError:  # pragma: no cover - vendored copies
        return "mnist1d"
