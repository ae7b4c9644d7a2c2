"""OCP Microscaling (MX) formats: MXFP8, MXFP6, MXFP4, MXINT8.

An MX tensor holds, for every block of ``block`` (default 32) consecutive
elements along the last axis, one E8M0 scale and ``block`` element codes.
Element ``i`` decodes to ``element_value(code_i) * 2**(scale_code - 127)``.
The general block rules (last axis, BlockCodes, saturation, stochastic draws)
are in :mod:`formats.block`.

==========  ==========  ====================================  =========  ===========
preset      element     description                           emax_elem  element max
==========  ==========  ====================================  =========  ===========
mxfp8_e4m3  fp8_e4m3fn  ``Minifloat(4, 3, special="fn")``     8          448
mxfp8_e5m2  fp8_e5m2    ``Minifloat(5, 2)``                   15         57344
mxfp6_e2m3  fp6_e2m3    ``Minifloat(2, 3, special="none")``   2          7.5
mxfp6_e3m2  fp6_e3m2    ``Minifloat(3, 2, special="none")``   4          28
mxfp4       fp4_e2m1    ``Minifloat(2, 1, special="none")``   2          6
mxint8      fixed8_f6   ``FixedPoint(8, 6)``: int8 / 64       0          127/64
==========  ==========  ====================================  =========  ===========

Scale (E8M0): unsigned, 8 exponent bits, bias 127, no zero, no sign; code
``c`` in 0..254 is ``2**(c - 127)``; code 0xFF is NaN.

Encoding one block
------------------
1. ``amax`` = the largest magnitude in the block, and ``E = floor(log2 amax)``
   read from its exponent bits (subnormal inputs included; no float log2).
   ``emax_elem = floor(log2(element max))`` (table above).
2. Shared exponent ``s``:

   * ``scale_rule="floor"`` (OCP spec, default): ``s = E - emax_elem``.  The scaled
     block maximum lies in ``[2**emax_elem, 2**(emax_elem+1))`` and may exceed the
     element max (e.g. FP4: up to 7.99 > 6); those elements saturate.
   * ``scale_rule="ceil"`` (torchao CEIL): ``s = ceil(log2 amax) - emax_elem``.
   * ``scale_rule="even"`` (torchao EVEN): ``s = floor(log2 rho(amax)) - emax_elem``,
     ``rho`` rounding ``amax`` to the element's ``m + 1`` significant bits, ties away.
   * ``scale_rule="rceil"`` (torchao/cuBLAS RCEIL): the smallest ``s`` with
     ``amax / 2**s <= element max`` (``E - emax_elem`` or one more), so no element
     clips; a block then loses up to one bit of resolution against ``floor``.
   * ``nearest`` and ``four_over_six``: see :mod:`formats.scale_rules`.

   ``s`` is clamped to the E8M0 range [-127, 127]; the scale code is ``s + 127``.
3. Element ``i`` = ``element.encode(x_i / 2**s)`` with the requested rounding,
   saturating at ±max.  The division by ``2**s`` is exact (done on the exponent).

Edge cases
----------
* **All-zero block** (every element ±0): scale code 0 (``2**-127``, the smallest,
  as gfloat's ``compute_scale_amax`` does, so "scale code 0" also finds zero
  blocks); elements encode ±0 (the sign of −0.0 is kept by the FP elements).
* **NaN in a block**: scale code 0xFF (NaN) and every element code of the block
  0; decode gives NaN for the whole block (OCP: a NaN scale makes all elements
  NaN).  Other blocks are unaffected.
* **±Inf in a block**: treated exactly like NaN (E8M0 has no Inf and the block
  cannot represent it): scale 0xFF, elements 0, decodes to NaN.
* **amax below** ``2**(emax_elem - 127)``: the scale clamps at ``2**-127``; the
  elements are rounded at that scale, so small ones become ±0 (rup gives the
  smallest positive element for a positive input, rdn the smallest negative for a
  negative one, stochastic either with its probability).
* **amax at or above** ``2**(128 + emax_elem)``: the scale clamps at ``2**127``
  and elements saturate at ±max (only float64 inputs can reach this).

``bits_per_element()`` = element bits + 8 / block (e.g. 4.25 for mxfp4).
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from .base import ScalarFormat
from .block import BlockCodes, BlockFormat, FixedPoint, check_element
from .minifloat import Minifloat
from .scale_rules import RULES, canonical_rule
from .scaled import encode_blocks

__all__ = ["MX", "mx", "E8M0", "MX_ELEMENTS", "MX_PRESETS", "SCALE_RULES"]

#: OCP E8M0 scale: 2**(code - 127) for codes 0..254, 0xFF = NaN.
E8M0 = Minifloat(8, 0, bias=127, special="fn", signed=False, zero=False, subnormals=False, label="e8m0")

#: The OCP MX element formats, by preset name.
MX_ELEMENTS = {
    "mxfp8_e4m3": Minifloat(4, 3, special="fn"),
    "mxfp8_e5m2": Minifloat(5, 2),
    "mxfp6_e2m3": Minifloat(2, 3, special="none"),
    "mxfp6_e3m2": Minifloat(3, 2, special="none"),
    "mxfp4": Minifloat(2, 1, special="none"),
    "mxint8": FixedPoint(8, 6),
}

#: Scale rules an MX format takes (defined in :mod:`formats.scale_rules`).
SCALE_RULES = RULES


@dataclasses.dataclass(frozen=True)
class MX(BlockFormat):
    """An OCP MX block format: ``block`` elements of ``element`` share one E8M0 scale.

    >>> f = MX(Minifloat(2, 1, special="none"))      # mxfp4
    >>> f.name, f.bits, f.bits_per_element()
    ('mxfp4', 4, 4.25)
    """

    element: ScalarFormat
    block: int = 32
    scale_rule: str = "floor"
    label: str | None = dataclasses.field(default=None, compare=False)

    def __post_init__(self):
        check_element(self.element, "mx")
        if isinstance(self.block, bool) or not isinstance(self.block, (int, np.integer)) or not 1 <= self.block <= 1 << 20:
            raise ValueError(f"mx block size must be an integer in 1..2**20, got {self.block!r}")
        object.__setattr__(self, "scale_rule", canonical_rule(self.scale_rule))
        if self.scale_rule == "four_over_six" and self.element.max != 6.0:
            raise ValueError(f"scale rule four_over_six needs an element whose max is 6 (fp4_e2m1); "
                             f"{self.element.name} has {self.element.max:g}")

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        base = next((k for k, v in MX_ELEMENTS.items() if v == self.element), None)
        if base is None:
            base = f"mx_{self.element.name}"
        if self.block != 32:
            base += f"_k{self.block}"
        if self.scale_rule != "floor":
            base += f"_{self.scale_rule}"
        return base

    @property
    def scale_format(self) -> Minifloat:
        return E8M0

    @property
    def emax_elem(self) -> int:
        """``floor(log2(element max))``, the exponent the block maximum is scaled to."""
        return math.frexp(self.element.max)[1] - 1

    def bits_per_element(self, n: int | None = None) -> float:
        """Element bits plus the scale's share, ``8 / block`` (``n`` is ignored: no per-tensor part)."""
        return self.element.bits + self.scale_format.bits / self.block

    def encode(self, x, rounding="rne", overflow=None, seed=0) -> BlockCodes:
        """Encode ``x`` (blocks along the last axis); see the module docstring for the rules."""
        return encode_blocks(self, self.check_input(x), rounding, overflow, seed, None, self.name)


