"""Double-quantized block formats: QLoRA's NF4 with its absmax scales quantized again
(Dettmers et al. 2023, "QLoRA", section 3; as bitsandbytes' ``quantize_4bit(...,
compress_statistics=True)`` does it).

``DoubleQuant(element, block=64, scale_code="dyn8", scale_block=256)``:

1. **Elements**: blocks of ``block`` consecutive elements along the last axis; the block's
   scale is its absmax ``a = RN_f32(max |x|)`` (an exact float32 for float32 input) and the
   element codes are ``element(x / a)`` in the rounding mode asked for, exactly as
   ``block_<element>_fp32_g<block>_nearest`` (same codes).  An all-zero block (``a = 0``)
   gets the element's zero code (NF4's 0.0) so it decodes to 0 whatever its scale.
2. **Scales, second level**: ``offset = RN_f32(fsum(a) / nblocks)`` (the mean of every
   block's absmax over the whole tensor; ``fsum`` is the correctly rounded float64 sum,
   ``/`` a float64 division); ``d = RN_f32(a - offset)``; the blocks (in C order over the
   tensor) form groups of ``scale_block``, the last one possibly shorter; a group's scale
   is ``s2 = RN_f32(max |d| / M)`` with ``M`` the largest value of the 8-bit scale code,
   and each ``d`` is stored as the code's index nearest to ``d / s2`` (round to nearest,
   ties to the even index, saturating: the codebook rule of :mod:`formats.codebook`,
   decided on the exact quotient; the float64 quotient of two float32 decides every
   tie of these codes exactly).  A group with ``s2 = 0`` stores the code of 0.
3. **Decode**: the stored scale is ``a' = RN_f32(RN_f32(code[q] * s2) + offset)`` (float32
   arithmetic, as bitsandbytes' dequantisation), and an element decodes to
   ``element_value * a'`` (exact in float64; ``decode(..., dtype=np.float32)`` rounds once).
   ``a'`` is not clamped: a block whose absmax lies far below the mean can get ``a' <= 0``
   (bitsandbytes behaves the same).

Scale codes (``scale_code``):

* ``"dyn8"`` (default): bitsandbytes' signed 8-bit *dynamic* code, the 256 float32 values of
  its ``create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8)``: for ``i = 0..6``
  the ``2**i`` midpoints of ``linspace(0.1, 1, 2**i + 1)`` (float32) times ``±10**(i-6)``,
  plus 0 and 1; ``M = 1``.  This is what QLoRA's released code runs (its paper's "8-bit
  floats"), so nf4_dq reproduces deployed QLoRA checkpoints.
* ``"e4m3"``: the finite values of OCP FP8 E4M3 (one zero), ``M = 448``: the paper's
  wording taken literally, for comparison.

Storage: 4-bit element codes, one 8-bit scale code per block, one float32 per group and
one float32 offset per tensor: ``bits_per_element = 4 + 8/64 + 32/(64*256) (+ 32/n)``
= 4.127 for NF4 (QLoRA's 0.127 bits of scale overhead per parameter, down from 0.5).
NaN and ±Inf inputs raise ValueError (the mean of the scales would be NaN).
"""
from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
from numba import njit

from .base import ScalarFormat, as_float_array
from .block import BlockFormat
from .block_kernels import amax_of, decode_kernel
from .codebook import Codebook
from .scaled import BlockScaled, scale_format

__all__ = ["DoubleQuant", "DQCodes", "double_quant", "scale_code", "DYN8_VALUES", "SCALE_CODES"]

