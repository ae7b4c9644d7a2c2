"""The counter-based draws of stochastic rounding, in torch integer ops.

Reproduces :func:`formats.rounding.draw32` exactly: element ``i`` (C-order flat
index plus ``offset``) under ``seed`` draws
``fmix32(fmix32(fmix32(seed) ^ (i >> 32)) ^ (i & 0xFFFFFFFF))``.  Everything is
int64 with explicit ``& 0xFFFFFFFF`` masks: a product of two 32-bit values may
wrap around in int64, which leaves its low 32 bits (all that is kept) intact on
every device.
"""
from __future__ import annotations

import torch

__all__ = ["draw32", "fmix32", "fmix32_int"]

M32 = 0xFFFFFFFF
_C1 = 0x85EBCA6B
_C2 = 0xC2B2AE35


def fmix32_int(h: int) -> int:
    """MurmurHash3's 32-bit finaliser on a Python int."""
    h &= M32
    h ^= h >> 16
    h = (h * _C1) & M32
    h ^= h >> 13
    h = (h * _C2) & M32
    h ^= h >> 16
    return h


def _mul32(h: torch.Tensor, c: int) -> torch.Tensor:
    # (h * c) mod 2**32 for 0 <= h, c < 2**32: the int64 product may wrap, its low 32 bits do not change
    return (h * c) & M32


def fmix32(h: torch.Tensor) -> torch.Tensor:
    """MurmurHash3's 32-bit finaliser on an int64 tensor holding 32-bit values."""
    h = h ^ (h >> 16)
    h = _mul32(h, _C1)
    h = h ^ (h >> 13)
    h = _mul32(h, _C2)
    return h ^ (h >> 16)


def draw32(seed: int, n: int, offset: int = 0, device=None) -> torch.Tensor:
    """Draws of elements ``offset .. offset+n-1`` as an int64 tensor of values in [0, 2**32)."""
    key = fmix32_int(int(seed))
    i = torch.arange(offset, offset + n, dtype=torch.int64, device=device)
    if offset + n <= 1 << 32:  # the high word is 0 everywhere: mix it once
        return fmix32(i ^ fmix32_int(key))
    return fmix32(fmix32((i >> 32) ^ key) ^ (i & M32))
