"""Rounding modes, overflow policies and the counter-based random generator.

One enum of rounding modes is shared by every format family, by ``sim/`` and by
the QAT path.  The decision rule itself (:func:`round_up`) lives here too, so
that every family rounds the same way: a family reduces its input to an integer
significand ``m`` at some quantum plus a remainder ``rem / 2**shift`` in
[0, 1), and asks :func:`round_up` whether to move to ``m + 1`` (away from zero).

Stochastic rounding
-------------------
Stochastic rounding is counter based: element ``i`` (its index in the C-order
flattening of the input) draws ``u = draw32(seed, i) / 2**32`` and rounds away
from zero iff ``u < t``, where ``t`` is the fractional position of ``|x|``
between its two neighbours ``lo <= |x| < hi``: ``t = (|x| - lo) / (hi - lo)``.
``t`` is exact whenever the two neighbours are one quantum apart (every
integer and minifloat neighbour pair, and posit pairs cut inside the fraction);
elsewhere (codebooks, posit pairs cut in the exponent or regime) it is the
float64 quotient, computed the same way on every device.  So ``E[q(x)] = x`` to within 2**-32 of a quantum, and the result
depends only on ``(seed, i)``, never on threads, chunking or device.

The generator, ``draw32(seed, i)`` for a 32-bit unsigned ``seed`` and a 64-bit
index ``i``::

    fmix32(h) = h ^= h >> 16; h *= 0x85EBCA6B; h ^= h >> 13; h *= 0xC2B2AE35; h ^= h >> 16
    draw32(seed, i) = fmix32(fmix32(fmix32(seed) ^ (i >> 32)) ^ (i & 0xFFFFFFFF))

(all arithmetic modulo 2**32; ``fmix32`` is MurmurHash3's finaliser).  It is a
bijection of the low 32 bits of ``i`` for a fixed seed and high word, needs
only 32-bit multiplies, and so is easy to reproduce in an RTL block, a CUDA
kernel or torch integer ops (see ``formats.torch``).
"""
from __future__ import annotations

import enum

import numpy as np
from numba import njit

__all__ = [
    "Rounding",
    "Overflow",
    "parse_rounding",
    "parse_overflow",
    "draw32",
    "draw32_array",
]


class Rounding(enum.IntEnum):
    """Rounding mode: how a value between two representable neighbours is resolved."""

    #: Round to nearest; ties go to the neighbour whose code is even (IEEE default).
    RNE = 0
    #: Round to nearest; ties go away from zero.
    RNA = 1
    #: Round toward zero (truncate the magnitude).
    RTZ = 2
    #: Round toward +Inf (ceiling).
    RUP = 3
    #: Round toward -Inf (floor).
    RDN = 4
    #: Round away from zero with probability equal to the position between the neighbours.
    STOCHASTIC = 5

    @property
    def label(self) -> str:
        return self.name.lower()


class Overflow(enum.IntEnum):
    """What happens to a value whose rounded magnitude exceeds the format's largest finite value."""

    #: Clamp to the largest finite magnitude (±max); Inf inputs also become ±max.
    SATURATE = 0
    #: Produce ±Inf (formats with an Inf encoding only), following IEEE 754: a mode that
    #: rounds toward zero at that sign gives ±max instead.
    INF = 1
    #: Produce NaN (formats with a NaN encoding only), where IEEE would produce ±Inf.
    NAN = 2
    #: Integers only: reduce the rounded integer modulo 2**bits (two's complement wrap).
    WRAP = 3

    @property
    def label(self) -> str:
        return self.name.lower()


_ROUNDING_NAMES = {r.label: r for r in Rounding}
_OVERFLOW_NAMES = {o.label: o for o in Overflow}


def parse_rounding(rounding) -> Rounding:
    """Turn ``"rne"``, ``Rounding.RNE`` (or its integer value) into a :class:`Rounding`."""
    if isinstance(rounding, Rounding):
        return rounding
    if isinstance(rounding, str):
        key = rounding.strip().lower()
        if key in _ROUNDING_NAMES:
            return _ROUNDING_NAMES[key]
    raise ValueError(
        f"unknown rounding mode {rounding!r}; allowed: {', '.join(_ROUNDING_NAMES)}"
    )


def parse_overflow(overflow) -> Overflow:
    """Turn ``"saturate"``/``"inf"``/``"nan"``/``"wrap"`` into an :class:`Overflow`."""
    if isinstance(overflow, Overflow):
        return overflow
    if isinstance(overflow, str):
        key = overflow.strip().lower()
        if key in _OVERFLOW_NAMES:
            return _OVERFLOW_NAMES[key]
    raise ValueError(
        f"unknown overflow policy {overflow!r}; allowed: {', '.join(_OVERFLOW_NAMES)}"
    )


_M32 = np.uint64(0xFFFFFFFF)


@njit(cache=True, inline="always")
def fmix32(h):
    """MurmurHash3 32-bit finaliser on a uint64 holding a 32-bit value."""
    h = h & 0xFFFFFFFF
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    h ^= h >> 16
    return h


@njit(cache=True, inline="always")
def seed_key(seed):
    """The per-seed part of :func:`draw32`: ``fmix32(seed)``."""
    return fmix32(np.uint64(seed) & np.uint64(0xFFFFFFFF))


@njit(cache=True, inline="always")
def draw32_keyed(key, i):
    """``draw32`` with the seed already mixed by :func:`seed_key`; ``i`` is an int64 >= 0."""
    ui = np.uint64(i)
    return fmix32(fmix32(key ^ (ui >> np.uint64(32))) ^ (ui & np.uint64(0xFFFFFFFF)))


@njit(cache=True)
def draw32(seed, i):
    """The 32-bit random draw of element ``i`` under ``seed`` (see the module docstring)."""
    return draw32_keyed(seed_key(seed), i)


@njit(cache=True)
def _draw_many(seed, start, n, out):
    key = seed_key(seed)
    for j in range(n):
        out[j] = draw32_keyed(key, start + j)


def draw32_array(seed: int, n: int, start: int = 0) -> np.ndarray:
    """Draws of elements ``start .. start+n-1`` as a uint32 array (for tests and other kernels)."""
    out = np.empty(n, dtype=np.uint64)
    _draw_many(np.uint64(int(seed) & 0xFFFFFFFF), np.int64(start), np.int64(n), out)
    return out.astype(np.uint32)


def check_seed(seed) -> int:
    """Validate a seed: an integer in [0, 2**32)."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    if not 0 <= int(seed) < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    return int(seed)


@njit(cache=True, inline="always")
def round_up(mode, negative, odd, rem_gt_half, rem_eq_half, rem_nonzero, t, u):
    """Whether to step the magnitude away from zero, given where the input lies.

    ``odd``: the truncated magnitude's code is odd (for ties-to-even).
    ``rem_*``: the discarded part compared with half a quantum.
    ``t``: the discarded part as a fraction of the quantum (stochastic only),
    ``u``: the uniform draw in [0, 1) (stochastic only).
    """
    if not rem_nonzero:
        return False
    if mode == 0:  # rne
        return rem_gt_half or (rem_eq_half and odd)
    if mode == 1:  # rna
        return rem_gt_half or rem_eq_half
    if mode == 2:  # rtz
        return False
    if mode == 3:  # rup: away from zero only for positive values
        return not negative
    if mode == 4:  # rdn
        return negative
    return u < t