_DYN8_HEX = """
bf7e3333 bf7a999a bf770000 bf736666 bf6fcccd bf6c3333 bf68999a bf650000 bf616666 bf5dcccd bf5a3333
bf56999a bf530000 bf4f6666 bf4bcccd bf483333 bf44999a bf410000 bf3d6666 bf39cccd bf363334 bf32999a
bf2f0000 bf2b6666 bf27cccd bf243334 bf20999a bf1d0000 bf196666 bf15cccd bf123334 bf0e999a bf0b0000
bf076666 bf03cccc bf003333 bef93332 bef20000 beeacccc bee3999a bedc6666 bed53333 bece0000 bec6cccc
bebf999a beb86666 beb13333 beaa0000 bea2cccc be9b999a be946666 be8d3334 be860000 be7d9999 be6f3333
be60cccd be526666 be440000 be35999a be273333 be18cccd be0a6666 bdf80000 bddb3334 bdc9eb85 bdc428f7
bdbe6667 bdb8a3d7 bdb2e148 bdad1eb8 bda75c2a bda1999a bd9bd70a bd96147b bd9051eb bd8a8f5d bd84cccd
bd7e147b bd728f5d bd670a3d bd5b851f bd500000 bd447ae1 bd38f5c3 bd2d70a3 bd21eb85 bd166667 bd0ae148
bcfeb852 bce7ae15 bcd0a3d7 bcb9999a bca28f5d bc8b851f bc68f5c3 bc3ae148 bc1f3b64 bc160418 bc0ccccd
bc039581 bbf4bc6a bbe24dd3 bbcfdf3b bbbd70a4 bbab020d bb989374 bb8624dd bb676c8a bb428f5c bb1db22d
baf1a9fc baa7ef9d ba7765ff ba59e83e ba3c6a80 ba1eecc1 ba016f01 b9c7e283 b98ce705 b923d70b b8ba1f4b
b88aefb3 b8378034 b7b24206 b70205ff b65a1a94 b513a3b7 00000000 3513a3b7 365a1a94 370205ff 37b24206
38378034 388aefb3 38ba1f4b 3923d70b 398ce705 39c7e283 3a016f01 3a1eecc1 3a3c6a80 3a59e83e 3a7765ff
3aa7ef9d 3af1a9fc 3b1db22d 3b428f5c 3b676c8a 3b8624dd 3b989374 3bab020d 3bbd70a4 3bcfdf3b 3be24dd3
3bf4bc6a 3c039581 3c0ccccd 3c160418 3c1f3b64 3c3ae148 3c68f5c3 3c8b851f 3ca28f5d 3cb9999a 3cd0a3d7
3ce7ae15 3cfeb852 3d0ae148 3d166667 3d21eb85 3d2d70a3 3d38f5c3 3d447ae1 3d500000 3d5b851f 3d670a3d
3d728f5d 3d7e147b 3d84cccd 3d8a8f5d 3d9051eb 3d96147b 3d9bd70a 3da1999a 3da75c2a 3dad1eb8 3db2e148
3db8a3d7 3dbe6667 3dc428f7 3dc9eb85 3ddb3334 3df80000 3e0a6666 3e18cccd 3e273333 3e35999a 3e440000
3e526666 3e60cccd 3e6f3333 3e7d9999 3e860000 3e8d3334 3e946666 3e9b999a 3ea2cccc 3eaa0000 3eb13333
3eb86666 3ebf999a 3ec6cccc 3ece0000 3ed53333 3edc6666 3ee3999a 3eeacccc 3ef20000 3ef93332 3f003333
3f03cccc 3f076666 3f0b0000 3f0e999a 3f123334 3f15cccd 3f196666 3f1d0000 3f20999a 3f243334 3f27cccd
3f2b6666 3f2f0000 3f32999a 3f363334 3f39cccd 3f3d6666 3f410000 3f44999a 3f483333 3f4bcccd 3f4f6666
3f530000 3f56999a 3f5a3333 3f5dcccd 3f616666 3f650000 3f68999a 3f6c3333 3f6fcccd 3f736666 3f770000
3f7a999a 3f7e3333 3f800000
"""

#: bitsandbytes' signed 8-bit dynamic code (``create_dynamic_map()``), as float32 bit patterns
DYN8_VALUES = tuple(float(v) for v in np.array([int(h, 16) for h in _DYN8_HEX.split()],
                                                dtype=np.uint32).view(np.float32))
SCALE_CODES = ("dyn8", "e4m3")



@njit(cache=True)
def _f32_bucket_sums(bits):
    """Per float32 exponent field (1..254; subnormals counted under 1) the sum of the significands
    of the non-negative finite float32s with bits ``bits``, and whether every value is one."""
    acc = np.zeros(256, np.int64)
    for i in range(bits.size):
        b = bits[i]
        if b >= np.uint32(0x7F800000):   # a sign bit, Inf or NaN: not handled here
            return acc, False
        e = np.int64(b >> np.uint32(23))
        m = np.int64(b & np.uint32(0x7FFFFF))
        if e != 0:
            m += 1 << 23
        acc[max(e, 1)] += m   # < 2**24 each: exact for up to 2**39 values
    return acc, True


def f32_fsum(a: np.ndarray) -> float:
    """``math.fsum(a)`` (the correctly rounded float64 sum) for a float64 array of float32 values,
    by exact integer sums per exponent (a float32 with field ``e`` is ``m * 2**(max(e, 1) - 150)``):
    the total is an integer times ``2**-149`` that Python rounds once (``int -> float`` rounds to
    nearest even) and scales exactly.  Falls back to ``math.fsum`` for any other input."""
    with np.errstate(over="ignore", invalid="ignore"):   # values beyond float32 fall back below
        f = a.astype(np.float32)
    if a.size >= 1 << 39 or not np.array_equal(f.astype(np.float64), a):
        return math.fsum(a)
    acc, ok = _f32_bucket_sums(f.view(np.uint32))
    if not ok:
        return math.fsum(a)
    total = 0
    for e in np.flatnonzero(acc):
        total += int(acc[e]) << (int(e) - 1)
    return math.ldexp(float(total), -149)

