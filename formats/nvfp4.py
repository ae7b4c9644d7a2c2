"""NVFP4: FP4 E2M1 elements, a UE4M3 scale per block of 16, a float32 scale per tensor.

The general block rules (last axis, BlockCodes, saturation, stochastic draws)
are in :mod:`formats.block`.  Elements are ``fp4_e2m1``
(``Minifloat(2, 1, special="none")``, max 6); block scales are UE4M3
(``Minifloat(4, 3, special="fn", signed=False)``: 7-bit code, max 448, code
0x7F is NaN and never produced); the tensor scale ``S`` is a float32.

Recipe (divide, never multiply by a reciprocal; float64 except where float32 is said)
-------------------------------------------------------------------------------------
1. ``amax_t = max |x|`` over the whole input (one ``encode`` call is one tensor).
   NaN or ±Inf anywhere raises ValueError: NVFP4 cannot hold them.
2. ``S = float32(amax_t / 2688)`` with ``2688 = 6 * 448`` (element max × scale
   max), rounded to nearest even; ``S = 1.0`` when ``amax_t == 0``.  ``S`` is
   clamped to ``[2**-149, float32 max]`` (the smallest float32 subnormal when the
   quotient underflows; float32 max for float64 inputs beyond ``2688 * 3.4e38``).
   The float64 division followed by the float32 rounding equals the correctly
   rounded float32 of the exact quotient (2688 has a 5-bit significand, so the
   float64 quotient never lands on a float32 tie).  ``encode(...,
   tensor_scale=S)`` uses a given positive finite float32 ``S`` instead (a
   calibrated amax, or one shared by several tensors).
3. Per block: ``scale_code = UE4M3.encode(amax_b / (6 * S))``, round to nearest
   even, saturating at 448.  ``6 * S`` is exact, and one float64 division never
   carries the quotient across a UE4M3 rounding boundary, so this is the exact
   RNE of ``amax_b / (6 S)``.
4. ``d = scale_value * S`` (exact).  If ``d == 0`` (the scale rounded to 0: block
   amax at most ``2**-10 * 6 S``, i.e. about ``2**-18.8 * amax_t``) every element
   code of the block is 0 (+0).
5. Element ``i``: ``E2M1.encode(x_i / d)`` with the requested rounding, saturating
   at ±6.  ``x_i / d`` is one float64 division: for the deterministic modes the
   result equals rounding the exact quotient; stochastic rounding takes its
   fraction ``t`` from the float64 quotient.  A nonzero ``x_i`` whose quotient
   underflows to 0 counts as ±2**-1074, so rup/rdn/stochastic still see its sign
   and size.  −0.0 encodes as the −0 code (8).
6. Decode: ``e2m1_value * scale_value * S`` in float64 (exact).  A NaN scale code
   makes its block NaN.

NVIDIA's libraries compute the per-block scale as ``amax_b / 6 * (2688 / amax_t)``
in float32 and multiply elements by a reciprocal; they can differ from this
recipe in the last bit of a scale or at rounding ties.

``bits_per_element(n)`` = 4 + 8/16 + 32/n for a tensor of ``n`` elements (the
7-bit UE4M3 code is stored in a byte; ``n=None`` leaves the per-tensor term out).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .block import BlockCodes, BlockFormat, check_element
from .minifloat import Minifloat
from .scaled import encode_blocks

__all__ = ["NVFP4", "nvfp4", "UE4M3", "E2M1"]

#: Unsigned E4M3 block scale (7-bit code, max 448, 0x7F = NaN).
UE4M3 = Minifloat(4, 3, special="fn", signed=False)
#: FP4 E2M1 element.
E2M1 = Minifloat(2, 1, special="none")

_F32_TINY = np.float32(np.ldexp(1.0, -149))
_F32_MAX = np.float32(np.finfo(np.float32).max)


def tensor_scale_for(amax: float, den: float = 2688.0) -> np.float32:
    """Step 2 of the recipe: ``float32(amax / den)`` clamped to ``[2**-149, float32 max]``, 1 for 0."""
    if amax == 0:
        return np.float32(1.0)
    with np.errstate(over="ignore", under="ignore"):
        s = np.float32(amax / den)
    if s == 0:
        return _F32_TINY
    if not np.isfinite(s):
        return _F32_MAX
    return s


@dataclasses.dataclass(frozen=True)
class NVFP4(BlockFormat):
    """NVFP4: E2M1 elements, a UE4M3 scale per ``block`` (16) and a float32 scale per tensor.

    >>> f = NVFP4()
    >>> f.name, f.bits, f.bits_per_element()
    ('nvfp4', 4, 4.5)
    """

    block: int = 16

    #: NVFP4's scale rule (:mod:`formats.scale_rules`) and recipe, fixed
    scale_rule = "nearest"
    recipe = "divide"
    has_tensor_scale = True

    def __post_init__(self):
        if isinstance(self.block, bool) or not isinstance(self.block, (int, np.integer)) or not 1 <= self.block <= 1 << 20:
            raise ValueError(f"nvfp4 block size must be an integer in 1..2**20, got {self.block!r}")
        check_element(self.element, "nvfp4")

    @property
    def name(self) -> str:
        return "nvfp4" if self.block == 16 else f"nvfp4_k{self.block}"

    @property
    def element(self) -> Minifloat:
        return E2M1

    @property
    def scale_format(self) -> Minifloat:
        return UE4M3

    @property
    def tensor_scale_divisor(self) -> float:
        """``element max * scale max`` = 2688: ``S = amax_t / 2688`` maps amax_t to the top scale."""
        return self.element.max * self.scale_format.max

    def bits_per_element(self, n: int | None = None) -> float:
        """4 element bits + 8/block for the scale + 32/n for the tensor scale (left out if ``n`` is None)."""
        extra = 0.0 if n is None else 32.0 / n
        return self.element.bits + 8.0 / self.block + extra  # the 7-bit UE4M3 code takes a byte

    def _check_tensor_scale(self, tensor_scale) -> np.float32:
        try:
            s = np.float32(tensor_scale)
        except (TypeError, ValueError):
            raise TypeError(f"{self.name}: tensor_scale must be a number, got {tensor_scale!r}") from None
        if not (np.isfinite(s) and s > 0):
            raise ValueError(f"{self.name}: tensor_scale must be a positive finite float32, got {tensor_scale!r}")
        return s

    def encode(self, x, rounding="rne", overflow=None, seed=0, tensor_scale=None) -> BlockCodes:
        """Encode ``x`` by the recipe in the module docstring (one call = one tensor)."""
        return encode_blocks(self, self.check_input(x), rounding, overflow, seed, tensor_scale, self.name)

    def _tensor_multiplier(self, codes: BlockCodes) -> float:
        if codes.tensor_scale is None:
            raise ValueError(f"{self.name}: the codes carry no tensor_scale")
        return float(self._check_tensor_scale(codes.tensor_scale))

    def quantize(self, x, rounding="rne", overflow=None, seed=0, tensor_scale=None) -> np.ndarray:
        """``decode(encode(x, ...))`` as float64."""
        return self.decode(self.encode(x, rounding=rounding, overflow=overflow, seed=seed,
                                       tensor_scale=tensor_scale))


def nvfp4(block: int = 16) -> NVFP4:
    """The NVFP4 format (block 16 is NVIDIA's; other sizes are for exploration)."""
    return NVFP4(block=block)
