"""Exact pure-Python posit reference (fractions.Fraction), independent of the Numba kernels.

It reads only ``fmt.n`` and ``fmt.es`` from the description object and follows
the rules of :mod:`formats.posit`'s docstring from first principles:

* :func:`decode` parses the bit string (sign, regime run, exponent, fraction);
* :func:`encode` saturates (``|x| >= maxpos``: maxpos) and lifts (``0 < |x| <
  minpos``: minpos) in every mode, and otherwise finds the two neighbouring
  magnitudes ``lo <= |x| < hi`` by bisection, over the sorted positive values
  for n <= 16 and over the codes (decoding is monotonic in the code) for wider
  posits, then picks one: the directed modes by direction, ``rne``/``rna`` by
  comparing ``|x|`` with the bit-string tie point, which is the value of the
  ``(n+1)``-bit posit whose code lies between the two neighbours' codes
  (``2 * code_lo + 1``), ``stochastic`` by the draw ``u`` the caller passes;
* :func:`stochastic_bracket` gives ``(lo, hi, t)`` so a test can check the draw
  rule ``u < t`` of stochastic rounding.
"""
from __future__ import annotations

import bisect
import functools
import math
from fractions import Fraction

__all__ = ["decode", "body_value", "values", "encode", "neighbours", "stochastic_bracket"]

MODES = ("rne", "rna", "rtz", "rup", "rdn", "stochastic")


@functools.lru_cache(maxsize=1 << 18)
def body_value(n: int, es: int, body: int) -> Fraction:
    """Value of the positive code ``body`` (1 .. 2**(n-1)-1) of posit(n, es)."""
    bits = format(body, f"0{n - 1}b")
    first = bits[0]
    run = len(bits) - len(bits.lstrip(first))
    k = run - 1 if first == "1" else -run
    rest = bits[run + 1:]  # after the terminating bit (empty when the run fills the code)
    ebits = (rest[:es]).ljust(es, "0")
    e = int(ebits, 2) if es else 0
    fbits = rest[es:]
    sig = int("1" + fbits, 2)  # 1.f scaled by 2**len(fbits)
    scale = k * 2**es + e - len(fbits)
    return Fraction(sig << scale) if scale >= 0 else Fraction(sig, 1 << -scale)


def decode(fmt, code: int):
    """Exact value of ``code`` as a Fraction; ``None`` for NaR."""
    n, es = fmt.n, fmt.es
    code = int(code)
    if not 0 <= code < 2**n:
        raise ValueError(f"code {code} out of range for posit({n}, {es})")
    if code == 0:
        return Fraction(0)
    if code == 2 ** (n - 1):
        return None
    if code > 2 ** (n - 1):
        return -body_value(n, es, 2**n - code)
    return body_value(n, es, code)


class _Fmt:
    """A bare (n, es) pair standing in for a format object."""

    def __init__(self, n, es):
        self.n, self.es = n, es


@functools.lru_cache(maxsize=None)
def _values(n: int, es: int):
    return tuple(decode(_Fmt(n, es), c) for c in range(2**n))


def values(fmt):
    """Value of every code (index = code) as Fractions, NaR as None (n <= 16)."""
    if fmt.n > 16:
        raise ValueError("values() enumerates 2**n codes: n <= 16 only")
    return list(_values(fmt.n, fmt.es))


def _as_fraction(x):
    """``x`` as a Fraction, or the string 'nan'/'inf' for specials."""
    if isinstance(x, Fraction):
        return x
    if isinstance(x, int):
        return Fraction(x)
    xf = float(x)
    if math.isnan(xf):
        return "nan"
    if math.isinf(xf):
        return "inf"
    return Fraction(xf)


@functools.lru_cache(maxsize=None)
def _magnitudes(n: int, es: int):
    """Value of every positive body, index = body (index 0 holds 0)."""
    return (Fraction(0),) + tuple(body_value(n, es, b) for b in range(1, 2 ** (n - 1)))


