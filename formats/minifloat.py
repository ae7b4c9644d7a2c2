"""Generic ExMy floating-point formats (FP4 … FP32, E8M0, UE4M3).

A :class:`Minifloat` is described by its exponent and mantissa widths, bias,
sign, subnormal and zero flags, and one of four special-value conventions.
The code is ``[sign] exponent-field mantissa-field``; a normal code is worth
``(-1)**s * 2**(E - bias) * (1 + M / 2**mbits)``.

Special-value conventions (``special=``):

====== ==================================================================
ieee   exponent field all ones: mantissa 0 is ±Inf, any other mantissa NaN.
       Encode writes the quiet NaN ``0 11..1 10..0``.  Default overflow: inf.
fn     no Inf; the single NaN per sign is all ones (E4M3: S.1111.111); every
       other code of the top binade is finite.  Encode writes the positive NaN.
fnuz   no Inf and no −0; the only NaN is the sign bit alone (0x80).  −0.0 and
       negative values that round to zero encode as +0.
none   every code is a finite number (FP4 E2M1, FP6).
====== ==================================================================

Other rules:

* ``subnormals=False`` with ``zero=True``: exponent field 0 holds only zero; its
  other codes are aliases that decode to ±0 and encode never produces.
* ``zero=False`` (E8M0): exponent field 0 is an ordinary binade, there is no zero,
  and every value below the smallest rounds up to it (code 0).
* ``signed=False``: no sign bit; negative inputs (and −Inf) encode as code 0.
* Overflow (a rounded magnitude above the largest finite): ``saturate`` gives
  ±max; ``inf`` (ieee only) and ``nan`` (formats with NaN) give ±Inf / NaN for
  modes that round away from zero at that sign (rne, rna, stochastic, rup for
  positive, rdn for negative) and ±max for the others, as IEEE 754 does.  Inf
  input gives Inf under ``inf``, NaN under ``nan`` and ±max under ``saturate``.
* Formats without Inf and NaN default to ``saturate``; ieee formats to ``inf``;
  fn and fnuz formats to ``saturate`` (``overflow="nan"`` gives ml_dtypes'
  non-saturating behaviour).
"""
from __future__ import annotations

import dataclasses
import functools

import numpy as np
from numba import njit, prange

from . import bits as B
from .base import ScalarFormat
from .rounding import Overflow, draw32_keyed, seed_key

__all__ = ["Minifloat", "minifloat"]

SPECIALS = ("ieee", "fn", "fnuz", "none")


@njit(cache=True)
def _encode_one(b, mbits_in, ebits_in, e, m, bias, signed, subnormals, zero,
                max_mag, inf_mag, nan_code, fnuz, mode, ovf, u):
    neg, cls, sig, lsb, ex = B.split(b, mbits_in, ebits_in)
    if cls == B.NAN:
        return np.int64(nan_code)
    sign = np.int64(1 << (e + m)) if (signed and neg) else np.int64(0)
    if neg and not signed:
        return np.int64(0)
    if cls == B.INF:
        if ovf == 1:
            return sign | inf_mag
        if ovf == 2:
            return np.int64(nan_code)
        return sign | max_mag
    if cls == B.ZERO:
        return np.int64(0) if fnuz else sign
    if zero:
        emin = 1 - bias
    else:
        emin = -bias
    if ex < emin:
        if not zero:
            return np.int64(0)
        if not subnormals:
            mi, inexact = B.round_at(sig, lsb, emin, mode, neg, u)
            mag = np.int64(mi) << m
            if mag == 0:
                return np.int64(0) if fnuz else sign
            return sign | mag
        q = emin - m
    else:
        q = ex - m
    offset = ((q + m + bias) << m) - (np.int64(1) << m)
    mi, inexact = B.round_at_code(sig, lsb, q, mode, neg, u, (offset & 1) == 1)
    mag = offset + np.int64(mi)
    if mag == 0:
        return np.int64(0) if fnuz else sign
    if mag > max_mag:
        away = mode == 0 or mode == 1 or mode == 5 or (mode == 3 and not neg) or (mode == 4 and neg)
        if ovf == 0 or not away:
            mag = max_mag
        elif ovf == 1:
            mag = inf_mag
        else:
            return np.int64(nan_code)
    return sign | mag


