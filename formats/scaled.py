"""One generic block-scaled format: MX, NVFP4 and group-scaled integers are presets of it.

``BlockScaled(element, scale_format, block, scale_rule, tensor_scale, recipe, axis)``:

* ``element``: any scalar format of <= 16 bits (minifloat, integer, fixed point,
  posit, codebook, takum ...);
* ``scale_format``: any :class:`~formats.minifloat.Minifloat` (``e8m0``, ``ue4m3``,
  ``ue5m3``, ``bf16``, ``fp16``, ``fp32``, ``ueXmY``); only its positive values are used;
* ``block``: elements per scale, along ``axis`` (default the last);
* ``scale_rule``: ``floor``, ``ceil``, ``even``, ``rceil``, ``nearest``,
  ``four_over_six`` (exact definitions in :mod:`formats.scale_rules`);
* ``tensor_scale``: add NVFP4's second level, a float32 ``S = float32(amax_t /
  (emax * scale_max))`` per tensor (1 for an all-zero tensor, clamped to the float32
  range); block scales then round ``amax_b / (... S)`` and elements are
  ``x / (scale * S)``;
* ``recipe``: ``divide`` (``q = x / (scale * S)``, one float64 division; exact for a
  power-of-two scale) or ``reciprocal`` (float32 inputs only: ``r =
  float32(float32(1/S) / scale)``, ``q = float32(x * r)``, the NVIDIA/torchao kernels'
  arithmetic).

The block rules of :mod:`formats.block` hold (BlockCodes, saturating elements,
stochastic draws by flat index, all-zero block -> scale code 0, NaN/Inf in a block
-> NaN scale code and the block's elements encode 0; formats with a tensor scale
reject NaN/Inf).  A scale of value 0 (formats whose scale has a zero) makes its
block's element codes 0.

Names (:func:`formats.get`; ``_gB``/``_kB`` = block B, a rule name, ``_t`` = tensor
scale, ``_recip`` = reciprocal recipe, ``_axN`` = block axis N; any order after the
base, every part optional):

=============================== ===========================================================
``block_<element>_<scale>[...]`` generic; block 32, rule ``nearest`` unless given
``mx<element>[...]``/``mx_<element>[...]`` E8M0 scale, block 32, rule ``floor`` (an :class:`~formats.mx.MX`)
``nvfp4[...]``                   fp4_e2m1 + UE4M3 + tensor scale, block 16, ``nearest``
=============================== ===========================================================

``<scale>`` is ``e8m0``, ``bf16``, ``fp16``, ``fp32`` or ``ueXmY`` (unsigned, X exponent
and Y mantissa bits, bias 2**(X-1) - 1, subnormals, all-ones = NaN: ``ue4m3`` is
NVFP4's scale, ``ue5m3`` the wider one).  Examples: ``block_int4_bf16_g128``
(GPTQ/AWQ-style weights), ``mx_fp4_e2m1_g16_rceil``, ``nvfp4_four_over_six``,
``block_fp4_e2m1_ue5m3_g16_t``.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import re

import numpy as np

from .base import ScalarFormat, as_float_array
from .block import BlockCodes, BlockFormat, FixedPoint, element_params
from .block import decode_blocks as block_decode_blocks
from .block_fast import encode_kernel
from .block_kernels import CODEBOOK, KERNEL, TABLE, VALUES, amax_of, decode_kernel
from .codebook import Codebook
from .element_arith import NO_ARITH, fit as arith_fit
from .integer import Integer
from .minifloat import Minifloat
from .rounding import Overflow, Rounding, check_seed, parse_rounding, seed_key
from .scale_rules import canonical_rule, rule_code

__all__ = ["BlockScaled", "block_scaled", "scale_format", "RECIPES", "encode_blocks"]

RECIPES = ("divide", "reciprocal")
#: whether the float32 fast kernels code elements by formula where one is fitted (False: tables only,
#: the A/B reference of tests/formats/test_element_arith_ab.py)
USE_ARITH = True
#: decode with the scale format's value table inside the kernel (scales of <= 16 bits; False: the
#: scale codes decoded to an array first, as before; same values)
DECODE_SCALE_TABLE = True
_F32_TINY = float(np.ldexp(1.0, -149))
_F32_MAX = float(np.finfo(np.float32).max)
_NAMED_SCALES = {"e8m0": lambda: Minifloat(8, 0, bias=127, special="fn", signed=False, zero=False,
                                           subnormals=False, label="e8m0"),
                 "bf16": lambda: Minifloat(8, 7, label="bf16"), "fp16": lambda: Minifloat(5, 10, label="fp16"),
                 "fp32": lambda: Minifloat(8, 23, label="fp32")}
_UE_RE = re.compile(r"^ue(\d+)m(\d+)$")


def scale_format(name) -> Minifloat:
    """The scale format called ``name`` (``e8m0``, ``bf16``, ``fp16``, ``fp32``, ``ueXmY``) or a Minifloat as is."""
    if isinstance(name, Minifloat):
        return name
    key = str(name).strip().lower()
    if key in _NAMED_SCALES:
        return _NAMED_SCALES[key]()
    if m := _UE_RE.match(key):
        e, mb = int(m.group(1)), int(m.group(2))
        if e < 2 or e + mb > 16 or (e, mb) == (8, 0):
            raise ValueError(f"scale format {name!r}: ueXmY needs X >= 2 and X + Y <= 16 (e8m0 is spelled e8m0)")
        return Minifloat(e, mb, special="fn", signed=False, label=key)
    raise ValueError(f"unknown scale format {name!r}; allowed: e8m0, bf16, fp16, fp32, ueXmY (e.g. ue4m3, ue5m3)")


def _scale_token(sf: Minifloat) -> str:
    for key, make in _NAMED_SCALES.items():
        if make() == sf:
            return key
    if not sf.signed and sf.special == "fn" and sf.zero and sf.subnormals and sf.bias == (1 << (sf.ebits - 1)) - 1:
        return f"ue{sf.ebits}m{sf.mbits}"
    return sf.name


def _sig_bits_minus_one(v: float) -> int:
    fr, _ = math.frexp(v)
    k = 0
    while fr * 2.0 ** (k + 1) != math.floor(fr * 2.0 ** (k + 1)):
        k += 1
    return k


@dataclasses.dataclass(frozen=True)
class BlockScaled(BlockFormat):
    """A block-scaled format described by its parts (see the module docstring)."""

    element: ScalarFormat
    scale_format: Minifloat
    block: int = 32
    scale_rule: str = "nearest"
    tensor_scale: bool = False
    recipe: str = "divide"
    axis: int = -1
    label: str | None = dataclasses.field(default=None, compare=False)

    def __post_init__(self):
        e = self.element
        if not isinstance(e, ScalarFormat) or e.bits > 16:
            raise ValueError(f"block element must be a scalar format of <= 16 bits, got {getattr(e, 'name', e)!r}")
        if not (2.0 ** -900 <= e.min_positive and e.max <= 2.0 ** 900):
            raise ValueError(f"block element {e.name} has a range beyond 2**±900, which block formats do not support")
        if not isinstance(self.scale_format, Minifloat):
            raise ValueError(f"scale format must be a Minifloat (e8m0, ue4m3, bf16, ...), got {self.scale_format!r}")
        if isinstance(self.block, bool) or not isinstance(self.block, (int, np.integer)) or not 1 <= self.block <= 1 << 20:
            raise ValueError(f"block size must be an integer in 1..2**20, got {self.block!r}")
        object.__setattr__(self, "scale_rule", canonical_rule(self.scale_rule))
        if self.scale_rule == "four_over_six" and (e.max != 6.0 or not isinstance(e, (Minifloat, FixedPoint))):
            raise ValueError(f"scale rule four_over_six needs an element whose max is 6 (fp4_e2m1); {e.name} has {e.max:g}")
        if self.recipe not in RECIPES:
            raise ValueError(f"unknown recipe {self.recipe!r}; allowed: {', '.join(RECIPES)}")
        if not isinstance(self.tensor_scale, (bool, np.bool_)):
            raise TypeError(f"tensor_scale must be True or False, got {self.tensor_scale!r}")
        if isinstance(self.axis, bool) or not isinstance(self.axis, (int, np.integer)):
            raise TypeError(f"block axis must be an integer, got {self.axis!r}")

    # --- description -------------------------------------------------------------------
    @property
    def name(self) -> str:
        if self.label:
            return self.label
        parts = ["block", self.element.name, _scale_token(self.scale_format), f"g{self.block}", self.scale_rule]
        if self.tensor_scale:
            parts.append("t")
        if self.recipe == "reciprocal":
            parts.append("recip")
        if self.axis != -1:
            parts.append(f"ax{self.axis}")
        return "_".join(parts)

    @property
    def has_tensor_scale(self) -> bool:
        return bool(self.tensor_scale)

    @property
    def tensor_scale_divisor(self) -> float:
        """``element max * scale max``: ``S = amax_t / divisor`` maps the tensor's amax to the top scale."""
        return self.element.max * self.scale_format.max

    def bits_per_element(self, n: int | None = None) -> float:
        """Element bits + scale bits / block (+ 32 / n for the tensor scale when ``n`` is given)."""
        sbits = 8 if self.scale_format.bits == 7 else self.scale_format.bits  # a 7-bit scale takes a byte
        extra = 32.0 / n if (self.tensor_scale and n) else 0.0
        return self.element.bits + sbits / self.block + extra

    def info(self) -> dict:
        row = super().info()
        row.update(scale_rule=self.scale_rule, tensor_scale=self.tensor_scale, recipe=self.recipe, axis=self.axis)
        return row

    # --- encode / decode ------------------------------------------------------------------
    def _moved(self, arr):
        if self.axis == -1 or arr.ndim == 0:
            return arr
        ax = self._axis(arr.ndim)
        return np.ascontiguousarray(np.moveaxis(arr, ax, -1))

    def _axis(self, ndim) -> int:
        if not -ndim <= self.axis < ndim:
            raise ValueError(f"{self.name}: block axis {self.axis} is out of range for {ndim}-d input")
        return self.axis % ndim

    def encode(self, x, rounding="rne", overflow=None, seed=0, tensor_scale=None) -> BlockCodes:
        """Encode ``x`` (blocks along ``axis``); ``tensor_scale`` overrides the computed ``S``."""
        arr = as_float_array(x, self.name)
        if arr.ndim == 0:
            raise ValueError(f"{self.name}: input must have at least one dimension")
        moved = self._moved(arr)
        codes = encode_blocks(self, self.check_input(moved), rounding, overflow, seed, tensor_scale, self.name)
        if self.axis == -1:
            return codes
        ax = self._axis(arr.ndim)
        return BlockCodes(np.moveaxis(codes.elements, -1, ax), np.moveaxis(codes.scales, -1, ax),
                          codes.tensor_scale, self.name)

    def quantize(self, x, rounding="rne", overflow=None, seed=0, tensor_scale=None) -> np.ndarray:
        return self.decode(self.encode(x, rounding=rounding, overflow=overflow, seed=seed, tensor_scale=tensor_scale))

    def check_codes(self, codes) -> BlockCodes:
        if self.axis == -1 or not isinstance(codes, BlockCodes):
            return super().check_codes(codes)
        ax = self._axis(codes.elements.ndim)
        moved = BlockCodes(np.moveaxis(codes.elements, ax, -1), np.moveaxis(codes.scales, ax, -1),
                           codes.tensor_scale, codes.format)
        super().check_codes(moved)
        return codes

    def _tensor_multiplier(self, codes: BlockCodes) -> float:
        if not self.tensor_scale:
            return 1.0
        if codes.tensor_scale is None:
            raise ValueError(f"{self.name}: the codes carry no tensor_scale")
        return float(check_tensor_scale(self.name, codes.tensor_scale))

    def decode(self, codes: BlockCodes, dtype=np.float64) -> np.ndarray:
        """Value of every element: ``element * scale [* S]`` as float64 (exact for every preset), or
        float32 when ``dtype=np.float32`` (that value rounded once)."""
        codes = self.check_codes(codes)
        if self.axis == -1:
            return decode_blocks(self, codes, dtype)
        ax = self._axis(codes.elements.ndim)
        moved = BlockCodes(np.moveaxis(codes.elements, ax, -1), np.moveaxis(codes.scales, ax, -1),
                           codes.tensor_scale, codes.format)
        return np.moveaxis(decode_blocks(self, moved, dtype), -1, ax)


