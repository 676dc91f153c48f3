"""The user's own data: a CSV or Parquet table, or an NPZ file with a ready split.

Every mistake a user can make here (a wrong path, a misspelt column, text in a
feature column) raises :class:`~harness.errors.UserError` with a one-line fix.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

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
        A second table with the same columns used as the test split (no split made).

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
        X_test, y_test = _xy(_read(full_test), target, list(drop or ()), full_test)
        return X, y, X_test, y_test
    from sklearn.model_selection import train_test_split

    _, counts = np.unique(y, return_counts=True)
    stratify = y if counts.min() >= 2 else None  # a singleton class can't be stratified
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=seed, stratify=stratify
    )
    return X_train, y_train, X_test, y_test


def load_npz(path, seed: int | None = None):
    """Read a ready split from an NPZ file with keys ``X_train, y_train, X_test, y_test``.

    ``seed`` is accepted and ignored: the split is the file's.
    """
    full = resolve(path)
    try:
        with np.load(full, allow_pickle=False) as npz:
            missing = [k for k in NPZ_KEYS if k not in npz.files]
            if missing:
                raise UserError(
                    f"{full} lacks key(s) {', '.join(missing)} "
                    f"(has: {', '.join(npz.files) or 'none'}); "
                    f"save it with np.savez(path, X_train=..., y_train=..., X_test=..., y_test=...)"
                )
            return tuple(npz[k] for k in NPZ_KEYS)
    except UserError:
        raise
    except ValueError as exc:  # object arrays need pickle, which we never allow
        raise UserError(
            f"{full}: cannot read without pickle ({exc}); store numeric arrays only"
        ) from None
    except (OSError, EOFError) as exc:
        raise UserError(f"{full} is not a readable NPZ file ({exc})") from None


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


def _xy(frame, target: str, drop: list, full: Path):
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
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
    return X, y


def _numeric(series) -> bool:
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    return is_numeric_dtype(series) or is_bool_dtype(series)
