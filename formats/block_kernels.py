"""The Numba kernels shared by every block-scaled format (MX, NVFP4, :class:`~formats.scaled.BlockScaled`).

The general encode kernel (:func:`_encode_chunk`) does the whole job per block: largest
magnitude, scale code by the rule (:mod:`formats.scale_rules`), then the element codes;
:func:`formats.block_fast.encode_kernel` picks it or one of the float32 fast kernels.  Three element paths:

* ``TABLE`` (elements of <= 8 bits with a float32 encode table, deterministic
  modes): the scaled value ``q`` (float64) is narrowed to float32 with
  *round-to-odd* and looked up in the element's float32 table.  Round-to-odd to
  24 bits keeps the side of every element rounding boundary (boundaries have <= 9
  significant bits, and 24 >= 2 * 9 + 2), so the code equals rounding ``q`` itself.
* ``KERNEL`` (minifloat / fixed-point / signed-integer elements): the element's
  Numba encoder on ``q``.
* ``CODEBOOK`` (a codebook of <= 16 entries, deterministic modes): the code of
  ``q`` is the number of the codebook's thresholds below it
  (:meth:`formats.codebook.Codebook.thresholds`, padded to 15 with +inf).
* ``VALUES`` (any other scalar element: posit, codebook, takum, unsigned
  integer): the kernel writes ``q`` and the element's own ``encode`` runs after.

``q`` is ``x * 2**-s`` for a power-of-two scale (exact), ``x / d`` for the divide
recipe (one float64 division) and ``float32(x * r)`` with ``r =
float32(float32(1/S) / scale)`` for the reciprocal recipe (float32 inputs).
"""
from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from .base import f32_table_index
from .threads import run_ranges
from .block import draw_u, encode_element
from .scale_rules import (CEIL, EVEN, FLOOR, FOUR_OVER_SIX, NEAREST, RCEIL, ROUND_DOWN, ROUND_NEAREST,
                          ROUND_UP, cmp_prod, mf_value, round_sig_away)

__all__ = ["TABLE", "KERNEL", "VALUES", "CODEBOOK", "decode_kernel", "amax_of"]

TABLE, KERNEL, VALUES, CODEBOOK = 0, 1, 2, 3
_MASK52 = np.uint64((1 << 52) - 1)


@intrinsic
def bitcast_f64(typingctx, x):
    """The raw bits of a float64 as a uint64 (one LLVM bitcast; no memory round trip)."""
    if not isinstance(x, types.Float) or x.bitwidth != 64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.uint64(types.float64), codegen


@njit(cache=True, inline="always")
def rto32_bits(b):
    """uint32 bits of the float64 with bits ``b`` narrowed to float32 by round-to-odd; |q| < 2**-126
    becomes the smallest subnormal of its sign (or ±0), |q| >= 2**128 float32 max."""
    sgn = np.uint32((b >> np.uint64(63)) << np.uint64(31))
    ef = np.int64((b >> np.uint64(52)) & np.uint64(0x7FF))
    if ef == 0 and (b & _MASK52) == 0:
        return sgn
    e = ef - 1023
    if e < -126:
        return sgn | np.uint32(1)
    if e > 127:
        return sgn | np.uint32(0x7F7FFFFF)
    mant = b & _MASK52
    sticky = np.uint32(1) if (mant & np.uint64((1 << 29) - 1)) != 0 else np.uint32(0)
    return sgn | np.uint32((e + 127) << 23) | np.uint32(mant >> np.uint64(29)) | sticky


@njit(cache=True, inline="always")
def _elem_table(q, xv, table, fb, ub):
    """Element code of ``q`` through the float32 table (``fb``/``ub`` unused)."""
    b = bitcast_f64(q)
    if (b << np.uint64(1)) == 0 and xv != 0.0:
        # divide recipe: a nonzero input whose float64 quotient underflows keeps its sign and
        # size (callers of the float32 reciprocal recipe pass xv = q: its underflow is part of it)
        b = bitcast_f64(math.copysign(5e-324, xv))
    return table[f32_table_index(rto32_bits(b))]


@njit(cache=True)
def _elem_kernel(q, xv, ep, mode, u):
    """Element code through the element's Numba encoder (same underflow rule as :func:`_elem_table`)."""
    if q == 0.0 and xv != 0.0:
        q = math.copysign(5e-324, xv)
    return encode_element(bitcast_f64(q), ep, mode, u)


