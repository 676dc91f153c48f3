"""Module builders: perceptron, MLP, CNN (1-D and 2-D) and GRU.

Every network takes a batch in the per-sample ``input_shape`` (``(n, *input_shape)``)
and returns logits ``(n, n_classes)``, so the training loop never needs to know which
architecture it drives, and a user's own ``nn.Module`` plugs in the same way.
"""

from __future__ import annotations

import math

import torch
from torch import nn

ACTIVATIONS = {
    "relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU, "tanh": nn.Tanh,
    "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "sigmoid": nn.Sigmoid, "identity": nn.Identity,
}


def activation(name: str) -> nn.Module:
    try:
        return ACTIVATIONS[str(name).lower()]()
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose from {sorted(ACTIVATIONS)}") from None


def _norm(kind, width: int, dims: int) -> nn.Module:
    """A normalisation layer for ``dims`` = 0 (features), 1 (signals) or 2 (images)."""
    if kind in (None, "none", False):
        return nn.Identity()
    if kind == "batch":
        return (nn.BatchNorm1d, nn.BatchNorm1d, nn.BatchNorm2d)[dims](width)
    if kind == "layer":
        # GroupNorm with one group normalises over channels and positions, as LayerNorm would.
        return nn.LayerNorm(width) if dims == 0 else nn.GroupNorm(1, width)
    raise ValueError(f"unknown norm {kind!r}; choose 'batch', 'layer' or None")


def perceptron(input_shape, n_classes: int) -> nn.Module:
    """One linear layer on the flattened input: the multiclass (softmax) perceptron."""
    return nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), n_classes))


def mlp(input_shape, n_classes: int, hidden=(256, 256), activation_name="relu",
        dropout=0.0, norm=None) -> nn.Module:
    """Fully connected net; ``hidden=()`` gives exactly :func:`perceptron`."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = math.prod(input_shape)
    for h in hidden:
        layers += [nn.Linear(width, int(h)), _norm(norm, int(h), 0), activation(activation_name)]
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = int(h)
    layers.append(nn.Linear(width, n_classes))
    return nn.Sequential(*layers)


class ConvNet(nn.Module):
    """Stacked same-padding conv blocks (conv, norm, activation), global max pool, linear.

    The global max pool makes the net shift invariant, which is what MNIST-1D's random
    translations call for. ``conv_dims=None`` reads ``input_shape`` ``(L,)`` as a signal
    (Conv1d), ``(H, W)`` as a one-channel image and ``(C, H, W)`` as a C-channel one
    (Conv2d); ``conv_dims=1`` also takes ``(C, L)``, and ``conv_dims=2`` refuses a signal.
    """

    SHAPES = {1: "(L,) or (C, L)", 2: "(H, W) or (C, H, W)"}

    def __init__(self, input_shape, n_classes: int, channels=32, depth=3, kernel_size=5,
                 activation_name="relu", norm="batch", dropout=0.0, conv_dims=None):
        super().__init__()
        shape = tuple(input_shape)
        dims = conv_dims if conv_dims is not None else (1 if len(shape) == 1 else 2)
        if dims not in self.SHAPES or len(shape) not in (dims, dims + 1):
            want = self.SHAPES.get(dims, "(L,), (H, W) or (C, H, W)")
            raise ValueError(f"a {dims}-D cnn needs input_shape {want}, got {shape} "
                             "(set conv_dims to match the data, or use mlp on tabular rows)")
        self.dims = dims
        self.add_channel = len(shape) == dims
        conv = nn.Conv1d if self.dims == 1 else nn.Conv2d
        width = 1 if self.add_channel else shape[0]
        blocks: list[nn.Module] = []
        for _ in range(int(depth)):
            blocks += [conv(width, int(channels), int(kernel_size), padding=int(kernel_size) // 2,
                            bias=norm != "batch"),
                       _norm(norm, int(channels), self.dims), activation(activation_name)]
            width = int(channels)
        self.features = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        self.head = nn.Linear(width, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.add_channel:
            x = x.unsqueeze(1)
        x = self.features(x)
        x = torch.amax(x, dim=tuple(range(2, x.ndim)))  # global max pool
        return self.head(self.dropout(x))


class GRUNet(nn.Module):
    """GRU over a sequence: a signal ``(L,)`` is L steps of one feature, an image
    ``(H, W)`` is H steps of W features. Max and last hidden states feed a linear head."""

    def __init__(self, input_shape, n_classes: int, hidden_size=32, n_layers=1,
                 bidirectional=False, dropout=0.0):
        super().__init__()
        shape = tuple(input_shape)
        if len(shape) not in (1, 2):
            raise ValueError(f"gru needs input_shape (L,) or (steps, features), got {shape}")
        self.n_in = 1 if len(shape) == 1 else shape[1]
        self.gru = nn.GRU(self.n_in, int(hidden_size), num_layers=int(n_layers),
                          batch_first=True, bidirectional=bool(bidirectional),
                          dropout=dropout if n_layers > 1 else 0.0)
        width = int(hidden_size) * (2 if bidirectional else 1)
        self.head = nn.Sequential(nn.Dropout(dropout) if dropout else nn.Identity(),
                                  nn.Linear(2 * width, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.shape[0], -1, self.n_in)
        out, _ = self.gru(x)
        return self.head(torch.cat([out.amax(dim=1), out[:, -1]], dim=1))


def check_fits(module: nn.Module, input_shape, n_classes: int, device, what: str) -> None:
    """Run two zero samples through ``module``; a shape it cannot take is a ValueError.

    Catches a network that does not fit the data (a user's module built for other
    shapes, a head of the wrong width) before any training, with a one-line message.
    """
    was_training = module.training
    try:
        with torch.no_grad():
            out = module.eval()(torch.zeros(2, *input_shape, device=device))
    except Exception as exc:  # noqa: BLE001 - any failure here means "does not fit"
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ValueError(f"{what} does not fit input_shape {tuple(input_shape)}: {first}") from exc
    finally:
        module.train(was_training)
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (2, n_classes):
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"{what} maps input_shape {tuple(input_shape)} to {got}, "
                         f"not logits of shape (n, {n_classes})")


def build(arch: str, input_shape, n_classes: int, *, hidden=(256, 256), activation_name="relu",
          dropout=0.0, norm=None, channels=32, depth=3, kernel_size=5, hidden_size=32,
          n_layers=1, bidirectional=False, conv_dims=None) -> nn.Module:
    """Build the named architecture; the one place that maps ``arch`` to a module."""
    if arch == "perceptron":
        return perceptron(input_shape, n_classes)
    if arch == "mlp":
        return mlp(input_shape, n_classes, hidden, activation_name, dropout, norm)
    if arch == "cnn":
        return ConvNet(input_shape, n_classes, channels, depth, kernel_size, activation_name,
                       norm, dropout, conv_dims)
    if arch == "gru":
        return GRUNet(input_shape, n_classes, hidden_size, n_layers, bidirectional, dropout)
    raise ValueError(f"unknown arch {arch!r}; choose perceptron, mlp, cnn or gru, "
                     "or pass module=factory(input_shape, n_classes)")
