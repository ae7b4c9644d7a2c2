"""Numba kernels of the MAC engine: ``dot`` per accumulator type (rows in parallel) and the
one-cycle kernels of the ``Lane`` step API.  The arithmetic they share is in ``arith``;
the semantics are in docs/mac.md.

``A``, ``B``: (R, K) C-contiguous element codes; row ``r`` is one dot product.  Element
``j`` is sub-word ``j % k`` of cycle ``j // k``; elements are added in the order
j = 0 .. K-1.  Results leave as float64 values (exact or rounded to odd, see ``arith``)
plus a special class (0 finite, 1 NaN, 2 +Inf, 3 -Inf).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .arith import (  # noqa: F401  (re-exported for tests and lane.py)
    F32_LIMBS,
    F32_LSB,
    F32_WIDTH,
    MASK32,
    fadd32,
    f32_class_flag,
    flags_class,
    i64_to_f64,
    limb_add,
    limb_add_f32,
    limbs_normalize,
    limbs_to_f64,
    product_flags,
    wrap,
)


# --- exact accumulator: dot kernels --------------------------------------------------------
@njit(parallel=True, cache=True)
def dot_exact_small(A, B, val, cls, sgn, has_special, width, scale_exp, out_val, out_cls):
    """Exact sums that fit one int64 register (width <= 62)."""
    R, K = A.shape
    for r in prange(R):
        acc = np.int64(0)
        fl = np.int64(0)
        for j in range(K):
            a = A[r, j]
            b = B[r, j]
            if has_special:
                ca = cls[a]
                cb = cls[b]
                if (ca | cb) != 0:
                    fl |= product_flags(ca, cb, sgn[a], sgn[b])
                    continue
            acc += val[a] * val[b]
        out_val[r] = i64_to_f64(wrap(acc, width), scale_exp)
        out_cls[r] = flags_class(fl)


@njit(cache=True, inline="always")
def exact_add(limbs, a, b, sig, sh, cls, sgn, fl):
    """Add one product to the limb register; returns the updated flag mask."""
    ca = cls[a]
    cb = cls[b]
    if (ca | cb) != 0:
        return fl | product_flags(ca, cb, sgn[a], sgn[b])
    s = sig[a] * sig[b]
    if s != 0:
        limb_add(limbs, s, sh[a] + sh[b])
    return fl


@njit(parallel=True, cache=True)
def dot_exact_limbs(A, B, sig, sh, cls, sgn, width, nlimbs, scale_exp, out_val, out_cls):
    """Exact sums in a multi-limb register (wide modes: fp8_e5m2, posit16_1)."""
    R, K = A.shape
    for r in prange(R):
        limbs = np.zeros(nlimbs, dtype=np.int64)
        fl = np.int64(0)
        for j in range(K):
            fl = exact_add(limbs, A[r, j], B[r, j], sig, sh, cls, sgn, fl)
            if (j & 0xFFFFF) == 0xFFFFF:
                limbs_normalize(limbs)
        out_val[r] = limbs_to_f64(limbs, width, scale_exp)
        out_cls[r] = flags_class(fl)


# --- fp32 accumulator --------------------------------------------------------------------
@njit(parallel=True, cache=True)
def dot_fp32(A, B, fval, out32):
    """acc <- RNE_fp32(acc + a_j * b_j) for j = 0 .. K-1 (each product exact, fused add)."""
    R, K = A.shape
    for r in prange(R):
        acc = np.float32(0.0)
        for j in range(K):
            acc = fadd32(acc, fval[A[r, j]] * fval[B[r, j]])
        out32[r] = acc


# --- fp32 accumulator, pipe = 1: one rounding per word, two interleaved partial sums -------
@njit(cache=True)
def fp32_word_add(acc, ca, cb, sig, sh, cls, sgn, lsb2, fl, limbs):
    """RNE_fp32(acc + S) for the exact sum S of the finite products ca[j] * cb[j] (one word),
    and the flags of its special products; ``limbs``: scratch (F32_LIMBS).  An Inf/NaN ``acc``
    stays as it is; S = 0 leaves ``acc`` as it is (it is never -0)."""
    for i in range(limbs.size):
        limbs[i] = 0
    nz = False
    for j in range(ca.size):
        x = ca[j]
        y = cb[j]
        if (cls[x] | cls[y]) != 0:
            fl |= product_flags(cls[x], cls[y], sgn[x], sgn[y])
            continue
        s = sig[x] * sig[y]
        if s != 0:
            limb_add(limbs, s, sh[x] + sh[y] + lsb2 + F32_LSB)
            nz = True
    if not nz or not math.isfinite(acc):
        return acc, fl
    limb_add_f32(limbs, np.float64(acc))
    return np.float32(limbs_to_f64(limbs, F32_WIDTH, -F32_LSB)), fl


@njit(cache=True)
def fp32_pair_read(p0, p1, fl, limbs):
    """READ of the two partial sums: their exact sum rounded to odd at 53 bits (the readout
    rounds it once to the output format) and the special class (flags + Inf/NaN partials)."""
    fl |= f32_class_flag(p0) | f32_class_flag(p1)
    c = flags_class(fl)
    if c != 0:
        return 0.0, c
    for i in range(limbs.size):
        limbs[i] = 0
    limb_add_f32(limbs, np.float64(p0))
    limb_add_f32(limbs, np.float64(p1))
    return limbs_to_f64(limbs, F32_WIDTH, -F32_LSB), c


@njit(parallel=True, cache=True)
def dot_fp32_words(A, B, sig, sh, cls, sgn, k, lsb2, out_val, out_cls):
    """Word c (elements c*k .. c*k + k-1) adds its exact product sum into partial c % 2 with
    one rounding; the result is the two partials' exact sum (docs/mac.md 4.2, pipe = 1)."""
    R, K = A.shape
    for r in prange(R):
        limbs = np.zeros(F32_LIMBS, dtype=np.int64)
        p0 = np.float32(0.0)
        p1 = np.float32(0.0)
        fl = np.int64(0)
        w = 0
        for c0 in range(0, K, k):
            c1 = min(c0 + k, K)
            if w % 2 == 0:
                p0, fl = fp32_word_add(p0, A[r, c0:c1], B[r, c0:c1], sig, sh, cls, sgn, lsb2, fl, limbs)
            else:
                p1, fl = fp32_word_add(p1, A[r, c0:c1], B[r, c0:c1], sig, sh, cls, sgn, lsb2, fl, limbs)
            w += 1
        v, c = fp32_pair_read(p0, p1, fl, limbs)
        out_val[r] = v
        out_cls[r] = c


