"""Exact reference for the block formats (OCP MX and NVFP4).

Pure Python with :class:`fractions.Fraction`, element by element.  It reads the
format description objects (element widths, bias, block size, scale rule) but
decodes element and scale codes itself and never calls a Numba kernel.  The rules
are the ones written in :mod:`formats.mx` and :mod:`formats.nvfp4`.
"""
from __future__ import annotations

import functools
import math
from fractions import Fraction

import numpy as np

from .codebook import mode_label, round_to_grid, uniform

__all__ = ["element_value", "element_grid", "mx_encode", "mx_decode", "nvfp4_tensor_scale",
           "nvfp4_encode", "nvfp4_decode", "float32_rne", "floor_log2"]

NAN = "nan"


def floor_log2(a: Fraction) -> int:
    """``floor(log2 a)`` for a positive fraction, by integer arithmetic."""
    e = a.numerator.bit_length() - a.denominator.bit_length()
    while Fraction(2) ** e > a:
        e -= 1
    while Fraction(2) ** (e + 1) <= a:
        e += 1
    return e


def element_value(fmt, code: int):
    """Exact value of a code: a Fraction, ``"nan"``, or ±``math.inf``; ``(value, is_negative_zero)``."""
    if fmt.family == "fixed":
        c = code - (1 << fmt.bits) if code >> (fmt.bits - 1) else code
        return Fraction(c, 1) / Fraction(2) ** fmt.frac, False
    e, m, bias = fmt.ebits, fmt.mbits, fmt.bias
    mag_bits = e + m
    neg = fmt.signed and (code >> mag_bits) & 1 == 1
    mag = code & ((1 << mag_bits) - 1)
    ef, mf = mag >> m, mag & ((1 << m) - 1)
    if fmt.special == "ieee" and ef == (1 << e) - 1:
        return (NAN if mf else (-math.inf if neg else math.inf)), False
    if fmt.special == "fn" and mag == (1 << mag_bits) - 1:
        return NAN, False
    if fmt.special == "fnuz" and neg and mag == 0:
        return NAN, False
    if ef == 0 and fmt.zero:
        v = Fraction(mf) * Fraction(2) ** (1 - bias - m) if fmt.subnormals else Fraction(0)
    else:
        v = (1 + Fraction(mf, 1 << m)) * Fraction(2) ** (ef - bias)
    return (-v if neg else v), (neg and v == 0)


@functools.lru_cache(maxsize=None)
def element_grid(fmt):
    """Sorted finite values, their codes, and the −0 code (None if the format has no −0)."""
    seen = {}
    neg_zero = None
    for code in range(1 << fmt.bits):
        v, nz = element_value(fmt, code)
        if nz:
            if neg_zero is None:
                neg_zero = code
            continue
        if v == NAN or v in (math.inf, -math.inf):
            continue
        seen.setdefault(v, code)
    grid = sorted(seen)
    return tuple(grid), tuple(seen[v] for v in grid), neg_zero


def _round_element(fmt, grid, codes, neg_zero, v: Fraction, negative: bool, mode, u):
    code = round_to_grid(v, grid, codes, mode, u)
    if negative and neg_zero is not None and element_value(fmt, code)[0] == 0:
        return neg_zero
    return code


def _is_negative(x: float) -> bool:
    return math.copysign(1.0, x) < 0


def _code_value(fmt, code):
    v, _ = element_value(fmt, code)
    return v


