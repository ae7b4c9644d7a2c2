"""Fast encode kernels for the common block-format cases on float32 input (elements through a table,
or by formula where one is fitted).

Element codes by formula: where :func:`formats.element_arith.fit` fits the element's RNE table
(every MX/NVFP4 element, int4/int8, fp6, fp8), the kernels code elements with
:mod:`formats.element_arith` instead of the table, in loops that vectorize (32-bit lanes, no
gathers): ``mx_f32_range`` per block on ``x``'s bits; ``scaled_f32_range`` in chunks of blocks
(:func:`_scaled_arith_f32_range_body`: amax and scale per block, then one flat float32 loop,
:func:`_codes_flat32`).  The codes are the table paths' codes (see those functions; A/B test
``tests/formats/test_element_arith_ab.py``, switch ``formats.scaled.USE_ARITH``).

:func:`encode_kernel` (the entry point of every block encode) sends float32 input whose
elements go through the element's float32 table (deterministic rounding) to the kernels
here, everything else to the general :func:`formats.block_kernels._encode_chunk`.  Each kernel
handles the *common* block in one pass over its bits and hands every other block
to the general :func:`formats.block_kernels._encode_chunk` (one block at a time), so
the codes are those of the general kernel by construction wherever a block is not
common, and by the equalities below where it is.

``mx_f32_range`` (power-of-two scale, no tensor scale, rules floor/ceil/even/rceil):
a block is common when its amax is a finite normal float32, no element is a nonzero
subnormal, and every element's exponent field minus ``s`` stays <= 254.  Then an
element ``x`` with exponent field ``e`` maps to the table index of the float32 bits
``x - (s << 23)`` when ``e > s`` (``x * 2**-s``, exact and normal), of ``sign | 1``
when ``0 < e <= s`` (the general kernel's round-to-odd narrowing of the exact
``x * 2**-s`` below 2**-126), and of ``x`` itself when it is ±0 — the three cases of
``_pow2_table_f32`` / ``rto32_bits``, written without branches on the data.

``scaled_f32_range`` (any other scale format or a tensor scale; rules except
four_over_six): a block is common when its amax is finite and nonzero and its
divisor ``d = scale * S`` is nonzero (and, for the reciprocal recipe, the float32
multiplier is finite).  The scale code is the general kernel's (same functions);
elements: divide recipe as ``_divide_table`` (``x * (1/d)`` narrowed by round to
odd, unless its low 29 bits lie within 3 of a float32, then ``x / d``); reciprocal
recipe: the float32 product's bits when it is a normal float32 (round to odd leaves
a float32 as it is), otherwise round to odd of it as the general kernel does.

four_over_six (in ``scaled_f32_range``): both candidate scales by the general kernel's rule
(``RN(amax / (target S))`` through :func:`_scale_nearest_mul`, exact), each
candidate's codes as above, its squared error summed in the same order as the
general kernel, the smaller kept (the first on a tie).

The per-block bodies compile without reference counting (``_nrt=False``: they allocate
nothing): with it, the arrays handed to the inlined helpers were increfed and decrefed
(atomically) for every block, measured at over half of an NVFP4 encode.
"""
from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from .block_kernels import _encode_chunk, _encode_chunk_body
from .block_scale_codes import _block_scale, scale_general, scale_nearest_bits
from .element_arith import KIND_SM, KIND_2C, arith_code, arith_code_pow2
from .round_to_odd import bitcast_f64, rto32_bits
from .scale_rules import FOUR_OVER_SIX, NEAREST, ROUND_NEAREST, mf_value
from .threads import run_ranges

__all__ = ["encode_kernel", "mx_f32_range", "mx_up_threshold", "scaled_f32_range"]

_LOW29 = np.uint64((1 << 29) - 1)
_NO_THR = np.zeros(0, np.float64)   # the codebook thresholds the table paths do not use


@intrinsic
def bitcast_u32_f32(typingctx, x):
    """The float32 whose raw bits are the uint32 ``x`` (one LLVM bitcast)."""
    if not isinstance(x, types.Integer) or x.bitwidth != 32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(x), codegen


