"""The engine's modes and the integer tables its kernels run on.

A mode names the element format of both operands and how many sub-words of
``w = 16 // k`` bits one 16-bit word holds.  Everything numeric here is derived
from ``formats`` (``values()`` of the element format): no format constant is
re-derived.

Every finite element value ``v`` is an integer multiple of ``2**lsb``, where
``lsb`` is the exponent of the lowest set bit over all finite nonzero values of
the element format.  The kernels work on ``V = v / 2**lsb`` (an integer), split
as ``V = sig * 2**sh`` with ``sig`` odd (or 0).  A product is then the integer
``sig_a * sig_b`` at weight ``2**(sh_a + sh_b + 2*lsb)``.
"""
from __future__ import annotations

import dataclasses
import functools

import numpy as np

import formats

__all__ = ["MODES", "ModeSpec", "mode_spec", "mode_for", "Tables", "tables", "exact_width"]

#: mode name -> (element format preset, sub-words per 16-bit word, block or 0).  Block modes
#: (preset None) take their element, scale and block size from the block format of the same
#: name: MX (E8M0 scale per 32) and NVFP4 (UE4M3 scale per 16, FP32 scale per tensor).
MODES = {
    "int4": ("int4", 4, 0),
    "int8": ("int8", 2, 0),
    "fp4_e2m1": ("fp4_e2m1", 4, 0),
    "posit4_1": ("posit4_1", 4, 0),
    "posit8_0": ("posit8_0", 2, 0),
    "posit16_1": ("posit16_1", 1, 0),
    "fp8_e4m3": ("fp8_e4m3", 2, 0),
    "fp8_e5m2": ("fp8_e5m2", 2, 0),
    "mxfp4": (None, 4, 32),
    "mxint8": (None, 2, 32),
    "nvfp4": (None, 4, 16),
}

#: accumulation cycles the exact accumulator is sized for (never overflows before)
EXACT_CYCLES = 1 << 16

# class codes of the ``cls`` table
FINITE, NAN, PINF, NINF = 0, 1, 2, 3


@dataclasses.dataclass(frozen=True)
class ModeSpec:
    """One engine mode: its element format, sub-words per word and MX block size."""

    name: str
    k: int
    block: int  # 0 for modes without block scales

    @property
    def w(self) -> int:
        """Bits of one sub-word (= element code width)."""
        return 16 // self.k

    @property
    def mx(self) -> bool:
        """A block-scaled mode (MX or NVFP4): exact block sums added into an FP32 sum."""
        return self.block > 0

    @functools.cached_property
    def tensor_scale(self) -> bool:
        """The mode takes an FP32 scale per operand tensor, applied at readout (NVFP4)."""
        return self.mx and bool(formats.get(self.name).has_tensor_scale)

    @functools.cached_property
    def element(self):
        """The element format object (for MX modes: the block format's ``.element``)."""
        preset = MODES[self.name][0]
        if preset is not None:
            return formats.get(preset)
        return formats.get(self.name).element

    @functools.cached_property
    def scale_format(self):
        """The block scale format (E8M0 for MX, UE4M3 for NVFP4), None for other modes."""
        if not self.mx:
            return None
        return formats.get(self.name).scale_format

    @property
    def family(self) -> str:
        """'posit', 'int', 'float' or 'mx': decides the native readout."""
        if self.mx:
            return "mx"
        if isinstance(self.element, formats.Posit):
            return "posit"
        return "int" if isinstance(self.element, formats.Integer) else "float"


def mode_spec(mode) -> ModeSpec:
    """The :class:`ModeSpec` of ``mode`` (case-insensitive); ValueError names the allowed modes."""
    if isinstance(mode, ModeSpec):
        return mode
    if not isinstance(mode, str) or mode.strip().lower() not in MODES:
        raise ValueError(f"unknown engine mode {mode!r}; allowed: {', '.join(MODES)}")
    key = mode.strip().lower()
    _, k, block = MODES[key]
    return ModeSpec(key, k, block)


def mode_for(fmt) -> str | None:
    """The engine mode that multiplies operands of format ``fmt`` (a name or a format
    object), or None when the engine has no such mode.

    Decided by the format's description, not its spelling: ``fp4_e2m1fin`` and
    ``FP4_E2M1`` are the same description as ``fp4_e2m1``, so they map to mode
    ``fp4_e2m1``; ``mxfp4_e2m1`` maps to ``mxfp4``.  An unknown name raises formats'
    KeyError.

    >>> mode_for("fp4_e2m1fin"), mode_for("mxfp4_e2m1"), mode_for("bf16")
    ('fp4_e2m1', 'mxfp4', None)
    """
    want = formats.get(fmt)
    for mode, have in _mode_formats():
        if type(have) is type(want) and have == want:
            return mode
    return None


@functools.lru_cache(maxsize=None)
def _mode_formats() -> tuple:
    """(mode, the format object its operands are in) for every mode: the element format,
    or the block format for MX modes."""
    return tuple((m, formats.get(MODES[m][0] or m)) for m in MODES)


