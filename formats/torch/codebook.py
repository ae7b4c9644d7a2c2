"""Codebook (lookup-table) encoder in vectorised torch ops.

Mirrors :mod:`formats.codebook` (the rules are documented there): a sorted
search finds the two entries around each input, the exactly precomputed
midpoints (as formats computes them, with fractions) decide the nearest modes and
their ties, and stochastic rounding computes its ``t`` in float64 as formats
does.  Decoding is the value table (codebooks have at most 16 bits).
"""
from __future__ import annotations

import math
from fractions import Fraction

import torch

from ..rounding import Rounding
from .tables import _cached

__all__ = ["encode_codebook", "entries"]


def _midpoints(values):
    """Each pair's exact midpoint as (the largest float64 <= it, whether it is that float64)."""
    floor, exact = [], []
    for a, b in zip(values[:-1], values[1:]):
        mid = (Fraction(a) + Fraction(b)) / 2
        f = float(mid)  # correctly rounded
        if Fraction(f) > mid:
            f = math.nextafter(f, -math.inf)
        floor.append(f)
        exact.append(Fraction(f) == mid)
    return floor, exact


def entries(fmt) -> tuple:
    """The codebook's table of values (index = code)."""
    t = getattr(fmt, "table", None)
    return tuple(t if isinstance(t, tuple) else fmt.values)


def _tables(fmt, device):
    def build():
        table = entries(fmt)
        floor, exact = _midpoints(table)
        return (torch.tensor(table, dtype=torch.float64, device=device),
                torch.tensor(floor, dtype=torch.float64, device=device),
                torch.tensor(exact, dtype=torch.bool, device=device))

    return _cached(("codebook", fmt, fmt.name, str(device)), build)


def encode_codebook(fmt, x, mode: Rounding, ovf, nan_code: int, draw=None):
    """Codes (table indices, int64) of ``x`` in the codebook ``fmt``."""
    table, mid_floor, mid_exact = _tables(fmt, x.device)
    n = table.numel()
    v = x.to(torch.float64)
    lo_i = (torch.searchsorted(table, v, right=True) - 1).clamp(0, n - 2)
    hi_i = lo_i + 1
    lo, hi = table[lo_i], table[hi_i]
    nonneg = v >= 0
    if mode in (Rounding.RNE, Rounding.RNA):
        mf = mid_floor[lo_i]
        tie = (v == mf) & mid_exact[lo_i]
        if mode == Rounding.RNE:
            tie_hi = (lo_i % 2) == 1
        else:
            tie_hi = hi.abs() >= lo.abs()
        up = (v > mf) | (tie & tie_hi)
    elif mode == Rounding.RTZ:
        up = (hi <= 0) | ((lo < 0) & nonneg)
    elif mode == Rounding.RUP:
        up = torch.ones_like(nonneg)
    elif mode == Rounding.RDN:
        up = torch.zeros_like(nonneg)
    else:
        u = draw.to(torch.float64) * 2.0**-32
        gap = hi - lo
        up = torch.where(nonneg, u < (v - lo) / gap, ~(u < (hi - v) / gap))
    code = torch.where(up, hi_i, lo_i)
    code = torch.where(lo == v, lo_i, code)
    code = torch.where(v <= table[0], torch.zeros_like(code), code)
    code = torch.where(v >= table[-1], torch.full_like(code, n - 1), code)
    return torch.where(torch.isnan(v), torch.full_like(code, nan_code), code)