@njit(cache=True, inline="always")
def _elem(q, xv, path, table, ep, mode, u, fb, ub):
    if path == 0:
        return np.int64(_elem_table(q, xv, table, fb, ub))
    return _elem_kernel(q, xv, ep, mode, u)


@njit(cache=True, inline="always")
def _pow2_table_f32(x, xb, base, block, s, table, out_e):
    """float32 input, scale 2**s: shift the exponent field and look the code up (exact while the
    shifted value stays a normal float32; zeros map to themselves; the rest takes the float64 route)."""
    for j in range(block):
        b = xb[base + j]
        e = np.int64((b >> np.uint32(23)) & np.uint32(0xFF))
        ne = e - s
        if e != 0 and 1 <= ne <= 254:
            out_e[base + j] = table[f32_table_index(np.uint32(np.int64(b) - (s << 23)))]
        elif (b << np.uint32(1)) == 0:
            out_e[base + j] = table[f32_table_index(b)]
        else:
            xv = float(x[base + j])
            out_e[base + j] = _elem_table(xv * math.ldexp(1.0, -s), xv, table, None, None)


@njit(cache=True, inline="always")
def _divide_table(x, base, block, d, check_zero, table, out_e):
    """``x / d`` through the table.  ``q = x * (1/d)`` is within 2 float64 ulps of the exact
    quotient; unless its low 29 bits are within 3 of a float32 (where round-to-odd could differ),
    it narrows exactly like ``x / d``; otherwise the division is done."""
    rinv = 1.0 / d
    for j in range(block):
        xv = float(x[base + j])
        b = bitcast_f64(xv * rinv)
        low = b & np.uint64((1 << 29) - 1)
        if low < 3 or low > (1 << 29) - 3:
            b = bitcast_f64(xv / d)
            if check_zero and (b << np.uint64(1)) == 0 and xv != 0.0:
                b = bitcast_f64(math.copysign(5e-324, xv))
        out_e[base + j] = table[f32_table_index(rto32_bits(b))]


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


@njit(cache=True, inline="always")
def _count15(q, t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14):
    """How many of the 15 thresholds lie below ``q`` (the CODEBOOK path's code)."""
    return np.uint8((q > t0) + (q > t1) + (q > t2) + (q > t3) + (q > t4) + (q > t5) + (q > t6) + (q > t7)
                    + (q > t8) + (q > t9) + (q > t10) + (q > t11) + (q > t12) + (q > t13) + (q > t14))


@njit(cache=True, _nrt=False)
def _elements(x, base, block, d, sv, recip, rinv, path, table, ep, mode, key, out_e, q_out, fb, ub, thr):
    """Element codes of one block for the divisor ``d = sv * S`` (> 0)."""
    r32 = np.float32(rinv / sv) if recip else np.float32(0.0)
    if path == 3:   # thr: 15 thresholds (padded with +inf); one fused loop that vectorizes
        ubase = np.uint64(base)
        t0, t1, t2, t3, t4, t5, t6, t7 = thr[0], thr[1], thr[2], thr[3], thr[4], thr[5], thr[6], thr[7]
        t8, t9, t10, t11, t12, t13, t14 = thr[8], thr[9], thr[10], thr[11], thr[12], thr[13], thr[14]
        if recip:
            for j in range(np.uint64(block)):
                q = float(np.float32(float(x[ubase + j]) * float(r32)))
                out_e[ubase + j] = _count15(q, t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14)
        else:
            for j in range(np.uint64(block)):
                q = float(x[ubase + j]) / d
                out_e[ubase + j] = _count15(q, t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14)
        return
    if path == 0 and not recip:
        _divide_table(x, base, block, d, ub.size == 0, table, out_e)
        return
    for j in range(block):
        i = base + j
        xv = float(x[i])
        if recip:
            q = float(np.float32(xv * float(r32)))
        else:
            q = xv / d
        if path == 2:
            q_out[i] = q
        else:
            u = draw_u(key, i) if mode == 5 else 0.0
            out_e[i] = _elem(q, q if recip else xv, path, table, ep, mode, u, fb, ub)


