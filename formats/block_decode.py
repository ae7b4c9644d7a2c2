"""Block decode (``element value * scale multiplier``) and the largest magnitude of an array."""
from __future__ import annotations

import numpy as np
from numba import njit

from .threads import run_ranges

__all__ = ["decode_kernel", "amax_of"]


@njit(nogil=True, cache=True)
def _decode_body(etab, e, mult, block, out):
    for b in range(mult.size):
        mv = mult[b]
        base = b * block
        for j in range(block):
            out[base + j] = etab[e[base + j]] * mv


@njit(nogil=True, cache=True)
def _decode_range(etab, e, mult, block, out, b0, b1):
    # on slices, block indices from 0: a loop over range(b0, b1) compiles slower (see block_fast)
    _decode_body(etab, e[b0 * block:b1 * block], mult[b0:b1], block, out[b0 * block:b1 * block])


def decode_kernel(etab, e, mult, block, out):
    """``out[i] = etab[e[i]] * mult[i // block]`` (one rounding at most, to ``out``'s dtype), blocks
    split over the threads."""
    run_ranges(_decode_range, mult.size, etab, e, mult, block, out, grain=max(1, 4096 // block))


@njit(nogil=True, cache=True)
def _amax_range(x, lo, hi):
    m = 0.0
    for i in range(lo, hi):
        a = abs(float(x[i]))
        if a > m or a != a:
            m = a
            if a != a:
                return a
    return m


@njit(nogil=True, cache=True)
def _amax_bits_range(xb, lo, hi):
    """Largest ``|bits|`` of float32s ``xb[lo:hi]`` (a NaN's bits are the largest: > 0x7F800000)."""
    s = xb[lo:hi]
    m = np.uint32(0)
    for i in range(s.size):
        m = max(m, s[i] & np.uint32(0x7FFFFFFF))
    return np.uint32(m)


def amax_of(x):
    """Largest magnitude of a float array (NaN if it holds NaN)."""
    if x.dtype == np.float32 and x.ndim == 1 and x.flags.c_contiguous:
        m = max(run_ranges(_amax_bits_range, x.size, x.view(np.uint32), grain=1 << 16))
        return float(np.uint32(m).view(np.float32))
    m = 0.0
    for part in run_ranges(_amax_range, x.size, x, grain=1 << 16):
        if part > m or part != part:
            m = part
            if part != part:
                break
    return m