# --- fixed accumulator ---------------------------------------------------------------------
@njit(cache=True, inline="always")
def fixed_product(a, b, sig, sh, t0, width):
    """floor(a*b * 2**F) clamped to the width-bit range; t0 = 2*lsb + F."""
    s = sig[a] * sig[b]
    if s == 0:
        return np.int64(0)
    t = sh[a] + sh[b] + t0
    hi = (np.int64(1) << (width - 1)) - 1
    if t >= 0:
        if t >= width - 1:
            return hi if s > 0 else -hi - 1
        if s > 0:
            return hi if s > (hi >> t) else s << t
        m = -s
        if m > (np.int64(1) << (width - 1 - t)):
            return -hi - 1
        return -(m << t)
    u = -t
    if u >= 62:
        return np.int64(-1) if s < 0 else np.int64(0)
    p = s >> u  # arithmetic shift: floor, i.e. truncation toward -inf
    if p > hi:
        return hi
    if p < -hi - 1:
        return -hi - 1
    return p


@njit(cache=True, inline="always")
def sat_add(acc, x, width):
    hi = (np.int64(1) << (width - 1)) - 1
    y = acc + x
    if y > hi:
        return hi
    if y < -hi - 1:
        return -hi - 1
    return y


@njit(parallel=True, cache=True)
def dot_fixed(A, B, sig, sh, cls, sgn, k, t0, width, scale_exp, out_val, out_cls):
    """Per cycle: k truncated, clamped products summed exactly, then one saturating add."""
    R, K = A.shape
    for r in prange(R):
        acc = np.int64(0)
        fl = np.int64(0)
        for c0 in range(0, K, k):
            cyc = np.int64(0)
            for j in range(c0, min(c0 + k, K)):
                a = A[r, j]
                b = B[r, j]
                ca = cls[a]
                cb = cls[b]
                if (ca | cb) != 0:
                    fl |= product_flags(ca, cb, sgn[a], sgn[b])
                    continue
                cyc += fixed_product(a, b, sig, sh, t0, width)
            acc = sat_add(acc, cyc, width)
        out_val[r] = i64_to_f64(acc, scale_exp)
        out_cls[r] = flags_class(fl)


# --- MX / NVFP4: exact block sums into an FP32 accumulator --------------------------------
@njit(cache=True, inline="always")
def mx_block_add(acc, bsum, sa, sb, ssig, sexp, snan, lsb2):
    """acc <- RNE_fp32(acc + bsum * scale_a * scale_b * 2**(2*lsb)); NaN scale -> NaN.

    A scale is ``ssig * 2**sexp`` (E8M0: ssig = 1; UE4M3: ssig < 16), so the block term
    ``bsum * ssig_a * ssig_b`` (< 2**30) and its float64 are exact."""
    if snan[sa] != 0 or snan[sb] != 0:
        return np.float32(np.nan)
    return fadd32(acc, math.ldexp(float(bsum * ssig[sa] * ssig[sb]), lsb2 + sexp[sa] + sexp[sb]))


