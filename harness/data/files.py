"""The user's own data: a CSV or Parquet table, or an NPZ file with a ready split.

Every mistake a user can make here (a wrong path, a misspelt column, text in a
feature column) raises :class:`~harness.errors.UserError` with a one-line fix.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.data.splits import resample_split
from harness.errors import UserError

NPZ_KEYS = ("X_train", "y_train", "X_test", "y_test")
_TABLE_SUFFIXES = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet",
}


def resolve(path, key: str = "path") -> Path:
    """Absolute path of a user file, relative to where harness was launched.

    ``key`` names the loader parameter to fix in the error message.
    """
    if path is None or str(path) in ("", "???"):
        raise UserError(f"no data file given (set dataset.loader.{key}=/path/to/file)")
    try:
        from hydra.utils import to_absolute_path

        full = Path(to_absolute_path(str(Path(str(path)).expanduser())))
    except ImportError:  # pragma: no cover - hydra is a dependency
        full = Path(str(path)).expanduser().resolve()
    if not full.is_file():
        raise UserError(f"data file not found: {full} (set dataset.loader.{key}=...)")
    return full


def load_table(
    path, target: str, test_size: float = 0.25, seed: int = 0, kind: str = "tabular",
    drop=(), test_path=None,
):
    """Read a CSV or Parquet table (chosen by extension) and split it.

    Parameters
    ----------
    path : str
        The table; ``.csv``/``.tsv``/``.txt`` or ``.parquet``/``.pq``.
    target : str
        The label column; every other column (less ``drop``) is a feature and
        must be numeric.
    test_size : float
        Fraction held out for testing (a stratified split drawn with ``seed``).
    kind : str
        ``tabular`` or ``points`` keep rows as vectors; ``signal`` treats each
        row as one 1-D signal (columns in order). Should match the dataset's kind.
    drop : list of str
        Columns to ignore, such as ids or free text.
    test_path : str, optional
        A second table with the same columns: split 0 (``seed=0``) uses it as the test split,
        split ``k > 0`` a stratified resample of both tables with the same sizes
        (:func:`~harness.data.splits.resample_split`).

    Returns
    -------
    tuple
        ``(X_train, y_train, X_test, y_test)``.
    """
    if kind not in ("tabular", "points", "signal"):
        raise UserError(
            f"a table can load as kind tabular, points or signal, not {kind!r}; "
            f"save images as an NPZ file (dataset=npz)"
        )
    full = resolve(path)
    X, y = _xy(_read(full), target, list(drop or ()), full)
    if test_path is not None:
        full_test = resolve(test_path, key="test_path")
        X_test, y_test = _xy(_read(full_test), target, list(drop or ()), full_test, split=False)
        return resample_split(X, y, X_test, y_test, seed)
    from harness.data.bundled import split

    _, counts = np.unique(y, return_counts=True)
    return split(X, y, test_size, seed, stratify=counts.min() >= 2,  # a singleton class can't be stratified
                 what=f"{full.name} has {len(y)} rows; add rows or change dataset.loader.test_size")


def load_npz(path, seed: int | None = None):
    """Read a ready split from an NPZ file with keys ``X_train, y_train, X_test, y_test``.

    ``seed`` is the trial's split: 0 (or None) is the file's split, ``k > 0`` a stratified
    resample of its train and test rows with the same sizes
    (:func:`~harness.data.splits.resample_split`). ``dataset.loader.seed=0`` keeps the file's
    split for every trial (a time-ordered hold-out, say).
    """
    full = resolve(path)
    save = "save it with np.savez(path, X_train=..., y_train=..., X_test=..., y_test=...)"
    try:
        with open(full, "rb") as fh:
            magic = fh.read(6)
    except OSError as exc:
        raise UserError(f"cannot read {full}: {exc.strerror or exc}") from None
    if magic == b"\x93NUMPY":
        raise UserError(f"{full} holds one array (an .npy file), not a split; {save}")
    if not magic.startswith(b"PK"):  # an NPZ file is a zip archive
        raise UserError(f"{full} is not an NPZ file (not a zip archive: another format, or damaged); {save}")
    try:
        with np.load(full, allow_pickle=False) as npz:
            missing = [k for k in NPZ_KEYS if k not in npz.files]
            if missing:
                raise UserError(
                    f"{full} lacks key(s) {', '.join(missing)} "
                    f"(has: {', '.join(npz.files) or 'none'}); {save}"
                )
            arrays = tuple(npz[k] for k in NPZ_KEYS)
    except UserError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc).lower():  # object arrays need pickle, which we never allow
            raise UserError(
                f"{full}: cannot read without pickle ({_first_line(exc)}); store numeric arrays only"
            ) from None
        raise UserError(f"{full} is not a readable NPZ file ({_first_line(exc)}); {save}") from None
    except Exception as exc:  # noqa: BLE001 - truncated or damaged: zipfile, zlib and OS errors differ
        raise UserError(f"{full} is not a readable NPZ file (damaged or truncated: "
                        f"{type(exc).__name__}: {_first_line(exc)}); {save}") from None
    return resample_split(*arrays, seed or 0)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _read(full: Path):
    import pandas as pd

    fmt = _TABLE_SUFFIXES.get(full.suffix.lower())
    if fmt is None:
        raise UserError(
            f"{full}: unknown table format {full.suffix!r}; use .csv, .tsv or .parquet"
        )
    try:
        if fmt == "parquet":
            return pd.read_parquet(full)
        return pd.read_csv(full, sep="\t" if full.suffix.lower() == ".tsv" else ",")
    except Exception as exc:  # parser errors differ by engine; the message matters
        raise UserError(f"could not read {full} as {fmt}: {str(exc).splitlines()[0]}") from None


def _xy(frame, target: str, drop: list, full: Path, split: bool = True):
    """Features and labels of a table; ``split``: it is split into train and test (not a test table)."""
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    if len(frame) == 0:
        raise UserError(f"{full.name} has a header ({', '.join(columns) or 'no columns'}) but no data rows; "
                        f"add rows, or point dataset.loader.{'path' if split else 'test_path'}=... "
                        f"at the file that has them")
    if target not in columns:
        raise UserError(
            f"target column {target!r} not in {full.name}; available columns: {', '.join(columns)} "
            f"(set dataset.loader.target=...)"
        )
    absent = [c for c in drop if c not in columns]
    if absent:
        raise UserError(f"cannot drop column(s) {', '.join(absent)}: not in {full.name}")
    features = frame.drop(columns=[target, *drop])
    if features.shape[1] == 0:
        raise UserError(f"{full.name} has no feature columns besides the target {target!r}")
    bad = [c for c in features.columns if not _numeric(features[c])]
    if bad:
        raise UserError(
            f"non-numeric feature column(s) in {full.name}: {', '.join(bad)}; encode them as "
            f"numbers or drop them (dataset.loader.drop=[{','.join(bad)}])"
        )
    X = features.to_numpy(dtype=np.float32)
    if np.isnan(X).any():
        holes = [c for c in features.columns if features[c].isna().any()]
        raise UserError(
            f"missing values in {full.name} column(s) {', '.join(holes)}; impute or drop them"
        )
    y = frame[target]
    if y.isna().any():
        raise UserError(
            f"{y.isna().sum()} rows of {full.name} have no target {target!r}; drop them"
        )
    y = y.to_numpy()
    if y.dtype == object:
        y = y.astype(str)
    elif y.dtype.kind == "f":
        fractional = y[y != np.round(y)]
        if fractional.size:
            examples = ", ".join(f"{v:g}" for v in np.unique(fractional)[:3])
            raise UserError(
                f"target column {target!r} of {full.name} holds non-integer numbers ({examples}); "
                f"harness classifies, so the target must be class labels: round or bin it, or "
                f"pick the label column (dataset.loader.target=...)"
            )
        y = y.astype(np.int64)
    classes = np.unique(y)
    if split and len(classes) < 2:
        raise UserError(
            f"target column {target!r} of {full.name} has a single class ({classes[0]}); a classifier "
            f"needs at least two: check the column (dataset.loader.target=...) or the file"
        )
    return X, y


def _numeric(series) -> bool:
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    return is_numeric_dtype(series) or is_bool_dtype(series)
