"""Generic posit(n, es) formats, n = 2..32, es = 0..4 (posit standard 2022 layout).

A code is ``n`` bits.  A positive code is ``0 regime exponent fraction``: the
regime is a run of ``m`` equal bits ended by the opposite bit (or by the end of
the code), worth ``k = m - 1`` for a run of ones and ``k = -m`` for a run of
zeros; then up to ``es`` exponent bits (bits cut off by the end of the code
count as 0) and the remaining bits of fraction.  The value is
``2**(k * 2**es + e) * (1 + f)``; ``useed = 2**(2**es)``.  Negative values are
the two's complement of the positive code.  Every value is exact in float64
(``maxpos = 2**(2**es * (n - 2)) <= 2**480``).

=================== ==========================================================
rule                what encode / decode do
=================== ==========================================================
zero                code ``00..0``; +0.0 and −0.0 encode as 0.
NaR                 code ``10..0`` (``nan_code = 1 << (n-1)``): NaN, +Inf and
                    −Inf encode to NaR in every mode (no error); NaR decodes
                    to NaN.
negative values     the two's complement of the code of ``|x|``.
saturation          the only overflow policy (``overflow='inf'``/``'nan'`` raise
                    ValueError).  ``|x| >= maxpos`` gives ``±maxpos`` and a
                    nonzero ``|x| < minpos`` gives ``±minpos`` in *every*
                    rounding mode: a nonzero finite value never becomes 0 or
                    NaR.
rne                 round to nearest even *on the bit string* (as SoftPosit and
                    the posit standard): the infinitely precise code of ``|x|``
                    is cut after ``n - 1`` body bits; the next bit (round bit)
                    and the OR of the rest (sticky) decide; ties go to the even
                    code.  Where the cut falls in the exponent or the regime the
                    tie point is not the arithmetic midpoint but the value of
                    the ``(n+1)``-bit code between the two neighbours: in
                    posit8_2, 2**22 is the tie between 2**20 and 2**24, so
                    5e6 rounds to 2**24 although 2**20 is nearer.
rna                 as rne, ties away from zero (to the larger magnitude).
rtz, rup, rdn       directed: the bit-string neighbours are the value
                    neighbours (magnitude grows with the code), so these pick
                    the neighbour toward zero / +Inf / −Inf.  The saturation
                    rule wins at the ends: ``0 < x < minpos`` gives +minpos
                    under rtz and rdn, ``-minpos < x < 0`` gives −minpos under
                    rtz and rup, ``x > maxpos`` gives maxpos under rup and
                    ``x < -maxpos`` gives −maxpos under rdn.
stochastic          between neighbouring magnitudes ``lo < |x| < hi`` round away
                    from zero iff ``u < t``, ``t = (|x| - lo) / (hi - lo)``
                    computed in float64 (exact where the cut falls in the
                    fraction), ``u = draw32(seed, i) / 2**32`` (see
                    ``formats.rounding``); ``0 < |x| < minpos`` always gives
                    minpos and ``|x| >= maxpos`` always maxpos.
=================== ==========================================================

Encoding runs a branch-free table kernel for the deterministic modes and a
general kernel built on :func:`formats.bits.split` for stochastic rounding; the
tests check the two against each other, an exact Fraction reference
(:mod:`formats.reference.posit`) and SoftPosit.
"""
from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
from numba import njit, prange

from . import bits as B
from .base import ScalarFormat
from .rounding import Overflow, Rounding, draw32_keyed, round_up, seed_key

__all__ = ["Posit", "posit"]


@njit(cache=True, inline="always")
def _body_fields(body, n, es):
    """``(frac, fw, ex)`` of the positive body ``body`` (the n-1 bits after the sign).

    The value is ``2**ex * (1 + frac / 2**fw)``.
    """
    nb = n - 1
    first = (body >> (nb - 1)) & 1
    run = 1
    while run < nb and ((body >> (nb - 1 - run)) & 1) == first:
        run += 1
    k = run - 1 if first == 1 else -run
    rest = nb - run - 1  # bits after the regime's terminating bit
    if rest < 0:
        rest = 0
    low = body & ((np.int64(1) << rest) - 1)
    if rest < es:  # exponent cut by the end of the code: missing bits are 0
        low <<= es - rest
        rest = es
    fw = rest - es
    return low & ((np.int64(1) << fw) - 1), fw, (k << es) + (low >> fw)


