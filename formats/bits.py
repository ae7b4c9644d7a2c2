"""Integer views of IEEE binary32/binary64 inputs, and rounding at a chosen quantum.

Every scalar family encodes through these two steps:

1. :func:`split` takes the raw bits of a float32 or float64 input and returns its
   sign, class, integer significand ``sig`` and the exponent ``lsb`` of the
   significand's last bit (value = ``sig * 2**lsb``), plus ``ex = floor(log2|x|)``
   taken from the exponent field (and the leading-zero count for subnormals).
   No float log2 anywhere.
2. :func:`round_at` rounds ``sig * 2**lsb`` to a multiple of ``2**q`` with a
   :class:`~formats.rounding.Rounding` mode and returns the integer multiple.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit


# input classes
ZERO = 0
FINITE = 1
INF = 2
NAN = 3


@njit(cache=True)
def bit_length(v):
    """Number of bits needed for the unsigned integer ``v`` (0 for 0)."""
    n = 0
    while v != 0:
        v >>= np.uint64(1)
        n += 1
    return n


@njit(cache=True)
def split(b, mbits_in, ebits_in):
    """Decompose the raw bits ``b`` (uint64) of a binary float with the given field widths.

    Returns ``(negative, cls, sig, lsb, ex)``.
    """
    b = np.uint64(b)
    sign_shift = np.uint64(mbits_in + ebits_in)
    neg = (b >> sign_shift) & np.uint64(1) == np.uint64(1)
    emask = np.uint64((1 << ebits_in) - 1)
    mmask = np.uint64((1 << mbits_in) - 1)
    efield = np.int64((b >> np.uint64(mbits_in)) & emask)
    mfield = b & mmask
    bias_in = (1 << (ebits_in - 1)) - 1
    if efield == (1 << ebits_in) - 1:
        if mfield == np.uint64(0):
            return neg, INF, np.uint64(0), np.int64(0), np.int64(0)
        return neg, NAN, np.uint64(0), np.int64(0), np.int64(0)
    if efield == 0:
        if mfield == np.uint64(0):
            return neg, ZERO, np.uint64(0), np.int64(0), np.int64(0)
        lsb = np.int64(1 - bias_in - mbits_in)
        ex = lsb + np.int64(bit_length(mfield)) - 1
        return neg, FINITE, mfield, lsb, ex
    sig = mfield | (np.uint64(1) << np.uint64(mbits_in))
    ex = efield - bias_in
    return neg, FINITE, sig, ex - mbits_in, ex


@njit(cache=True)
def round_at(sig, lsb, q, mode, negative, u):
    """Round ``sig * 2**lsb`` to an integer multiple ``m`` of ``2**q``; returns ``(m, inexact)``.

    ``mode`` is a Rounding value, ``u`` the stochastic draw in [0, 1).  The caller
    chooses ``q`` so that ``m`` stays below 2**62.  Ties-to-even looks at the
    parity of ``m``: use :func:`round_at_code` where the code is not ``m`` plus
    an even offset.
    """
    return round_at_code(sig, lsb, q, mode, negative, u, False)


@njit(cache=True)
def round_at_code(sig, lsb, q, mode, negative, u, offset_odd):
    """:func:`round_at` for a code equal to ``m + offset``; ``offset_odd`` is the offset's parity.

    Branch-free on the data: the rounding is ``(sig + bias) >> shift`` with a bias
    chosen by the mode (the classic add-half-minus-one-plus-lsb trick for rne).
    """
    shift = q - lsb
    if shift <= 0:
        return sig << np.uint64(-shift), False
    if shift >= 63:
        # everything is below half a quantum (sig < 2**54): only directed/stochastic can step up
        t = 0.0
        if mode == 5 and shift < 1100:
            t = math.ldexp(float(sig), -int(shift))
        up = (mode == 3 and not negative) or (mode == 4 and negative) or (mode == 5 and u < t)
        return np.uint64(1) if up else np.uint64(0), True
    ush = np.uint64(shift)
    one = np.uint64(1)
    mask = (one << ush) - one
    rem = sig & mask
    trunc = sig >> ush
    if mode == 0:  # rne: ties to the even code
        odd = np.uint64(1) if ((trunc & one) == one) != offset_odd else np.uint64(0)
        bias = (mask >> one) + odd
    elif mode == 1:  # rna
        bias = (mask >> one) + one
    elif mode == 2:
        bias = np.uint64(0)
    elif mode == 3:
        bias = np.uint64(0) if negative else mask
    elif mode == 4:
        bias = mask if negative else np.uint64(0)
    else:
        t = math.ldexp(float(rem), -int(shift))
        bias = mask if u < t else np.uint64(0)
    return (sig + bias) >> ush, rem != np.uint64(0)


def float_bits(x: np.ndarray):
    """The uint view of a contiguous float32/float64 array and its (mbits, ebits)."""
    if x.dtype == np.float32:
        return x.view(np.uint32), 23, 8
    if x.dtype == np.float64:
        return x.view(np.uint64), 52, 11
    raise TypeError(f"expected float32 or float64, got {x.dtype}")