@njit(cache=True, inline="always")
def _general_block(x, xb, block, rule, emax, pexp, P, m_even, emax_frac, S, pow2fast, smin, smax, sbias, snan, sp,
                   cmax, recip, rinv, table, ep, etab, mode, key, out_e, out_s, q_out, stab, b, gs):
    """Block ``b`` by the general kernel (TABLE path): every fast kernel's fallback for the blocks it
    does not handle, so those blocks get the general kernel's codes by construction.  ``gs``: its
    scratch (``2 * block`` int64)."""
    _encode_chunk_body(x, xb, block, rule, emax, pexp, P, m_even, emax_frac, S, pow2fast, smin, smax, sbias, snan,
                       sp, cmax, recip, rinv, 0, table, ep, etab, mode, key, out_e, out_s, q_out, stab, _NO_THR, b,
                       b + 1, gs, gs[:0].view(np.float64))


@njit(cache=True, inline="always")
def _tidx(b):
    """:func:`formats.base.f32_table_index` on uint32 bits (kept in 32-bit arithmetic)."""
    return ((b >> np.uint32(16)) << np.uint32(1)) | np.uint32((b & np.uint32(0xFFFF)) != 0)


@njit(nogil=True, cache=True, _nrt=False)
def _mx_f32_range_body(x, xb, block, rule, emax, pexp, P, m_even, emax_frac, S, smin, smax, sbias, snan, sp, cmax,
                 table, ep, etab, mode, key, up_thr, out_e, out_s, q_out, stab, nb, gs, ar):
    """Blocks ``b0 .. b1 - 1`` of a power-of-two-scale format (see the module docstring).  The rule is
    ``s = E - pexp + (fraction bits of amax >= up_thr)``: floor 2**23 (never), ceil 1, even and
    rceil their thresholds (:func:`mx_up_threshold`).  ``ar`` (kind ``ar[0] != 0``): the element's
    :mod:`formats.element_arith` parameters; its codes then come from the formula on ``x``'s bits
    (:func:`formats.element_arith.arith_code_pow2`, equal to the table on them) in a loop that
    vectorizes, instead of the table lookups."""
    ublock = np.uint64(block)   # unsigned indices: no wraparound checks, so the loops vectorize
    kind, am_, aemin, amaxpos, amaxneg, asbit, amask = (np.int32(ar[0]), np.int32(ar[1]), np.int32(ar[2]),
                                                      np.int32(ar[3]), np.int32(ar[4]), np.int32(ar[5]),
                                                      np.int32(ar[6]))
    for b in range(nb):
        base = np.uint64(b) * ublock
        am = np.uint32(0)
        sub = np.uint32(0xFFFFFFFF)   # min over elements of |bits| - 1: < 0x7FFFFF iff a nonzero subnormal
        for j in range(ublock):   # (cast back to uint32: Numba would widen to 64-bit lanes)
            v = np.uint32(xb[base + j] & np.uint32(0x7FFFFFFF))
            am = np.uint32(max(am, v))
            sub = np.uint32(min(sub, np.uint32(v - np.uint32(1))))
        ef = np.int64(am >> np.uint32(23))
        fr = np.int64(am & np.uint32(0x7FFFFF))
        s = ef - 127 - pexp + (1 if fr >= up_thr else 0)
        s = min(max(s, smin), smax)
        if ef == 0 or am >= np.uint32(0x7F800000) or sub < np.uint32(0x7FFFFF) or ef - s > 254:
            _general_block(x, xb, block, rule, emax, pexp, P, m_even, emax_frac, S, True, smin, smax, sbias, snan,
                           sp, cmax, False, 0.0, table, ep, etab, mode, key, out_e, out_s, q_out, stab, b, gs)
            continue
        out_s[b] = s + sbias
        if kind != 0:
            es = np.int32(127 + s)
            for j in range(ublock):
                out_e[base + j] = arith_code_pow2(xb[base + j], es, kind, am_, aemin, amaxpos, amaxneg, asbit, amask)
            continue
        sh = np.uint32(np.int64(s) << 23)
        for j in range(ublock):
            bb = xb[base + j]
            e = np.int64((bb >> np.uint32(23)) & np.uint32(0xFF))
            r = np.uint32(bb - sh) if e - s >= 1 else ((bb & np.uint32(0x80000000)) | np.uint32(1))
            r = bb if e == 0 else r
            out_e[base + j] = table[_tidx(r)]


def mx_up_threshold(rule, even_thr, emax_fbits) -> int:
    """The fraction-bit threshold of :func:`mx_f32_range` for the rules floor/ceil/even/rceil."""
    return {0: 1 << 23, 1: 1, 2: even_thr, 3: emax_fbits + 1}[rule]


