"""An element's code from float32 bits by integer arithmetic, in place of its 2**17-entry table.

The block kernels narrow the scaled value ``q`` to float32 bits ``r`` by round-to-odd and
look the code up in the element's float32 table (:mod:`formats.block_kernels`).  For
round-to-nearest-even elements of the two common shapes the code is also a short integer
formula on ``r`` (no memory access, so the loop vectorizes):

* magnitude: with ``e`` the unbiased exponent of ``r`` and ``sig`` its 24-bit significand,
  ``c = ((max(e, emin) - emin) << M) + (sig >> sh)`` rounded to nearest even on the
  ``sh = 23 - M + max(emin - e, 0)`` dropped bits, then ``min(c, maxpos or maxneg)``
  (saturation).  A minifloat ExMy with bias ``B`` is ``emin = 1 - B``; a fixed-point or
  integer element with ``f`` fraction bits is ``emin = M - f`` (every ``e >= emin``
  saturates).
* sign: ``KIND_SM`` sets bit ``sbit`` (sign-magnitude), ``KIND_2C`` negates modulo
  ``2**bits`` (two's complement).

:func:`fit` finds the parameters from the table itself and keeps them only if the formula
equals the table on *every* table entry of a finite float32 (both ends of each entry's
range of low bits), so a format whose table the formula does not reproduce (other rounding
modes, codebooks, NaN-coded overflow) keeps its table.  The formula reads ``r``'s low 16
bits only as "zero or not" and "above, at or below half" at bit 15 or higher (``M <= 7``,
so ``sh >= 16``), so agreement on those representatives is agreement on every float32 with a
finite exponent.

Where it is used (:mod:`formats.block_fast`, RNE only: :func:`fit` refuses every other mode's
table): the MX kernel on ``x``'s own bits and the block's shift (:func:`arith_code_pow2`), the
scaled kernels on the float32 product ``x * m`` (:func:`arith_code`).  Written so that a loop of
it vectorizes: int32 throughout (Numba widens int32 arithmetic to int64; every step is cast back,
and the variable shifts are 32-bit LLVM shifts, :func:`_shift32`), no table, no data-dependent
branch.  Measured (2**24 float32, one thread): mxfp4 encode 450 -> 1200 M/s, with the loops
vectorized in 8/16 32-bit lanes; the first version, in int64 lanes, measured no gain at 2**22.
"""
from __future__ import annotations

import functools

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from .base import f32_table_index

__all__ = ["KIND_SM", "KIND_2C", "arith_code", "arith_code_pow2", "fit", "NO_ARITH"]

KIND_SM, KIND_2C = 1, 2
NO_ARITH = np.zeros(7, np.int32)   # kind 0: use the table
_LOWS = (0, 1, 0x7FFF, 0x8000, 0x8001, 0xFFFF)


_I, _U = np.int32, np.uint32


def _shift32(op):
    @intrinsic
    def shift(typingctx, a, b):
        """``a`` shifted by ``b`` as one 32-bit LLVM shift (``0 <= b < 32``; Numba would widen the
        operands to int64, and LLVM cannot narrow a variable shift back, which halves the lanes)."""
        if not (isinstance(a, types.Integer) and a.bitwidth == 32 and isinstance(b, types.Integer)):
            return None

        def codegen(context, builder, signature, args):
            v, n = args
            n = builder.trunc(n, ir.IntType(32)) if signature.args[1].bitwidth > 32 else (
                builder.zext(n, ir.IntType(32)) if signature.args[1].bitwidth < 32 else n)
            return getattr(builder, op)(v, n)

        return a(a, b), codegen
    return shift


_shl, _lshr, _ashr = _shift32("shl"), _shift32("lshr"), _shift32("ashr")


@njit(cache=True, inline="always")
def arith_code(r, kind, m, emin, maxpos, maxneg, sbit, mask):
    """The element code of the float32 bits ``r`` (uint32, exponent field < 255) for the parameters
    ``ar = (kind, M, emin, maxpos, maxneg, sbit, mask)`` (int32 scalars); see the module docstring.
    (:func:`arith_code_pow2` with ``es = 127``: the same formula; there ±0 is selected to 0, which
    the formula gives anyway, exponent -127 clamping the shift.)"""
    return arith_code_pow2(r, _I(127), kind, m, emin, maxpos, maxneg, sbit, mask)


