"""An example of a user's own network, plugged in by ``suites/model/torch_custom.yaml``.

A plug-in needs only the call ``factory(input_shape, n_classes)`` returning an
``nn.Module`` that maps ``(n, *input_shape)`` to logits; a class whose first two
arguments are those is such a factory.
"""

from __future__ import annotations

import math

from torch import nn


class ResidualMLP(nn.Module):
    """Pre-norm residual MLP: ``blocks`` x (LayerNorm, Linear, GELU, Dropout) + skip."""

    def __init__(self, input_shape, n_classes: int, width: int = 128, blocks: int = 2,
                 dropout: float = 0.1):
        super().__init__()
        self.stem = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), width))
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.LayerNorm(width), nn.Linear(width, width), nn.GELU(),
                          nn.Dropout(dropout))
            for _ in range(blocks))
        self.head = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, n_classes))

    def forward(self, x):
        x = self.stem(x)
        for block in self.blocks:
            x = x + block(x)
        return self.head(x)
