"""Register arithmetic of the MAC model: special flags, limb registers, round-to-odd, FP32 fused add.

Conventions (docs/mac.md has the semantics):

* Special flags (int64 bit mask): 1 = NaN seen, 2 = +Inf seen, 4 = -Inf seen.
  ``flags_class`` turns the mask into the readout class.
* Results leave the kernels as float64 values that either are exact or are
  *rounded to odd* at 53 bits (truncate, then set the last bit if anything was
  cut).  Rounding that value once more, with RNE, to a format of at most 51
  significant bits (FP32, posit16 and narrower) gives exactly the RNE rounding of
  the unrounded value: every rounding breakpoint of such a format has an even last
  bit at 53-bit precision, so round-to-odd never moves a value across or onto one
  (Boldo & Melquiond, "Emulation of FMA and correctly rounded sums", 2008).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

MASK32 = np.int64(0xFFFFFFFF)
TWO53 = 9007199254740992.0


# --- specials -----------------------------------------------------------------------------
@njit(cache=True, inline="always")
def product_flags(ca, cb, sa, sb):
    """Flag of a product with at least one special operand (IEEE 754 rules).

    NaN/NaR times anything is NaN; Inf times 0 is NaN; otherwise ±Inf with the
    sign the product of the signs.
    """
    if ca == 1 or cb == 1:
        return np.int64(1)
    if sa == 0 or sb == 0:
        return np.int64(1)
    return np.int64(2) if sa * sb > 0 else np.int64(4)


@njit(cache=True, inline="always")
def flags_class(fl):
    """0 finite, 1 NaN (NaN seen, or +Inf and -Inf both seen), 2 +Inf, 3 -Inf."""
    if (fl & 1) != 0 or (fl & 6) == 6:
        return np.int64(1)
    if (fl & 2) != 0:
        return np.int64(2)
    if (fl & 4) != 0:
        return np.int64(3)
    return np.int64(0)


# --- int64 helpers ----------------------------------------------------------------------
@njit(cache=True, inline="always")
def bitlen(v):
    """Bits of the nonnegative int64 ``v``."""
    n = 0
    while v != 0:
        v >>= 1
        n += 1
    return n


@njit(cache=True, inline="always")
def wrap(acc, width):
    """``acc`` reduced to a ``width``-bit two's complement register (width <= 62)."""
    x = acc & ((np.int64(1) << width) - 1)
    if (x >> (width - 1)) != 0:
        x -= np.int64(1) << width
    return x


@njit(cache=True)
def i64_to_f64(acc, scale_exp):
    """``acc * 2**scale_exp`` as float64, rounded to odd at 53 bits (|acc| < 2**63)."""
    if acc == 0:
        return 0.0
    neg = acc < 0
    mag = -acc if neg else acc
    s = bitlen(mag) - 53
    if s < 0:
        s = 0
    m = mag >> s
    if (mag & ((np.int64(1) << s) - 1)) != 0:
        m |= 1
    v = math.ldexp(float(m), s + scale_exp)
    return -v if neg else v


# --- multi-limb accumulator (radix 2**32 limbs in int64) ---------------------------------
@njit(cache=True, inline="always")
def limb_add(limbs, s, t):
    """limbs += s * 2**t for a signed ``s`` with |s| < 2**31 and t >= 0.

    Lazy carries: the low 32 bits of ``s << (t % 32)`` go to limb ``t // 32``,
    the (signed) rest to the next limb; ``limbs_normalize`` resolves them.
    """
    i = t >> 5
    v = s << (t & 31)
    limbs[i] += v & MASK32
    limbs[i + 1] += v >> 32


@njit(cache=True)
def limbs_normalize(limbs):
    """Propagate carries: every limb in [0, 2**32); the value is kept modulo 2**(32*len)."""
    c = np.int64(0)
    for i in range(limbs.size):
        t = limbs[i] + c
        limbs[i] = t & MASK32
        c = t >> 32


