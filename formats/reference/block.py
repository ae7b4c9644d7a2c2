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
           "nvfp4_encode", "nvfp4_decode", "float32_rne", "floor_log2", "block_encode", "scale_round",
           "rule_scale"]

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
        elif fmt.scale_rule in ("floor", "rceil"):  # written out here; the other rules via rule_scale
            s = floor_log2(amax) - emax_elem
            if fmt.scale_rule == "rceil" and amax / Fraction(2) ** s > elem_max:
                s += 1
            s = min(max(s, smin), smax)
        else:
            s = rule_scale(fmt, amax, Fraction(1), fmt.scale_rule) - sf.bias
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


# --------------------------------------------------------------------------------------
# every block-scaled format: the scale rules of formats.scale_rules, exactly
# --------------------------------------------------------------------------------------
def _ceil_log2(a: Fraction) -> int:
    e = floor_log2(a)
    return e if Fraction(2) ** e == a else e + 1


def scale_round(sf, r: Fraction, direction: str) -> int:
    """Code of the positive rational ``r`` rounded into the minifloat ``sf``'s non-negative
    finite values (``down``, ``up`` or ``nearest`` = ties to the even code), saturating at both ends."""
    m, bias = sf.mbits, sf.bias
    emin = (1 - bias) if sf.zero else -bias
    top = sf.max_mag

    def value(code):
        ef, mf = code >> m, code & ((1 << m) - 1)
        if ef == 0 and sf.zero:
            return Fraction(mf) * Fraction(2) ** (emin - m) if sf.subnormals else Fraction(0)
        return (Fraction((1 << m) + mf)) * Fraction(2) ** (ef - bias - m)

    vmax = value(top)
    if r >= vmax:
        return top
    e = max(floor_log2(r), emin) if r > 0 else emin
    quantum = Fraction(2) ** (e - m)
    k = r / quantum
    lo = k.numerator // k.denominator
    if direction == "down":
        n = lo
    elif direction == "up":
        n = lo if lo == k else lo + 1
    else:
        frac = k - lo
        lo_code = ((e + bias) << m) + lo - (1 << m)
        n = lo + 1 if (frac > Fraction(1, 2) or (frac == Fraction(1, 2) and lo_code % 2 == 1)) else lo
    if sf.zero and not sf.subnormals:
        raise ValueError("the reference handles scale formats with subnormals, or without zero (e8m0)")
    code = ((e + bias) << m) + n - (1 << m)  # continuous across binades; e >= emin
    return min(max(code, 0), top)


def scale_value(sf, code: int) -> Fraction:
    v, _ = element_value(sf, code)
    return v


def _elem_grid(fmt):
    """(grid, codes, -0 code) of any scalar element (minifloat/fixed by their rules, others by their values)."""
    if fmt.family in ("minifloat", "fixed"):
        return element_grid(fmt)
    vals = fmt.values()
    seen = {}
    neg_zero = None
    for code, v in enumerate(vals):
        if not math.isfinite(v):
            continue
        if v == 0 and math.copysign(1.0, v) < 0:
            neg_zero = neg_zero if neg_zero is not None else code
            continue
        seen.setdefault(Fraction(float(v)), code)
    grid = sorted(seen)
    return tuple(grid), tuple(seen[v] for v in grid), neg_zero


def _elem_value(fmt, code):
    if fmt.family in ("minifloat", "fixed"):
        return element_value(fmt, code)
    v = float(fmt.values()[code])
    return Fraction(v), (v == 0 and math.copysign(1.0, v) < 0)


def _m_even(fmt, emax: Fraction) -> int:
    if fmt.family == "minifloat":
        return fmt.mbits
    sig = emax / Fraction(2) ** floor_log2(emax)
    k = 0
    while (sig * 2 ** k).denominator != 1:
        k += 1
    return k


def _rho(a: Fraction, m: int) -> Fraction:
    """``a`` rounded to ``m + 1`` significant bits, ties away from zero."""
    q = Fraction(2) ** (floor_log2(a) - m)
    k = a / q
    return math.floor(k + Fraction(1, 2)) * q


def rule_scale(fmt, amax: Fraction, S: Fraction, rule: str) -> int:
    """The scale code that ``rule`` gives a block of largest magnitude ``amax`` (> 0)."""
    sf = fmt.scale_format
    grid, _, _ = _elem_grid(fmt.element)
    emax = grid[-1]
    P = Fraction(2) ** floor_log2(emax)
    if rule == "floor":
        return scale_round(sf, amax / (P * S), "down")
    if rule == "ceil":
        return scale_round(sf, amax / (P * S), "up")
    if rule == "even":
        return scale_round(sf, _rho(amax, _m_even(fmt.element, emax)) / (P * S), "down")
    if rule == "rceil":
        return scale_round(sf, amax / (emax * S), "up")
    if rule == "nearest":
        return scale_round(sf, amax / (emax * S), "nearest")
    raise ValueError(rule)


