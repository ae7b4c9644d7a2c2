"""Packing narrow codes into bytes, and back.

Layout: a **little-endian bit stream**.  Code ``i`` of width ``bits`` occupies
stream bits ``i*bits .. i*bits + bits - 1`` (its least significant bit first),
and stream bit ``k`` is bit ``k % 8`` (value ``2**(k % 8)``) of byte ``k // 8``.
So:

* 4-bit codes: two per byte, code ``2i`` in the **low nibble** and ``2i+1`` in the
  high nibble of byte ``i``;
* 6-bit codes: four per three bytes, ``b0 = c0 | c1 << 6``,
  ``b1 = c1 >> 2 | c2 << 4``, ``b2 = c2 >> 4 | c3 << 2``;
* 8-bit codes: one per byte (a copy);
* any width 1..8 follows the same rule.

``pack`` flattens its input in C order.  When the codes do not fill the last
byte, the unused high bits are zero (zero padding), and ``unpack`` needs the
code ``count``: ``len(data)`` must equal ``packed_size(count, bits) =
ceil(count * bits / 8)``.  Codes wider than ``bits``, negative codes, non-integer
arrays and widths outside 1..8 raise ValueError/TypeError.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

__all__ = ["pack", "unpack", "packed_size"]


def _check_bits(bits) -> int:
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 1 <= bits <= 8:
        raise ValueError(f"bits must be an integer in 1..8, got {bits!r}")
    return int(bits)


def packed_size(count: int, bits: int) -> int:
    """Bytes that ``count`` codes of ``bits`` bits take: ``ceil(count * bits / 8)``."""
    bits = _check_bits(bits)
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    return (int(count) * bits + 7) // 8


@njit(parallel=True, cache=True)
def _pack_kernel(codes, bits, group, gbytes, out):
    n = codes.size
    ngroups = (n + group - 1) // group
    for g in prange(ngroups):
        acc = np.uint64(0)
        for j in range(group):
            i = g * group + j
            if i < n:
                acc |= np.uint64(codes[i]) << np.uint64(j * bits)
        for k in range(gbytes):
            o = g * gbytes + k
            if o < out.size:
                out[o] = np.uint8((acc >> np.uint64(8 * k)) & np.uint64(0xFF))


@njit(parallel=True, cache=True)
def _unpack_kernel(data, bits, group, gbytes, out):
    n = out.size
    ngroups = (n + group - 1) // group
    mask = np.uint64((1 << bits) - 1)
    for g in prange(ngroups):
        acc = np.uint64(0)
        for k in range(gbytes):
            o = g * gbytes + k
            if o < data.size:
                acc |= np.uint64(data[o]) << np.uint64(8 * k)
        for j in range(group):
            i = g * group + j
            if i < n:
                out[i] = np.uint8((acc >> np.uint64(j * bits)) & mask)


def _group(bits: int):
    """Codes per group and bytes per group: a group fills whole bytes exactly."""
    g = math.gcd(bits, 8)
    return 8 // g, bits // g


def pack(codes, bits: int) -> np.ndarray:
    """Pack integer codes (any shape, C order) of ``bits`` bits into a 1-D uint8 array."""
    bits = _check_bits(bits)
    arr = np.asarray(codes)
    if arr.dtype.kind not in "iu" and arr.size:  # an empty list is fine
        raise TypeError(f"pack: codes must be integers, got dtype {arr.dtype}")
    flat = np.ascontiguousarray(arr).reshape(-1)
    if flat.size:
        if arr.dtype.kind == "i" and int(flat.min()) < 0:
            raise ValueError(f"pack: negative code {int(flat.min())}")
        top = int(flat.max())
        if top >> bits:
            raise ValueError(f"pack: code {top} does not fit in {bits} bits (max {(1 << bits) - 1})")
    out = np.empty(packed_size(flat.size, bits), dtype=np.uint8)
    if bits == 8:
        out[:] = flat
    elif flat.size:
        group, gbytes = _group(bits)
        _pack_kernel(flat.astype(np.uint8), bits, group, gbytes, out)
    return out


def unpack(data, bits: int, count: int) -> np.ndarray:
    """Inverse of :func:`pack`: ``count`` codes of ``bits`` bits from a 1-D uint8 array."""
    bits = _check_bits(bits)
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
        raise ValueError(f"unpack: count must be an integer >= 0, got {count!r}")
    arr = np.asarray(data)
    if arr.dtype != np.uint8:
        raise TypeError(f"unpack: data must be a uint8 array, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"unpack: data must be 1-D, got shape {arr.shape}")
    need = packed_size(count, bits)
    if arr.size != need:
        raise ValueError(
            f"unpack: {count} codes of {bits} bits take {need} bytes, but data has {arr.size}"
        )
    out = np.empty(int(count), dtype=np.uint8)
    if bits == 8:
        out[:] = arr
    elif count:
        group, gbytes = _group(bits)
        _unpack_kernel(np.ascontiguousarray(arr), bits, group, gbytes, out)
    return out
