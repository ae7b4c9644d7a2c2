"""Block-scaled formats: what OCP MX and NVFP4 share.

A block format stores a tensor as narrow *element* codes plus one *scale* code
per block of ``block`` consecutive elements along the **last axis** (and, for
NVFP4, one float32 scale per tensor).  The element of index ``i`` decodes to
``element_value(code_i) * scale_value(block of i) [* tensor_scale]``.

Rules common to every block format
----------------------------------
* **Blocks run along the last axis.**  Its length must be a multiple of the
  block size: otherwise ``encode`` raises ValueError naming the length and the
  block size (no implicit padding: pad explicitly with zeros if you need to; a
  zero never changes a block's scale).  A 0-d input raises ValueError; empty
  arrays are fine.  Any number of leading dimensions is allowed.
* ``encode(x, rounding="rne", seed=0)`` returns a frozen :class:`BlockCodes`
  (``elements``: codes, same shape as ``x``; ``scales``: ``(..., K // block)``;
  ``tensor_scale``: float32 or None; ``format``: the format's name) that
  ``decode`` takes back.  ``quantize`` is ``decode(encode(x))`` as float64.
* ``rounding`` applies to the elements only; scales are chosen by the format's
  rule.  Stochastic rounding draws for element ``i`` (its index in the C-order
  flattening of ``x``) exactly as :mod:`formats.rounding` describes, so results
  depend only on ``(seed, i)``.
* Elements always **saturate**: a scaled value beyond the element's largest
  finite magnitude becomes ±max (OCP MX's conversion rule); an element format's
  Inf/NaN codes are never produced by encode (but decode honours them).
* ±0 inputs, and values that round to zero, keep their sign where the element
  format has −0 (all the OCP FP elements); the MXINT8 element has no −0.
* Decoding is exact in float64 (element values and scales have short significands).

Inputs are checked and converted by :func:`formats.base.as_float_array`
(float16/32/64, ml_dtypes floats and integers).  The float32 and float64 paths
give identical codes for the same values.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
from numba import njit, prange

from . import bits as B
from .base import ScalarFormat, as_float_array
from .threads import run_ranges
from .minifloat import Minifloat
from .minifloat import _encode_one as _minifloat_encode_one
from .rounding import Overflow, draw32_keyed, parse_overflow, seed_key

__all__ = ["BlockCodes", "BlockFormat", "FixedPoint"]

_MASK52 = np.uint64((1 << 52) - 1)
_SIGN64 = np.uint64(1 << 63)


@dataclasses.dataclass(frozen=True, eq=False)
class BlockCodes:
    """The encoded form of a tensor in a block format (arrays are read-only)."""

    #: element codes, same shape as the input (uint8 for elements of <= 8 bits)
    elements: np.ndarray
    #: scale codes, shape ``(..., K // block)`` (uint8)
    scales: np.ndarray
    #: per-tensor float32 scale (NVFP4), None for formats without one (MX)
    tensor_scale: np.float32 | None
    #: name of the format that produced the codes
    format: str

    def __post_init__(self):
        for field in ("elements", "scales"):
            arr = np.asarray(getattr(self, field)).view()  # a read-only view; the caller's array keeps its flags
            arr.flags.writeable = False
            object.__setattr__(self, field, arr)
        if self.tensor_scale is not None:
            object.__setattr__(self, "tensor_scale", np.float32(self.tensor_scale))

    @property
    def shape(self) -> tuple:
        return self.elements.shape


def widen(x: np.ndarray) -> np.ndarray:
    """float32 -> float64, exactly (NaN payloads aside), so one compiled kernel serves both."""
    with np.errstate(invalid="ignore"):  # signalling NaNs quieten
        return x.astype(np.float64, copy=False)


# --------------------------------------------------------------------------------------
# FixedPoint: the MXINT8 element
# --------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def draw_u(key, i):
    """The stochastic-rounding uniform of flat index ``i``: ``draw32(seed, i) / 2**32``."""
    return draw32_keyed(key, i) * 2.3283064365386963e-10


@njit(cache=True, inline="always")
def _fixed_encode_one(b, mbits_in, ebits_in, nbits, frac, mode, u):
    """Two's complement ``nbits`` code of ``round(x * 2**frac)``, saturating."""
    neg, cls, sig, lsb, ex = B.split(b, mbits_in, ebits_in)
    hi = (np.int64(1) << (nbits - 1)) - 1
    lo = np.int64(1) << (nbits - 1)  # magnitude of the most negative value
    mask = (np.int64(1) << nbits) - 1
    if cls == B.NAN or cls == B.ZERO:
        return np.int64(0)
    if cls == B.INF or ex >= nbits - frac:  # |x| >= 2**(nbits-1) quanta: saturate
        return (-lo) & mask if neg else hi
    mi, inexact = B.round_at(sig, lsb, -frac, mode, neg, u)
    m = np.int64(mi)
    if neg:
        return (-min(m, lo)) & mask
    return min(m, hi)