def check_tensor_scale(who, tensor_scale) -> np.float32:
    try:
        s = np.float32(tensor_scale)
    except (TypeError, ValueError):
        raise TypeError(f"{who}: tensor_scale must be a number, got {tensor_scale!r}") from None
    if not (np.isfinite(s) and s > 0):
        raise ValueError(f"{who}: tensor_scale must be a positive finite float32, got {tensor_scale!r}")
    return s


def tensor_scale_for(amax: float, den: float) -> np.float32:
    """``float32(amax / den)`` clamped to ``[2**-149, float32 max]``; 1 for ``amax == 0``."""
    if amax == 0:
        return np.float32(1.0)
    with np.errstate(over="ignore", under="ignore"):
        s = np.float32(amax / den)
    if s == 0:
        return np.float32(_F32_TINY)
    if not np.isfinite(s):
        return np.float32(_F32_MAX)
    return s


@functools.lru_cache(maxsize=None)
def _plan(fmt, mode: int):
    """Everything the kernel needs that depends only on the format and the rounding mode."""
    e, sf = fmt.element, fmt.scale_format
    emax = float(e.max)
    pexp = math.frexp(emax)[1] - 1
    P = math.ldexp(1.0, pexp)
    m_even = e.mbits if isinstance(e, Minifloat) else _sig_bits_minus_one(emax)
    kernel_elem = e if not (isinstance(e, Integer) and e.signed) else FixedPoint(e.bits, 0)
    path, table, ep, thr = VALUES, np.zeros(2, np.uint8), (0,) * 13, np.zeros(0, np.float64)
    if isinstance(e, Codebook) and mode != Rounding.STOCHASTIC and len(e.table) <= 16:
        t = e.thresholds(mode)
        path, thr = CODEBOOK, np.concatenate([t, np.full(15 - t.size, np.inf)])   # 15: the kernel's count
    if isinstance(kernel_elem, (Minifloat, FixedPoint)):
        path, ep = KERNEL, tuple(int(v) for v in element_params(kernel_elem))
        if e.bits <= 8 and mode != Rounding.STOCHASTIC and 2.0 ** -100 <= e.min_positive and e.max <= 2.0 ** 100:
            t = e._f32_table(Rounding(mode), Overflow.SATURATE, max(getattr(e, "nan_code", -1), 0))
            if t is not None:
                path, table = TABLE, np.ascontiguousarray(t, dtype=np.uint8)
    sp = tuple(int(v) for v in element_params(sf))
    pow2 = sf.mbits == 0 and not sf.zero
    stab = np.zeros(0, np.uint8)
    if sf.bits <= 8 and not pow2:   # the scale code of a quotient through the scale format's float32 table
        t = sf._f32_table(Rounding.RNE, Overflow.SATURATE, max(getattr(sf, "nan_code", -1), 0))
        if t is not None:
            stab = np.ascontiguousarray(t, dtype=np.uint8)
    ar = arith_fit(table, e.min_positive, e.bits) if path == TABLE else NO_ARITH
    return dict(ar=ar, emax=emax, pexp=pexp, P=P, m_even=m_even, emax_frac=emax / P - 1.0, path=path, table=table, ep=ep, thr=thr,
                etab=np.ascontiguousarray(e.values(), dtype=np.float64), sp=sp, cmax=int(sf.max_mag),
                snan=max(sf.nan_code, 0), pow2=pow2, smin=-sf.bias, smax=int(sf.max_mag) - sf.bias, sbias=sf.bias,
                stab=stab)



