"""The scale code of one block from its largest magnitude, exactly, for every scale rule.

:func:`scale_general` rounds ``num / D`` in the scale format in a direction (the
exact quotient: ties and grid values are settled by :func:`formats.scale_rules.cmp_prod`);
:func:`_scale_nearest` and :func:`scale_nearest_bits` are its faster round-to-nearest
forms; :func:`_block_scale` applies a rule (floor, ceil, even, rceil, nearest) to a block's amax.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from .base import f32_table_index
from .block import encode_element
from .round_to_odd import MASK52 as _MASK52, bitcast_f64, rto32_bits
from .scale_rules import (CEIL, EVEN, FLOOR, RCEIL, ROUND_DOWN, ROUND_NEAREST, ROUND_UP, cmp_prod, mf_value,
                          round_sig_away)

__all__ = ["scale_general", "scale_nearest_bits"]


@njit(cache=True)
def scale_general(num, D, dirn, sp, cmax):
    """Code of ``round(num / D)`` in the scale format (params ``sp``), direction ``dirn``, exact."""
    r = num / D
    if r == 0.0:
        r = 5e-324
    if r > 1.7976931348623157e308:
        return cmax
    c = min(encode_element(bitcast_f64(r), sp, dirn, 0.0), cmax)
    g = mf_value(c, sp)
    if dirn == ROUND_DOWN:
        if r == g and c > 0 and cmp_prod(num, g, D) < 0:
            c -= 1
    elif dirn == ROUND_UP:
        if r == g and c < cmax and cmp_prod(num, g, D) > 0:
            c += 1
    else:
        if c < cmax:
            hi = 0.5 * (g + mf_value(c + 1, sp))
            if r == hi and cmp_prod(num, hi, D) > 0:
                return c + 1
        if c > 0:
            lo = 0.5 * (g + mf_value(c - 1, sp))
            if r == lo and cmp_prod(num, lo, D) < 0:
                return c - 1
    return c


@njit(cache=True, inline="always")
def _scale_nearest(num, D, stab, sp, cmax):
    """:func:`scale_general` (round to nearest even) through the scale format's float32 table: exact
    unless the correctly rounded quotient lies within 2 of its float32 neighbour's last bits (a
    midpoint or grid value can only be met there) or outside [2**-100, 2**100]: then scale_general."""
    r = num / D
    b = bitcast_f64(r)
    low = b & np.uint64((1 << 29) - 1)
    if low < 3 or low > (1 << 29) - 3 or not 7.888609052210118e-31 <= r <= 1.2676506002282294e30:
        return scale_general(num, D, ROUND_NEAREST, sp, cmax)
    return min(np.int64(stab[f32_table_index(rto32_bits(b))]), cmax)


@njit(cache=True)
def scale_nearest_bits(num, D, sp, cmax):
    """:func:`scale_general` (round to nearest even) from the bits of ``r = num / D``: when ``r`` is
    a normal value of the scale format (params ``sp``) and its dropped bits are not exactly half an
    ulp, the exact quotient lies on ``r``'s side of every midpoint (``r`` is its correct rounding and
    the midpoints are float64s), so rounding ``r``'s significand is exact; otherwise scale_general."""
    r = num / D
    b = bitcast_f64(r)
    e = np.int64((b >> np.uint64(52)) & np.uint64(0x7FF)) - 1023
    m = sp[2]
    sh = np.uint64(52 - m)
    low = b & ((np.uint64(1) << sh) - np.uint64(1))
    half = np.uint64(1) << (sh - np.uint64(1))
    if e < 1 - sp[3] or e > 1023 or low == half:
        return scale_general(num, D, ROUND_NEAREST, sp, cmax)
    c = ((e + sp[3]) << m) + np.int64((b & _MASK52) >> sh) + (1 if low > half else 0)
    return min(c, cmax)


@njit(cache=True)
def _block_scale(amax, rule, emax, pexp, P, m_even, emax_frac, S, pow2fast, smin, smax, sbias, sp, cmax):
    if amax == 0.0:
        return np.int64(0)
    if pow2fast:
        fr, e = math.frexp(amax)
        frac = fr * 2.0 - 1.0
        s = np.int64(e - 1 - pexp)
        if rule == CEIL:
            s += 1 if frac != 0.0 else 0
        elif rule == EVEN:
            s += 1 if frac >= 1.0 - 2.0 ** (-(m_even + 1)) else 0
        elif rule == RCEIL:
            s += 1 if frac > emax_frac else 0
        return min(max(s, smin), smax) + sbias
    if rule == FLOOR:
        return scale_general(amax, P * S, ROUND_DOWN, sp, cmax)
    if rule == CEIL:
        return scale_general(amax, P * S, ROUND_UP, sp, cmax)
    if rule == EVEN:
        return scale_general(round_sig_away(amax, m_even), P * S, ROUND_DOWN, sp, cmax)
    if rule == RCEIL:
        return scale_general(amax, emax * S, ROUND_UP, sp, cmax)
    return scale_general(amax, emax * S, ROUND_NEAREST, sp, cmax)
