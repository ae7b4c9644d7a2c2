"""Pure-Python reference for minifloats and integers: exact values and exact rounding.

Decoding reads the fields of the code from first principles; encoding looks the
input up in the sorted table of every finite magnitude (plus one virtual value
just past the largest, where IEEE's unbounded-exponent rounding would land) and
chooses between the two neighbours by the rounding mode.  Nothing here calls the
Numba kernels.  Minifloats of up to 16 bits (the table is enumerated).
"""
from __future__ import annotations

import bisect
import functools
import math
from fractions import Fraction

NAN = "nan"

def decode(fmt, code: int):
    """Exact value of ``code``: a Fraction, ``float('inf')``/``-inf``, or the string 'nan'.

    A signed zero is returned as ``Fraction(0)`` (see :func:`decode_float` for the sign).
    """
    e, m = fmt.ebits, fmt.mbits
    neg = fmt.signed and (code >> (e + m)) & 1 == 1
    mag = code & ((1 << (e + m)) - 1)
    ef, mf = mag >> m, mag & ((1 << m) - 1)
    if fmt.special == "ieee" and ef == (1 << e) - 1:
        return NAN if mf else (-math.inf if neg else math.inf)
    if fmt.special == "fn" and mag == (1 << (e + m)) - 1:
        return NAN
    if fmt.special == "fnuz" and neg and mag == 0:
        return NAN
    if ef == 0 and fmt.zero:
        v = Fraction(mf, 1 << m) * Fraction(2) ** (1 - fmt.bias) if fmt.subnormals else Fraction(0)
    else:
        v = (1 + Fraction(mf, 1 << m)) * Fraction(2) ** (ef - fmt.bias)
    return -v if neg else v


def decode_float(fmt, code: int) -> float:
    v = decode(fmt, code)
    if v == NAN:
        return math.nan
    if isinstance(v, float):
        return v
    neg = fmt.signed and (code >> (fmt.ebits + fmt.mbits)) & 1 == 1
    f = float(v)
    return -0.0 if (f == 0 and neg) else f


@functools.lru_cache(maxsize=None)
def _magnitudes(fmt):
    """Sorted (value, magnitude code) of every finite non-negative code, plus the virtual one."""
    rows = []
    for mag in range(1 << (fmt.ebits + fmt.mbits)):
        v = decode(fmt, mag)
        if isinstance(v, Fraction):
            rows.append((v, mag))
    rows.sort()
    # aliases (zero codes of DAZ formats): keep the canonical (lowest) code per value
    dedup = []
    for v, mag in rows:
        if dedup and dedup[-1][0] == v:
            continue
        dedup.append((v, mag))
    top = fmt.max_mag + 1
    ef, mf = top >> fmt.mbits, top & ((1 << fmt.mbits) - 1)
    virtual = (1 + Fraction(mf, 1 << fmt.mbits)) * Fraction(2) ** (ef - fmt.bias)
    dedup.append((virtual, top))
    return [r[0] for r in dedup], [r[1] for r in dedup]


def choose(lo, hi, lo_code, hi_code, a, negative: bool, rounding: str, u: float | None = None):
    """Pick between neighbours ``lo <= a <= hi`` (magnitudes); returns True for ``hi``."""
    if a == lo:
        return False
    if a == hi:
        return True
    if rounding == "rne":
        mid = (lo + hi) / 2
        return a > mid or (a == mid and hi_code % 2 == 0)
    if rounding == "rna":
        return a >= (lo + hi) / 2
    if rounding == "rtz":
        return False
    if rounding == "rup":
        return not negative
    if rounding == "rdn":
        return negative
    if rounding == "stochastic":
        return Fraction(u) < (a - lo) / (hi - lo)
    raise ValueError(rounding)


def encode(fmt, x: float, rounding: str = "rne", overflow: str | None = None, u=None) -> int:
    """Reference encode of one float (NaN with no NaN code: encodes as 0 — caller checks)."""
    if overflow is None:
        overflow = "inf" if fmt.special == "ieee" else "saturate"
    sign_bit = (1 << (fmt.ebits + fmt.mbits)) if fmt.signed else 0
    if math.isnan(x):
        return fmt.nan_code if fmt.nan_code >= 0 else 0
    negative = math.copysign(1.0, x) < 0
    if negative and not fmt.signed:
        return 0
    sign = sign_bit if negative else 0
    if math.isinf(x):
        if overflow == "inf":
            return sign | fmt.inf_mag
        if overflow == "nan":
            return fmt.nan_code
        return sign | fmt.max_mag
    a = abs(Fraction(x))
    vals, codes = _magnitudes(fmt)
    if a == 0:
        if not fmt.zero:
            return 0
        return 0 if fmt.special == "fnuz" else sign
    if a <= vals[0]:
        if vals[0] != 0:  # no zero: everything below the minimum goes to it
            return codes[0]
    i = bisect.bisect_right(vals, a) - 1  # vals[i] <= a
    if i == len(vals) - 1:
        hi_i = i  # beyond the virtual value: overflow whatever the mode
        up = True
        lo_i = i
    else:
        lo_i, hi_i = i, i + 1
        up = choose(vals[lo_i], vals[hi_i], codes[lo_i], codes[hi_i], a, negative, rounding, u)
    mag = codes[hi_i] if up else codes[lo_i]
    if mag > fmt.max_mag:
        away = rounding in ("rne", "rna", "stochastic") or (rounding == "rup" and not negative) or (
            rounding == "rdn" and negative)
        if overflow == "saturate" or not away:
            mag = fmt.max_mag
        elif overflow == "inf":
            mag = fmt.inf_mag
        else:
            return fmt.nan_code
    if mag == 0 and fmt.special == "fnuz":
        return 0
    return sign | mag


def encode_integer(fmt, x: float, rounding: str = "rne", overflow: str = "saturate", u=None) -> int:
    """Reference encode for :class:`formats.integer.Integer`."""
    n = fmt.nbits
    lo, hi = (-(1 << (n - 1)), (1 << (n - 1)) - 1) if fmt.signed else (0, (1 << n) - 1)
    if math.isnan(x):
        return 0
    if math.isinf(x):
        return (lo if x < 0 else hi) % (1 << n)
    a = Fraction(x)
    fl = math.floor(a)
    if a == fl:
        v = fl
    else:
        negative = a < 0
        mag_lo = Fraction(abs(math.trunc(a)))
        mag_hi = mag_lo + 1
        up = choose(mag_lo, mag_hi, int(mag_lo), int(mag_hi), abs(a), negative, rounding, u)
        mag = int(mag_hi if up else mag_lo)
        v = -mag if negative else mag
    if overflow == "wrap":
        return v % (1 << n)
    return min(max(v, lo), hi) % (1 << n)


def decode_integer(fmt, code: int) -> int:
    n = fmt.nbits
    if fmt.signed and code >= 1 << (n - 1):
        return code - (1 << n)
    return code