@njit(cache=True)
def _extract(limbs, pos, n):
    """Bits [pos, pos+n) of the normalised nonnegative limb value (n <= 53)."""
    i = pos >> 5
    o = pos & 31
    r = limbs[i] >> o
    got = 32 - o
    if got >= n:
        return r & ((np.int64(1) << n) - 1)
    i += 1
    while got < n and i < limbs.size:
        take = n - got
        if take > 32:
            take = 32
        r |= (limbs[i] & ((np.int64(1) << take) - 1)) << got
        got += take
        i += 1
    return r


@njit(cache=True)
def limbs_to_f64(limbs, width, scale_exp):
    """The ``width``-bit two's complement register held in ``limbs``, times 2**scale_exp,
    as float64 rounded to odd at 53 bits.  Destroys ``limbs``.

    Bits at and above ``width`` are dropped first (the register wraps modulo
    2**width, which cannot happen within the sized number of cycles).
    """
    nl = limbs.size
    limbs_normalize(limbs)
    q = (width - 1) >> 5
    b = (width - 1) & 31
    top = limbs[q] & ((np.int64(1) << (b + 1)) - 1)
    if (top >> b) != 0:
        top -= np.int64(1) << (b + 1)
    limbs[q] = top
    for i in range(q + 1, nl):
        limbs[i] = 0
    neg = top < 0
    if neg:
        for i in range(q + 1):
            limbs[i] = -limbs[i]
        limbs_normalize(limbs)
    h = -1
    for i in range(nl - 1, -1, -1):
        if limbs[i] != 0:
            h = i
            break
    if h < 0:
        return 0.0
    L = 32 * h + bitlen(limbs[h])
    s = L - 53
    if s < 0:
        s = 0
    m = _extract(limbs, s, L - s)
    sticky = False
    for i in range(s >> 5):
        if limbs[i] != 0:
            sticky = True
    if (limbs[s >> 5] & ((np.int64(1) << (s & 31)) - 1)) != 0:
        sticky = True
    if sticky:
        m |= 1
    v = math.ldexp(float(m), s + scale_exp)
    return -v if neg else v


# --- FP32 accumulation ---------------------------------------------------------------------
@njit(cache=True, inline="always")
def fadd32(acc, x):
    """RNE_fp32(acc + x): the float32 ``acc`` plus the exact float64 ``x``, rounded once.

    IEEE 754 binary32 semantics: overflow gives ±Inf, subnormals are kept, Inf − Inf
    and NaN give NaN, a nonzero sum that rounds to zero keeps the sign of the sum.
    The float64 sum is made round-to-odd (TwoSum error term), then rounded to float32.
    """
    a = np.float64(acc)
    s = a + x
    if not math.isfinite(s):
        return np.float32(s)
    bp = s - a
    err = (a - (s - bp)) + (x - bp)
    if err != 0.0:
        m, e = math.frexp(s)
        if (np.int64(m * TWO53) & 1) == 0:
            s = np.nextafter(s, np.inf if err > 0.0 else -np.inf)
    return np.float32(s)


# --- exact sums of FP32 values and products (pipe = 1's fp32 accumulator) -----------------
#: every finite binary32 value and every product of the engine's modes is an integer multiple
#: of 2**-F32_LSB (products: of 2**(2*lsb) >= 2**-56); a register of F32_LIMBS limbs at that
#: LSB holds any sum of two FP32 values and a word's products (< 2**130) exactly
F32_LSB = 149
F32_LIMBS = 9
F32_WIDTH = 32 * F32_LIMBS


@njit(cache=True, inline="always")
def limb_add_f32(limbs, x):
    """limbs += x for a finite binary32 value ``x`` (a float64), at the LSB 2**-F32_LSB."""
    if x == 0.0:
        return
    m, e = math.frexp(x)
    s = np.int64(m * 16777216.0)         # the 24-bit significand, exact
    t = e - 24 + F32_LSB
    if t < 0:                            # subnormals: the dropped bits are zero
        s >>= -t
        t = 0
    limb_add(limbs, s, t)


@njit(cache=True, inline="always")
def f32_class_flag(x):
    """The special flag of a float32 value: 1 NaN, 2 +Inf, 4 -Inf, 0 finite."""
    if math.isnan(x):
        return np.int64(1)
    if math.isinf(x):
        return np.int64(2) if x > 0 else np.int64(4)
    return np.int64(0)
