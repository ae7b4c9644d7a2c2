"""The interface every scalar format shares, and the checks done before any kernel runs.

A family (integer, minifloat, posit, codebook) is a frozen dataclass that
derives from :class:`ScalarFormat` and supplies two kernels:

* ``_encode_flat(x, mode, overflow, nan_code, seed)`` on a contiguous 1-D float32 or
  float64 array, returning codes;
* ``_decode_flat(codes)`` on a 1-D uint64 array of codes, returning float64 values
  (used once to build the value table of formats of <= 16 bits, and directly for
  wider ones).

This class does the rest: input checking, the NaN policy, the table-driven fast
path for <= 8-bit formats fed with float32, decoding through a value table, and
``quantize``/``values``.
"""
from __future__ import annotations

import functools

import numba
import numpy as np
from numba import njit, prange

from .rounding import Overflow, Rounding, check_seed, parse_overflow, parse_rounding

__all__ = ["ScalarFormat", "as_float_array", "code_dtype"]


def code_dtype(bits: int):
    """Smallest unsigned integer dtype that holds a ``bits``-bit code."""
    if bits <= 8:
        return np.dtype(np.uint8)
    if bits <= 16:
        return np.dtype(np.uint16)
    if bits <= 32:
        return np.dtype(np.uint32)
    return np.dtype(np.uint64)


def as_float_array(x, who: str) -> np.ndarray:
    """Check and convert an input to a contiguous float32 or float64 array.

    float16 (and ml_dtypes' narrow floats) are widened to float32 exactly; integer
    arrays become float64 (exact below 2**53).  bool, complex, object and string
    inputs raise TypeError.  Non-contiguous arrays are copied; empty arrays are fine.
    """
    arr = np.asarray(x)
    kind = arr.dtype.kind
    if arr.dtype in (np.float32, np.float64):
        return arr if arr.flags.c_contiguous else arr.copy(order="C")
    if kind == "f" or (kind == "V" and arr.dtype.itemsize <= 2):
        # float16, and ml_dtypes' custom floats (kind 'V'), widen exactly to float32
        try:
            arr = arr.astype(np.float32)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{who}: cannot read input of dtype {arr.dtype}: {err}") from None
    elif kind in "iu":
        arr = arr.astype(np.float64)
    else:
        raise TypeError(
            f"{who}: input must be real numbers (float16/32/64 or integers), got dtype {arr.dtype}"
        )
    return arr if arr.flags.c_contiguous else arr.copy(order="C")


@njit(parallel=True, cache=True)
def _gather(table, codes, out):
    for i in prange(codes.size):
        out[i] = table[codes[i]]


@njit(cache=True, inline="always")
def f32_table_index(b):
    """The entry of a float32 table (:meth:`ScalarFormat._f32_table`, 2**17 entries) for the
    float32 with bits ``b`` (uint32): its top 16 bits, times 2, plus 1 when any of its low 16
    bits is set (so a value exactly on a 16-bit boundary has an entry of its own).  The one
    definition of that index for Numba code (``formats.torch.tables.f32_index`` is its torch twin)."""
    return ((b >> 16) << 1) | (1 if (b & 0xFFFF) != 0 else 0)


@njit(parallel=True, cache=True)
def _table_encode_f32(table, xb, out):
    for i in prange(xb.size):
        out[i] = table[f32_table_index(xb[i])]


@njit(cache=True)
def _max_code(codes):
    m = np.uint64(0)
    for i in range(codes.size):
        c = np.uint64(codes[i])
        if c > m:
            m = c
    return m