@njit(cache=True, inline="always")
def _codes_divide(x, xb, base, block, d, rinv, table, out, off, ar):
    """Element codes of ``x[base:base+block] / d`` (float32 input) into ``out[off:off+block]``, each
    the table entry of round-to-odd-to-float32 of the exact quotient, as ``_divide_table`` gives (a
    float32 over a finite d cannot underflow).  ``rinv`` is ``1/d`` within 3 float64 roundings
    (relative error < 3 * 2**-53), so ``q = x * rinv`` is within 4 ulps of ``x / d``.  First pass
    without branches: if ``q`` is a normal float32 and its low 29 bits are not within 8 of a float32
    (where 4 ulps could cross one), ``q`` and ``x / d`` narrow alike, with the sticky bit set.  If
    any element breaks that (zeros do), the block is redone element by element with ``x / d``.
    ``ar`` (kind ``ar[0] != 0``): the codes of those bits by :func:`formats.element_arith.arith_code`
    (equal to the table on every float32) with the checks in the same loop (32-bit lanes): no table
    lookups, so it vectorizes."""
    base, off, ublock = np.uint64(base), np.uint64(off), np.uint64(block)   # unsigned: the loops vectorize
    if ar[0] != 0:
        kind, m, emin, maxpos, maxneg, sbit, mask = (np.int32(ar[0]), np.int32(ar[1]), np.int32(ar[2]),
                                                     np.int32(ar[3]), np.int32(ar[4]), np.int32(ar[5]),
                                                     np.int32(ar[6]))
        wl = np.uint32(0)   # worst_low, worst_ef below in 32 bits (same wraparound tests: both fit)
        we = np.uint32(0)
        for j in range(ublock):
            bq = bitcast_f64(float(x[base + j]) * rinv)
            hi = np.uint32(bq >> np.uint64(32))
            wl = np.uint32(max(wl, np.uint32(np.uint32(np.uint32(bq) & np.uint32((1 << 29) - 1)) - np.uint32(8))))
            we = np.uint32(max(we, np.uint32(np.uint32(np.uint32(hi >> np.uint32(20)) & np.uint32(0x7FF))
                                             - np.uint32(897))))
            r = np.uint32(np.uint32(hi & np.uint32(0x80000000))
                          | np.uint32(np.uint32(np.uint32(bq >> np.uint64(29)) - np.uint32(896 << 23))
                                      & np.uint32(0x7FFFFFFF)))
            out[off + j] = arith_code(np.uint32(r | np.uint32(1)), kind, m, emin, maxpos, maxneg, sbit, mask)
        if wl <= np.uint32((1 << 29) - 16) and we <= np.uint32(253):
            return
        for j in range(ublock):
            out[off + j] = table[_tidx(rto32_bits(bitcast_f64(float(x[base + j]) / d)))]
        return
    worst_low = np.uint64(0)   # max of (low - 8) mod 2**64: > 2**29 - 16 iff some low is within 8 of a float32
    worst_ef = np.uint64(0)    # max of (ef - 897) mod 2**64: > 253 iff some q is outside the normal float32s
    for j in range(ublock):    # the checks alone: a loop that vectorizes
        bq = bitcast_f64(float(x[base + j]) * rinv)
        worst_low = max(worst_low, (bq & _LOW29) - np.uint64(8))
        worst_ef = max(worst_ef, ((bq >> np.uint64(52)) & np.uint64(0x7FF)) - np.uint64(897))
    for j in range(ublock):
        bq = bitcast_f64(float(x[base + j]) * rinv)
        # the round-to-odd float32 bits (sticky bit set), and their table index (low half nonzero)
        # (masked to 32 bits: an element outside the float32 normal range gives garbage but a valid index)
        r = ((np.uint32(bq >> np.uint64(32)) & np.uint32(0x80000000))
             | ((np.uint32(bq >> np.uint64(29)) - np.uint32(896 << 23)) & np.uint32(0x7FFFFFFF)))
        out[off + j] = table[((r >> np.uint32(16)) << np.uint32(1)) | np.uint32(1)]
    if worst_low <= np.uint64((1 << 29) - 16) and worst_ef <= np.uint64(253):
        return
    for j in range(ublock):
        out[off + j] = table[_tidx(rto32_bits(bitcast_f64(float(x[base + j]) / d)))]


@njit(cache=True, inline="always")
def _scale_nearest_mul(amax, invD, D, stab, sp, cmax):
    """:func:`_scale_nearest` with ``amax * invD`` (``invD = RN(1/D)``: within 2 ulps of the quotient)
    in place of the division, so a wider guard (8): exact by the same argument."""
    r = amax * invD
    b = bitcast_f64(r)
    low = b & _LOW29
    if low < 8 or low > (1 << 29) - 8 or not 7.888609052210118e-31 <= r <= 1.2676506002282294e30:
        return scale_general(amax, D, ROUND_NEAREST, sp, cmax)
    return min(np.int64(stab[_tidx(rto32_bits(b))]), cmax)