_ALIASES = {
    **{preset: fmt for preset, fmt in MX_ELEMENTS.items()},
    **{fmt.name: fmt for fmt in MX_ELEMENTS.values()},
    "fp8_e4m3": MX_ELEMENTS["mxfp8_e4m3"], "e4m3": MX_ELEMENTS["mxfp8_e4m3"],
    "e5m2": MX_ELEMENTS["mxfp8_e5m2"], "e2m3": MX_ELEMENTS["mxfp6_e2m3"],
    "e3m2": MX_ELEMENTS["mxfp6_e3m2"], "e2m1": MX_ELEMENTS["mxfp4"], "fp4": MX_ELEMENTS["mxfp4"],
    "int8": MX_ELEMENTS["mxint8"],
}


def mx(element="fp4_e2m1", block: int = 32, scale_rule: str = "floor") -> MX:
    """Build an MX format from an element format or its name.

    Names: ``fp8_e4m3``/``e4m3``, ``fp8_e5m2``/``e5m2``, ``fp6_e2m3``/``e2m3``,
    ``fp6_e3m2``/``e3m2``, ``fp4_e2m1``/``e2m1``/``fp4``, ``int8``, or a preset name
    (``mxfp4`` …).  Any :class:`~formats.minifloat.Minifloat` or
    :class:`~formats.block.FixedPoint` of <= 16 bits is accepted as well.
    """
    if isinstance(element, str):
        key = element.strip().lower()
        if key not in _ALIASES:
            raise ValueError(f"unknown mx element {element!r}; allowed: {', '.join(sorted(_ALIASES))}")
        element = _ALIASES[key]
    return MX(element, block=block, scale_rule=scale_rule)


#: The OCP presets, by name.
MX_PRESETS = {name: MX(fmt) for name, fmt in MX_ELEMENTS.items()}