@njit(parallel=True, cache=True)
def dot_mx(A, B, SA, SB, val, block, ssig, sexp, snan, lsb2, out32):
    R, K = A.shape
    NB = SA.shape[1]
    for r in prange(R):
        acc = np.float32(0.0)
        for blk in range(NB):
            s = np.int64(0)
            for j in range(blk * block, min(blk * block + block, K)):
                s += val[A[r, j]] * val[B[r, j]]
            acc = mx_block_add(acc, s, SA[r, blk], SB[r, blk], ssig, sexp, snan, lsb2)
        out32[r] = acc


# --- one lane, one cycle (the step API) ------------------------------------------------------
@njit(cache=True)
def lane_exact(limbs, ca, cb, sig, sh, cls, sgn, fl):
    for j in range(ca.size):
        fl = exact_add(limbs, ca[j], cb[j], sig, sh, cls, sgn, fl)
    limbs_normalize(limbs)
    return fl


@njit(cache=True)
def lane_fixed(acc, ca, cb, sig, sh, cls, sgn, t0, width, fl):
    cyc = np.int64(0)
    for j in range(ca.size):
        x = ca[j]
        y = cb[j]
        if (cls[x] | cls[y]) != 0:
            fl |= product_flags(cls[x], cls[y], sgn[x], sgn[y])
            continue
        cyc += fixed_product(x, y, sig, sh, t0, width)
    return sat_add(acc, cyc, width), fl


@njit(cache=True)
def lane_fp32(acc, ca, cb, fval):
    for j in range(ca.size):
        acc = fadd32(acc, fval[ca[j]] * fval[cb[j]])
    return acc


@njit(cache=True)
def lane_mx_block(acc, bsum, sa, sb, ssig, sexp, snan, lsb2):
    return mx_block_add(acc, bsum, sa, sb, ssig, sexp, snan, lsb2)


@njit(cache=True)
def lane_small_sum(ca, cb, val):
    s = np.int64(0)
    for j in range(ca.size):
        s += val[ca[j]] * val[cb[j]]
    return s


# --- pair tables (elements of <= 8 bits): one lookup per product ----------------------------
@njit(parallel=True, cache=True)
def dot_exact_pairs(A, B, plo, phi, cls, sgn, has_special, w, width, nlimbs, scale_exp,
                    out_val, out_cls):
    """Exact sums for 8-bit modes whose products exceed int64 (fp8_e5m2): the product of
    codes (a, b) is ``phi[i] * 2**32 + plo[i]``, i = a << w | b, plo in [0, 2**32)."""
    R, K = A.shape
    for r in prange(R):
        lo = np.int64(0)
        hi = np.int64(0)
        fl = np.int64(0)
        for j in range(K):
            a = A[r, j]
            b = B[r, j]
            if has_special:
                ca = cls[a]
                cb = cls[b]
                if (ca | cb) != 0:
                    fl |= product_flags(ca, cb, sgn[a], sgn[b])
                    continue
            i = (np.int64(a) << w) | np.int64(b)
            lo += plo[i]
            hi += phi[i]
        limbs = np.zeros(nlimbs, dtype=np.int64)
        limbs[0] = lo & MASK32
        limbs[1] = (lo >> 32) + (hi & MASK32)
        limbs[2] = hi >> 32
        out_val[r] = limbs_to_f64(limbs, width, scale_exp)
        out_cls[r] = flags_class(fl)


@njit(cache=True)
def fixed_pair_table(sig, sh, t0, width, out):
    n = sig.size
    for a in range(n):
        for b in range(n):
            out[a * n + b] = fixed_product(a, b, sig, sh, t0, width)


@njit(parallel=True, cache=True)
def dot_fixed_pairs(A, B, ptab, cls, sgn, has_special, w, k, width, scale_exp, out_val, out_cls):
    """dot_fixed with the truncated, clamped products looked up in ``ptab``."""
    R, K = A.shape
    for r in prange(R):
        acc = np.int64(0)
        fl = np.int64(0)
        for c0 in range(0, K, k):
            cyc = np.int64(0)
            for j in range(c0, min(c0 + k, K)):
                a = A[r, j]
                b = B[r, j]
                if has_special:
                    ca = cls[a]
                    cb = cls[b]
                    if (ca | cb) != 0:
                        fl |= product_flags(ca, cb, sgn[a], sgn[b])
                        continue
                cyc += ptab[(np.int64(a) << w) | np.int64(b)]
            acc = sat_add(acc, cyc, width)
        out_val[r] = i64_to_f64(acc, scale_exp)
        out_cls[r] = flags_class(fl)