@njit(cache=True, inline="always")
def _codes_recip(x, xb, base, block, r32, table, out, off, ar):
    """Element codes of ``float32(x * r32)`` through the table (the general kernel's reciprocal path).
    ``ar`` (kind ``ar[0] != 0``): :func:`formats.element_arith.arith_code` of the product's bits
    instead, in a loop that vectorizes.  It equals the table path on every product: on a normal
    float32 (the table's own entry, fitted), on ±0 (an entry), on a subnormal (both give the signed
    zero code, as for ``sign | 1``: exponent -127, the shift clamps), and on ±Inf or NaN (both
    saturate with the sign bit, as for ``sign | 0x7F7FFFFF``)."""
    base, off = np.uint64(base), np.uint64(off)
    if ar[0] != 0:
        kind, m, emin, maxpos, maxneg, sbit, mask = (np.int32(ar[0]), np.int32(ar[1]), np.int32(ar[2]),
                                                     np.int32(ar[3]), np.int32(ar[4]), np.int32(ar[5]),
                                                     np.int32(ar[6]))
        for j in range(np.uint64(block)):
            out[off + j] = arith_code(np.uint32(bitcast_f32_u32(x[base + j] * r32)), kind, m, emin, maxpos,
                                      maxneg, sbit, mask)
        return
    for j in range(np.uint64(block)):
        q = x[base + j] * r32
        bq = np.uint32(bitcast_f32_u32(q))
        e = (bq >> np.uint32(23)) & np.uint32(0xFF)
        if e == 0 or e == 0xFF:
            bq = rto32_bits(bitcast_f64(np.float64(q)))
        out[off + j] = table[_tidx(bq)]


@intrinsic
def bitcast_f32_u32(typingctx, x):
    """The raw bits of a float32 as a uint32."""
    if not isinstance(x, types.Float) or x.bitwidth != 32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))

    return types.uint32(x), codegen


@njit(cache=True, inline="always")
def _amax_bits(xb, base, block):
    am = np.uint32(0)
    base = np.uint64(base)
    for j in range(np.uint64(block)):
        am = np.uint32(max(am, np.uint32(xb[base + j] & np.uint32(0x7FFFFFFF))))
    return np.uint32(am)


@njit(nogil=True, cache=True, _nrt=False)
def _scaled_f32_range_body(x, xb, block, rule, emax, pexp, P, m_even, emax_frac, S, pow2fast, smin, smax, sbias, snan,
                     sp, cmax, recip, rinv, table, ep, etab, mode, key, out_e, out_s, q_out, stab, nb,
                           svals, sinv, r32tab, gs, ar):
    """The blocks of a format with a non-power-of-two scale or a tensor scale.  ``svals``, ``sinv``,
    ``r32tab`` (empty when the scale has over 1024 codes): per scale code its value, ``RN(1/value)``
    and the reciprocal recipe's ``float32(rinv / value)``."""
    D = emax * S
    invD = 1.0 / D
    invS = 1.0 / S
    for b in range(nb):
        base = b * block
        am = _amax_bits(xb, base, block)
        if am == 0 or am >= np.uint32(0x7F800000):
            _general_block(x, xb, block, rule, emax, pexp, P, m_even, emax_frac, S, pow2fast, smin, smax, sbias,
                           snan, sp, cmax, recip, rinv, table, ep, etab, mode, key, out_e, out_s, q_out, stab, b, gs)
            continue
        amax = float(bitcast_u32_f32(np.uint32(am)))
        if rule == NEAREST and stab.size:
            sc = _scale_nearest_mul(amax, invD, D, stab, sp, cmax)
        elif rule == NEAREST:
            sc = scale_nearest_bits(amax, D, sp, cmax)
        else:
            sc = _block_scale(amax, rule, emax, pexp, P, m_even, emax_frac, S, False, smin, smax, sbias, sp, cmax)
        sv = svals[sc] if svals.size else mf_value(sc, sp)
        d = sv * S
        if d == 0.0:
            _general_block(x, xb, block, rule, emax, pexp, P, m_even, emax_frac, S, pow2fast, smin, smax, sbias,
                           snan, sp, cmax, recip, rinv, table, ep, etab, mode, key, out_e, out_s, q_out, stab, b, gs)
            continue
        out_s[b] = sc
        if recip:
            _codes_recip(x, xb, base, block, r32tab[sc] if svals.size else np.float32(rinv / sv), table, out_e,
                         base, ar)
        else:
            _codes_divide(x, xb, base, block, d, sinv[sc] * invS if svals.size else 1.0 / d, table, out_e, base,
                          ar)