@njit(nogil=True, cache=True)
def _encode_chunk(x, xb, block, rule, emax, pexp, P, m_even, emax_frac, S, pow2fast, smin, smax, sbias,
                  snan, sp, cmax, recip, rinv, path, table, ep, etab, mode, key, out_e, out_s, q_out, stab, thr,
                  b0, b1):
    """Blocks ``b0 .. b1 - 1`` (one thread's share), every case.  ``stab`` (non-empty): the scale
    format's float32 table for round-to-nearest scale codes (:func:`_scale_nearest`); ``thr``: the
    codebook's thresholds (CODEBOOK path)."""
    scratch = np.empty(2 * block, dtype=np.int64)
    fb = np.empty(0, dtype=np.float64)
    _encode_chunk_body(x, xb, block, rule, emax, pexp, P, m_even, emax_frac, S, pow2fast, smin, smax, sbias,
                       snan, sp, cmax, recip, rinv, path, table, ep, etab, mode, key, out_e, out_s, q_out, stab, thr,
                       b0, b1, scratch, fb)


@njit(nogil=True, cache=True, _nrt=False)
def _encode_chunk_body(x, xb, block, rule, emax, pexp, P, m_even, emax_frac, S, pow2fast, smin, smax, sbias,
                       snan, sp, cmax, recip, rinv, path, table, ep, etab, mode, key, out_e, out_s, q_out, stab, thr,
                       b0, b1, scratch, fb):
    """:func:`_encode_chunk` with its scratch arrays, compiled without reference counting (it allocates
    nothing; see :mod:`formats.block_fast`)."""
    zc = 0   # CODEBOOK: the code of 0.0
    for k in range(thr.size):
        zc += 1 if 0.0 > thr[k] else 0
    ub = xb  # its size says whether x is float32 (then no quotient can underflow to 0)
    f32 = xb.size > 0
    # the exponent rules on float32 bits: thresholds on the 23 fraction bits of amax
    even_thr = (1 << 23) - (1 << max(0, 22 - m_even))
    emax_fbits = np.int64(emax_frac * 8388608.0) if emax_frac * 8388608.0 == math.floor(emax_frac * 8388608.0) else -1
    int_rules = f32 and pow2fast and path == 0 and not recip and rule <= 3 and emax_fbits >= 0 and m_even <= 22
    for b in range(b0, b1):
        base = b * block
        if int_rules:
            am = np.uint32(0)
            for j in range(block):
                v = xb[base + j] & np.uint32(0x7FFFFFFF)
                am = v if v > am else am
            if am >= np.uint32(0x7F800000):
                out_s[b] = snan
                for j in range(block):
                    out_e[base + j] = 0
                continue
            ef = np.int64(am >> np.uint32(23))
            if ef != 0:  # a normal amax: integer rules (subnormal and zero blocks go the float way)
                fr = np.int64(am & np.uint32(0x7FFFFF))
                s = ef - 127 - pexp
                if rule == CEIL:
                    s += 1 if fr != 0 else 0
                elif rule == EVEN:
                    s += 1 if fr >= even_thr else 0
                elif rule == RCEIL:
                    s += 1 if fr > emax_fbits else 0
                s = min(max(s, smin), smax)
                out_s[b] = s + sbias
                _pow2_table_f32(x, xb, base, block, s, table, out_e)
                continue
        amax = 0.0
        special = False
        if f32:   # float32 input: the largest magnitude by its bits (NaN and Inf sort above every finite)
            am = np.uint32(0)
            ubase = np.uint64(base)   # unsigned: the loop vectorizes
            for j in range(np.uint64(block)):
                am = max(am, xb[ubase + j] & np.uint32(0x7FFFFFFF))
            special = am >= np.uint32(0x7F800000)
            amax = float(np.uint32(am).view(np.float32))
        else:
            for j in range(block):
                a = abs(float(x[base + j]))
                if a > amax:
                    amax = a
                elif a != a:
                    special = True
        if special or amax == np.inf:
            out_s[b] = snan
            for j in range(block):
                out_e[base + j] = zc if path == 3 else 0
                if path == 2:
                    q_out[base + j] = 0.0
            continue
        if rule == FOUR_OVER_SIX and amax != 0.0:
            best = -1.0
            for t in range(2):
                target = emax if t == 0 else emax * (2.0 / 3.0)
                c = scale_general(amax, target * S, ROUND_NEAREST, sp, cmax)
                sv = mf_value(c, sp)
                d = sv * S
                err = 0.0
                for j in range(block):
                    i = base + j
                    xv = float(x[i])
                    if d == 0.0:
                        scratch[t * block + j] = 0
                    else:
                        q = float(np.float32(xv * float(np.float32(rinv / sv)))) if recip else xv / d
                        u = draw_u(key, i) if mode == 5 else 0.0
                        scratch[t * block + j] = _elem(q, q if recip else xv, path, table, ep, mode, u, fb, ub)
                    diff = xv - etab[scratch[t * block + j]] * d
                    err += diff * diff
                if t == 0 or err < best:
                    best = err
                    out_s[b] = c
                    for j in range(block):
                        out_e[base + j] = scratch[t * block + j]
            continue
        if rule == NEAREST and stab.size and not pow2fast:
            sc = _scale_nearest(amax, emax * S, stab, sp, cmax)
        elif rule == NEAREST and not pow2fast:
            sc = scale_nearest_bits(amax, emax * S, sp, cmax)
        else:
            sc = _block_scale(amax, rule, emax, pexp, P, m_even, emax_frac, S, pow2fast, smin, smax, sbias,
                              sp, cmax)
        out_s[b] = sc
        if pow2fast:
            sv = math.ldexp(1.0, int(sc - sbias))
        else:
            sv = mf_value(sc, sp)
        d = sv * S
        if d == 0.0:
            for j in range(block):
                out_e[base + j] = zc if path == 3 else 0
                if path == 2:
                    q_out[base + j] = 0.0
            continue
        if pow2fast and path < 2 and not recip:
            inv = math.ldexp(1.0, int(sbias - sc))
            if path == 0 and xb.size:
                _pow2_table_f32(x, xb, base, block, np.int64(sc - sbias), table, out_e)
                continue
            if path == 0:
                _divide_table(x, base, block, math.ldexp(1.0, int(sc - sbias)), True, table, out_e)
                continue
            for j in range(block):
                i = base + j
                xv = float(x[i])
                u = draw_u(key, i) if mode == 5 else 0.0
                out_e[i] = _elem(xv * inv, xv, path, table, ep, mode, u, fb, ub)
        elif path == 0 and not recip:
            _divide_table(x, base, block, d, not f32, table, out_e)
        else:
            _elements(x, base, block, d, sv, recip, rinv, path, table, ep, mode, key, out_e, q_out, fb, ub, thr)


