"""Exact pure-Python linear-takum reference (fractions.Fraction), independent of the Numba kernels.

It reads only ``fmt.n`` and follows the definition (Hunhold 2024, linear takum) on the
*raw* bit string, sign included, with no use of two's complement:

* :func:`decode`: ``S D R C M`` (bits past the end of a short code are 0),
  ``r = R`` or ``7 - R``, ``c = 2**r - 1 + C`` or ``-2**(r+1) + 1 + C``, ``f = M / 2**p``,
  value ``((1 - 3S) + f) * 2**((-1)**S * (c + S))``; ``0..0`` is zero and ``10..0`` NaR.
* :func:`encode`: NaN/±Inf give NaR, ±0 gives 0; otherwise the magnitude saturates
  (``|x| >= maxpos``: maxpos) and is lifted (``0 < |x| < minpos``: minpos) in every
  mode; between them the two neighbouring magnitudes are found by bisection over the
  positive codes (the definition's values grow with the code), and one is picked: by
  direction for rtz/rup/rdn, for rne/rna by comparing with the bit-string tie point,
  the value of the ``(n+1)``-bit takum code between the two neighbours' codes
  (``2 * code_lo + 1``), and for stochastic by the draw ``u`` the caller passes.
  The code of a negative value is the code whose *decoded* value is the negated
  magnitude, looked up among the codes with ``S = 1`` (so the tests check that it is
  the two's complement rather than assuming it).
"""
from __future__ import annotations

import bisect
import functools
import math
from fractions import Fraction

__all__ = ["decode", "values", "encode", "stochastic_bracket", "positive_value"]

MODES = ("rne", "rna", "rtz", "rup", "rdn", "stochastic")


def _pow2(e: int) -> Fraction:
    return Fraction(2**e) if e >= 0 else Fraction(1, 2**-e)


@functools.lru_cache(maxsize=1 << 18)
def _raw_value(n: int, code: int):
    bits = format(code, f"0{n}b").ljust(12, "0")  # cut-off bits count as 0
    if code == 0:
        return Fraction(0)
    if code == 2 ** (n - 1):
        return None
    s, d, reg = int(bits[0]), int(bits[1]), int(bits[2:5], 2)
    r = reg if d == 1 else 7 - reg
    cbits = int(bits[5:5 + r], 2) if r else 0
    c = (2**r - 1 + cbits) if d == 1 else (-(2 ** (r + 1)) + 1 + cbits)
    mbits = bits[5 + r:]
    f = Fraction(int(mbits, 2), 2 ** len(mbits)) if mbits else Fraction(0)
    e = (c + s) if s == 0 else -(c + s)
    return ((1 - 3 * s) + f) * _pow2(e)


def decode(fmt, code: int):
    """Exact value of ``code`` as a Fraction; ``None`` for NaR."""
    n = fmt.n
    code = int(code)
    if not 0 <= code < 2**n:
        raise ValueError(f"code {code} out of range for takum{n}")
    return _raw_value(n, code)


def positive_value(n: int, body: int) -> Fraction:
    """Value of the positive code ``body`` (1 .. 2**(n-1)-1) of takum(n), any n >= 2."""
    return _raw_value(n, body)


def values(fmt):
    """Value of every code (index = code) as Fractions, NaR as None (n <= 16)."""
    if fmt.n > 16:
        raise ValueError("values() enumerates 2**n codes: n <= 16 only")
    return [_raw_value(fmt.n, c) for c in range(2**fmt.n)]


@functools.lru_cache(maxsize=None)
def _positives(n: int):
    return (Fraction(0),) + tuple(_raw_value(n, b) for b in range(1, 2 ** (n - 1)))


@functools.lru_cache(maxsize=None)
def _negative_index(n: int):
    """Decoded value -> code, for the codes with S = 1 (n <= 16)."""
    return {_raw_value(n, c): c for c in range(2 ** (n - 1) + 1, 2**n)}


