"""XGBoost, an optional extra (``pip install -e .[boost]``), built for the runner.

A factory rather than ``_target_: xgboost.XGBClassifier`` so that a machine without the
extra gets a plan-time error that says how to install it, not only that an import failed.
What it returns is a plain ``xgboost.XGBClassifier``: the runner sees its ``device``
parameter and passes ``cuda`` on a GPU machine.
"""

from __future__ import annotations

INSTALL_HINT = "xgboost is not installed; it is an optional extra: pip install -e .[boost]"


def xgb_classifier(**params):
    """An ``xgboost.XGBClassifier(**params)``; ImportError with the install command if absent."""
    try:
        from xgboost import XGBClassifier
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return XGBClassifier(**params)