@njit(cache=True, inline="always")
def _body_value(body, n, es):
    frac, fw, ex = _body_fields(body, n, es)
    return math.ldexp(float((np.int64(1) << fw) + frac), int(ex - fw))


@njit(cache=True, inline="always")
def _encode_one(b, mbits_in, ebits_in, n, es, nan_code, mode, u):
    neg, cls, sig_u, lsb, ex = B.split(b, mbits_in, ebits_in)
    if cls == B.NAN or cls == B.INF:  # NaN and ±Inf -> NaR
        return np.int64(nan_code)
    if cls == B.ZERO:  # ±0 -> 0
        return np.int64(0)
    top = np.int64(n - 2) << es
    if ex >= top:  # |x| >= maxpos: saturate (every mode)
        body = (np.int64(1) << (n - 1)) - 1
    elif ex < -top:  # 0 < |x| < minpos: minpos (every mode; never 0)
        body = np.int64(1)
    else:
        sig = np.int64(sig_u)
        k = ex >> es
        e = ex - (k << es)
        if k >= 0:
            rl = k + 2
            reg = ((np.int64(1) << (k + 1)) - 1) << 1
        else:
            rl = 1 - k
            reg = np.int64(1)
        avail = n - 1 - rl  # body bits left for exponent and fraction (>= 0 here)
        fw = ex - lsb  # fraction bits of the input
        tail = (e << fw) | (sig - (np.int64(1) << fw))  # es + fw bits: exponent, fraction
        shift = es + fw - avail
        if shift <= 0:
            body = (reg << avail) | (tail << -shift)
        else:
            body = (reg << avail) | (tail >> shift)
            rem = tail & ((np.int64(1) << shift) - 1)
            if rem != 0:
                half = np.int64(1) << (shift - 1)
                t = 0.0
                if mode == 5 and avail >= es:  # cut in the fraction: (|x|-lo)/(hi-lo) is exactly
                    t = float(rem) / float(np.int64(1) << shift)  # rem / 2**shift
                elif mode == 5:  # cut in the exponent or regime: neighbours 2**j apart
                    lo = _body_value(body, n, es)
                    hi = _body_value(body + 1, n, es)
                    t = (math.ldexp(float(sig), int(lsb)) - lo) / (hi - lo)
                if round_up(mode, neg, (body & 1) == 1, rem > half, rem == half, True, t, u):
                    body += 1
    if neg:
        return (np.int64(1) << n) - body
    return body


@njit(parallel=True, cache=True)
def _encode_kernel(xb, mbits_in, ebits_in, n, es, nan_code, mode, key, out):
    """The general kernel (every mode; the only one for stochastic rounding)."""
    for i in prange(xb.size):
        u = 0.0
        if mode == 5:
            u = draw32_keyed(key, i) * 2.3283064365386963e-10
        out[i] = _encode_one(xb[i], mbits_in, ebits_in, n, es, nan_code, mode, u)


# Fast path for the deterministic modes.  The bit string of |x| is built
# left-aligned in an int64 (first bit at bit 61): a table indexed by the input's
# exponent field gives the regime and exponent bits already in place, and where
# the fraction goes.  Entry layout: bits 27..62 the prefix (or the whole body of
# saturated, below-minpos, zero and NaR entries), bits 0..5 the left shift and
# bits 6..11 the right shift that put the fraction's top bit just below the
# prefix, bit 12 set where the fraction counts.  Branch free, so LLVM vectorises
# it.  Valid where every subnormal input lies below minpos: always for float64,
# for float32 where (n-2) * 2**es <= 126 (others are widened to float64 first).
_KEEP = 1 << 12
_LOW = (1 << 13) - 1