@functools.lru_cache(maxsize=None)
def scale_code(name: str) -> Codebook:
    """The 8-bit code of the second level: ``dyn8`` (bitsandbytes' dynamic code) or ``e4m3``."""
    key = str(name).strip().lower()
    if key == "dyn8":
        return Codebook(DYN8_VALUES, label="dyn8")
    if key == "e4m3":
        from .minifloat import Minifloat

        v = Minifloat(4, 3, special="fn").values()
        return Codebook(tuple(np.unique(v[np.isfinite(v)] + 0.0)), label="e4m3")
    raise ValueError(f"unknown scale code {name!r}; allowed: {', '.join(SCALE_CODES)}")


@dataclasses.dataclass(frozen=True, eq=False)
class DQCodes:
    """The encoded form of a tensor in a :class:`DoubleQuant` format (arrays read-only)."""

    #: element codes, same shape as the input
    elements: np.ndarray
    #: 8-bit scale codes, shape ``(..., K // block)``
    scales: np.ndarray
    #: float32 second-level scale ``s2`` of each group of ``scale_block`` blocks (C order)
    group_scales: np.ndarray
    #: float32 mean of the blocks' absmax
    offset: np.float32
    #: name of the format that produced the codes
    format: str

    def __post_init__(self):
        for field in ("elements", "scales", "group_scales"):
            arr = np.asarray(getattr(self, field)).view()
            arr.flags.writeable = False
            object.__setattr__(self, field, arr)
        object.__setattr__(self, "offset", np.float32(self.offset))

    @property
    def shape(self) -> tuple:
        return self.elements.shape

    @property
    def tensor_scale(self) -> None:
        """None: as :class:`formats.BlockCodes` of a format without a tensor scale (NVFP4 has one)."""
        return None