@njit(parallel=True, cache=True)
def _fixed_encode_kernel(xb, mbits_in, ebits_in, nbits, frac, mode, key, nan_code, out):
    for i in prange(xb.size):
        u = 0.0
        if mode == 5:
            u = draw_u(key, i)
        neg, cls, sig, lsb, ex = B.split(xb[i], mbits_in, ebits_in)
        if cls == B.NAN:
            out[i] = nan_code
        else:
            out[i] = _fixed_encode_one(xb[i], mbits_in, ebits_in, nbits, frac, mode, u)


@dataclasses.dataclass(frozen=True)
class FixedPoint(ScalarFormat):
    """Signed two's complement fixed point: an ``bits``-bit integer read as ``int / 2**frac``.

    ``FixedPoint(8, 6)`` is the OCP MXINT8 element: values ``-2 .. 127/64`` in steps
    of 1/64 (1 sign, 1 integer and 6 fraction bits; ``emax = 0``).  Encode rounds
    at the quantum ``2**-frac`` with any rounding mode (ties-to-even means an even
    integer) and saturates to ``[-2**(bits-1), 2**(bits-1) - 1] / 2**frac``, the
    full two's complement range (as gfloat's ``ocp_int8`` does).  There is no −0
    and no NaN; NaN input raises ValueError unless an overflow policy is given
    (then it encodes as 0).
    """

    bits: int = 8
    frac: int = 6
    label: str | None = dataclasses.field(default=None, compare=False)

    family = "fixed"

    def __post_init__(self):
        if isinstance(self.bits, bool) or not isinstance(self.bits, (int, np.integer)) or not 2 <= self.bits <= 32:
            raise ValueError(f"fixed-point bits must be an integer in 2..32, got {self.bits!r}")
        if isinstance(self.frac, bool) or not isinstance(self.frac, (int, np.integer)) or abs(self.frac) > 64:
            raise ValueError(f"fixed-point frac must be an integer in -64..64, got {self.frac!r}")

    @property
    def name(self) -> str:
        return self.label or f"fixed{self.bits}_f{self.frac}"

    @property
    def max(self) -> float:
        return math.ldexp((1 << (self.bits - 1)) - 1, -self.frac)

    @property
    def min_positive(self) -> float:
        return math.ldexp(1.0, -self.frac)

    def _encode_flat(self, x, mode, overflow, nan_code, seed):
        xb, mi, ei = B.float_bits(widen(x))  # exact; one compiled kernel
        out = np.empty(x.size, dtype=self.code_dtype)
        _fixed_encode_kernel(xb, mi, ei, self.bits, self.frac, int(mode),
                             seed_key(np.uint64(seed)), np.int64(max(nan_code, 0)), out)
        return out

    def _decode_flat(self, codes):
        c = codes.astype(np.int64)
        c = np.where(c >= (1 << (self.bits - 1)), c - (1 << self.bits), c)
        return np.ldexp(c.astype(np.float64), -self.frac)


