"""Linear takums, takum(n) for n = 8..32 (Hunhold 2024: "Beating Posits at Their Own Game:
Takum Arithmetic", arXiv 2404.18603, and the linear variant of "Design and Implementation of a
Takum Arithmetic Hardware Codec", arXiv 2408.10594).

A code is ``n`` bits ``S D R2 R1 R0 C M``: sign ``S``, direction ``D``, three regime bits
``R`` (an unsigned integer), then ``r`` characteristic bits ``C`` and ``p = n - 5 - r``
mantissa bits ``M``, where

* ``r = R`` if ``D = 1`` and ``r = 7 - R`` if ``D = 0`` (so ``r`` = 0..7);
* the characteristic ``c = 2**r - 1 + C`` if ``D = 1`` (``c`` = 0..254) and
  ``c = -2**(r+1) + 1 + C`` if ``D = 0`` (``c`` = -255..-1);
* the mantissa ``f = M / 2**p`` in [0, 1);
* the value is ``((1 - 3S) + f) * 2**e`` with ``e = (-1)**S * (c + S)``: ``(1 + f) * 2**c``
  for ``S = 0``.  Negative values are the two's complement of the code of their magnitude.

Bits that the end of a short code cuts off (``n < 12``: ``5 + r > n`` or no mantissa)
count as 0, as in the author's reference library (libtakum pads takum8 with zeros).
Every value is exact in float64 (``2**-255 < |v| < 2**255``, at most 27 mantissa bits).

=================== ==========================================================
rule                what encode / decode do
=================== ==========================================================
zero                code ``00..0``; +0.0 and −0.0 encode as 0.
NaR                 code ``10..0`` (``nan_code = 1 << (n-1)``): NaN, +Inf and
                    −Inf encode to NaR in every mode; NaR decodes to NaN.
negative values     the two's complement of the code of ``|x|``.
saturation          the only overflow policy.  ``|x| > maxpos`` gives
                    ``±maxpos`` and a nonzero ``|x| < minpos`` gives
                    ``±minpos`` in *every* rounding mode: a nonzero finite
                    value never becomes 0 or NaR (libtakum: "saturate over-/
                    underflows").  takum(n >= 12): maxpos =
                    ``(2 - 2**-(n-12)) * 2**254``, minpos =
                    ``(1 + 2**-(n-12)) * 2**-255`` (``2**-254`` for n = 12).
rne                 round to nearest even *on the bit string*, as for posits
                    and in libtakum: the infinitely precise code of ``|x|``
                    (``0 D R C`` then the fraction bits of ``|x|``) is cut
                    after ``n - 1`` body bits; the next bit and the OR of the
                    rest decide; a tie goes to the even code.  Where the cut
                    falls in the characteristic (n < 12 only) the tie point is
                    the value of the ``(n+1)``-bit code between the neighbours,
                    not their arithmetic midpoint.
rna                 as rne, ties away from zero.
rtz, rup, rdn       directed by value (the code order is the value order); the
                    saturation rule wins at the ends, as for posits.
stochastic          between neighbouring magnitudes ``lo < |x| < hi`` round
                    away from zero iff ``u < t``, ``t = (|x| - lo) / (hi -
                    lo)`` in float64 (exact where the cut falls in the
                    mantissa), ``u = draw32(seed, i) / 2**32``; below minpos
                    always minpos, above maxpos always maxpos.
=================== ==========================================================

Encoding runs a table kernel (prefix ``D R C`` per input exponent) for the
deterministic modes and a general kernel on :func:`formats.bits.split` for stochastic
rounding and float32 subnormals; the tests check both against an exact Fraction
reference written from the definition above (:mod:`formats.reference.takum`).
"""
from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
from numba import njit, prange

from . import bits as B
from .base import ScalarFormat
from .round_to_odd import bitcast_f64
from .rounding import Overflow, Rounding, draw32_keyed, round_up, seed_key

__all__ = ["Takum", "takum"]

_EMIN, _EMAX = -255, 254  # the characteristic's range


@njit(cache=True, inline="always")
def _prefix(c):
    """``(bits, length)`` of ``D R C`` for the characteristic ``c`` in -255..254."""
    if c >= 0:
        r = 0
        while (np.int64(2) << r) - 1 <= c:  # c in [2**r - 1, 2**(r+1) - 2]
            r += 1
        return (((np.int64(8) | r) << r) | (c - ((np.int64(1) << r) - 1))), 4 + r
    r = 0
    while -c >= (np.int64(2) << r):  # -c in [2**r, 2**(r+1) - 1]
        r += 1
    return ((np.int64(7 - r) << r) | (c + (np.int64(2) << r) - 1)), 4 + r


@njit(cache=True, inline="always")
def _body_value(body, n):
    """float64 value of the positive body ``body`` (the n-1 bits after the sign, >= 1)."""
    width = n - 1
    ext = body
    if width < 11:  # bits cut off by the end of the code count as 0
        ext = body << (11 - width)
        width = 11
    d = (ext >> (width - 1)) & 1
    rr = (ext >> (width - 4)) & 7
    r = rr if d == 1 else 7 - rr
    p = width - 4 - r
    cbits = (ext >> p) & ((np.int64(1) << r) - 1)
    c = ((np.int64(1) << r) - 1 + cbits) if d == 1 else (cbits + 1 - (np.int64(2) << r))
    m = ext & ((np.int64(1) << p) - 1)
    return math.ldexp(float((np.int64(1) << p) + m), int(c - p))


