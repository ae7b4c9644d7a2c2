"""Integer and minifloat encoders (and their wide decoders) in vectorised torch ops.

Each function mirrors the per-element Numba kernel of its family line by line
(:mod:`formats.integer`, :mod:`formats.minifloat`), with every ``if`` turned
into a ``torch.where`` over lanes; the rules themselves (saturation, wrap,
IEEE overflow to Inf only for modes that round away from zero, fnuz's single
zero, unsigned formats sending negatives to code 0, E8M0's missing zero) are
documented in those modules and are not restated here.  Inputs are contiguous
float32/float64 tensors, ``draw`` the int64 stochastic draws (or None), and
the result is an int64 tensor of codes.
"""
from __future__ import annotations

import torch

from ..rounding import Overflow, Rounding
from .bits import round_at, split

__all__ = ["encode_integer", "decode_integer", "encode_minifloat", "decode_minifloat",
           "encode_fixed", "decode_fixed"]


def _const(like, v):
    return torch.full_like(like, v, dtype=torch.int64)


def encode_integer(fmt, x, mode: Rounding, ovf: Overflow, nan_code: int, draw=None):
    """Codes of ``x`` in the integer format ``fmt`` (see :mod:`formats.integer`)."""
    s = split(x)
    n = fmt.nbits
    mask = (1 << n) - 1
    lo, hi = (-(1 << (n - 1)), (1 << (n - 1)) - 1) if fmt.signed else (0, mask)
    big = s.ex >= 62
    m = round_at(s.sig, s.lsb, torch.zeros_like(s.lsb), mode, s.neg, draw)
    v = torch.where(s.neg, -m, m)
    edge = torch.where(s.neg, _const(v, lo & mask), _const(v, hi & mask))  # saturated ends
    if ovf == Overflow.WRAP:
        code = v & mask
        # |x| >= 2**62 is a multiple of 2**lsb: reduce the significand modulo 2**n directly
        keep = (n - s.lsb).clamp(0, 62)
        w = ((s.sig & ((1 << keep) - 1)) << s.lsb.clamp(0, 63)) & mask
        w = torch.where(s.lsb >= n, torch.zeros_like(w), w)
        w = torch.where(s.neg, (-w) & mask, w)
        code = torch.where(big, w, code)
    else:
        code = v.clamp(lo, hi) & mask
        code = torch.where(big, edge, code)
    code = torch.where(s.inf, edge, code)
    code = torch.where(s.zero, torch.zeros_like(code), code)
    return torch.where(s.nan, _const(code, nan_code), code)


def decode_integer(fmt, codes, dtype):
    """Values of int64 ``codes`` (any width up to 32 bits)."""
    c = codes.to(torch.int64)
    if fmt.signed:
        c = torch.where(c >= (1 << (fmt.nbits - 1)), c - (1 << fmt.nbits), c)
    return c.to(torch.float64).to(dtype)


def encode_minifloat(fmt, x, mode: Rounding, ovf: Overflow, nan_code: int, draw=None):
    """Codes of ``x`` in the minifloat ``fmt`` (see :mod:`formats.minifloat`)."""
    s = split(x)
    e, m, bias = fmt.ebits, fmt.mbits, fmt.bias
    max_mag, fnuz = fmt.max_mag, fmt.special == "fnuz"
    emin = 1 - bias if fmt.zero else -bias
    below = s.ex < emin
    if fmt.zero and fmt.subnormals:
        q = torch.where(below, _const(s.ex, emin - m), s.ex - m)
    elif fmt.zero:
        q = torch.where(below, _const(s.ex, emin), s.ex - m)
    else:
        q = s.ex - m
    offset = ((q + (m + bias)) << m) - (1 << m)
    # ties-to-even looks at the code's parity; the offset is odd only when m == 0
    mi = round_at(s.sig, s.lsb, q, mode, s.neg, draw, ((offset & 1) == 1) if m == 0 else None)
    mag = offset + mi
    if fmt.zero and not fmt.subnormals:
        mag = torch.where(below, mi << m, mag)
    over = mag > max_mag
    away = {Rounding.RNE: True, Rounding.RNA: True, Rounding.STOCHASTIC: True,
            Rounding.RTZ: False}.get(mode)
    if away is None:
        away = ~s.neg if mode == Rounding.RUP else s.neg
    nan_lanes = None
    if ovf == Overflow.SATURATE or away is False:
        mag = mag.clamp(max=max_mag)
    else:
        hit = over & away if away is not True else over
        mag = torch.where(over, _const(mag, max_mag), mag)
        if ovf == Overflow.INF:
            mag = torch.where(hit, _const(mag, fmt.inf_mag), mag)
        else:
            nan_lanes = hit
    sign = torch.zeros_like(mag)
    if fmt.signed:
        sign = torch.where(s.neg, _const(mag, 1 << (e + m)), sign)
    zero_code = torch.zeros_like(mag) if fnuz else sign
    code = torch.where(mag == 0, zero_code, sign | mag)
    if nan_lanes is not None:
        code = torch.where(nan_lanes, _const(code, nan_code), code)
    if not fmt.zero:
        code = torch.where(below, torch.zeros_like(code), code)
    code = torch.where(s.zero, zero_code, code)
    if ovf == Overflow.INF:
        inf_code = sign | fmt.inf_mag
    elif ovf == Overflow.NAN:
        inf_code = _const(code, nan_code)
    else:
        inf_code = sign | max_mag
    code = torch.where(s.inf, inf_code, code)
    if not fmt.signed:
        code = torch.where(s.neg, torch.zeros_like(code), code)
    return torch.where(s.nan, _const(code, nan_code), code)


