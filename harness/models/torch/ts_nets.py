"""FCN and ResNet for time series (Wang, Yan and Oates, 2017), as re-implemented and benchmarked
on the UCR archive by Ismail Fawaz et al. (2019, "Deep learning for time series classification:
a review", companion code github.com/hfawaz/dl-4-tsc, ``classifiers/fcn.py`` and ``resnet.py``).

Both are plug-ins for :class:`~harness.models.torch.TorchClassifier` (``module:`` with
``_partial_: true``): ``factory(input_shape, n_classes)`` takes a signal ``(L,)`` or a
multichannel one ``(C, L)`` and returns logits. Layers follow the Keras originals: same-padding
convolutions with bias, batch norm with Keras's epsilon (1e-3), global average pooling and a
linear head (the softmax is in the loss). ``bn_momentum`` is torch's (the weight of the newest
batch in the running statistics): Keras's default is 0.01 in those terms, which suits the
published thousands of epochs; over a few hundred steps the running statistics would still
lag the weights, and a short run then predicts at chance, so the default here is torch's 0.1.
"""

from __future__ import annotations

import torch
from torch import nn

#: Keras's BatchNormalization epsilon.
_EPS = 1e-3


def _in_channels(input_shape, what: str) -> int:
    shape = tuple(int(s) for s in input_shape)
    if len(shape) not in (1, 2):
        raise ValueError(f"{what} needs a signal: input_shape (L,) or (C, L), got {shape}")
    return 1 if len(shape) == 1 else shape[0]


def _bn(width: int, momentum: float) -> nn.BatchNorm1d:
    return nn.BatchNorm1d(width, eps=_EPS, momentum=float(momentum))


def _conv_bn(c_in: int, c_out: int, kernel: int, momentum: float) -> nn.Sequential:
    return nn.Sequential(nn.Conv1d(c_in, c_out, kernel, padding="same"), _bn(c_out, momentum))


class _SignalNet(nn.Module):
    """What both share: ``(n, L)`` gains a channel axis (``(n, C, L)`` is used as is), then the
    subclass's ``body`` (convolutions), global average pooling over time and its linear ``head``."""

    body: nn.Module
    head: nn.Module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.body(x.unsqueeze(1) if x.ndim == 2 else x)
        return self.head(x.mean(dim=2))


class FCN(_SignalNet):
    """Fully convolutional network: three conv-BN-ReLU blocks (128, 256, 128 filters; kernels
    8, 5, 3), global average pooling, linear head."""

    def __init__(self, input_shape, n_classes: int, filters=(128, 256, 128), kernel_sizes=(8, 5, 3),
                 bn_momentum=0.1):
        super().__init__()
        if len(filters) != len(kernel_sizes) or not filters:
            raise ValueError(f"fcn needs one kernel size per block: filters={list(filters)}, "
                             f"kernel_sizes={list(kernel_sizes)}")
        width = _in_channels(input_shape, "fcn")
        blocks = []
        for f, k in zip(filters, kernel_sizes):
            blocks += [_conv_bn(width, int(f), int(k), bn_momentum), nn.ReLU()]
            width = int(f)
        self.body = nn.Sequential(*blocks)
        self.head = nn.Linear(width, n_classes)


class _ResidualBlock(nn.Module):
    """Three conv-BN layers (kernels 8, 5, 3; ReLU between), plus a shortcut: a 1x1 conv and BN
    where the width changes, BN alone where it does not; ReLU after the sum."""

    def __init__(self, c_in: int, c_out: int, bn_momentum: float, kernel_sizes=(8, 5, 3)):
        super().__init__()
        layers: list[nn.Module] = []
        width = c_in
        for i, k in enumerate(kernel_sizes):
            layers.append(_conv_bn(width, c_out, int(k), bn_momentum))
            if i < len(kernel_sizes) - 1:
                layers.append(nn.ReLU())
            width = c_out
        self.body = nn.Sequential(*layers)
        self.shortcut = (_bn(c_out, bn_momentum) if c_in == c_out
                         else _conv_bn(c_in, c_out, 1, bn_momentum))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


class ResNet(_SignalNet):
    """Residual network: three residual blocks (64, 128, 128 feature maps), global average
    pooling, linear head."""

    def __init__(self, input_shape, n_classes: int, feature_maps=(64, 128, 128), bn_momentum=0.1):
        super().__init__()
        if not feature_maps:
            raise ValueError("resnet needs at least one block (feature_maps=[64, 128, 128])")
        width = _in_channels(input_shape, "resnet")
        blocks = []
        for f in feature_maps:
            blocks.append(_ResidualBlock(width, int(f), bn_momentum))
            width = int(f)
        self.body = nn.Sequential(*blocks)
        self.head = nn.Linear(width, n_classes)

