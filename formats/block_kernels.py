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

Beside this module: :mod:`formats.block_scale_codes` (a block's scale code by its rule),
:mod:`formats.round_to_odd` (float64 bits and their round-to-odd narrowing),
:mod:`formats.block_decode` (decode, amax) and :mod:`formats.block_fast` (the float32 fast
kernels); the names they export are re-exported here.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from .base import f32_table_index
from .block import draw_u, encode_element
from .block_decode import amax_of, decode_kernel
from .block_scale_codes import _block_scale, _scale_nearest, scale_general, scale_nearest_bits
from .round_to_odd import bitcast_f64, rto32_bits
from .scale_rules import CEIL, EVEN, FOUR_OVER_SIX, NEAREST, RCEIL, ROUND_NEAREST, mf_value

__all__ = ["TABLE", "KERNEL", "VALUES", "CODEBOOK", "decode_kernel", "amax_of", "bitcast_f64", "rto32_bits",
           "scale_general", "scale_nearest_bits"]

TABLE, KERNEL, VALUES, CODEBOOK = 0, 1, 2, 3


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