class ScalarFormat:
    """Shared behaviour of element formats: ``encode``, ``decode``, ``quantize``, ``values``.

    Subclasses are frozen dataclasses that define ``bits`` and the family hooks.
    """

    #: family name, e.g. "minifloat"
    family = "scalar"

    # --- what a family must provide -------------------------------------------------
    @property
    def name(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def has_nan(self) -> bool:
        return False

    @property
    def has_inf(self) -> bool:
        return False

    @property
    def nan_code(self) -> int:
        """The code that ``encode`` produces for NaN input (-1 when there is none)."""
        return -1

    @property
    def overflows(self) -> tuple:
        """Overflow policies this format accepts."""
        return (Overflow.SATURATE,)

    @property
    def default_overflow(self) -> Overflow:
        return Overflow.SATURATE

    def _encode_flat(self, x, mode, overflow, nan_code, seed):  # pragma: no cover
        raise NotImplementedError

    def _decode_flat(self, codes):  # pragma: no cover
        raise NotImplementedError

    # --- derived ----------------------------------------------------------------------
    @property
    def code_dtype(self):
        return code_dtype(self.bits)

    def __str__(self) -> str:
        return self.name

    def _resolve_overflow(self, overflow):
        if overflow is None:
            return self.default_overflow
        ovf = parse_overflow(overflow)
        if ovf not in self.overflows:
            raise ValueError(
                f"overflow policy {ovf.label!r} is not available for {self.name}; "
                f"allowed: {', '.join(o.label for o in self.overflows)}"
            )
        return ovf

    def encode(self, x, rounding="rne", overflow=None, seed=0) -> np.ndarray:
        """Round ``x`` to this format and return the codes (same shape, unsigned ints).

        ``rounding``: one of rne, rna, rtz, rup, rdn, stochastic.
        ``overflow``: saturate, inf, nan, wrap (those the format allows; None = the
        format's default).  NaN input to a format with no NaN code raises ValueError
        unless ``overflow`` is given explicitly, in which case NaN encodes to the
        format's zero code (``_zero_code``: +0, or a codebook's smallest magnitude).
        ``seed``: the stochastic-rounding seed (element i draws from (seed, i)).
        """
        arr = as_float_array(x, self.name)
        mode = parse_rounding(rounding)
        ovf = self._resolve_overflow(overflow)
        seed = check_seed(seed)
        flat = arr.reshape(-1)
        nan_code = self.nan_code
        if nan_code < 0:
            if np.isnan(flat).any():
                if overflow is None:
                    where = int(np.flatnonzero(np.isnan(flat))[0])
                    raise ValueError(
                        f"{self.name} has no NaN encoding and the input holds NaN "
                        f"(first at flat index {where}); pass an explicit overflow policy "
                        f"(e.g. overflow='saturate') to encode NaN as +0"
                    )
            nan_code = self._zero_code()
        if flat.size == 0:
            return np.empty(arr.shape, dtype=self.code_dtype)
        if flat.dtype == np.float32 and mode != Rounding.STOCHASTIC and self.bits <= 8:
            table = self._f32_table(mode, ovf, nan_code)
            if table is not None:
                out = np.empty(flat.size, dtype=self.code_dtype)
                _table_encode_f32(table, flat.view(np.uint32), out)
                return out.reshape(arr.shape)
        out = self._encode_flat(flat, mode, ovf, nan_code, seed)
        return out.reshape(arr.shape)

    def _zero_code(self) -> int:
        return 0

    @property
    def zero_code(self) -> int:
        """The code that stands for zero, which is also what NaN input encodes to in a format
        without a NaN code: 0 (+0) for integers, minifloats and posits, a codebook's entry of
        smallest magnitude."""
        return self._zero_code()

    def bits_per_element(self, n: int | None = None) -> float:
        """Bits one element occupies: ``bits`` (a scalar format has no shared scale; block
        formats add their scales' share: ``formats.MX.bits_per_element``, ``formats.NVFP4.bits_per_element``)."""
        return float(self.bits)

    @functools.lru_cache(maxsize=None)  # noqa: B019 - formats are immutable and few
    def _f32_table(self, mode, ovf, nan_code):
        """Encode table indexed by (top 16 bits of a float32, low 16 bits nonzero).

        Valid only if every float32 whose top half is ``h`` and whose low half is
        nonzero encodes to one code; encode is monotonic, so checking the two ends
        of each such run proves it.  Returns None where that fails.
        """
        hi = np.arange(1 << 16, dtype=np.uint32) << 16
        reps = np.stack([hi, hi | 1, hi | 0xFFFF], axis=1).reshape(-1)
        codes = self._encode_flat(reps.view(np.float32), mode, ovf, nan_code, 0).reshape(-1, 3)
        if not np.array_equal(codes[:, 1], codes[:, 2]):
            return None
        return np.ascontiguousarray(codes[:, :2].reshape(-1))

    def check_codes(self, codes) -> np.ndarray:
        """Validate an array of codes: integer dtype, every value below 2**bits.

        An empty array of any real dtype (``np.array([])`` is float64) holds no codes and
        is accepted as an empty array of codes."""
        arr = np.asarray(codes)
        if arr.size == 0 and arr.dtype.kind in "fiub":
            return np.zeros(arr.shape, dtype=self.code_dtype)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"{self.name}: codes must be integers, got dtype {arr.dtype}")
        if arr.size:
            if arr.dtype.kind == "i" and arr.min() < 0:
                raise ValueError(f"{self.name}: negative code {int(arr.min())}")
            if arr.dtype.kind == "u" and arr.dtype.itemsize * 8 <= self.bits:
                top = 0   # every value of the dtype fits
            elif arr.dtype.itemsize <= 4:
                top = int(arr.max())   # numpy's SIMD reduction (3-4x _max_code on uint8/uint16)
            else:
                top = int(_max_code(arr.reshape(-1)))
            if top >> self.bits:
                raise ValueError(
                    f"{self.name}: code {top:#x} does not fit in {self.bits} bits"
                )
        return arr if arr.flags.c_contiguous else arr.copy(order="C")

    def decode(self, codes) -> np.ndarray:
        """Exact float64 value of every code (NaN for NaN/NaR codes)."""
        arr = self.check_codes(codes)
        flat = arr.reshape(-1)
        if self.bits <= 16:
            out = np.empty(flat.size, dtype=np.float64)
            if flat.size:
                _gather(self._value_table, flat, out)
            return out.reshape(arr.shape)
        return self._decode_flat(flat.astype(np.uint64)).reshape(arr.shape)

    def quantize(self, x, rounding="rne", overflow=None, seed=0) -> np.ndarray:
        """``decode(encode(x, ...))``: the nearest value under the rounding mode, as float64."""
        return self.decode(self.encode(x, rounding=rounding, overflow=overflow, seed=seed))

    @functools.cached_property
    def _value_table(self) -> np.ndarray:
        if self.bits > 16:
            raise ValueError(f"{self.name}: values() is only for formats of <= 16 bits")
        return self._decode_flat(np.arange(1 << self.bits, dtype=np.uint64))

    def values(self) -> np.ndarray:
        """Value of every code (index = code), float64; formats of <= 16 bits only."""
        return self._value_table.copy()

    # --- the numbers the docs table shows ----------------------------------------------
    @functools.cached_property
    def _finite_positive(self) -> np.ndarray:
        v = self._value_table
        v = v[np.isfinite(v) & (v > 0)]
        return np.unique(v)

    @property
    def max(self) -> float:
        """Largest finite value."""
        return float(self._finite_positive[-1])

    @property
    def min_positive(self) -> float:
        """Smallest positive value (the smallest subnormal where there are subnormals)."""
        return float(self._finite_positive[0])

    def info(self) -> dict:
        """A row of the formats table: the conventions of this format."""
        return {
            "name": self.name,
            "family": self.family,
            "bits": self.bits,
            "max": self.max,
            "min_positive": self.min_positive,
            "inf": self.has_inf,
            "nan": self.has_nan,
            "default_overflow": self.default_overflow.label,
        }


def set_threads(n: int | None) -> int:
    """Set how many threads the parallel kernels use (None: all cores); returns the old value."""
    old = numba.get_num_threads()
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS if n is None else int(n))
    return old
