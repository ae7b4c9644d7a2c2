"""Exact pure-Python reference of double-quantized block formats (fractions.Fraction).

Follows the rules of :mod:`formats.double_quant` from the definitions, with its own
round-to-float32 of exact rationals and the codebook rule of
:func:`formats.reference.codebook.round_to_grid`; it reads only ``fmt.element.table``,
``fmt.block``, ``fmt.scale_block`` and ``fmt.scale_format.table`` from the description.
"""
from __future__ import annotations

import math
from fractions import Fraction

from .codebook import round_to_grid, uniform

__all__ = ["rn_f32", "quantize"]


def rn_f32(v: Fraction) -> Fraction:
    """``v`` rounded to the nearest float32 (ties to even; subnormals; no overflow handling)."""
    if v == 0:
        return Fraction(0)
    sign = -1 if v < 0 else 1
    a = abs(v)
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if Fraction(2) ** e > a:
        e -= 1  # now 2**e <= a < 2**(e+1)
    q = max(e, -126) - 23  # the quantum: 2**q
    m = a / Fraction(2) ** q
    n = math.floor(m)
    rem = m - n
    if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and n % 2 == 1):
        n += 1
    return sign * n * Fraction(2) ** q


def quantize(fmt, x, rounding: str = "rne", seed: int = 0):
    """``(values, element_codes, scale_codes, group_scales, offset)`` of the float array ``x``
    (C-order flat lists; blocks along the last axis, which the caller keeps a multiple of
    ``block``).  ``values`` are Fractions."""
    flat = [Fraction(float(v)) for v in x.reshape(-1)]
    grid = [Fraction(v) for v in fmt.element.table]
    zero_code = min(range(len(grid)), key=lambda i: (abs(grid[i]), -grid[i]))
    blk, nb = fmt.block, len(flat) // fmt.block
    absmax, codes = [], []
    for b in range(nb):
        xs = flat[b * blk:(b + 1) * blk]
        a = rn_f32(max(abs(v) for v in xs))
        absmax.append(a)
        for j, v in enumerate(xs):
            if a == 0:
                codes.append(zero_code)
                continue
            u = uniform(seed, b * blk + j) if rounding == "stochastic" else Fraction(0)
            codes.append(round_to_grid(v / a, grid, list(range(len(grid))), rounding, u))
    if nb == 0:
        return [], [], [], [], Fraction(0)
    offset = rn_f32(Fraction(float(sum(absmax)) / nb))  # float(sum) is the correctly rounded sum
    d = [rn_f32(a - offset) for a in absmax]
    cgrid = [Fraction(v) for v in fmt.scale_format.table]
    cmax = max(cgrid)
    czero = min(range(len(cgrid)), key=lambda i: (abs(cgrid[i]), -cgrid[i]))
    s2s, qs = [], []
    for g in range(0, nb, fmt.scale_block):
        ds = d[g:g + fmt.scale_block]
        s2 = rn_f32(max(abs(v) for v in ds) / cmax)
        s2s.append(s2)
        for v in ds:
            qs.append(czero if s2 == 0 else round_to_grid(v / s2, cgrid, list(range(len(cgrid))), "rne"))
    values = []
    for b in range(nb):
        s2 = s2s[b // fmt.scale_block]
        scale = rn_f32(rn_f32(cgrid[qs[b]] * s2) + offset)
        values += [grid[c] * scale for c in codes[b * blk:(b + 1) * blk]]
    return values, codes, qs, s2s, offset
