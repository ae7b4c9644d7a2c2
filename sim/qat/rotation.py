"""Random Hadamard rotations in the QAT/PTQ path (config key ``rotation``).

``rotation = "hadamard"`` (block 64) or ``"hadamard:B"`` (B a power of two): every
quantized layer multiplies its input, along the reduction axis (a Linear's input
features, a Conv2d's input channels), by the seeded block rotation ``R`` of
:func:`formats.hadamard`, and its weight by ``R^-T`` along the same axis, *before*
their quantizers.  In exact arithmetic ``apply(x) @ invert_t(W).T == x @ W.T`` (and the
same per pixel for a convolution, since a channel mix commutes with the spatial sum),
so an unquantized layer computes what it did, and the quantizers see rotated tensors:
outliers spread over the block, as in QuaRot/SpinQuant-style rotations.

The block of a layer is the largest power of two that is at most B and divides the
reduction length (a Conv2d with ``groups > 1`` is not rotated); a layer whose block would
be 1 (e.g. a first convolution with one input channel) is not rotated, and the record says
so.  The rotation is a product with a ``block x block`` matrix built in float64 from
:class:`formats.rotation.Hadamard` (the same signs, from ``draw32``), so torch's autograd
differentiates through it and the transform is bit for bit the one of ``formats`` wherever
both are exact.  Seeds: layer ``i`` of the model uses ``seed * 7919 + 2 * i`` (as the
layer's stochastic-rounding seed), so the rotation is part of the paired design.
"""
from __future__ import annotations

import re

import numpy as np
import torch

import formats

__all__ = ["ROTATIONS", "parse_rotation", "layer_block", "LayerRotation"]

#: the values of the ``rotation`` key
ROTATIONS = ("none", "hadamard", "hadamard:B")
DEFAULT_BLOCK = 64


def parse_rotation(value) -> int | None:
    """``"none"`` -> None; ``"hadamard"`` -> 64; ``"hadamard:B"`` -> B (a power of two >= 2)."""
    if value is None or value == "none":
        return None
    m = re.fullmatch(r"hadamard(?::(\d+))?", str(value).strip().lower())
    if not m:
        raise ValueError(f"rotation = {value!r} is not allowed; allowed: none, hadamard (block {DEFAULT_BLOCK}), "
                         "hadamard:B (B a power of two, e.g. hadamard:32)")
    b = int(m.group(1)) if m.group(1) else DEFAULT_BLOCK
    if b < 2 or b & (b - 1):
        raise ValueError(f"rotation = {value!r}: the block {b} must be a power of two >= 2")
    return b


def layer_block(length: int, block: int) -> int:
    """The largest power of two <= ``block`` dividing ``length`` (1: the layer is not rotated)."""
    b = 1
    while b * 2 <= block and length % (b * 2) == 0:
        b *= 2
    return b


class LayerRotation(torch.nn.Module):
    """The rotation of one layer: ``apply`` for its input, ``invert_t`` for its weight (along ``dim``)."""

    def __init__(self, block: int, seed: int):
        super().__init__()
        h = formats.hadamard(block, seed)
        k = block.bit_length() - 1
        a = (k + 1) // 2
        # rows of R (apply): y = x @ (2^-a diag(s) H); R^-T (invert_t): w @ (2^(a-k) diag(s) H)
        eye = np.eye(block)
        base = h.apply(eye) * 2.0 ** a          # diag(s) H (applied to each unit row), exact
        self.block, self.seed = block, seed
        self.register_buffer("m_apply", torch.from_numpy(np.ldexp(base, -a)), persistent=False)
        self.register_buffer("m_inv_t", torch.from_numpy(np.ldexp(base, a - k)), persistent=False)

    def _mix(self, x: torch.Tensor, m: torch.Tensor, dim: int) -> torch.Tensor:
        xt = x.movedim(dim, -1)
        shape = xt.shape
        y = xt.reshape(*shape[:-1], shape[-1] // self.block, self.block) @ m.to(x.dtype)
        return y.reshape(shape).movedim(-1, dim)

    def apply(self, x: torch.Tensor, dim: int) -> torch.Tensor:
        return self._mix(x, self.m_apply, dim)

    def invert_t(self, w: torch.Tensor, dim: int) -> torch.Tensor:
        return self._mix(w, self.m_inv_t, dim)

    def extra_repr(self) -> str:
        return f"hadamard block={self.block} seed={self.seed}"
