"""Float64 bits, and their narrowing to float32 by round-to-odd (the block kernels' element step).

Round-to-odd to 24 bits keeps the side of every rounding boundary that has at most
9 significant bits (24 >= 2 * 9 + 2), so a float32 table indexed by the narrowed bits
gives the code of the float64 itself (see :mod:`formats.block_kernels`).
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

__all__ = ["bitcast_f64", "rto32_bits", "MASK52"]

MASK52 = np.uint64((1 << 52) - 1)
_MASK52 = MASK52


@intrinsic
def bitcast_f64(typingctx, x):
    """The raw bits of a float64 as a uint64 (one LLVM bitcast; no memory round trip)."""
    if not isinstance(x, types.Float) or x.bitwidth != 64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.uint64(types.float64), codegen


@njit(cache=True, inline="always")
def rto32_bits(b):
    """uint32 bits of the float64 with bits ``b`` narrowed to float32 by round-to-odd; |q| < 2**-126
    becomes the smallest subnormal of its sign (or ±0), |q| >= 2**128 float32 max."""
    sgn = np.uint32((b >> np.uint64(63)) << np.uint64(31))
    ef = np.int64((b >> np.uint64(52)) & np.uint64(0x7FF))
    if ef == 0 and (b & _MASK52) == 0:
        return sgn
    e = ef - 1023
    if e < -126:
        return sgn | np.uint32(1)
    if e > 127:
        return sgn | np.uint32(0x7F7FFFFF)
    mant = b & _MASK52
    sticky = np.uint32(1) if (mant & np.uint64((1 << 29) - 1)) != 0 else np.uint32(0)
    return sgn | np.uint32((e + 127) << 23) | np.uint32(mant >> np.uint64(29)) | sticky