def neighbours(fmt, mag: Fraction):
    """Bodies ``(b_lo, b_hi)`` with ``value(b_lo) <= mag < value(b_hi)``, for minpos <= mag < maxpos.

    ``b_hi = b_lo + 1``; where ``mag`` is a value, ``b_lo`` is its code.  A
    bisection over the sorted magnitudes (n <= 16) or over the codes (wider).
    """
    n, es = fmt.n, fmt.es
    if n <= 16:
        lo = bisect.bisect_right(_magnitudes(n, es), mag) - 1
        return lo, lo + 1
    lo, hi = 1, 2 ** (n - 1) - 1  # value(lo) <= mag < value(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if body_value(n, es, mid) <= mag:
            lo = mid
        else:
            hi = mid
    return lo, hi


def _round_magnitude(fmt, mag: Fraction, negative: bool, rounding: str, u=None) -> int:
    """Body (positive code) of the rounded magnitude ``mag > 0``."""
    n, es = fmt.n, fmt.es
    maxbody = 2 ** (n - 1) - 1
    if mag >= body_value(n, es, maxbody):
        return maxbody  # saturation: every mode
    if mag < body_value(n, es, 1):
        return 1  # below minpos: minpos in every mode (never 0)
    b_lo, b_hi = neighbours(fmt, mag)
    if mag == body_value(n, es, b_lo):
        return b_lo
    if rounding in ("rne", "rna"):
        tie = body_value(n + 1, es, 2 * b_lo + 1)  # the (n+1)-bit code between them
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
    if rounding == "stochastic":
        if u is None:
            raise ValueError("stochastic rounding in the reference needs the draw u in [0, 1)")
        _, _, t = stochastic_bracket(fmt, mag)
        return b_hi if u < t else b_lo
    raise ValueError(f"unknown rounding mode {rounding!r}; allowed: {', '.join(MODES)}")


def encode(fmt, x, rounding: str = "rne", u=None) -> int:
    """Code of ``x`` (float, int or Fraction) under ``rounding``; NaN/±Inf give NaR.

    ``u`` (a float in [0, 1)) is the stochastic draw, needed only for ``stochastic``.
    """
    if rounding not in MODES:
        raise ValueError(f"unknown rounding mode {rounding!r}; allowed: {', '.join(MODES)}")
    n = fmt.n
    v = _as_fraction(x)
    if isinstance(v, str):
        return 2 ** (n - 1)
    if v == 0:
        return 0
    body = _round_magnitude(fmt, abs(v), v < 0, rounding, u)
    return 2**n - body if v < 0 else body


def stochastic_bracket(fmt, x):
    """``(lo, hi, t)`` for stochastic rounding of ``|x|`` (finite, nonzero).

    ``lo <= |x| <= hi`` are Fractions, the magnitudes the draw chooses between
    (``hi`` is taken iff ``u < t``).  ``t = (|x| - lo) / (hi - lo)`` in float64
    arithmetic, exactly as the kernel computes it.  Below minpos the bracket is
    ``(0, minpos, 1.0)`` (always minpos, never 0); at or above maxpos it is
    ``(maxpos, maxpos, 0.0)``; on a value it is ``(v, v, 0.0)``.
    """
    n, es = fmt.n, fmt.es
    mag = abs(_as_fraction(x))
    maxpos = body_value(n, es, 2 ** (n - 1) - 1)
    minpos = body_value(n, es, 1)
    if mag >= maxpos:
        return maxpos, maxpos, 0.0
    if mag < minpos:
        return Fraction(0), minpos, 1.0
    b_lo, b_hi = neighbours(fmt, mag)
    lo, hi = body_value(n, es, b_lo), body_value(n, es, b_hi)
    if mag == lo:
        return lo, lo, 0.0
    return lo, hi, (float(mag) - float(lo)) / (float(hi) - float(lo))
