"""Seeded random Hadamard rotations (blocks of 2**k along an axis), exactly invertible.

``R = hadamard(block=64, seed=0)``: for each block of ``n = 2**k`` consecutive elements
along ``axis``, ``R.apply(x) = 2**-a * H_n @ (s * x_block)`` with ``H_n`` the Sylvester
Hadamard matrix (entries ±1), ``s`` a vector of random signs and ``a = ceil(k / 2)``;
``R.invert(y) = 2**(a - k) * s * (H_n @ y_block)``.  Since ``H_n @ H_n = n I`` and
``s * s = 1``, ``invert(apply(x)) = x`` and, for a matmul over that axis,
``apply(A) @ invert_t(B).T = A @ B.T`` where ``invert_t`` applies ``R^-T`` (the same
signs, scale ``2**(a - k)``), in exact arithmetic.  The scalings are powers of two, so
in float64 the only rounding is in the ``k`` butterfly additions: a block whose values
span less than ``2**(53 - p - k)`` (``p`` = the input's significand bits, 24 for
float32) transforms exactly, and then ``invert(apply(x)) == x`` bit for bit.

The signs come from :func:`formats.rounding.draw32_array`: sign ``j`` of the ``n`` is
``-1`` iff ``draw32(seed, j)`` is odd, so every framework reproduces them.  The QAT/PTQ
path's ``rotation`` config key (:mod:`sim.qat.rotation`) applies ``apply`` to activations
and ``invert_t`` to weights before their quantizers.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .base import as_float_array
from .rounding import check_seed, draw32_array

__all__ = ["Hadamard", "hadamard"]


def _fwht(y: np.ndarray) -> np.ndarray:
    """Unnormalised Walsh-Hadamard transform (Sylvester order) along the last axis (length 2**k)."""
    n = y.shape[-1]
    h = 1
    y = y.copy()
    while h < n:
        v = y.reshape(y.shape[:-1] + (n // (2 * h), 2, h))
        a, b = v[..., 0, :].copy(), v[..., 1, :].copy()
        v[..., 0, :] = a + b
        v[..., 1, :] = a - b
        h *= 2
    return y


@dataclasses.dataclass(frozen=True)
class Hadamard:
    """A seeded block Hadamard rotation (see the module docstring)."""

    block: int = 64
    seed: int = 0
    axis: int = -1

    def __post_init__(self):
        n = self.block
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1 or n & (n - 1):
            raise ValueError(f"hadamard block must be a power of two, got {n!r}")
        check_seed(self.seed)

    @property
    def signs(self) -> np.ndarray:
        d = draw32_array(self.seed, self.block)
        return np.where(d & 1, -1.0, 1.0)

    def _blocks(self, x):
        arr = np.moveaxis(as_float_array(x, "hadamard").astype(np.float64), self.axis, -1)
        if arr.shape[-1] % self.block:
            raise ValueError(f"hadamard: axis length {arr.shape[-1]} is not a multiple of the block {self.block}")
        return arr.reshape(arr.shape[:-1] + (-1, self.block))

    def _out(self, y, like):
        y = y.reshape(y.shape[:-2] + (-1,))
        return np.moveaxis(y, -1, self.axis)

    def apply(self, x) -> np.ndarray:
        """``2**-a H (s x)`` per block (float64)."""
        k = self.block.bit_length() - 1
        return self._out(np.ldexp(_fwht(self._blocks(x) * self.signs), -((k + 1) // 2)), x)

    def invert(self, y) -> np.ndarray:
        """The inverse of :meth:`apply`: ``2**(a-k) s (H y)`` per block."""
        k = self.block.bit_length() - 1
        return self._out(np.ldexp(_fwht(self._blocks(y)), (k + 1) // 2 - k) * self.signs, y)

    def invert_t(self, w) -> np.ndarray:
        """``R^-T`` per block, for the other operand of a matmul: ``apply(A) @ invert_t(B).T == A @ B.T``."""
        k = self.block.bit_length() - 1
        return self._out(np.ldexp(_fwht(self._blocks(w) * self.signs), (k + 1) // 2 - k), w)


def hadamard(block: int = 64, seed: int = 0, axis: int = -1) -> Hadamard:
    """A seeded block Hadamard rotation of ``block`` (a power of two) elements along ``axis``."""
    return Hadamard(block, seed, axis)