def _prefix_table(n: int, es: int, mbits_in: int, ebits_in: int) -> np.ndarray:
    bias_in = (1 << (ebits_in - 1)) - 1
    top = (n - 2) << es
    table = np.zeros(1 << ebits_in, dtype=np.int64)
    for ef in range(1, (1 << ebits_in) - 1):
        ex = ef - bias_in
        if ex >= top:  # |x| >= maxpos
            table[ef] = ((1 << (n - 1)) - 1) << (63 - n)
        elif ex < -top:  # |x| < minpos
            table[ef] = 1 << (63 - n)
        else:
            k = ex >> es
            rl, reg = (k + 2, ((1 << (k + 1)) - 1) << 1) if k >= 0 else (1 - k, 1)
            prefix = ((reg << es) | (ex - (k << es))) << (62 - rl - es)
            at = 62 - rl - es - mbits_in  # where the fraction's last bit goes
            sl, sr = (at, 0) if at >= 0 else (0, -at)
            table[ef] = prefix | _KEEP | (sr << 6) | sl
    table[-1] = 1 << 62  # NaN and Inf: NaR (its own two's complement)
    return table  # table[0] = 0: zero, and subnormals (fixed to minpos in the kernel)


@njit(cache=True, inline="always")
def _encode_by_table(b, mbits_in, ebits_in, n, mode, table, wide):
    """Code of the float with raw bits ``b``; ``wide``: the fraction may need a right shift."""
    sshift = mbits_in + ebits_in
    neg = (b >> sshift) & 1
    a = b & ((np.int64(1) << sshift) - 1)
    t = table[a >> mbits_in]
    f = (a & ((np.int64(1) << mbits_in) - 1)) & -((t >> 12) & 1)
    s = f << (t & 63)
    if wide:  # float64: cut the fraction, keeping what falls off as a sticky bit
        sr = (t >> 6) & 63
        s = (s >> sr) | (np.int64(1) if (f & ((np.int64(1) << sr) - 1)) != 0 else np.int64(0))
    s |= t & ~np.int64(_LOW)
    body = s >> (63 - n)
    rnd = (s >> (62 - n)) & 1  # the round bit
    sticky = np.int64(1) if (s & ((np.int64(1) << (62 - n)) - 1)) != 0 else np.int64(0)
    # round_up's rule in bit arithmetic (no branches, so the loop vectorises)
    if mode == 0:  # rne on the bit string
        up = rnd & (sticky | (body & 1))
    elif mode == 1:  # rna
        up = rnd
    elif mode == 2:  # rtz
        up = np.int64(0)
    elif mode == 3:  # rup: away from zero for positive values
        up = (rnd | sticky) & (1 - neg)
    else:  # rdn
        up = (rnd | sticky) & neg
    body += up
    if body == 0 and a != 0:  # subnormal input: below minpos
        body = np.int64(1)
    return ((body ^ -neg) + neg) & ((np.int64(1) << n) - 1)  # two's complement for negatives


@njit(parallel=True, cache=True)
def _encode_table_f32(xb, n, mode, table, out):
    for i in prange(xb.size):
        out[i] = _encode_by_table(np.int64(xb[i]), 23, 8, n, mode, table, False)


@njit(parallel=True, cache=True)
def _encode_table_f64(xb, n, mode, table, out):
    for i in prange(xb.size):
        out[i] = _encode_by_table(np.int64(xb[i]), 52, 11, n, mode, table, True)


@njit(parallel=True, cache=True)
def _decode_kernel(codes, n, es, out):
    """Writes the float64 bit pattern of each value into ``out`` (a uint64 view)."""
    nar = np.int64(1) << (n - 1)
    full = np.int64(1) << n
    for i in prange(codes.size):
        c = np.int64(codes[i])
        neg = c > nar
        frac, fw, ex = _body_fields(full - c if neg else c, n, es)
        bits = ((ex + 1023) << 52) | (frac << (52 - fw))  # |ex| <= 480: always normal
        if neg:
            bits |= np.int64(1) << 63
        if c == 0:
            bits = np.int64(0)
        elif c == nar:  # NaR -> NaN
            bits = np.int64(0x7FF8000000000000)
        out[i] = bits