@njit(cache=True, inline="always")
def arith_code_pow2(bb, es, kind, m, emin, maxpos, maxneg, sbit, mask):
    """:func:`arith_code` of ``x * 2**-s`` for the float32 bits ``bb`` of ``x`` (a normal float32 or
    ±0, not a subnormal) and ``es = 127 + s`` (int32), straight from ``x``'s bits: the scaled
    value's exponent is ``E(x) - s`` and its significand ``x``'s, so this is :func:`arith_code` of
    the scaled value's float32 bits where they exist, and where they do not (below 2**-126) it is
    ±0 as :func:`arith_code` gives on the round-to-odd bits ``sign | 1`` (``23 - M + emin + 127 >= 25``
    for every fitted element: ``sh`` clamps and ``c = 0``).  ±0 gives ``c = 0``.

    Every step is cast back to int32 (Numba widens int32 arithmetic to int64, which halves the
    vector lanes) and nothing branches on the data, so a loop of it vectorizes in 32-bit lanes."""
    a = _I(bb & _U(0x7FFFFFFF))
    neg = _I(_lshr(bb, 31))
    e = _I(_ashr(a, 23) - es)
    sig = _I(_I(a & _I(0x7FFFFF)) | _I(0x800000))
    sh = _I(min(_I(_I(_I(23) - m) + _I(max(_I(emin - e), _I(0)))), _I(25)))   # 16 .. 25
    c = _I(_shl(_I(max(e, emin) - emin), m) + _ashr(sig, sh))
    rem = _I(sig & _I(_shl(_I(1), sh) - _I(1)))
    half = _shl(_I(1), _I(sh - _I(1)))
    c = _I(c + _I((rem > half) | ((rem == half) & (_I(c & _I(1)) != _I(0)))))
    c = _I(min(c, maxneg if neg else maxpos))
    c = c if a != _I(0) else _I(0)
    if kind == KIND_SM:
        return _I(c | _shl(neg, sbit))
    return _I(_I(_I(c ^ _I(-neg)) + neg) & mask)


@njit(cache=True)
def _agrees(table, ar, lows):
    """Whether :func:`arith_code` equals ``table`` on every entry of a finite float32 (each at the
    low bits ``lows``)."""
    for top in range(1 << 16):
        if (top & 0x7F80) == 0x7F80:   # exponent field 255: Inf and NaN never reach the formula
            continue
        for k in range(lows.size):
            r = np.uint32((top << 16) | lows[k])
            c = arith_code(r, _I(ar[0]), _I(ar[1]), _I(ar[2]), _I(ar[3]), _I(ar[4]), _I(ar[5]), _I(ar[6]))
            if np.int64(c) != np.int64(table[f32_table_index(r)]):
                return False
    return True


def fit(table: np.ndarray, min_positive: float, bits: int) -> np.ndarray:
    """The parameters of :func:`arith_code` that reproduce the element's float32 ``table`` (uint8,
    2**17 entries) of a ``bits``-bit element whose smallest positive value is ``min_positive``
    (a power of two), or :data:`NO_ARITH` when none does."""
    return _fit(table.tobytes(), float(min_positive), int(bits))


@functools.lru_cache(maxsize=64)
def _fit(table_bytes, min_positive, bits):
    table = np.frombuffer(table_bytes, np.uint8)
    mant, ex = np.frexp(min_positive)
    if mant != 0.5 or not 2 <= bits <= 8:
        return NO_ARITH
    lg = int(ex) - 1   # min_positive = 2**lg
    lows = np.array(_LOWS, np.int64)
    top_pos = int(table[f32_table_index(np.uint32(0x7F7FFFFF))])
    top_neg = int(table[f32_table_index(np.uint32(0xFF7FFFFF))])
    mask = (1 << bits) - 1
    sbit = bits - 1
    for kind in (KIND_SM, KIND_2C):
        if kind == KIND_SM:
            maxpos, maxneg = top_pos & ((1 << sbit) - 1), top_neg & ((1 << sbit) - 1)
        else:
            maxpos, maxneg = top_pos, (-top_neg) & mask
        for m in range(0, 8):
            ar = np.array([kind, m, lg + m, maxpos, maxneg, sbit, mask], np.int32)
            if _agrees(table, ar, lows):
                return ar
    return NO_ARITH