def encode_blocks(fmt, arr, rounding, overflow, seed, tensor_scale, name) -> BlockCodes:
    """Encode the checked float array ``arr`` (blocks along its last axis) in block format ``fmt``."""
    mode = parse_rounding(rounding)
    fmt.check_overflow(overflow)
    seed = check_seed(seed)
    flat = arr.reshape(-1)
    has_ts = fmt.has_tensor_scale
    recip = getattr(fmt, "recipe", "divide") == "reciprocal"
    if recip and flat.dtype != np.float32:
        raise ValueError(f"{name}: the reciprocal recipe models float32 kernels and takes float32 input, "
                         f"got {flat.dtype}; convert it or use recipe='divide'")
    if tensor_scale is not None and not has_ts:
        raise TypeError(f"{name} has no tensor scale; tensor_scale applies to formats with one (nvfp4, ..._t)")
    S = 1.0
    if has_ts:
        amax_t = float(amax_of(flat)) if flat.size else 0.0
        if not math.isfinite(amax_t):
            bad = ~np.isfinite(flat)
            where = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{name} cannot encode NaN or Inf (input holds {flat[where]} at flat index {where})")
        S = float(tensor_scale_for(amax_t, fmt.tensor_scale_divisor) if tensor_scale is None
                  else check_tensor_scale(name, tensor_scale))
    p = _plan(fmt, int(mode))
    rule = rule_code(fmt.scale_rule)
    pow2fast = p["pow2"] and not has_ts and rule <= 3
    sf, e = fmt.scale_format, fmt.element
    out_e = np.empty(flat.size, dtype=e.code_dtype)
    out_s = np.empty(flat.size // fmt.block, dtype=sf.code_dtype)
    q = np.empty(flat.size if p["path"] == VALUES else 1, dtype=np.float64)
    if flat.size:
        chunk = max(1, 4096 // fmt.block)
        xb = flat.view(np.uint32) if flat.dtype == np.float32 else np.empty(0, np.uint32)
        encode_kernel(flat, xb, fmt.block, rule, p["emax"], p["pexp"], p["P"], p["m_even"], p["emax_frac"], S,
                      pow2fast, p["smin"], p["smax"], p["sbias"], p["snan"], p["sp"], p["cmax"], recip, p["path"],
                      p["table"], p["ep"], p["etab"], int(mode), seed_key(np.uint64(seed)), chunk, out_e, out_s, q,
                      p["stab"], p["thr"], p["ar"] if USE_ARITH else NO_ARITH)
        if p["path"] == VALUES:
            out_e = e.encode(q, rounding=rounding, overflow="saturate", seed=seed)
    scale_shape = arr.shape[:-1] + (arr.shape[-1] // fmt.block,)
    return BlockCodes(out_e.reshape(arr.shape), out_s.reshape(scale_shape), np.float32(S) if has_ts else None, name)


def decode_blocks(fmt, codes: BlockCodes, dtype=np.float64) -> np.ndarray:
    """``element * scale * S`` of checked codes (blocks along the last axis)."""
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"{fmt.name}: decode dtype must be float32 or float64, got {dtype}")
    e = np.ascontiguousarray(codes.elements).reshape(-1)
    s = np.ascontiguousarray(codes.scales).reshape(-1)
    out = np.empty(e.size, dtype=dtype)
    if fmt.scale_format.bits <= 16 and DECODE_SCALE_TABLE:
        # the scale's value by its table inside the kernel (the MX/NVFP4 classes' kernel): the same
        # float64 products (stab[s] * tensor multiplier, exact; then element value * that), without
        # decoding the scale codes into an array first
        if e.size:
            block_decode_blocks(fmt.element._value_table, fmt.scale_format._value_table, e, s, fmt.block,
                                fmt._tensor_multiplier(codes), out)
        return out.reshape(codes.elements.shape)
    mult = fmt.scale_format.decode(s) * fmt._tensor_multiplier(codes)
    if e.size:
        decode_kernel(fmt.element._value_table, e, mult, fmt.block, out)
    return out.reshape(codes.elements.shape)


def block_scaled(element, scale="e8m0", block: int = 32, scale_rule: str = "nearest", tensor_scale: bool = False,
                 recipe: str = "divide", axis: int = -1) -> BlockScaled:
    """Build a block format from parts; ``element`` and ``scale`` may be names (see the module docstring)."""
    from .registry import get

    elem = get(element) if isinstance(element, str) else element
    return BlockScaled(elem, scale_format(scale), block, scale_rule, bool(tensor_scale), recipe, axis)