@njit(nogil=True, cache=True, _nrt=False)
def _four_over_six_f32_range_body(x, xb, block, rule, emax, pexp, P, m_even, emax_frac, S, pow2fast, smin, smax, sbias,
                            snan, sp, cmax, recip, rinv, table, ep, etab, mode, key, out_e, out_s, q_out, stab,
                            nb, svals, sinv, r32tab, scratch, gs, ar):
    """The blocks under the four_over_six rule (see the module docstring); tables as for
    :func:`_scaled_f32_range_body`; ``scratch``: ``2 * block`` codes."""
    invS = 1.0 / S
    D0 = emax * S
    D1 = emax * (2.0 / 3.0) * S
    invD0 = 1.0 / D0
    invD1 = 1.0 / D1
    for b in range(nb):
        base = b * block
        am = _amax_bits(xb, base, block)
        if am == 0 or am >= np.uint32(0x7F800000):
            _general_block(x, xb, block, rule, emax, pexp, P, m_even, emax_frac, S, pow2fast, smin, smax, sbias,
                           snan, sp, cmax, recip, rinv, table, ep, etab, mode, key, out_e, out_s, q_out, stab, b, gs)
            continue
        amax = float(bitcast_u32_f32(np.uint32(am)))
        best = -1.0
        for t in range(2):
            D = D0 if t == 0 else D1   # (emax * (2/3)) * S: the general kernel's target * S
            if stab.size:
                c = _scale_nearest_mul(amax, invD0 if t == 0 else invD1, D, stab, sp, cmax)
            else:
                c = scale_nearest_bits(amax, D, sp, cmax)
            sv = svals[c] if svals.size else mf_value(c, sp)
            d = sv * S
            off = t * block
            if d == 0.0:
                for j in range(block):
                    scratch[off + j] = 0
            elif recip:
                _codes_recip(x, xb, base, block, r32tab[c] if svals.size else np.float32(rinv / sv), table,
                             scratch, off, ar)
            else:
                _codes_divide(x, xb, base, block, d, sinv[c] * invS if svals.size else 1.0 / d, table,
                              scratch, off, ar)
            err = 0.0
            for j in range(block):
                diff = float(x[base + j]) - etab[scratch[off + j]] * d
                err += diff * diff
            if t == 0 or err < best:
                best = err
                out_s[b] = c
                for j in range(block):
                    out_e[base + j] = scratch[off + j]


@njit(cache=True, inline="always")
def _q32_unsafe(qb, xbits):
    """Whether the float32 ``q`` (bits ``qb``: ``RN32(x * RN32(1/d))``, within 3 ulps of ``x / d``)
    may code differently from the exact quotient: ``x`` nonzero and ``q`` not a normal float32, or
    its low 15 bits within 3 of a multiple of 2**15.  An element rounding boundary (a point where
    the fitted formula's code changes: it reads bits 15 and up, ``sh >= 16``) has its low 15 bits
    0, so a ``q`` that passes is at least 4 of its ulps from every boundary (in its binade, or the
    binade edges above and below, themselves such points), while ``|q - x/d| <= (2**-23 + 2**-47)
    |q|`` is under 2.01 of those ulps: every boundary lies on the side of ``q`` the exact quotient
    has it, and ``q`` is none.  0 (safe) or 1, as uint32."""
    t = np.uint32(np.uint32(qb & np.uint32(0x7FFF)) - np.uint32(4))
    ef = np.uint32(np.uint32(np.uint32(qb >> np.uint32(23)) & np.uint32(0xFF)) - np.uint32(1))
    bad = np.uint32(np.uint32(t > np.uint32((1 << 15) - 8)) | np.uint32(ef > np.uint32(253)))
    return bad if np.uint32(xbits << np.uint32(1)) != np.uint32(0) else np.uint32(0)