def _f32(v: Fraction) -> Fraction:
    """float32 round-to-nearest-even of a rational of either sign (saturating is not needed here)."""
    r = float32_rne(abs(v))
    return -r if v < 0 else r


def block_encode(fmt, x, mode="rne", seed: int = 0, tensor_scale=None):
    """(element codes, scale codes, S or None) of ``x`` in any block format (last axis), exactly."""
    x = np.asarray(x)
    flat = [float(v) for v in x.reshape(-1)]
    has_ts = fmt.has_tensor_scale
    if has_ts:
        if any(not math.isfinite(v) for v in flat):
            raise ValueError("formats with a tensor scale cannot encode NaN or Inf")
        if tensor_scale is not None:
            S = Fraction(float(np.float32(tensor_scale)))
        else:
            amax_t = max((abs(Fraction(v)) for v in flat), default=Fraction(0))
            if amax_t == 0:
                S = Fraction(1)
            else:
                S = float32_rne(amax_t / Fraction(fmt.tensor_scale_divisor))
                S = F32_MAX if S is None else (Fraction(1, 2 ** 149) if S == 0 else S)
    else:
        S = Fraction(1)
    sf = fmt.scale_format
    rule = fmt.scale_rule
    recip = getattr(fmt, "recipe", "divide") == "reciprocal"
    k = fmt.block
    grid, codes, neg_zero = _elem_grid(fmt.element)
    snan = sf.nan_code
    stochastic = mode_label(mode) == "stochastic"
    pow2 = sf.mbits == 0 and not sf.zero
    out_e, out_s = [], []

    def elements(blk, b, sc):
        sv = scale_value(sf, sc)
        d = sv * S
        if d == 0:
            return [0] * k
        res = []
        for j, v in enumerate(blk):
            i = b * k + j
            u = uniform(seed, i) if stochastic else Fraction(0)
            if recip:
                r32 = _f32(_f32(1 / S) / sv)
                q = _f32(Fraction(v) * r32)
            else:
                q = Fraction(v) / d
                if stochastic and not (pow2 and S == 1):
                    qf = float(q)  # the float64 quotient the divide recipe rounds
                    q = Fraction(qf) if (qf != 0 or v == 0) else Fraction(1, 2 ** 1074) * (1 if v > 0 else -1)
            res.append(_round_element(fmt.element, grid, codes, neg_zero, q, _is_negative(v), mode, u)
                       if fmt.element.family in ("minifloat", "fixed") else
                       _round_any(fmt.element, grid, codes, neg_zero, q, _is_negative(v), mode, u))
        return res

    for b in range(len(flat) // k):
        blk = flat[b * k:(b + 1) * k]
        if any(not math.isfinite(v) for v in blk):
            out_s.append(snan)
            out_e.extend([0] * k)
            continue
        amax = max(abs(Fraction(v)) for v in blk)
        if amax == 0:
            out_s.append(0)
            out_e.extend(elements(blk, b, 0))
            continue
        if rule == "four_over_six":
            best = None
            for target in (grid[-1], grid[-1] * Fraction(2, 3)):
                sc = scale_round(sf, amax / (target * S), "nearest")
                es = elements(blk, b, sc)
                dd = float(scale_value(sf, sc) * S)
                err = 0.0
                for v, c in zip(blk, es):
                    diff = v - float(_elem_value(fmt.element, c)[0]) * dd
                    err += diff * diff
                if best is None or err < best[0]:
                    best = (err, sc, es)
            out_s.append(best[1])
            out_e.extend(best[2])
            continue
        sc = rule_scale(fmt, amax, S, rule)
        out_s.append(sc)
        out_e.extend(elements(blk, b, sc))
    shape_s = x.shape[:-1] + (x.shape[-1] // k,)
    return (np.array(out_e, dtype=np.int64).reshape(x.shape), np.array(out_s, dtype=np.int64).reshape(shape_s),
            float(S) if has_ts else None)


def _round_any(fmt, grid, codes, neg_zero, v, negative, mode, u):
    code = round_to_grid(v, grid, codes, mode, u)
    if negative and neg_zero is not None and _elem_value(fmt, code)[0] == 0:
        return neg_zero
    return code