@njit(cache=True, inline="always")
def _encode_one(b, mbits_in, ebits_in, n, nan_code, mode, u):
    neg, cls, sig_u, lsb, ex = B.split(b, mbits_in, ebits_in)
    if cls == B.NAN or cls == B.INF:  # NaN and ±Inf -> NaR
        return np.int64(nan_code)
    if cls == B.ZERO:
        return np.int64(0)
    top = (np.int64(1) << (n - 1)) - 1  # maxpos' body
    if ex > _EMAX:  # |x| >= 2**255 > maxpos: saturate in every mode
        body = top
    elif ex < _EMIN:  # |x| < 2**-255 < minpos: minpos in every mode
        body = np.int64(1)
    else:
        sig = np.int64(sig_u)
        fw = ex - lsb  # fraction bits of the input
        frac = sig - (np.int64(1) << fw)
        if fw > 40:  # keep 40 bits and a sticky bit: the cut is at <= 31 bits, far above
            low = frac & ((np.int64(1) << (fw - 40)) - 1)
            frac = (frac >> (fw - 40)) | (np.int64(1) if low != 0 else np.int64(0))
            fw = 40
        pre, plen = _prefix(ex)
        full = (pre << fw) | frac  # the bit string of |x| after the sign: plen + fw <= 52 bits
        shift = plen + fw - (n - 1)
        if shift <= 0:
            body = full << -shift
        else:
            body = full >> shift
            rem = full & ((np.int64(1) << shift) - 1)
            half = np.int64(1) << (shift - 1)
            t = 0.0
            if mode == 5 and rem != 0:
                lo = _body_value(body, n) if body > 0 else 0.0
                hi = _body_value(body + 1, n) if body < top else lo
                t = (math.ldexp(float(sig_u), int(lsb)) - lo) / (hi - lo) if hi > lo else 0.0
            if round_up(mode, neg, (body & 1) == 1, rem > half, rem == half, rem != 0, t, u):
                body += 1
        if body > top:  # rounded past maxpos: saturate
            body = top
        if body == 0:  # below minpos: never 0
            body = np.int64(1)
    if neg:
        return (np.int64(1) << n) - body
    return body


@njit(parallel=True, cache=True)
def _encode_kernel(xb, mbits_in, ebits_in, n, nan_code, mode, key, out):
    """The general kernel (every mode; the only one for stochastic rounding)."""
    for i in prange(xb.size):
        u = 0.0
        if mode == 5:
            u = draw32_keyed(key, i) * 2.3283064365386963e-10
        out[i] = _encode_one(xb[i], mbits_in, ebits_in, n, nan_code, mode, u)


# Fast path for the deterministic modes, as for posits: the body of |x| is built
# left-aligned in an int64 (first bit at bit 61) from a table indexed by the float64
# exponent field.  Entry: bits 13..61 the prefix D R C in place (or the whole body of
# saturated and below-minpos entries), bits 0..5 the left shift of the fraction, bits
# 6..11 its right shift, bit 12 set where the fraction counts.  float32 input is widened
# exactly to float64 first, element by element (its subnormals are takum values).
_KEEP = 1 << 12
_LOW = (1 << 13) - 1


def _prefix_table(n: int, mbits_in: int, ebits_in: int) -> np.ndarray:
    bias_in = (1 << (ebits_in - 1)) - 1
    table = np.zeros(1 << ebits_in, dtype=np.int64)
    for ef in range(1, (1 << ebits_in) - 1):
        ex = ef - bias_in
        if ex > _EMAX:
            table[ef] = ((1 << (n - 1)) - 1) << (63 - n)
        elif ex < _EMIN:
            table[ef] = 1 << (63 - n)
        else:
            pre, plen = _prefix(ex)
            at = 62 - plen - mbits_in  # where the fraction's last bit goes
            sl, sr = (at, 0) if at >= 0 else (0, -at)
            table[ef] = (int(pre) << (62 - plen)) | _KEEP | (sr << 6) | sl
    table[-1] = 1 << 62  # NaN and Inf: NaR
    return table