def decode_minifloat(fmt, codes, dtype):
    """Values of int64 ``codes`` of any minifloat (used for formats wider than 16 bits)."""
    c = codes.to(torch.int64)
    e, m = fmt.ebits, fmt.mbits
    if (e, m, fmt.bias, fmt.special, fmt.signed) == (8, 23, 127, "ieee", True):
        # binary32 itself, widened to float64 first as formats does (int64 -> int32 keeps the low bits)
        return c.to(torch.int32).view(torch.float32).to(torch.float64).to(dtype)
    mag_bits = e + m
    neg = ((c >> mag_bits) & 1) == 1 if fmt.signed else torch.zeros_like(c, dtype=torch.bool)
    mag = c & ((1 << mag_bits) - 1)
    ef, mf = mag >> m, mag & ((1 << m) - 1)
    sub = (ef == 0) if fmt.zero else torch.zeros_like(neg)
    if fmt.subnormals:
        v = torch.ldexp(mf.to(torch.float64), torch.where(sub, _const(ef, 1 - fmt.bias - m), ef - fmt.bias - m))
        v = torch.where(sub, v, torch.ldexp((mf + (1 << m)).to(torch.float64), ef - fmt.bias - m))
    else:
        v = torch.ldexp((mf + (1 << m)).to(torch.float64), ef - fmt.bias - m)
        v = torch.where(sub, torch.zeros_like(v), v)
    v = torch.where(neg, -v, v)
    nan = torch.full_like(v, float("nan"))
    if fmt.special == "ieee":
        top = ef == (1 << e) - 1
        v = torch.where(top & (mf == 0), torch.where(neg, -torch.inf, torch.inf), v)
        v = torch.where(top & (mf != 0), nan, v)
    elif fmt.special == "fn":
        v = torch.where(mag == (1 << mag_bits) - 1, nan, v)
    elif fmt.special == "fnuz":
        v = torch.where(neg & (mag == 0), nan, v)
    return v.to(dtype)


def encode_fixed(fmt, x, mode: Rounding, ovf: Overflow, nan_code: int, draw=None):
    """Codes of ``x`` in the fixed-point ``fmt`` (the MXINT8 element; see :class:`formats.block.FixedPoint`)."""
    s = split(x)
    n, frac = fmt.bits, fmt.frac
    hi, lo, mask = (1 << (n - 1)) - 1, 1 << (n - 1), (1 << n) - 1
    edge = torch.where(s.neg, _const(s.ex, (-lo) & mask), _const(s.ex, hi))
    m = round_at(s.sig, s.lsb, _const(s.lsb, -frac), mode, s.neg, draw)
    code = torch.where(s.neg, (-m.clamp(max=lo)) & mask, m.clamp(max=hi))
    code = torch.where(s.inf | (s.ex >= n - frac), edge, code)
    code = torch.where(s.zero, torch.zeros_like(code), code)
    return torch.where(s.nan, _const(code, max(nan_code, 0)), code)


def decode_fixed(fmt, codes, dtype):
    """Values of int64 fixed-point ``codes``."""
    c = codes.to(torch.int64)
    c = torch.where(c >= (1 << (fmt.bits - 1)), c - (1 << fmt.bits), c)
    return torch.ldexp(c.to(torch.float64), torch.tensor(-fmt.frac, device=c.device)).to(dtype)