@njit(nogil=True, cache=True)
def _decode_body(etab, e, mult, block, out):
    for b in range(mult.size):
        mv = mult[b]
        base = b * block
        for j in range(block):
            out[base + j] = etab[e[base + j]] * mv


@njit(nogil=True, cache=True)
def _decode_range(etab, e, mult, block, out, b0, b1):
    # on slices, block indices from 0: a loop over range(b0, b1) compiles slower (see block_fast)
    _decode_body(etab, e[b0 * block:b1 * block], mult[b0:b1], block, out[b0 * block:b1 * block])


def decode_kernel(etab, e, mult, block, out):
    """``out[i] = etab[e[i]] * mult[i // block]`` (one rounding at most, to ``out``'s dtype), blocks
    split over the threads."""
    run_ranges(_decode_range, mult.size, etab, e, mult, block, out, grain=max(1, 4096 // block))


@njit(nogil=True, cache=True)
def _amax_range(x, lo, hi):
    m = 0.0
    for i in range(lo, hi):
        a = abs(float(x[i]))
        if a > m or a != a:
            m = a
            if a != a:
                return a
    return m


@njit(nogil=True, cache=True)
def _amax_bits_range(xb, lo, hi):
    """Largest ``|bits|`` of float32s ``xb[lo:hi]`` (a NaN's bits are the largest: > 0x7F800000)."""
    s = xb[lo:hi]
    m = np.uint32(0)
    for i in range(s.size):
        m = max(m, s[i] & np.uint32(0x7FFFFFFF))
    return np.uint32(m)


def amax_of(x):
    """Largest magnitude of a float array (NaN if it holds NaN)."""
    if x.dtype == np.float32 and x.ndim == 1 and x.flags.c_contiguous:
        m = max(run_ranges(_amax_bits_range, x.size, x.view(np.uint32), grain=1 << 16))
        return float(np.uint32(m).view(np.float32))
    m = 0.0
    for part in run_ranges(_amax_range, x.size, x, grain=1 << 16):
        if part > m or part != part:
            m = part
            if part != part:
                break
    return m