@njit(nogil=True, cache=True, _nrt=False)
def _codes_flat32(x, xb, base, n, m32, check, ar, out_e, flags):
    """``out_e[base + i]`` = :func:`formats.element_arith.arith_code` of ``float32(x[base + i] * m32[i])``
    for ``i < n``; with ``check``, ``flags[i]`` = :func:`_q32_unsafe` (0/1) and the return value
    whether some element failed it.  A
    function of its own (not inlined) and one loop per sign kind: the loop vectorizes in 32-bit lanes
    without spills."""
    kind, m, emin, maxpos, maxneg, sbit, mask = (np.int32(ar[0]), np.int32(ar[1]), np.int32(ar[2]), np.int32(ar[3]),
                                                 np.int32(ar[4]), np.int32(ar[5]), np.int32(ar[6]))
    ubase = np.uint64(base)
    worst = np.uint32(0)
    if kind == KIND_SM:
        if check:
            for i in range(np.uint64(n)):
                qb = np.uint32(bitcast_f32_u32(x[ubase + i] * m32[i]))
                f = _q32_unsafe(qb, xb[ubase + i])
                flags[i] = np.uint8(f)
                worst = np.uint32(worst | f)
                out_e[ubase + i] = arith_code(qb, np.int32(KIND_SM), m, emin, maxpos, maxneg, sbit, mask)
        else:
            for i in range(np.uint64(n)):
                qb = np.uint32(bitcast_f32_u32(x[ubase + i] * m32[i]))
                out_e[ubase + i] = arith_code(qb, np.int32(KIND_SM), m, emin, maxpos, maxneg, sbit, mask)
    else:
        if check:
            for i in range(np.uint64(n)):
                qb = np.uint32(bitcast_f32_u32(x[ubase + i] * m32[i]))
                f = _q32_unsafe(qb, xb[ubase + i])
                flags[i] = np.uint8(f)
                worst = np.uint32(worst | f)
                out_e[ubase + i] = arith_code(qb, np.int32(KIND_2C), m, emin, maxpos, maxneg, sbit, mask)
        else:
            for i in range(np.uint64(n)):
                qb = np.uint32(bitcast_f32_u32(x[ubase + i] * m32[i]))
                out_e[ubase + i] = arith_code(qb, np.int32(KIND_2C), m, emin, maxpos, maxneg, sbit, mask)
    return worst != 0


