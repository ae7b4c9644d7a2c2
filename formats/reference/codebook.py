"""Exact reference for codebook formats, and the grid rounding the block references share.

Pure Python with :class:`fractions.Fraction`; nothing here calls a Numba kernel.
The rules are those of :mod:`formats.codebook` (and, for element grids, of
:mod:`formats.minifloat`): see :func:`round_to_grid`.
"""
from __future__ import annotations

import bisect
from fractions import Fraction

__all__ = ["draw32", "uniform", "round_to_grid", "encode", "decode", "mode_label"]

_M32 = 0xFFFFFFFF


def _fmix32(h: int) -> int:
    h &= _M32
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _M32
    h ^= h >> 16
    return h


def draw32(seed: int, i: int) -> int:
    """``fmix32(fmix32(fmix32(seed) ^ (i >> 32)) ^ (i & 0xFFFFFFFF))`` (formats.rounding)."""
    return _fmix32(_fmix32(_fmix32(seed) ^ (i >> 32)) ^ (i & _M32))


def uniform(seed: int, i: int) -> Fraction:
    """The stochastic-rounding draw of flat index ``i`` as an exact fraction in [0, 1)."""
    return Fraction(draw32(seed, i), 1 << 32)


def mode_label(mode) -> str:
    """``"rne"`` … from a string or a :class:`formats.rounding.Rounding` member."""
    return str(getattr(mode, "label", mode)).lower()


def round_to_grid(v: Fraction, grid: list, codes: list, mode, u: Fraction = Fraction(0)) -> int:
    """Round the exact value ``v`` to the strictly increasing ``grid``; returns the entry's code.

    * exact hits stay; outside the grid saturates to the end entry;
    * rne: nearest, tie to the even code (if both codes are even, the smaller magnitude);
    * rna: nearest, tie to the larger magnitude (``hi`` when equal);
    * rtz: ``lo`` if ``lo >= 0``, ``hi`` if ``hi <= 0``, else the entry on ``v``'s side of 0;
    * rup: ``hi``; rdn: ``lo``;
    * stochastic: for ``v >= 0`` ``hi`` iff ``u < (v-lo)/(hi-lo)``, for ``v < 0`` ``lo`` iff
      ``u < (hi-v)/(hi-lo)``.
    """
    mode = mode_label(mode)
    if v <= grid[0]:
        return codes[0]
    if v >= grid[-1]:
        return codes[-1]
    k = bisect.bisect_right(grid, v) - 1
    lo, hi = grid[k], grid[k + 1]
    if lo == v:
        return codes[k]
    clo, chi = codes[k], codes[k + 1]
    if mode in ("rne", "rna"):
        mid = (lo + hi) / 2
        if v > mid:
            return chi
        if v < mid:
            return clo
        if mode == "rne":
            if clo % 2 != chi % 2:
                return clo if clo % 2 == 0 else chi
            return clo if abs(lo) <= abs(hi) else chi
        return chi if abs(hi) >= abs(lo) else clo
    if mode == "rtz":
        if lo >= 0:
            return clo
        if hi <= 0:
            return chi
        return chi if v >= 0 else clo
    if mode == "rup":
        return chi
    if mode == "rdn":
        return clo
    if mode == "stochastic":
        if v >= 0:
            return chi if u < (v - lo) / (hi - lo) else clo
        return clo if u < (hi - v) / (hi - lo) else chi
    raise ValueError(f"unknown rounding mode {mode!r}")


def encode(values, xs, mode="rne", seed: int = 0, nan_code: int | None = None) -> list:
    """Codes of the floats ``xs`` (flat index = position) in the codebook ``values``."""
    grid = [Fraction(v) for v in values]
    codes = list(range(len(grid)))
    out = []
    for i, x in enumerate(xs):
        x = float(x)
        if x != x:
            if nan_code is None:
                raise ValueError("NaN input")
            out.append(nan_code)
            continue
        if x in (float("inf"), float("-inf")):
            out.append(codes[-1] if x > 0 else codes[0])
            continue
        u = uniform(seed, i) if mode_label(mode) == "stochastic" else Fraction(0)
        out.append(round_to_grid(Fraction(x), grid, codes, mode, u))
    return out


def decode(values, codes) -> list:
    """Table lookup."""
    return [float(values[int(c)]) for c in codes]