@njit(cache=True, inline="always")
def _encode_by_table(b, n, mode, table):
    """Code of the float64 with raw bits ``b`` (branch free, so the loop vectorises)."""
    neg = (b >> 63) & 1
    a = b & ((np.int64(1) << 63) - 1)
    ef = a >> 52
    t = table[ef]
    f = (a & ((np.int64(1) << 52) - 1)) & -((t >> 12) & 1)
    s = f << (t & 63)
    sr = (t >> 6) & 63  # cut the fraction, keeping what falls off as a sticky bit
    s = (s >> sr) | (np.int64(1) if (f & ((np.int64(1) << sr) - 1)) != 0 else np.int64(0))
    s |= t & ~np.int64(_LOW)
    body = s >> (63 - n)
    rnd = (s >> (62 - n)) & 1
    sticky = np.int64(1) if (s & ((np.int64(1) << (62 - n)) - 1)) != 0 else np.int64(0)
    if mode == 0:
        up = rnd & (sticky | (body & 1))
    elif mode == 1:
        up = rnd
    elif mode == 2:
        up = np.int64(0)
    elif mode == 3:
        up = (rnd | sticky) & (1 - neg)
    else:
        up = (rnd | sticky) & neg
    body += up
    top = (np.int64(1) << (n - 1)) - 1
    if body > top and ef != 2047:  # rounded past maxpos: saturate (NaR stays)
        body = top
    if body == 0 and a != 0:  # below minpos (float64 subnormals too): minpos
        body = np.int64(1)
    return ((body ^ -neg) + neg) & ((np.int64(1) << n) - 1)


@njit(parallel=True, cache=True)
def _encode_table_f32(x, n, mode, table, out):
    """float32 input widened exactly to float64 on the fly (its subnormals are takum values)."""
    for i in prange(x.size):
        out[i] = _encode_by_table(np.int64(bitcast_f64(np.float64(x[i]))), n, mode, table)


@njit(parallel=True, cache=True)
def _encode_table_f64(xb, n, mode, table, out):
    for i in prange(xb.size):
        out[i] = _encode_by_table(np.int64(xb[i]), n, mode, table)


@njit(parallel=True, cache=True)
def _decode_kernel(codes, n, out):
    """Writes the float64 value of each code into ``out``."""
    nar = np.int64(1) << (n - 1)
    full = np.int64(1) << n
    for i in prange(codes.size):
        c = np.int64(codes[i])
        if c == 0:
            out[i] = 0.0
        elif c == nar:
            out[i] = np.nan
        elif c > nar:
            out[i] = -_body_value(full - c, n)
        else:
            out[i] = _body_value(c, n)


@dataclasses.dataclass(frozen=True)
class Takum(ScalarFormat):
    """Linear takum(n): ``n`` = 8..32 bits (see the module docstring for the rules).

    >>> t = Takum(16)
    >>> t.encode([1.0, -1.0, 3.0, 1e80, float("nan")])
    array([16384, 49152, 17408, 32767, 32768], dtype=uint16)
    """

    n: int
    label: str | None = dataclasses.field(default=None, compare=False)

    family = "takum"

    def __post_init__(self):
        v = self.n
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 8 <= v <= 32:
            raise ValueError(f"takum n must be an integer in 8..32, got {v!r}")
        object.__setattr__(self, "n", int(v))

    @property
    def bits(self) -> int:
        return self.n

    @property
    def name(self) -> str:
        return self.label or f"takum{self.n}"

    @property
    def has_nan(self) -> bool:
        return True  # NaR

    @property
    def nan_code(self) -> int:
        """The NaR code ``10..0``."""
        return 1 << (self.n - 1)

    @property
    def overflows(self):
        return (Overflow.SATURATE,)

    @property
    def default_overflow(self) -> Overflow:
        return Overflow.SATURATE

    @property
    def maxpos(self) -> float:
        """Largest positive value (code ``01..1``)."""
        return float(_body_value(np.int64((1 << (self.n - 1)) - 1), self.n))

    @property
    def minpos(self) -> float:
        """Smallest positive value (code ``00..01``)."""
        return float(_body_value(np.int64(1), self.n))

    @property
    def max(self) -> float:
        return self.maxpos

    @property
    def min_positive(self) -> float:
        return self.minpos

    def info(self) -> dict:
        row = super().info()
        row.update(n=self.n, maxpos=self.maxpos, minpos=self.minpos)
        return row

    # --- kernels ------------------------------------------------------------------------
    def _encode_flat(self, x, mode, overflow, nan_code, seed):
        if mode == Rounding.STOCHASTIC or nan_code != self.nan_code:
            return self._encode_general(x, mode, nan_code, seed)
        out = np.empty(x.size, dtype=self.code_dtype)
        if x.dtype == np.float32:
            _encode_table_f32(x, self.n, int(mode), self._prefix_table(), out)
        else:
            _encode_table_f64(x.view(np.uint64), self.n, int(mode), self._prefix_table(), out)
        return out

    def _encode_general(self, x, mode, nan_code, seed):
        """The split-based kernel: stochastic rounding, and a cross-check of the fast path."""
        xb, mi, ei = B.float_bits(x)
        out = np.empty(x.size, dtype=self.code_dtype)
        _encode_kernel(xb, mi, ei, self.n, np.int64(nan_code), int(mode), seed_key(np.uint64(seed)), out)
        return out

    @functools.lru_cache(maxsize=None)  # noqa: B019 - formats are immutable and few
    def _prefix_table(self):
        return _prefix_table(self.n, 52, 11)

    def _decode_flat(self, codes):
        out = np.empty(codes.size, dtype=np.float64)
        if codes.size:
            _decode_kernel(codes, self.n, out)
        return out


def takum(n: int) -> Takum:
    """The linear takum(n) format, ``n`` = 8..32 bits."""
    return Takum(n)