@njit(parallel=True, cache=True)
def _encode_kernel(xb, mbits_in, ebits_in, e, m, bias, signed, subnormals, zero,
                   max_mag, inf_mag, nan_code, fnuz, mode, ovf, key, out):
    for i in prange(xb.size):
        u = 0.0
        if mode == 5:
            u = draw32_keyed(key, i) * 2.3283064365386963e-10
        out[i] = _encode_one(xb[i], mbits_in, ebits_in, e, m, bias, signed, subnormals,
                             zero, max_mag, inf_mag, nan_code, fnuz, mode, ovf, u)


@njit(parallel=True, cache=True)
def _decode_kernel(codes, e, m, bias, signed, subnormals, zero, special, out):
    # special: 0 ieee, 1 fn, 2 fnuz, 3 none
    emax_field = (1 << e) - 1
    mmask = (1 << m) - 1
    for i in prange(codes.size):
        c = np.int64(codes[i])
        mag_bits = e + m
        neg = signed and ((c >> mag_bits) & 1) == 1
        mag = c & ((np.int64(1) << mag_bits) - 1)
        ef = mag >> m
        mf = mag & mmask
        if special == 0 and ef == emax_field:
            out[i] = (-np.inf if neg else np.inf) if mf == 0 else np.nan
            continue
        if special == 1 and mag == (np.int64(1) << mag_bits) - 1:
            out[i] = np.nan
            continue
        if special == 2 and neg and mag == 0:
            out[i] = np.nan
            continue
        if ef == 0 and zero:
            if subnormals:
                v = np.ldexp(float(mf), 1 - bias - m)
            else:
                v = 0.0
        else:
            v = np.ldexp(float(mf + (np.int64(1) << m)), ef - bias - m)
        out[i] = -v if neg else v


