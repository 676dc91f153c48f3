"""Training FLOPs per sample, counted once with ``torch.utils.flop_counter``.

Counted on a CPU copy of the module in float32, so the figure depends only on the
architecture: cuDNN's fused RNN kernels and bf16 autocast would otherwise hide or
change the operations the counter sees.
"""

from __future__ import annotations

import copy
import math

import torch
from torch.nn import functional as F
from torch.utils.flop_counter import FlopCounterMode


def training_flops_per_sample(module: torch.nn.Module, input_shape, n_classes: int,
                              batch: int = 8) -> float:
    """Forward plus backward FLOPs of one training sample (matmuls and convolutions).

    Returns NaN when the module cannot be copied or run on CPU (a user's module may not),
    since a missing figure is better than a failed trial.
    """
    try:
        probe = copy.deepcopy(module).to("cpu").float().train()
        x = torch.randn(batch, *input_shape)
        y = torch.randint(0, max(n_classes, 1), (batch,))
        with FlopCounterMode(display=False) as counter:
            F.cross_entropy(probe(x), y).backward()
        return counter.get_total_flops() / batch
    except Exception:  # noqa: BLE001 - a measurement must never fail a fit
        return math.nan
