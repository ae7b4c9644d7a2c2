"""The two small networks of the QAT study: an MLP and a CNN.

Both take ``(N, C, H, W)`` inputs (see :mod:`sim.qat.data`).  The CNN uses
``nn.Conv2d`` throughout so that :func:`sim.qat.quant.quantize_model` has both
layer kinds to swap; on MNIST-1D (``H = 1``) its kernels are ``1 x k``.

>>> from sim.qat.models import build, count_macs
>>> net = build("mlp", (1, 8, 8), 10)
>>> count_macs(net, (1, 8, 8))
26112
"""
from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["MLP", "SmallCNN", "MODELS", "build", "count_macs"]

MODELS = ("mlp", "cnn")


class MLP(nn.Module):
    """Flatten → Linear(d, h) → ReLU → Linear(h, h) → ReLU → Linear(h, classes)."""

    def __init__(self, input_shape, n_classes: int, hidden: int = 128):
        super().__init__()
        d = math.prod(input_shape)
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(d, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, n_classes),
        )

    def forward(self, x):
        return self.net(x)


class SmallCNN(nn.Module):
    """Conv(c1) → ReLU → Conv(c2) → ReLU → pool → Conv(c2) → ReLU → global pool → Linear.

    Kernels are 3x3 on images and 1x5 on sequences (inputs with ``H == 1``).
    """

    def __init__(self, input_shape, n_classes: int, width: int = 16):
        super().__init__()
        c, h, _ = input_shape
        k, p = ((1, 5), (0, 2)) if h == 1 else ((3, 3), (1, 1))
        pool = (1, 2) if h == 1 else (2, 2)
        self.features = nn.Sequential(
            nn.Conv2d(c, width, k, padding=p), nn.ReLU(),
            nn.Conv2d(width, 2 * width, k, padding=p), nn.ReLU(),
            nn.MaxPool2d(pool),
            nn.Conv2d(2 * width, 2 * width, k, padding=p), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(2 * width, n_classes)

    def forward(self, x):
        return self.head(self.features(x))


def build(name: str, input_shape, n_classes: int) -> nn.Module:
    """The model called ``name`` (one of :data:`MODELS`) for inputs of ``input_shape``."""
    if name == "mlp":
        return MLP(input_shape, n_classes, hidden=128)
    if name == "cnn":
        return SmallCNN(input_shape, n_classes, width=16)
    raise ValueError(f"unknown model {name!r}; allowed: {', '.join(MODELS)}")


def count_macs(model: nn.Module, input_shape) -> int:
    """Multiply-accumulates of one inference through every Linear and Conv2d layer."""
    total = 0

    def hook(mod, inp, out):
        nonlocal total
        if isinstance(mod, nn.Linear):
            total += mod.in_features * mod.out_features * (out.numel() // out.shape[-1])
        elif isinstance(mod, nn.Conv2d):
            kh, kw = mod.kernel_size
            total += out.numel() * (mod.in_channels // mod.groups) * kh * kw

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Linear, nn.Conv2d))]
    try:
        was_training = model.training
        model.eval()
        with torch.no_grad():
            p = next(model.parameters())
            model(torch.zeros((1, *input_shape), dtype=p.dtype, device=p.device))
        model.train(was_training)
    finally:
        for h in handles:
            h.remove()
    return int(total)