def _lowest_bit_exponents(v: np.ndarray) -> np.ndarray:
    """Exponent of the lowest set bit of every finite nonzero float64 (exact, from frexp)."""
    m, e = np.frexp(np.abs(v))
    mi = (m * 2.0**53).astype(np.int64)  # exact: 53-bit integer significand
    tz = np.zeros(mi.shape, dtype=np.int64)
    rest = mi.copy()
    for _ in range(53):
        even = (rest & 1) == 0
        if not even.any():
            break
        tz += even
        rest = np.where(even, rest >> 1, rest)
    return e.astype(np.int64) - 53 + tz


def exact_width(vmin: int, vmax: int, n_products: int) -> int:
    """Two's-complement width that holds any sum of ``n_products`` products of two
    integers in [vmin, vmax] (one sign bit included)."""
    pmax = max(vmin * vmin, vmax * vmax)
    pmin = min(vmin * vmax, 0)
    hi, lo = n_products * pmax, n_products * pmin
    n = 2
    while not (-(1 << (n - 1)) <= lo and hi <= (1 << (n - 1)) - 1):
        n += 1
    return n


@dataclasses.dataclass(frozen=True)
class Tables:
    """Per-code tables of a mode's element format (index = code)."""

    values: np.ndarray   # float64 value (NaN for NaN/NaR, ±inf)
    cls: np.ndarray      # uint8: FINITE, NAN, PINF, NINF
    sgn: np.ndarray      # int64: sign of the value (-1, 0, +1), ±1 for ±Inf, 0 for NaN
    val: np.ndarray      # int64 V = value / 2**lsb (0 for specials)
    sig: np.ndarray      # int64 odd part of V (0 for zero and specials)
    sh: np.ndarray       # int64 V = sig << sh
    lsb: int             # exponent of the element quantum
    has_special: bool    # any NaN/NaR/Inf code
    frac_bits: int       # exact accumulator: fraction bits F = -2*lsb
    width: int           # exact accumulator: total width W (sign included)
    limbs: int           # 32-bit limbs the limb kernels use (>= ceil(W/32) + 1)
    small: bool          # the exact sum fits one int64 (W <= 62): the fast kernel


@functools.lru_cache(maxsize=None)
def tables(mode: str) -> Tables:
    spec = mode_spec(mode)
    v = np.ascontiguousarray(spec.element.values(), dtype=np.float64)
    if v.size != 1 << spec.w:
        raise ValueError(f"mode {spec.name}: element {spec.element.name} has {v.size} codes, "
                         f"expected {1 << spec.w}")
    cls = np.zeros(v.size, dtype=np.uint8)
    cls[np.isnan(v)] = NAN
    cls[v == np.inf] = PINF
    cls[v == -np.inf] = NINF
    fin = np.isfinite(v)
    nz = fin & (v != 0)
    lsb = int(_lowest_bit_exponents(v[nz]).min())
    val = np.zeros(v.size, dtype=np.int64)
    val[fin] = np.ldexp(v[fin], -lsb).astype(np.int64)
    assert np.array_equal(np.ldexp(val[fin].astype(np.float64), lsb), v[fin]), "non-integer V"
    sig = val.copy()
    sh = np.zeros(v.size, dtype=np.int64)
    while True:
        even = (sig != 0) & ((sig & 1) == 0)
        if not even.any():
            break
        sig[even] >>= 1
        sh[even] += 1
    sgn = np.sign(val).astype(np.int64)
    sgn[cls == PINF] = 1
    sgn[cls == NINF] = -1
    n_products = spec.block if spec.mx else EXACT_CYCLES * spec.k
    vmin, vmax = int(val.min()), int(val.max())
    width = exact_width(vmin, vmax, n_products)
    max_shift = 2 * int(sh.max())
    limbs = max(-(-width // 32) + 1, (max_shift >> 5) + 2)
    if int(np.abs(sig).max()) ** 2 >= 1 << 31:
        raise ValueError(f"mode {spec.name}: significands too wide for the limb kernels")
    return Tables(values=v, cls=cls, sgn=sgn, val=val, sig=sig, sh=sh, lsb=lsb,
                  has_special=bool((cls != FINITE).any()), frac_bits=-2 * lsb, width=width,
                  limbs=limbs, small=width <= 62)


@functools.lru_cache(maxsize=None)
def scale_tables(mode: str):
    """Block scale code -> (significand int64, exponent int64, is-NaN uint8) with
    value = significand * 2**exponent (significand odd, or 0 for a zero scale), from the
    block format's scale values (E8M0: significand 1; UE4M3: 1..15)."""
    spec = mode_spec(mode)
    fmt = formats.get(spec.name)
    if fmt.block != spec.block:
        raise ValueError(f"mode {spec.name}: the engine takes blocks of {spec.block}, "
                         f"the format has {fmt.block}")
    v = spec.scale_format.values()
    nan = np.isnan(v)
    fin = ~nan
    e = np.zeros(v.size, dtype=np.int64)
    sig = np.zeros(v.size, dtype=np.int64)
    nz = fin & (v != 0)
    e[nz] = _lowest_bit_exponents(v[nz])
    sig[nz] = np.ldexp(v[nz], -e[nz]).astype(np.int64)
    assert np.array_equal(np.ldexp(sig[fin].astype(np.float64), e[fin]), v[fin]), "inexact scale"
    assert int(sig.max()) < 1 << 8, "scale significands must fit 8 bits"
    return sig, e, nan.astype(np.uint8)