# --------------------------------------------------------------------------------------
# element encoding shared by the block kernels
# --------------------------------------------------------------------------------------
def element_params(fmt) -> tuple:
    """The int64 tuple that :func:`encode_element` takes for an element format."""
    if isinstance(fmt, Minifloat):
        return (0, fmt.ebits, fmt.mbits, fmt.bias, int(fmt.signed), int(fmt.subnormals),
                int(fmt.zero), fmt.max_mag, fmt.inf_mag, max(fmt.nan_code, 0),
                int(fmt.special == "fnuz"), 0, 0)
    if isinstance(fmt, FixedPoint):
        return (1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, fmt.bits, fmt.frac)
    raise TypeError(f"block element must be a Minifloat or FixedPoint, got {type(fmt).__name__}")


def check_element(fmt, who: str) -> None:
    """Elements must be Minifloat/FixedPoint of <= 16 bits with a moderate range."""
    element_params(fmt)
    if fmt.bits > 16:
        raise ValueError(f"{who}: element {fmt.name} has {fmt.bits} bits; at most 16 are allowed")
    if not (2.0 ** -900 <= fmt.min_positive and fmt.max <= 2.0 ** 900):
        raise ValueError(f"{who}: element {fmt.name} has a range beyond 2**±900, which block formats do not support")


@njit(cache=True, inline="always")
def encode_element(b64, p, mode, u):
    """Encode the float64 with bits ``b64`` in element format ``p`` (saturating)."""
    if p[0] == 0:
        return _minifloat_encode_one(b64, 52, 11, p[1], p[2], p[3], p[4] != 0, p[5] != 0,
                                     p[6] != 0, p[7], p[8], p[9], p[10] != 0, mode, 0, u)
    return _fixed_encode_one(b64, 52, 11, p[11], p[12], mode, u)


@njit(cache=True, inline="always")
def scaled_bits(neg, cls, sig, lsb, ex, s):
    """float64 bits of the finite or zero value ``sig * 2**lsb * 2**-s`` (from :func:`bits.split`).

    Exact, except that a result below 2**-1022 is replaced by a proxy in
    [2**-1022, 2**-1021) of the same sign: every element format of a block format
    (range within 2**±900) rounds both to the same code under every deterministic
    mode, and stochastic rounding draws ``u < t`` with ``t`` in (0, 2**-32) for
    both, which holds iff the draw is 0.
    """
    sgn = _SIGN64 if neg else np.uint64(0)
    if cls == B.ZERO:
        return sgn
    e2 = ex - s
    f = (sig << np.uint64(52 - (ex - lsb))) & _MASK52
    if e2 < -1022:
        e2 = -1022
    return sgn | (np.uint64(e2 + 1023) << np.uint64(52)) | f


@njit(cache=True, inline="always")
def f64_bits(v):
    """Raw bits of a float64 (numba has no scalar view)."""
    if v != v:
        return np.uint64(0x7FF8000000000000)
    neg = v < 0.0 or (v == 0.0 and math.copysign(1.0, v) < 0.0)
    sgn = _SIGN64 if neg else np.uint64(0)
    a = abs(v)
    if a == 0.0:
        return sgn
    if a == np.inf:
        return sgn | np.uint64(0x7FF0000000000000)
    m, e = math.frexp(a)
    if e - 1 >= -1022:
        return sgn | (np.uint64(e - 1 + 1023) << np.uint64(52)) | (np.uint64(m * 9007199254740992.0) & _MASK52)
    return sgn | np.uint64(math.ldexp(a, 1074))


@njit(nogil=True, cache=True)
def _decode_body(etab, stab, e, s, block, mult, out):
    for b in range(s.size):
        sv = stab[s[b]] * mult   # exact: a power of two or a short significand times the tensor scale
        base = b * block
        for j in range(block):
            out[base + j] = etab[e[base + j]] * sv


@njit(nogil=True, cache=True)
def _decode_range(etab, stab, e, s, block, mult, out, b0, b1):
    # on slices, block indices from 0: a loop over range(b0, b1) compiles slower (formats.block_fast)
    _decode_body(etab, stab, e[b0 * block:b1 * block], s[b0:b1], block, mult, out[b0 * block:b1 * block])