def _negative_code(n: int, mag: Fraction) -> int:
    if n <= 16:
        return _negative_index(n)[-mag]
    lo, hi = 2 ** (n - 1) + 1, 2**n - 1  # the definition's negative values grow with the code
    while lo < hi:
        mid = (lo + hi) // 2
        if _raw_value(n, mid) < -mag:
            lo = mid + 1
        else:
            hi = mid
    if _raw_value(n, lo) != -mag:
        raise AssertionError(f"takum{n}: no code with S = 1 has the value {-mag}")
    return lo


def _neighbours(n: int, mag: Fraction):
    if n <= 16:
        lo = bisect.bisect_right(_positives(n), mag) - 1
        return lo, lo + 1
    lo, hi = 1, 2 ** (n - 1) - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _raw_value(n, mid) <= mag:
            lo = mid
        else:
            hi = mid
    return lo, hi


def _as_fraction(x):
    if isinstance(x, (Fraction, int)):
        return Fraction(x)
    xf = float(x)
    if math.isnan(xf) or math.isinf(xf):
        return None
    return Fraction(xf)


def _round_magnitude(n: int, mag: Fraction, negative: bool, rounding: str, u=None) -> int:
    top = 2 ** (n - 1) - 1
    if mag >= _raw_value(n, top):
        return top
    if mag < _raw_value(n, 1):
        return 1
    b_lo, b_hi = _neighbours(n, mag)
    if mag == _raw_value(n, b_lo):
        return b_lo
    if rounding in ("rne", "rna"):
        tie = _raw_value(n + 1, 2 * b_lo + 1)
        if mag != tie:
            return b_hi if mag > tie else b_lo
        if rounding == "rna":
            return b_hi
        return b_lo if b_lo % 2 == 0 else b_hi
    if rounding == "rtz":
        return b_lo
    if rounding == "rup":
        return b_lo if negative else b_hi
    if rounding == "rdn":
        return b_hi if negative else b_lo
    if u is None:
        raise ValueError("stochastic rounding in the reference needs the draw u in [0, 1)")
    lo, hi = _raw_value(n, b_lo), _raw_value(n, b_hi)
    t = (float(mag) - float(lo)) / (float(hi) - float(lo))
    return b_hi if u < t else b_lo


def encode(fmt, x, rounding: str = "rne", u=None) -> int:
    """Code of ``x`` (float, int or Fraction) under ``rounding``; NaN/±Inf give NaR."""
    if rounding not in MODES:
        raise ValueError(f"unknown rounding mode {rounding!r}; allowed: {', '.join(MODES)}")
    n = fmt.n
    v = _as_fraction(x)
    if v is None:
        return 2 ** (n - 1)
    if v == 0:
        return 0
    body = _round_magnitude(n, abs(v), v < 0, rounding, u)
    if v > 0:
        return body
    return _negative_code(n, _raw_value(n, body))


def stochastic_bracket(fmt, x):
    """``(lo, hi, t)``: the magnitudes stochastic rounding of ``|x|`` picks between (``hi`` iff
    ``u < t``), ``t`` in float64 as the kernel computes it; ``(0, minpos, 1.0)`` below minpos,
    ``(maxpos, maxpos, 0.0)`` at or above maxpos, ``(v, v, 0.0)`` on a value."""
    n = fmt.n
    mag = abs(_as_fraction(x))
    maxpos, minpos = _raw_value(n, 2 ** (n - 1) - 1), _raw_value(n, 1)
    if mag >= maxpos:
        return maxpos, maxpos, 0.0
    if mag < minpos:
        return Fraction(0), minpos, 1.0
    b_lo, b_hi = _neighbours(n, mag)
    lo, hi = _raw_value(n, b_lo), _raw_value(n, b_hi)
    if mag == lo:
        return lo, lo, 0.0
    return lo, hi, (float(mag) - float(lo)) / (float(hi) - float(lo))