# --------------------------------------------------------------------------------------
# OCP MX
# --------------------------------------------------------------------------------------
def mx_encode(fmt, x, mode="rne", seed: int = 0):
    """(element codes, scale codes) of ``x`` (numpy array, blocks along the last axis)."""
    x = np.asarray(x)
    k = fmt.block
    grid, codes, neg_zero = element_grid(fmt.element)
    elem_max = grid[-1]
    emax_elem = floor_log2(elem_max)
    sf = fmt.scale_format
    sgrid, _, _ = element_grid(sf)
    smin, smax = floor_log2(sgrid[0]), floor_log2(sgrid[-1])
    snan = next(c for c in range(1 << sf.bits) if element_value(sf, c)[0] == NAN)
    flat = [float(v) for v in x.reshape(-1)]
    out_e, out_s = [], []
    stochastic = mode_label(mode) == "stochastic"
    for b in range(len(flat) // k):
        blk = flat[b * k:(b + 1) * k]
        if any(not math.isfinite(v) for v in blk):
            out_s.append(snan)
            out_e.extend([0] * k)
            continue
        amax = max(abs(Fraction(v)) for v in blk)
        if amax == 0:
            s = smin
        else:
            s = floor_log2(amax) - emax_elem
            if fmt.scale_rule == "ceil" and amax / Fraction(2) ** s > elem_max:
                s += 1
            s = min(max(s, smin), smax)
        out_s.append(s + sf.bias)
        for j, v in enumerate(blk):
            i = b * k + j
            u = uniform(seed, i) if stochastic else Fraction(0)
            out_e.append(_round_element(fmt.element, grid, codes, neg_zero,
                                        Fraction(v) / Fraction(2) ** s, _is_negative(v), mode, u))
    shape_s = x.shape[:-1] + (x.shape[-1] // k,)
    return (np.array(out_e, dtype=np.int64).reshape(x.shape),
            np.array(out_s, dtype=np.int64).reshape(shape_s))


def _scaled_float(fmt, ecode: int, scale: Fraction | str) -> float:
    v, neg_zero = element_value(fmt, ecode)
    if v == NAN or scale == NAN:
        return math.nan
    if v in (math.inf, -math.inf):
        return v
    return -0.0 if neg_zero else float(v * scale)


def mx_decode(fmt, elements, scales) -> np.ndarray:
    """float64 values: ``element * 2**(scale - bias)``; NaN scale gives a NaN block."""
    e = np.asarray(elements).reshape(-1)
    s = np.asarray(scales).reshape(-1)
    out = []
    for i, c in enumerate(e):
        sv = _code_value(fmt.scale_format, int(s[i // fmt.block]))
        out.append(_scaled_float(fmt.element, int(c), sv))
    return np.array(out, dtype=np.float64).reshape(np.shape(elements))


# --------------------------------------------------------------------------------------
# NVFP4
# --------------------------------------------------------------------------------------
F32_MAX = Fraction(2 ** 24 - 1) * Fraction(2) ** (127 - 23)


def float32_rne(v: Fraction):
    """Round a non-negative fraction to float32, ties to even; None when it overflows."""
    if v == 0:
        return Fraction(0)
    q = max(floor_log2(v), -126) - 23
    out = round(v / Fraction(2) ** q) * Fraction(2) ** q  # round() of a Fraction: half to even
    return None if out > F32_MAX else out


def nvfp4_tensor_scale(fmt, x) -> Fraction:
    """Step 2: ``S`` exactly rounded (float32 RNE of amax/2688), clamped, 1 for an all-zero tensor."""
    amax = max((abs(Fraction(float(v))) for v in np.asarray(x).reshape(-1)), default=Fraction(0))
    if amax == 0:
        return Fraction(1)
    egrid, _, _ = element_grid(fmt.element)
    sgrid, _, _ = element_grid(fmt.scale_format)
    s = float32_rne(amax / (egrid[-1] * sgrid[-1]))
    if s is None:
        return F32_MAX
    if s == 0:
        return Fraction(1, 2 ** 149)
    return s


def nvfp4_encode(fmt, x, mode="rne", seed: int = 0, tensor_scale=None):
    """(element codes, scale codes, S as float) of ``x`` by the NVFP4 recipe."""
    x = np.asarray(x)
    flat = [float(v) for v in x.reshape(-1)]
    if any(not math.isfinite(v) for v in flat):
        raise ValueError("nvfp4 cannot encode NaN or Inf")
    S = nvfp4_tensor_scale(fmt, x) if tensor_scale is None else Fraction(float(np.float32(tensor_scale)))
    k = fmt.block
    grid, codes, neg_zero = element_grid(fmt.element)
    sgrid, scodes, _ = element_grid(fmt.scale_format)
    stochastic = mode_label(mode) == "stochastic"
    out_e, out_s = [], []
    for b in range(len(flat) // k):
        blk = flat[b * k:(b + 1) * k]
        amax = max(abs(Fraction(v)) for v in blk)
        sc = round_to_grid(amax / (grid[-1] * S), sgrid, scodes, "rne")
        out_s.append(sc)
        d = _code_value(fmt.scale_format, sc) * S
        if d == 0:
            out_e.extend([0] * k)
            continue
        for j, v in enumerate(blk):
            i = b * k + j
            q = Fraction(v) / d
            u = Fraction(0)
            if stochastic:
                u = uniform(seed, i)
                qf = float(q)  # the recipe's float64 quotient (its t is what stochastic uses)
                q = Fraction(qf) if (qf != 0 or v == 0) else Fraction(1, 2 ** 1074) * (1 if v > 0 else -1)
            out_e.append(_round_element(fmt.element, grid, codes, neg_zero, q, _is_negative(v), mode, u))
    shape_s = x.shape[:-1] + (x.shape[-1] // k,)
    return (np.array(out_e, dtype=np.int64).reshape(x.shape),
            np.array(out_s, dtype=np.int64).reshape(shape_s), float(S))


def nvfp4_decode(fmt, elements, scales, tensor_scale) -> np.ndarray:
    """float64 values: ``e2m1 * scale * S``."""
    e = np.asarray(elements).reshape(-1)
    s = np.asarray(scales).reshape(-1)
    S = Fraction(float(tensor_scale))
    out = []
    for i, c in enumerate(e):
        sv = _code_value(fmt.scale_format, int(s[i // fmt.block]))
        out.append(_scaled_float(fmt.element, int(c), NAN if sv == NAN else sv * S))
    return np.array(out, dtype=np.float64).reshape(np.shape(elements))
