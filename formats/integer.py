"""Integer formats: two's complement and unsigned, 2 to 32 bits.

The value of a code is the integer itself (scaling to a tensor's range is the
QAT path's job).  Encoding rounds the input to an integer with the rounding
mode, then brings it into range:

============ ===============================================================
saturate     (default) clamp to [-2**(b-1), 2**(b-1)-1], or [0, 2**b-1] unsigned.
wrap         reduce the rounded integer modulo 2**b (two's complement wrap).
============ ===============================================================

* Signed codes are two's complement (code ``2**b - 1`` is -1); −0.0 encodes as 0.
* ±Inf saturates under both policies (there is no integer to wrap).
* NaN has no code: it raises ValueError unless an overflow policy is passed
  explicitly, in which case NaN encodes as 0.
"""
from __future__ import annotations

import dataclasses

import numpy as np
from numba import njit, prange

from . import bits as B
from .base import ScalarFormat
from .rounding import Overflow, draw32_keyed, seed_key

__all__ = ["Integer", "integer"]


@njit(cache=True)
def _encode_one(b, mbits_in, ebits_in, nbits, signed, mode, ovf, nan_code, u):
    neg, cls, sig, lsb, ex = B.split(b, mbits_in, ebits_in)
    if signed:
        lo = -(np.int64(1) << (nbits - 1))
        hi = (np.int64(1) << (nbits - 1)) - 1
    else:
        lo = np.int64(0)
        hi = (np.int64(1) << nbits) - 1
    mask = (np.int64(1) << nbits) - 1
    if cls == B.NAN:
        return np.int64(nan_code)
    if cls == B.ZERO:
        return np.int64(0)
    if cls == B.INF:
        return (lo if neg else hi) & mask
    if ex >= 62:
        if ovf == 3:
            # |x| is an integer multiple of 2**(ex-52) >= 2**10 (float64) or 2**(ex-23) (float32):
            # reduce the significand modulo 2**nbits directly.
            if lsb >= nbits:
                return np.int64(0)
            w = np.int64((sig << np.uint64(lsb)) & np.uint64(mask))
            if neg:
                w = (-w) & mask
            return w
        return (lo if neg else hi) & mask
    m, inexact = B.round_at(sig, lsb, 0, mode, neg, u)
    v = -np.int64(m) if neg else np.int64(m)
    if ovf == 3:
        return v & mask
    if v < lo:
        v = lo
    elif v > hi:
        v = hi
    return v & mask


@njit(parallel=True, cache=True)
def _encode_kernel(xb, mbits_in, ebits_in, nbits, signed, mode, ovf, nan_code, key, out):
    for i in prange(xb.size):
        u = 0.0
        if mode == 5:
            u = draw32_keyed(key, i) * 2.3283064365386963e-10
        out[i] = _encode_one(xb[i], mbits_in, ebits_in, nbits, signed, mode, ovf, nan_code, u)


@njit(parallel=True, cache=True)
def _decode_kernel(codes, nbits, signed, out):
    half = np.int64(1) << (nbits - 1)
    full = np.int64(1) << nbits
    for i in prange(codes.size):
        c = np.int64(codes[i])
        if signed and c >= half:
            c -= full
        out[i] = float(c)


@dataclasses.dataclass(frozen=True)
class Integer(ScalarFormat):
    """``bits``-bit integer, two's complement when ``signed``.

    >>> Integer(4).encode([-9.0, -0.5, 2.5, 7.6])      # saturate, rne
    array([ 8,  0,  2,  7], dtype=uint8)
    """

    nbits: int
    signed: bool = True
    label: str | None = dataclasses.field(default=None, compare=False)

    family = "integer"

    def __post_init__(self):
        n = self.nbits
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 2 <= n <= 32:
            raise ValueError(f"integer formats have 2..32 bits, got {n!r}")
        if not isinstance(self.signed, (bool, np.bool_)):
            raise TypeError(f"integer format: signed must be True or False, got {self.signed!r}")
        object.__setattr__(self, "signed", bool(self.signed))

    @property
    def bits(self) -> int:
        return int(self.nbits)

    @property
    def name(self) -> str:
        return self.label or f"{'int' if self.signed else 'uint'}{self.nbits}"

    @property
    def overflows(self):
        return (Overflow.SATURATE, Overflow.WRAP)

    @property
    def max(self) -> float:
        return float((1 << (self.nbits - 1)) - 1 if self.signed else (1 << self.nbits) - 1)

    @property
    def min(self) -> float:
        return float(-(1 << (self.nbits - 1)) if self.signed else 0)

    @property
    def min_positive(self) -> float:
        return 1.0

    def info(self) -> dict:
        row = super().info()
        row.update(min=self.min, signed=self.signed)
        return row

    def _encode_flat(self, x, mode, overflow, nan_code, seed):
        xb, mi, ei = B.float_bits(x)
        out = np.empty(x.size, dtype=self.code_dtype)
        _encode_kernel(xb, mi, ei, self.nbits, self.signed, int(mode), int(overflow),
                       np.int64(nan_code), seed_key(np.uint64(seed)), out)
        return out

    def _decode_flat(self, codes):
        out = np.empty(codes.size, dtype=np.float64)
        if codes.size:
            _decode_kernel(codes, self.nbits, self.signed, out)
        return out


def integer(bits: int, signed: bool = True) -> Integer:
    """A ``bits``-bit integer format (two's complement when ``signed``)."""
    return Integer(bits, signed)
