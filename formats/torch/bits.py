"""Integer views of float tensors and rounding at a chosen quantum, in torch ops.

The torch twin of :mod:`formats.bits`: :func:`split` takes the raw bits of a
float32/float64 tensor (through ``Tensor.view``) and returns, element by
element, the sign, the class, the integer significand ``sig`` and the exponent
``lsb`` of its last bit (value = ``sig * 2**lsb``) and ``ex = floor(log2|x|)``;
:func:`round_at` rounds ``sig * 2**lsb`` to a multiple of ``2**q``.  All
integer work is int64 with explicit masks, so the code runs unchanged on any
device; shift amounts are clamped to 0..63 and out-of-range lanes are replaced
with ``torch.where``, never branched on.
"""
from __future__ import annotations

import torch

from ..rounding import Rounding

__all__ = ["Split", "split", "round_at", "bit_length", "pow2", "as_float_tensor"]

M32 = 0xFFFFFFFF


class Split:
    """The fields of a float tensor, all int64/bool tensors of the input's shape."""

    __slots__ = ("neg", "nan", "inf", "zero", "sig", "lsb", "ex")

    def __init__(self, neg, nan, inf, zero, sig, lsb, ex):
        self.neg, self.nan, self.inf, self.zero = neg, nan, inf, zero
        self.sig, self.lsb, self.ex = sig, lsb, ex


def as_float_tensor(x, who: str) -> torch.Tensor:
    """Check an input and bring it to a contiguous float32/float64 tensor (as formats does)."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{who}: expected a torch.Tensor, got {type(x).__name__}")
    x = x.detach()  # plain functions: the straight-through estimator lives in sim.qat
    dt = x.dtype
    if dt in (torch.float32, torch.float64):
        pass
    elif dt in (torch.float16, torch.bfloat16) or (dt.is_floating_point and dt.itemsize <= 2):
        x = x.to(torch.float32)  # widening is exact
    elif dt == torch.bool or dt.is_complex or dt.is_floating_point:
        raise TypeError(f"{who}: input must be real numbers (float16/32/64 or integers), got dtype {dt}")
    else:  # integer tensors: float64 (exact below 2**53), as formats does
        x = x.to(torch.float64)
    return x.contiguous()


def bit_length(v: torch.Tensor) -> torch.Tensor:
    """Bits needed for each nonnegative int64 ``v < 2**53`` (0 for 0), read from float64's exponent."""
    e = (v.to(torch.float64).view(torch.int64) >> 52) - 1022
    return torch.where(v == 0, torch.zeros_like(e), e)


def pow2(e: torch.Tensor, dtype=torch.float64) -> torch.Tensor:
    """``2.0**e`` for int64 ``e`` in the normal range of float64, built from its bits (exact)."""
    return ((e + 1023) << 52).view(torch.float64).to(dtype)


def split(x: torch.Tensor) -> Split:
    """Decompose a float32/float64 tensor (see the module docstring)."""
    if x.dtype == torch.float32:
        b = x.view(torch.int32).to(torch.int64) & M32
        mb, eb = 23, 8
        neg = (b >> 31) == 1
    elif x.dtype == torch.float64:
        b = x.view(torch.int64)
        mb, eb = 52, 11
        neg = b < 0
    else:
        raise TypeError(f"expected float32 or float64, got {x.dtype}")
    emask = (1 << eb) - 1
    bias = (1 << (eb - 1)) - 1
    efield = (b >> mb) & emask
    mfield = b & ((1 << mb) - 1)
    special = efield == emask
    mzero = mfield == 0
    sub = efield == 0
    nan = special & ~mzero
    inf = special & mzero
    zero = sub & mzero
    sig = torch.where(sub, mfield, mfield | (1 << mb))
    lsb = torch.where(sub, torch.full_like(efield, 1 - bias - mb), efield - (bias + mb))
    ex = torch.where(sub, lsb + bit_length(mfield) - 1, efield - bias)
    return Split(neg, nan, inf, zero, sig, lsb, ex)


def _shl(v, s):
    return v << s.clamp(0, 63)


def round_up_mask(mode: Rounding, neg, odd, rem, shift, draw=None, sig=None):
    """Lanes that step away from zero, given the discarded ``rem`` of ``shift`` bits (shift >= 1).

    ``rem < 2**53``.  Lanes with ``shift >= 64`` discard everything (the kept part
    is 0 and ``rem`` is ignored: ``sig`` is the whole discarded significand).
    Stochastic: ``u < t`` with ``u = draw / 2**32`` and ``t = rem / 2**shift``,
    decided exactly in integers (``draw < ceil(rem * 2**(32 - shift))``), with
    the float64 underflow of ``t`` that ``formats.bits.round_at`` has for shifts
    past 1074 reproduced for the ``draw == 0`` lane.
    """
    big = shift >= 64
    s = shift.clamp(1, 63)
    nz = (rem != 0) | big
    if mode == Rounding.RTZ:
        return torch.zeros_like(nz)
    if mode == Rounding.RUP:
        return nz & ~neg
    if mode == Rounding.RDN:
        return nz & neg
    if mode in (Rounding.RNE, Rounding.RNA):
        half = 1 << (s - 1)
        up = rem > half
        if mode == Rounding.RNE:
            up = up | ((rem == half) & odd)
        else:
            up = up | (rem == half)
        return up & ~big
    # stochastic
    val = torch.where(big, sig, rem)
    k = torch.where(big, shift - 32, s - 32)
    thr_left = _shl(val, -k)  # shift <= 32: rem * 2**(32 - shift) < 2**32
    kk = k.clamp(0, 62)
    thr_right = (val >> kk) + ((val & ((1 << kk) - 1)) != 0).to(torch.int64)
    thr = torch.where(k <= 0, thr_left, thr_right)
    up = draw < thr
    # t = ldexp(sig, -shift) underflows to 0 in float64 when shift is huge: then u < t is false
    under = (shift >= 1100) | ((shift >= 1075) & (sig <= _shl(torch.ones_like(sig), shift - 1075)))
    up = up & ~(big & under & (draw == 0))
    return up & nz


def round_at(sig, lsb, q, mode: Rounding, neg, draw=None, offset_odd=None):
    """Round ``sig * 2**lsb`` to an integer multiple ``m`` of ``2**q`` (int64 tensors); returns ``m``.

    As :func:`formats.bits.round_at_code`: the caller keeps ``m`` below 2**62 on the
    lanes it uses; ``offset_odd`` (bool tensor or None) flips the parity that
    ties-to-even sees, for codes equal to ``m`` plus an odd offset.
    """
    shift = q - lsb
    left = shift <= 0
    s = shift.clamp(0, 63)
    kept = torch.where(shift >= 64, torch.zeros_like(sig), sig >> s)
    if mode == Rounding.RTZ:
        return torch.where(left, _shl(sig, -shift), kept)
    rem = sig & ((1 << s) - 1)
    odd = (kept & 1) == 1
    if offset_odd is not None:
        odd = odd ^ offset_odd
    up = round_up_mask(mode, neg, odd, rem, shift, draw, sig) & ~left
    return torch.where(left, _shl(sig, -shift), kept + up.to(torch.int64))
