"""NVFP4's per-tensor FP32 scales: checking them, applying them at readout, and the operand
words that carry them into the engine (docs/mac.md 4.5).

The readout of an NVFP4 lane is ``RNE_fp32(acc32 * S_A * S_B)``: the exact product of the
FP32 running sum and the two FP32 tensor scales, rounded once.  :func:`apply` returns that
product as float64 *rounded to odd* at 53 bits (exact products of three 24-bit
significands have up to 72 bits; every FP32 value times two positive FP32 scales lies in
``[2**-447, 2**384]``, inside float64's normal range), which ``Engine.finish`` rounds to FP32
with RNE: the same single rounding (the argument of docs/mac.md 5).

The tensor scales enter the hardware through the operand words of the CLEAR and READ beats,
which carry no elements: the CLEAR beat's A and B words are the low halves (bits 15..0) of
``S_A`` and ``S_B``, the READ beat's the high halves (bits 31..16) — each operand's port
carries its own tensor's scale.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["check", "apply", "words", "from_words"]


def check(x, name: str) -> np.ndarray:
    """``x`` (a number or an array) as float32, every value positive and finite, each exactly
    a float32 (a float64 that float32 would round is refused rather than silently changed)."""
    try:
        arr = np.asarray(x)
    except Exception:  # noqa: BLE001 - anything numpy cannot take
        raise TypeError(f"{name} must be a positive finite float32 (a number or an array), got {x!r}") from None
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be a positive finite float32 (a number or an array), got dtype {arr.dtype}")
    with np.errstate(over="ignore", invalid="ignore"):
        f32 = arr.astype(np.float32)
    bad = ~(np.isfinite(f32) & (f32 > 0))
    if bad.any():
        raise ValueError(f"{name} must be a positive finite float32 per-tensor scale (NVFP4), "
                         f"got {arr[bad].flat[0].item()!r}")
    if arr.dtype.kind == "f" and arr.dtype.itemsize > 4 and not np.array_equal(f32.astype(arr.dtype), arr):
        raise ValueError(f"{name} must be exactly a float32 value; {arr[f32 != arr].flat[0].item()!r} is not "
                         f"(pass np.float32(...) if rounding it is intended)")
    return f32


def _split(x: float) -> tuple[int, int]:
    """A finite nonzero float64 as (integer significand, exponent), exactly."""
    m, e = math.frexp(x)
    return int(math.ldexp(m, 53)), e - 53


def apply(acc32, sa, sb) -> tuple[np.ndarray, np.ndarray]:
    """``acc32 * sa * sb`` per element (float32 arrays of one shape) as (float64 values rounded
    to odd at 53 bits, class: 0 finite, 1 NaN, 2 +Inf, 3 -Inf).  Zeros keep acc32's sign."""
    acc32 = np.asarray(acc32, dtype=np.float32).ravel()
    sa = np.asarray(sa, dtype=np.float32).ravel()
    sb = np.asarray(sb, dtype=np.float32).ravel()
    vals = np.zeros(acc32.size, dtype=np.float64)
    cls = np.zeros(acc32.size, dtype=np.int64)
    for i in range(acc32.size):
        a = float(acc32[i])
        if math.isnan(a):
            cls[i] = 1
        elif math.isinf(a):
            cls[i] = 2 if a > 0 else 3
        elif a == 0.0:
            vals[i] = a
        else:
            (ma, ea), (mb, eb), (mc, ec) = _split(abs(a)), _split(float(sa[i])), _split(float(sb[i]))
            m, e = ma * mb * mc, ea + eb + ec
            s = max(m.bit_length() - 53, 0)
            r = m >> s
            if m & ((1 << s) - 1):
                r |= 1
            v = math.ldexp(float(r), e + s)
            vals[i] = -v if a < 0 else v
    return vals, cls


def words(sa, sb) -> tuple[tuple[int, int], tuple[int, int]]:
    """The operand words that carry the tensor scales ``sa``, ``sb`` (float32):
    ``((clear_a, clear_b), (read_a, read_b))``, the low halves on CLEAR, the high on READ."""
    ba = int(check(sa, "tensor_scale_a").reshape(()).view(np.uint32))
    bb = int(check(sb, "tensor_scale_b").reshape(()).view(np.uint32))
    return (ba & 0xFFFF, bb & 0xFFFF), (ba >> 16, bb >> 16)


def from_words(lo: int, hi: int, name: str) -> np.float32:
    """The float32 whose bits are ``hi << 16 | lo``, checked as a tensor scale."""
    v = np.array([(int(hi) << 16) | int(lo)], dtype=np.uint32).view(np.float32)[0]
    return check(v, name).reshape(())[()]
