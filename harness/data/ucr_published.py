"""Published accuracies on the UCR problems harness bundles, and ours beside them.

``ucr_published.csv`` (next to this module) holds, per problem and method, the mean accuracy
(in %) on the archive's train/test split as its source reports it, the spread where the source
gives one, and the exact source (paper, repository file and commit). Only figures found in
those sources are there; a method without a row for a problem has no published figure we could
cite. Results are data: this module reads numbers, it never runs anything.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

PUBLISHED = Path(__file__).with_name("ucr_published.csv")

#: Which published method each of our pipelines reproduces, by (features, model).
METHODS = {
    ("rocket", "rocket_ridge"): "ROCKET",
    ("series", "dtw_1nn"): "1-NN DTW",
    ("series", "fcn"): "FCN", ("series", "fcn_paper"): "FCN",
    ("series", "resnet"): "ResNet", ("series", "resnet_paper"): "ResNet",
}
#: A published mean counts as reproduced when ours is within this many points of it.
REPRODUCED_POINTS = 2.0


def published() -> pd.DataFrame:
    """The published figures: one row per (dataset, method), accuracy and std in %."""
    return pd.read_csv(PUBLISHED)


def beside(records: pd.DataFrame) -> pd.DataFrame:
    """Ours on the archive split (split 0, ok trials) beside the published figure of the same method.

    Returns one row per (dataset, features, model) that reproduces a published method:
    ``ours`` (mean accuracy in %), ``ours_std`` (across seeds, NaN for one), ``n``,
    ``published``, ``published_std``, ``delta`` (ours - published, points), ``reproduced``
    (``|delta| <= REPRODUCED_POINTS``) and ``source``.
    """
    ok = records[(records["status"] == "ok") & (records["split"] == 0)]
    ok = ok.assign(method=[METHODS.get((f, m)) for f, m in zip(ok["features"], ok["model"])])
    ok = ok[ok["method"].notna()]
    cols = ["dataset", "features", "model", "method", "ours", "ours_std", "n", "published",
            "published_std", "delta", "reproduced", "source"]
    if ok.empty:
        return pd.DataFrame(columns=cols)
    ours = (ok.groupby(["dataset", "features", "model", "method"])["accuracy"]
              .agg(ours=lambda a: 100 * a.mean(), ours_std=lambda a: 100 * a.std(), n="count")
              .reset_index())
    pub = published().rename(columns={"accuracy": "published", "std": "published_std"})
    out = ours.merge(pub[["dataset", "method", "published", "published_std", "source"]],
                     on=["dataset", "method"], how="inner")
    out["delta"] = out["ours"] - out["published"]
    out["reproduced"] = np.abs(out["delta"]) <= REPRODUCED_POINTS
    return out[cols].sort_values(["dataset", "method", "model"]).reset_index(drop=True)