@dataclasses.dataclass(frozen=True)
class Minifloat(ScalarFormat):
    """A generic ExMy floating-point format (see the module docstring for the rules).

    >>> f = Minifloat(4, 3, special="fn")          # OCP FP8 E4M3
    >>> f.bits, f.max
    (8, 448.0)
    """

    ebits: int
    mbits: int
    bias: int | None = None
    special: str = "ieee"
    subnormals: bool = True
    signed: bool = True
    zero: bool = True
    label: str | None = dataclasses.field(default=None, compare=False)

    family = "minifloat"

    def __post_init__(self):
        for field, lo, hi in (("ebits", 1, 8), ("mbits", 0, 23)):
            v = getattr(self, field)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
                raise ValueError(f"minifloat {field} must be an integer in {lo}..{hi}, got {v!r}")
        if self.special not in SPECIALS:
            raise ValueError(f"unknown special-value convention {self.special!r}; allowed: {', '.join(SPECIALS)}")
        if self.bias is None:
            object.__setattr__(self, "bias", (1 << (self.ebits - 1)) - 1 + (1 if self.special == "fnuz" else 0))
        if not isinstance(self.bias, (int, np.integer)) or abs(self.bias) > 1000:
            raise ValueError(f"minifloat bias must be an integer of magnitude <= 1000, got {self.bias!r}")
        if self.special == "ieee" and self.mbits == 0:
            raise ValueError("the ieee convention needs at least 1 mantissa bit (NaN needs a nonzero mantissa)")
        if self.special == "ieee" and self.ebits < 2:
            raise ValueError("the ieee convention needs at least 2 exponent bits")
        if self.special == "fnuz" and not self.signed:
            raise ValueError("the fnuz convention puts NaN at the sign bit, so it needs signed=True")
        if not self.zero and self.subnormals and self.mbits:
            raise ValueError("zero=False makes exponent field 0 a normal binade: pass subnormals=False")
        if not self.zero:
            object.__setattr__(self, "subnormals", False)

    # --- description -------------------------------------------------------------------
    @property
    def bits(self) -> int:
        return int(self.signed) + self.ebits + self.mbits

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        tag = {"ieee": "", "fn": "fn", "fnuz": "fnuz", "none": ""}[self.special]
        base = f"{'' if self.signed else 'u'}fp{self.bits}_e{self.ebits}m{self.mbits}{tag}"
        default_bias = (1 << (self.ebits - 1)) - 1 + (1 if self.special == "fnuz" else 0)
        if self.bias != default_bias:
            base += f"_b{self.bias}"
        return base

    @property
    def has_nan(self) -> bool:
        return self.special in ("ieee", "fn", "fnuz")

    @property
    def has_inf(self) -> bool:
        return self.special == "ieee"

    @property
    def _mag_bits(self) -> int:
        return self.ebits + self.mbits

    @property
    def max_mag(self) -> int:
        """Magnitude code (sign stripped) of the largest finite value."""
        full = (1 << self._mag_bits) - 1
        if self.special == "ieee":
            return (((1 << self.ebits) - 1) << self.mbits) - 1
        if self.special == "fn":
            return full - 1
        return full

    @property
    def inf_mag(self) -> int:
        return ((1 << self.ebits) - 1) << self.mbits if self.special == "ieee" else -1

    @property
    def nan_code(self) -> int:
        if self.special == "ieee":
            return (((1 << self.ebits) - 1) << self.mbits) | (1 << (self.mbits - 1))
        if self.special == "fn":
            return (1 << self._mag_bits) - 1
        if self.special == "fnuz":
            return 1 << self._mag_bits
        return -1

    @property
    def overflows(self):
        allowed = [Overflow.SATURATE]
        if self.has_inf:
            allowed.append(Overflow.INF)
        if self.has_nan:
            allowed.append(Overflow.NAN)
        return tuple(allowed)

    @property
    def default_overflow(self) -> Overflow:
        return Overflow.INF if self.has_inf else Overflow.SATURATE

    @property
    def emax(self) -> int:
        """Exponent of the largest finite binade."""
        return (self.max_mag >> self.mbits) - self.bias

    @property
    def emin(self) -> int:
        """Exponent of the smallest normal binade."""
        return (1 if self.zero else 0) - self.bias

    @property
    def max(self) -> float:
        return float(np.ldexp((self.max_mag & ((1 << self.mbits) - 1)) + (1 << self.mbits), self.emax - self.mbits))

    @property
    def min_normal(self) -> float:
        return float(np.ldexp(1.0, self.emin))

    @property
    def min_positive(self) -> float:
        if self.subnormals:
            return float(np.ldexp(1.0, self.emin - self.mbits))
        return self.min_normal

    def info(self) -> dict:
        row = super().info()
        row.update(ebits=self.ebits, mbits=self.mbits, bias=self.bias, special=self.special,
                   min_normal=self.min_normal, subnormals=self.subnormals, signed=self.signed)
        return row

    # --- kernels -------------------------------------------------------------------------
    def _zero_code(self) -> int:
        return 0

    def _encode_flat(self, x, mode, overflow, nan_code, seed):
        xb, mi, ei = B.float_bits(x)
        out = np.empty(x.size, dtype=self.code_dtype)
        _encode_kernel(xb, mi, ei, self.ebits, self.mbits, self.bias, self.signed,
                       self.subnormals, self.zero, np.int64(self.max_mag), np.int64(self.inf_mag),
                       np.int64(nan_code), self.special == "fnuz", int(mode), int(overflow),
                       seed_key(np.uint64(seed)), out)
        return out

    def _decode_flat(self, codes):
        out = np.empty(codes.size, dtype=np.float64)
        if codes.size:
            _decode_kernel(codes, self.ebits, self.mbits, self.bias, self.signed, self.subnormals,
                           self.zero, SPECIALS.index(self.special), out)
        return out

    @functools.cached_property
    def _fp32_fast(self) -> bool:
        return (self.ebits, self.mbits, self.bias, self.special, self.signed) == (8, 23, 127, "ieee", True)

    def decode(self, codes):
        if self._fp32_fast:
            arr = self.check_codes(codes)
            with np.errstate(invalid="ignore"):  # signalling NaN codes widen to quiet NaN
                return arr.astype(np.uint32).view(np.float32).astype(np.float64)
        return super().decode(codes)


def minifloat(ebits: int, mbits: int, bias: int | None = None, special: str = "ieee",
              subnormals: bool = True, signed: bool = True, zero: bool = True) -> Minifloat:
    """Build an ExMy format; see :class:`Minifloat` for the conventions."""
    return Minifloat(ebits, mbits, bias=bias, special=special, subnormals=subnormals,
                     signed=signed, zero=zero)