def decode_blocks(etab, stab, e, s, block, mult, out):
    """``out[i] = etab[e[i]] * (stab[s[i // block]] * mult)`` (exact in float64 for block formats:
    both products are), blocks split over the threads (:func:`formats.threads.run_ranges`)."""
    run_ranges(_decode_range, s.size, etab, stab, e, s, block, float(mult), out, grain=max(1, 4096 // block))


# --------------------------------------------------------------------------------------
# the Python layer
# --------------------------------------------------------------------------------------
class BlockFormat:
    """Shared Python layer of block formats (subclasses: :class:`~formats.mx.MX`, :class:`~formats.nvfp4.NVFP4`)."""

    family = "block"
    #: whether the format has a per-tensor second-level scale (NVFP4)
    has_tensor_scale = False

    @property
    def bits(self) -> int:
        """Bits of one element code (scale overhead not included; see :meth:`bits_per_element`)."""
        return self.element.bits

    def __str__(self) -> str:
        return self.name

    def check_input(self, x) -> np.ndarray:
        """Convert ``x`` (float32/float64, contiguous) and check its last axis against the block."""
        arr = as_float_array(x, self.name)
        if arr.ndim == 0:
            raise ValueError(f"{self.name}: input must have at least one dimension (blocks run along the last axis)")
        k = arr.shape[-1]
        if k % self.block:
            raise ValueError(
                f"{self.name}: last axis has length {k}, which is not a multiple of the block size "
                f"{self.block}; pad it with zeros to a multiple of {self.block}"
            )
        return arr

    def check_overflow(self, overflow) -> None:
        if overflow is not None and parse_overflow(overflow) != Overflow.SATURATE:
            raise ValueError(f"{self.name}: block formats always saturate; overflow must be None or 'saturate', got {overflow!r}")

    def check_codes(self, codes) -> BlockCodes:
        """Validate a :class:`BlockCodes` against this format (name, shapes, code widths)."""
        if not isinstance(codes, BlockCodes):
            raise TypeError(f"{self.name}: decode takes the BlockCodes that encode returns, got {type(codes).__name__}")
        if codes.format != self.name:
            raise ValueError(f"{self.name}: these codes were made by format {codes.format!r}")
        e, s = codes.elements, codes.scales
        if e.ndim == 0 or s.shape != e.shape[:-1] + (e.shape[-1] // self.block,) or e.shape[-1] % self.block:
            raise ValueError(
                f"{self.name}: element codes of shape {e.shape} need scale codes of shape "
                f"(..., K // {self.block}); got {s.shape}"
            )
        self.element.check_codes(e)
        self.scale_format.check_codes(s)
        return codes

    def _tensor_multiplier(self, codes: BlockCodes) -> float:
        return 1.0

    def decode(self, codes: BlockCodes) -> np.ndarray:
        """Exact float64 value of every element: ``element * scale [* tensor_scale]``.

        A NaN scale code makes its whole block NaN; element NaN/Inf codes decode as
        NaN/Inf times the scale.
        """
        codes = self.check_codes(codes)
        mult = self._tensor_multiplier(codes)
        e = np.ascontiguousarray(codes.elements).reshape(-1)
        s = np.ascontiguousarray(codes.scales).reshape(-1)
        out = np.empty(e.size, dtype=np.float64)
        if e.size:
            decode_blocks(self.element.values(), self.scale_format.values(), e, s,
                          self.block, float(mult), out)
        return out.reshape(codes.elements.shape)

    def quantize(self, x, rounding="rne", overflow=None, seed=0) -> np.ndarray:
        """``decode(encode(x, ...))``: the block-quantized values as float64, same shape as ``x``."""
        return self.decode(self.encode(x, rounding=rounding, overflow=overflow, seed=seed))

    def info(self) -> dict:
        """A row of the formats table."""
        return {
            "name": self.name,
            "family": self.family,
            "bits": self.bits,
            "element": self.element.name,
            "block": self.block,
            "scale": self.scale_format.name,
            "bits_per_element": self.bits_per_element(),
        }