@dataclasses.dataclass(frozen=True)
class Posit(ScalarFormat):
    """posit(n, es): ``n`` bits, ``es`` exponent bits (see the module docstring for the rules).

    >>> p = Posit(8, 0)
    >>> p.encode([1.0, -1.0, 0.3, 1e9, float("nan")])
    array([ 64, 192,  19, 127, 128], dtype=uint8)
    >>> p.maxpos, p.minpos
    (64.0, 0.015625)
    """

    n: int
    es: int
    label: str | None = dataclasses.field(default=None, compare=False)

    family = "posit"

    def __post_init__(self):
        for field, lo, hi in (("n", 2, 32), ("es", 0, 4)):
            v = getattr(self, field)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
                raise ValueError(f"posit {field} must be an integer in {lo}..{hi}, got {v!r}")
        object.__setattr__(self, "n", int(self.n))
        object.__setattr__(self, "es", int(self.es))

    # --- description -------------------------------------------------------------------
    @property
    def bits(self) -> int:
        return self.n

    @property
    def name(self) -> str:
        return self.label or f"posit{self.n}_{self.es}"

    @property
    def has_nan(self) -> bool:
        return True  # NaR

    @property
    def has_inf(self) -> bool:
        return False

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
    def useed(self) -> float:
        """``2**(2**es)``: the factor between neighbouring regimes."""
        return float(2 ** (1 << self.es))

    @property
    def maxpos(self) -> float:
        """Largest positive value, ``useed**(n-2)`` (code ``01..1``)."""
        return math.ldexp(1.0, (1 << self.es) * (self.n - 2))

    @property
    def minpos(self) -> float:
        """Smallest positive value, ``useed**-(n-2)`` (code ``00..01``)."""
        return math.ldexp(1.0, -(1 << self.es) * (self.n - 2))

    @property
    def max(self) -> float:
        return self.maxpos

    @property
    def min_positive(self) -> float:
        return self.minpos

    def info(self) -> dict:
        row = super().info()
        row.update(n=self.n, es=self.es, useed=self.useed, maxpos=self.maxpos, minpos=self.minpos)
        return row

    # --- kernels -------------------------------------------------------------------------
    def _encode_flat(self, x, mode, overflow, nan_code, seed):
        if mode == Rounding.STOCHASTIC or nan_code != self.nan_code:
            return self._encode_general(x, mode, nan_code, seed)
        if x.dtype == np.float32 and (self.n - 2) << self.es > 126:
            with np.errstate(invalid="ignore"):  # NaN payloads: still NaN
                x = x.astype(np.float64)  # float32 subnormals above minpos: exact widening
        xb, mi, ei = B.float_bits(x)
        out = np.empty(x.size, dtype=self.code_dtype)
        kernel = _encode_table_f32 if x.dtype == np.float32 else _encode_table_f64
        kernel(xb, self.n, int(mode), self._prefix_table(mi, ei), out)
        return out

    def _encode_general(self, x, mode, nan_code, seed):
        """The split-based kernel: stochastic rounding, and a cross-check of the fast path."""
        xb, mi, ei = B.float_bits(x)
        out = np.empty(x.size, dtype=self.code_dtype)
        _encode_kernel(xb, mi, ei, self.n, self.es, np.int64(nan_code), int(mode),
                       seed_key(np.uint64(seed)), out)
        return out

    @functools.lru_cache(maxsize=None)  # noqa: B019 - formats are immutable and few
    def _prefix_table(self, mbits_in, ebits_in):
        return _prefix_table(self.n, self.es, mbits_in, ebits_in)

    def _decode_flat(self, codes):
        out = np.empty(codes.size, dtype=np.float64)
        if codes.size:
            _decode_kernel(codes, self.n, self.es, out.view(np.uint64))
        return out


def posit(n: int, es: int) -> Posit:
    """The posit(n, es) format: ``n`` = 2..32 bits, ``es`` = 0..4 exponent bits."""
    return Posit(n, es)