@njit(nogil=True, cache=True, _nrt=False)
def _scaled_arith_f32_range_body(x, xb, block, rule, emax, pexp, P, m_even, emax_frac, S, pow2fast, smin, smax, sbias,
                                 snan, sp, cmax, recip, rinv, table, ep, etab, mode, key, out_e, out_s, q_out, stab,
                                 nb, svals, sinv, r32tab, gs, ar, am_buf, d_buf, m32, gen_buf, flags):
    """:func:`_scaled_f32_range_body` for an element with a fitted formula (``ar[0] != 0``; rules but
    four_over_six), in chunks of ``am_buf.size`` blocks and passes over each, so that the
    per-element pass does not depend on a block's size (a loop over a short block, 16 for NVFP4,
    runs scalar) and runs in float32/int32 lanes only:

    1. every block's amax (bits), then every block's scale code and multiplier (the same functions
       and order of operations as :func:`_scaled_f32_range_body`), the multiplier written out per
       element into ``m32``: the reciprocal recipe's ``r32``, the divide recipe's ``float32(rinv)``
       (``rinv`` within 3 float64 roundings of ``1/d``);
    2. one flat loop over the chunk's elements (:func:`_codes_flat32`): the float32 product coded by
       :func:`formats.element_arith.arith_code` (``±0`` gives the code of ±0, as ``x / d`` does);
    3. the blocks the general kernel takes (zero, NaN/Inf amax; a zero divisor) by it, and, divide
       recipe, when some element of the chunk failed the check of :func:`_q32_unsafe`, those
       elements by ``x / d`` exactly as :func:`_codes_divide` recodes them.

    The reciprocal recipe's product is coded as :func:`_codes_recip` codes it (see there).  Divide
    recipe: ``q = RN32(x * RN32(rinv))`` is within ``2**-23 (1 + 2**-28)`` relative of ``x / d``, under
    3 ulps; where the check passes, no element rounding boundary lies within 16 ulps of ``q``, so
    ``q``, ``x / d``, its float64 rounding and ``_codes_divide``'s value code alike."""
    D = emax * S
    invD = 1.0 / D
    invS = 1.0 / S
    CB = am_buf.size
    ublock = np.uint64(block)
    for c0 in range(0, nb, CB):
        ncb = min(CB, nb - c0)
        for k in range(ncb):
            am_buf[k] = _amax_bits(xb, (c0 + k) * block, block)
        for k in range(ncb):
            am = am_buf[k]
            gen = am == 0 or am >= np.uint32(0x7F800000)
            mul32 = np.float32(0.0)
            if not gen:
                amax = float(bitcast_u32_f32(np.uint32(am)))
                if rule == NEAREST and stab.size:
                    sc = _scale_nearest_mul(amax, invD, D, stab, sp, cmax)
                elif rule == NEAREST:
                    sc = scale_nearest_bits(amax, D, sp, cmax)
                else:
                    sc = _block_scale(amax, rule, emax, pexp, P, m_even, emax_frac, S, False, smin, smax, sbias, sp,
                                      cmax)
                sv = svals[sc] if svals.size else mf_value(sc, sp)
                d = sv * S
                gen = d == 0.0
                if not gen:
                    out_s[c0 + k] = sc
                    d_buf[k] = d
                    if recip:
                        mul32 = r32tab[sc] if svals.size else np.float32(rinv / sv)
                    else:
                        mul32 = np.float32(sinv[sc] * invS if svals.size else 1.0 / d)
                        # a multiplier outside the normal float32s (1/d beyond their range) breaks the
                        # error bound: such a block goes the general way
                        gen = not (np.float32(1.1754944e-38) <= mul32 <= np.float32(3.4028235e38))
                        if gen:
                            mul32 = np.float32(0.0)
            gen_buf[k] = gen
            kb = np.uint64(k) * ublock
            for j in range(ublock):
                m32[kb + j] = mul32
        base = c0 * block
        n = ncb * block
        if _codes_flat32(x, xb, base, n, m32, not recip, ar, out_e, flags):
            words = flags.view(np.uint64)   # the flagged elements, 8 flags a word (the tail past n stays 0)
            for w in range((n + 7) // 8):
                if words[w] == 0:
                    continue
                words[w] = 0
                for i in range(8 * w, min(8 * w + 8, n)):
                    k = i // block
                    if not gen_buf[k]:
                        qb = np.uint32(bitcast_f32_u32(x[base + i] * m32[i]))
                        if _q32_unsafe(qb, xb[base + i]) != 0:
                            out_e[base + i] = table[_tidx(rto32_bits(bitcast_f64(float(x[base + i]) / d_buf[k])))]
        for k in range(ncb):
            if gen_buf[k]:
                _general_block(x, xb, block, rule, emax, pexp, P, m_even, emax_frac, S, pow2fast, smin, smax, sbias,
                               snan, sp, cmax, recip, rinv, table, ep, etab, mode, key, out_e, out_s, q_out, stab,
                               c0 + k, gs)


@njit(cache=True)
def _scale_tables(sp, cmax, rinv):
    """Per scale code (when the scale has <= 1024 codes; else empty): its value, ``RN(1/value)`` and
    the reciprocal recipe's ``float32(rinv / value)`` (0 for a zero value)."""
    n = cmax + 1 if cmax < 1024 else 0
    svals = np.empty(n, np.float64)
    sinv = np.empty(n, np.float64)
    r32tab = np.empty(n, np.float32)
    for c in range(n):
        svals[c] = mf_value(c, sp)
        sinv[c] = 1.0 / svals[c] if svals[c] != 0.0 else 0.0
        r32tab[c] = np.float32(rinv / svals[c]) if svals[c] != 0.0 else np.float32(0.0)
    return svals, sinv, r32tab


@njit(nogil=True, cache=True)
def mx_f32_range(x, xb, block, rule, emax, pexp, P, m_even, emax_frac, S, smin, smax, sbias, snan, sp, cmax, table, ep, etab, mode, key, up_thr, out_e, out_s, q_out, stab, ar, b0, b1):
    """Blocks ``b0 .. b1 - 1`` (power-of-two scales): the body on their slices, block indices from 0 (a loop over
    ``range(b0, b1)`` measured 1.6-2x slower: its indices are not known to be non-negative).  Only
    deterministic table modes come here, so no stochastic draw needs the global index."""
    lo = b0 * block
    hi = b1 * block
    _mx_f32_range_body(x[lo:hi], xb[lo:hi], block, rule, emax, pexp, P, m_even, emax_frac, S, smin, smax, sbias, snan, sp, cmax, table, ep, etab, mode, key, up_thr, out_e[lo:hi], out_s[b0:b1], q_out, stab, b1 - b0, np.empty(2 * block, np.int64), ar)


@njit(nogil=True, cache=True)
def scaled_f32_range(x, xb, block, rule, emax, pexp, P, m_even, emax_frac, S, pow2fast, smin, smax, sbias, snan, sp, cmax, recip, rinv, table, ep, etab, mode, key, out_e, out_s, q_out, stab, ar, b0, b1):
    """Blocks ``b0 .. b1 - 1`` (other scales or a tensor scale; the four_over_six rule too): the body on
    their slices, block indices from 0 (a loop over ``range(b0, b1)`` measured 1.6-2x slower: its
    indices are not known to be non-negative).  Only deterministic table modes come here, so no
    stochastic draw needs the global index."""
    lo = b0 * block
    hi = b1 * block
    svals, sinv, r32tab = _scale_tables(sp, cmax, rinv)
    if rule != FOUR_OVER_SIX and ar[0] != 0:
        cb = max(1, 2048 // block)
        _scaled_arith_f32_range_body(x[lo:hi], xb[lo:hi], block, rule, emax, pexp, P, m_even, emax_frac, S, pow2fast,
                                     smin, smax, sbias, snan, sp, cmax, recip, rinv, table, ep, etab, mode, key,
                                     out_e[lo:hi], out_s[b0:b1], q_out, stab, b1 - b0, svals, sinv, r32tab,
                                     np.empty(2 * block, np.int64), ar, np.empty(cb, np.uint32),
                                     np.empty(cb, np.float64), np.empty(cb * block, np.float32), np.empty(cb, np.bool_),
                                     np.zeros((cb * block + 7) // 8 * 8, np.uint8))
    elif rule == FOUR_OVER_SIX:
        _four_over_six_f32_range_body(x[lo:hi], xb[lo:hi], block, rule, emax, pexp, P, m_even, emax_frac, S,
                                      pow2fast, smin, smax, sbias, snan, sp, cmax, recip, rinv, table, ep, etab, mode,
                                      key, out_e[lo:hi], out_s[b0:b1], q_out, stab, b1 - b0, svals, sinv, r32tab,
                                      np.empty(2 * block, dtype=out_e.dtype), np.empty(2 * block, np.int64),
                                      np.zeros(7, np.int32))   # tables: the per-block formula loop measured slower here
    else:
        _scaled_f32_range_body(x[lo:hi], xb[lo:hi], block, rule, emax, pexp, P, m_even, emax_frac, S, pow2fast,
                               smin, smax, sbias, snan, sp, cmax, recip, rinv, table, ep, etab, mode, key,
                               out_e[lo:hi], out_s[b0:b1], q_out, stab, b1 - b0, svals, sinv, r32tab,
                               np.empty(2 * block, np.int64), ar)


def encode_kernel(x, xb, block, rule, emax, pexp, P, m_even, emax_frac, S, pow2fast, smin, smax, sbias,
                  snan, sp, cmax, recip, path, table, ep, etab, mode, key, chunk, out_e, out_s, q_out,
                  stab, thr, ar):
    """Encode ``x`` (float32/float64, C-contiguous, 1-D) block by block; see the module docstring.
    Blocks are split over the threads (:func:`formats.threads.run_ranges`; ``chunk`` blocks at least
    per thread).  ``ar``: the element's :mod:`formats.element_arith` parameters (kind 0: tables only)."""
    nb = out_s.size
    rinv = float(np.float32(1.0 / S)) if recip else 0.0
    even_thr = (1 << 23) - (1 << max(0, 22 - m_even))
    emax_fbits = int(emax_frac * 8388608.0) if emax_frac * 8388608.0 == math.floor(emax_frac * 8388608.0) else -1
    if xb.size and pow2fast and path == 0 and not recip and rule <= 3 and emax_fbits >= 0 and m_even <= 22:
        run_ranges(mx_f32_range, nb, x, xb, block, rule, emax, pexp, P, m_even, emax_frac, S, smin, smax, sbias,
                   snan, sp, cmax, table, ep, etab, mode, key, mx_up_threshold(rule, even_thr, emax_fbits), out_e,
                   out_s, q_out, stab, ar, grain=chunk)
        return
    if xb.size and path == 0 and not pow2fast:   # float32 input, a non-power-of-two or tensor scale
        run_ranges(scaled_f32_range, nb, x, xb, block, rule, emax, pexp, P, m_even, emax_frac, S, pow2fast, smin, smax,
                   sbias, snan, sp, cmax, recip, rinv, table, ep, etab, mode, key, out_e, out_s, q_out, stab, ar,
                   grain=chunk)
        return
    run_ranges(_encode_chunk, nb, x, xb, block, rule, emax, pexp, P, m_even, emax_frac, S, pow2fast, smin, smax,
               sbias, snan, sp, cmax, recip, rinv, path, table, ep, etab, mode, key, out_e, out_s, q_out, stab, thr,
               grain=chunk)