@dataclasses.dataclass(frozen=True)
class DoubleQuant(BlockFormat):
    """A double-quantized block format (see the module docstring).

    >>> from formats.codebook import NF4_VALUES
    >>> DoubleQuant(Codebook(NF4_VALUES, label="nf4")).bits_per_element()   # 4 + 8/64 + 32/(64*256)
    4.126953125
    """

    element: ScalarFormat
    block: int = 64
    scale_code: str = "dyn8"
    scale_block: int = 256
    label: str | None = dataclasses.field(default=None, compare=False)

    def __post_init__(self):
        e = self.element
        if not isinstance(e, ScalarFormat) or e.bits > 16:
            raise ValueError(f"double-quant element must be a scalar format of <= 16 bits, got {getattr(e, 'name', e)!r}")
        for field, hi in (("block", 1 << 20), ("scale_block", 1 << 20)):
            v = getattr(self, field)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 1 <= v <= hi:
                raise ValueError(f"{field} must be an integer in 1..2**20, got {v!r}")
        object.__setattr__(self, "scale_code", scale_code(self.scale_code).name)

    # --- description -------------------------------------------------------------------
    @property
    def name(self) -> str:
        if self.label:
            return self.label
        parts = [self.element.name, "dq"]
        if self.scale_code != "dyn8":
            parts.append(self.scale_code)
        if self.block != 64:
            parts.append(f"g{self.block}")
        if self.scale_block != 256:
            parts.append(f"s{self.scale_block}")
        return "_".join(parts)

    @property
    def scale_format(self) -> Codebook:
        """The 8-bit code of the per-block scales."""
        return scale_code(self.scale_code)

    @property
    def code_max(self) -> float:
        """``M``: the largest value of the scale code (1 for dyn8, 448 for e4m3)."""
        return float(self.scale_format.max)

    @functools.cached_property
    def _first_level(self) -> BlockScaled:
        return BlockScaled(self.element, scale_format("fp32"), self.block, "nearest")

    def bits_per_element(self, n: int | None = None) -> float:
        """Element bits + 8 / block + 32 / (block * scale_block) (+ 32 / n for the offset)."""
        extra = 32.0 / n if n else 0.0
        return self.element.bits + 8.0 / self.block + 32.0 / (self.block * self.scale_block) + extra

    def info(self) -> dict:
        row = super().info()
        row.update(scale_block=self.scale_block, scale_code=self.scale_code)
        return row

    # --- encode / decode ----------------------------------------------------------------
    def encode(self, x, rounding="rne", overflow=None, seed=0) -> DQCodes:
        """Encode ``x`` (blocks along the last axis); ``rounding`` applies to the elements."""
        arr = self.check_input(x)
        self.check_overflow(overflow)
        flat = arr.reshape(-1)
        amax = amax_of(flat) if flat.size else 0.0   # NaN if any; one pass instead of a check per rule
        if not math.isfinite(amax):
            where = int(np.flatnonzero(~np.isfinite(flat))[0])
            raise ValueError(f"{self.name} cannot encode NaN or Inf (input holds {flat[where]} at flat index {where})")
        if amax > np.float64(np.finfo(np.float32).max):
            where = int(np.flatnonzero(np.abs(flat) > np.float64(np.finfo(np.float32).max))[0])
            raise ValueError(f"{self.name} stores float32 block scales; input {flat[where]!r} at flat index {where} "
                             "is beyond float32's range (|x| <= 3.4028235e38)")
        first = self._first_level.encode(arr, rounding=rounding, seed=seed)
        # the fp32 scale codes are float32 bit patterns: their values are the bits read as float32
        a = np.ascontiguousarray(first.scales).reshape(-1).view(np.float32).astype(np.float64)
        elements = np.array(first.elements).reshape(-1, self.block)
        elements[a == 0] = self.element.zero_code  # all-zero blocks decode to 0 whatever a' is
        q, s2, offset = self._second_level(a)
        return DQCodes(elements.reshape(arr.shape), q.reshape(first.scales.shape), s2, offset, self.name)

    def _second_level(self, a: np.ndarray):
        nb = a.size
        if nb == 0:
            return np.zeros(0, np.uint8), np.zeros(0, np.float32), np.float32(0.0)
        offset = np.float32(f32_fsum(a) / nb)
        d = (a - np.float64(offset)).astype(np.float32)  # exact difference, rounded once (see docs)
        ng = -(-nb // self.scale_block)
        pad = np.zeros(ng * self.scale_block, dtype=np.float32)
        pad[:nb] = np.abs(d)
        s2 = pad.reshape(ng, self.scale_block).max(axis=1) / np.float32(self.code_max)  # float32 division
        s2_each = np.repeat(s2, self.scale_block)[:nb].astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(s2_each > 0, d.astype(np.float64) / s2_each, 0.0)
        q = self.scale_format.encode(ratio, rounding="rne")
        return q.astype(np.uint8), s2.astype(np.float32), offset

    def check_codes(self, codes) -> DQCodes:
        if not isinstance(codes, DQCodes):
            raise TypeError(f"{self.name}: decode takes the DQCodes that encode returns, got {type(codes).__name__}")
        if codes.format != self.name:
            raise ValueError(f"{self.name}: these codes were made by format {codes.format!r}")
        e, s = codes.elements, codes.scales
        if e.ndim == 0 or e.shape[-1] % self.block or s.shape != e.shape[:-1] + (e.shape[-1] // self.block,):
            raise ValueError(f"{self.name}: element codes of shape {e.shape} need scale codes of shape "
                             f"(..., K // {self.block}); got {s.shape}")
        ng = -(-s.size // self.scale_block)
        if codes.group_scales.shape != (ng,):
            raise ValueError(f"{self.name}: {s.size} scale codes need {ng} group scales, got shape "
                             f"{codes.group_scales.shape}")
        self.element.check_codes(e)
        self.scale_format.check_codes(s)
        return codes

    def scales_of(self, codes: DQCodes) -> np.ndarray:
        """The float32 scale ``a'`` each block decodes with, shape ``(..., K // block)``."""
        codes = self.check_codes(codes)
        q = np.ascontiguousarray(codes.scales).reshape(-1)
        s2 = np.repeat(np.asarray(codes.group_scales, np.float32), self.scale_block)[:q.size]
        cv = self.scale_format.decode(q).astype(np.float32)
        return ((cv * s2) + codes.offset).astype(np.float32).reshape(codes.scales.shape)

    def decode(self, codes: DQCodes, dtype=np.float64) -> np.ndarray:
        """``element_value * a'`` of every element (float64, exact; float32 rounds once)."""
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"{self.name}: decode dtype must be float32 or float64, got {dtype}")
        mult = self.scales_of(codes).astype(np.float64).reshape(-1)
        e = np.ascontiguousarray(codes.elements).reshape(-1)
        out = np.empty(e.size, dtype=dtype)
        if e.size:   # element value * a' in float64 (exact), then stored as dtype
            decode_kernel(np.ascontiguousarray(self.element.values(), dtype=np.float64), e, mult, self.block, out)
        return out.reshape(codes.elements.shape)

    def quantize(self, x, rounding="rne", overflow=None, seed=0) -> np.ndarray:
        return self.decode(self.encode(x, rounding=rounding, overflow=overflow, seed=seed))


def double_quant(element="nf4", block: int = 64, scale_code: str = "dyn8", scale_block: int = 256) -> DoubleQuant:
    """A double-quantized block format; ``element`` may be a name (``"nf4"``)."""
    from .registry import get

    elem = get(element) if isinstance(element, str) else element
    return DoubleQuant(elem, block, scale_code, scale_block)
