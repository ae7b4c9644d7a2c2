"""Codebook (lookup-table) formats: any strictly increasing table of finite values.

A :class:`Codebook` stores a value as the index of a table entry: code ``c``
decodes to ``table[c]``; ``bits = ceil(log2(len(table)))``.  Codes at or
beyond ``len(table)`` are invalid (decode raises ValueError).  The table is the
dataclass field ``table`` (``Codebook(values)`` takes it positionally), so that
``values()`` keeps its meaning for every scalar format: the value of every code
(NaN for the unused codes up to ``2**bits``).  The preset
``nf4`` is QLoRA's 4-bit NormalFloat table (:data:`NF4_VALUES`).

Encoding (``lo < x < hi`` are the two table entries around ``x``)
-----------------------------------------------------------------
* An ``x`` equal to an entry encodes to that entry in every mode.
* ``x`` below the first entry or above the last (±Inf included) **saturates** to
  the end entry in every mode.
* ``rne``: the nearer entry; a tie goes to the **even index**.
* ``rna``: the nearer entry; a tie goes to the entry of larger magnitude ("away
  from zero"); when ``lo == -hi`` (then ``x == 0``) it goes to ``hi``.
* ``rup``: ``hi``.  ``rdn``: ``lo``.
* ``rtz``: toward zero: ``lo`` when ``lo >= 0``, ``hi`` when ``hi <= 0``; when the
  pair straddles zero (``lo < 0 < hi``, the table has no 0 there) it gives the
  entry on ``x``'s side of zero (``hi`` for ``x >= 0``, ``lo`` for ``x < 0``),
  so rtz never changes the sign.
* ``stochastic``: rounds to the entry away from zero on ``x``'s side with
  probability ``t``, the fraction of the gap covered from the other entry:
  for ``x >= 0``, ``hi`` iff ``u < (x - lo) / (hi - lo)``; for ``x < 0``,
  ``lo`` iff ``u < (hi - x) / (hi - lo)``, with ``u = draw32(seed, i) / 2**32``
  for flat index ``i`` (see :mod:`formats.rounding`).  ``E[q(x)] = x``.
* A codebook of a minifloat's values rounds exactly like that minifloat in every
  mode (stochastic draws included), except at rne ties: the codebook picks the
  even *index*, the minifloat the even *code*.
* Ties are found exactly: the midpoint of each pair is precomputed with
  fractions, so no float rounding can move a tie.
* −0.0 counts as 0 (``x >= 0``).  NaN raises ValueError unless an explicit
  ``overflow`` policy is given; then NaN encodes to the entry of smallest
  magnitude (the positive one of an equal pair), i.e. to 0.0 when the table has it.

The monotone deterministic modes let float32 inputs of <= 8-bit codebooks go
through :class:`~formats.base.ScalarFormat`'s table path.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import math
from fractions import Fraction

import numpy as np
from numba import njit, prange

from .base import ScalarFormat
from .rounding import draw32_keyed, seed_key
from .threads import run_ranges

__all__ = ["Codebook", "codebook", "NF4_VALUES", "NF4"]

#: QLoRA's NF4 table (Dettmers et al. 2023), as the float32 constants bitsandbytes uses
#: (``csrc/kernels.cu``); every entry is an exact float32.
NF4_VALUES = (
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
    -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
    0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
    0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
)

MAX_ENTRIES = 1 << 16


@njit(cache=True, inline="always")
def _encode_one(v, table, mid_floor, mid_exact, mode, u, nan_code):
    n = table.size
    if v != v:
        return nan_code
    if v <= table[0]:
        return 0
    if v >= table[n - 1]:
        return n - 1
    lo_i = 0
    hi_i = n - 1
    while hi_i - lo_i > 1:  # invariant: table[lo_i] <= v < table[hi_i]
        mid = (lo_i + hi_i) >> 1
        if table[mid] <= v:
            lo_i = mid
        else:
            hi_i = mid
    lo = table[lo_i]
    hi = table[hi_i]
    if lo == v:
        return lo_i
    nonneg = v >= 0.0
    if mode == 0 or mode == 1:  # nearest
        mf = mid_floor[lo_i]
        if v > mf:
            return hi_i
        if v == mf and mid_exact[lo_i]:  # tie
            if mode == 0:
                return lo_i if lo_i % 2 == 0 else hi_i
            if abs(hi) >= abs(lo):
                return hi_i
            return lo_i
        return lo_i
    if mode == 2:  # rtz
        if lo >= 0.0:
            return lo_i
        if hi <= 0.0:
            return hi_i
        return hi_i if nonneg else lo_i
    if mode == 3:
        return hi_i
    if mode == 4:
        return lo_i
    if nonneg:
        return hi_i if u < (v - lo) / (hi - lo) else lo_i
    return lo_i if u < (hi - v) / (hi - lo) else hi_i


@njit(parallel=True, cache=True)
def _encode_kernel(x, table, mid_floor, mid_exact, mode, key, nan_code, out):
    for i in prange(x.size):
        u = 0.0
        if mode == 5:
            u = draw32_keyed(key, i) * 2.3283064365386963e-10
        out[i] = _encode_one(float(x[i]), table, mid_floor, mid_exact, mode, u, nan_code)


@njit(cache=True)
def _ordered_key(v):
    """A uint64 that orders the non-NaN float64s as their values (-0.0 just below +0.0)."""
    b = np.array([v]).view(np.uint64)[0]
    return ~b if b >> np.uint64(63) else b | np.uint64(1 << 63)


@njit(cache=True)
def _key_value(k):
    b = k & np.uint64((1 << 63) - 1) if k >> np.uint64(63) else ~k
    return np.array([b]).view(np.float64)[0]


@njit(cache=True)
def _thresholds(table, mid_floor, mid_exact, mode):
    """``t[k]``, the largest float64 whose code is <= k, for a deterministic mode (its codes are
    monotone in the value), found by bisection on the ordered float64s: then the code of a non-NaN
    ``v`` is the number of ``k`` with ``v > t[k]``."""
    n = table.size
    t = np.empty(n - 1, np.float64)
    for k in range(n - 1):
        lo = _ordered_key(-np.inf)   # code 0 <= k
        hi = _ordered_key(np.inf)    # code n - 1 > k
        while hi - lo > 1:
            mid = lo + (hi - lo) // np.uint64(2)
            if _encode_one(_key_value(mid), table, mid_floor, mid_exact, mode, 0.0, 0) <= k:
                lo = mid
            else:
                hi = mid
        t[k] = _key_value(lo)
    return t


@njit(nogil=True, cache=True)
def count_above(v, thr, out, cnt):
    """``out[j] = #{k: v[j] > thr[k]}`` for the float64s ``v`` (no NaN); ``cnt``: int32 scratch of ``v.size``."""
    n = np.uint64(v.size)
    for j in range(n):
        cnt[j] = 0
    for k in range(thr.size):
        t = thr[k]
        for j in range(n):
            cnt[j] += np.int32(v[j] > t)
    for j in range(n):
        out[j] = cnt[j]


@njit(nogil=True, cache=True)
def _encode_thr_range(x, thr, nan_code, out, lo, hi):
    buf = np.empty(256, np.float64)
    cnt = np.empty(256, np.int32)
    for c0 in range(lo, hi, 256):
        m = min(256, hi - c0)
        for j in range(m):
            buf[j] = x[c0 + j]
        count_above(buf[:m], thr, out[c0:c0 + m], cnt)
        for j in range(m):
            if buf[j] != buf[j]:
                out[c0 + j] = nan_code


@njit(nogil=True, cache=True)
def _encode_bisect_range(x, thr, nan_code, out, lo, hi):
    """``out[i] = #{k: x[i] > thr[k]}`` (``nan_code`` for NaN) by a branch-free binary search over
    ``thr`` padded with +inf to a power of two (the threshold count of :meth:`Codebook.thresholds`
    for tables over 16 entries, where counting every threshold costs more)."""
    for i in range(lo, hi):
        v = x[i]
        pos = 0
        step = thr.size >> 1
        while step > 0:
            pos += step if v > thr[pos + step - 1] else 0
            step >>= 1
        out[i] = pos if v == v else nan_code


@dataclasses.dataclass(frozen=True)
class Codebook(ScalarFormat):
    """A lookup-table format over ``table``, a strictly increasing tuple of finite values.

    >>> cb = Codebook((-1.0, 0.0, 0.5, 1.0))
    >>> cb.bits, cb.encode([0.75, 0.3]).tolist()   # 0.75 ties between 0.5 (index 2) and 1.0
    (2, [2, 2])
    """

    table: tuple
    label: str | None = dataclasses.field(default=None, compare=False)

    family = "codebook"

    def __post_init__(self):
        try:
            arr = np.asarray(self.table, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"codebook values must be real numbers, got {self.table!r}") from None
        if arr.ndim != 1 or arr.size < 2:
            raise ValueError(f"a codebook needs a 1-D table of at least 2 values, got shape {arr.shape}")
        if arr.size > MAX_ENTRIES:
            raise ValueError(f"a codebook holds at most {MAX_ENTRIES} values, got {arr.size}")
        if not np.isfinite(arr).all():
            bad = arr[~np.isfinite(arr)][0]
            raise ValueError(f"codebook values must be finite, got {bad}")
        d = np.diff(arr)
        if (d <= 0).any():
            k = int(np.flatnonzero(d <= 0)[0])
            what = "duplicate" if d[k] == 0 else "out of order"
            raise ValueError(
                f"codebook values must be strictly increasing: entries {k} and {k + 1} "
                f"({arr[k]!r}, {arr[k + 1]!r}) are {what}"
            )
        object.__setattr__(self, "table", tuple(float(v) + 0.0 for v in arr))  # + 0.0 turns -0.0 into 0.0

    # --- description -------------------------------------------------------------------
    @property
    def bits(self) -> int:
        return max(1, (len(self.table) - 1).bit_length())

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        digest = hashlib.sha1(np.asarray(self.table, dtype="<f8").tobytes()).hexdigest()[:8]
        return f"codebook{len(self.table)}_{digest}"

    @property
    def max(self) -> float:
        """Largest entry."""
        return self.table[-1]

    @property
    def min(self) -> float:
        """Smallest entry."""
        return self.table[0]

    @property
    def min_positive(self) -> float:
        """Smallest positive entry (NaN when there is none)."""
        pos = [v for v in self.table if v > 0]
        return pos[0] if pos else math.nan

    def info(self) -> dict:
        row = super().info()
        row.update(entries=len(self.table), min=self.min)
        return row

    # --- kernels -------------------------------------------------------------------------
    @functools.cached_property
    def _kernel_tables(self):
        table = np.asarray(self.table, dtype=np.float64)
        mid_floor = np.empty(table.size - 1, dtype=np.float64)
        mid_exact = np.empty(table.size - 1, dtype=np.bool_)
        for k in range(table.size - 1):
            mid = (Fraction(self.table[k]) + Fraction(self.table[k + 1])) / 2
            f = float(mid)  # correctly rounded
            if Fraction(f) > mid:
                f = float(np.nextafter(f, -np.inf))
            mid_floor[k] = f
            mid_exact[k] = Fraction(f) == mid
        return table, mid_floor, mid_exact

    def thresholds(self, mode) -> np.ndarray:
        """For a deterministic rounding mode, the float64s ``t`` with ``code(v) = #{k: v > t[k]}`` for
        every non-NaN ``v`` (read-only; cached)."""
        mode = int(mode)
        if mode == 5:
            raise ValueError(f"{self.name}: stochastic rounding has no thresholds")
        cache = self.__dict__.setdefault("_thr_cache", {})
        if mode not in cache:
            t = _thresholds(*self._kernel_tables, mode)
            t.flags.writeable = False
            cache[mode] = t
        return cache[mode]

    def _padded_thresholds(self, mode) -> np.ndarray:
        """:meth:`thresholds` padded with +inf to a power-of-two length (cached)."""
        cache = self.__dict__.setdefault("_pthr_cache", {})
        mode = int(mode)
        if mode not in cache:
            t = self.thresholds(mode)
            p = 1 << int(t.size).bit_length()   # > t.size: at least one +inf
            cache[mode] = np.concatenate([t, np.full(p - t.size, np.inf)])
        return cache[mode]

    def _zero_code(self) -> int:
        mags = [(abs(v), -v) for v in self.table]
        return mags.index(min(mags))

    def _encode_flat(self, x, mode, overflow, nan_code, seed):
        table, mid_floor, mid_exact = self._kernel_tables
        out = np.empty(x.size, dtype=self.code_dtype)
        with np.errstate(invalid="ignore"):  # float32 signalling NaNs quieten
            x64 = x.astype(np.float64, copy=False)  # exact; one compiled kernel
        if int(mode) != 5 and table.size <= 16 and x.size:   # deterministic: count the thresholds below
            run_ranges(_encode_thr_range, x.size, x64, self.thresholds(mode), np.int64(nan_code), out,
                       grain=1 << 14)
            return out
        if int(mode) != 5 and x.size:   # deterministic, a larger table: bisect the thresholds
            run_ranges(_encode_bisect_range, x.size, x64, self._padded_thresholds(mode), np.int64(nan_code), out,
                       grain=1 << 14)
            return out
        _encode_kernel(x64, table, mid_floor, mid_exact, int(mode), seed_key(np.uint64(seed)),
                       np.int64(nan_code), out)
        return out

    def _decode_flat(self, codes):
        table = np.asarray(self.table, dtype=np.float64)
        out = np.full(codes.size, np.nan)
        ok = codes < table.size
        out[ok] = table[codes[ok].astype(np.int64)]
        return out

    def check_codes(self, codes) -> np.ndarray:
        arr = super().check_codes(codes)
        if arr.size and int(arr.max()) >= len(self.table):
            raise ValueError(
                f"{self.name}: code {int(arr.max())} is not an index of the {len(self.table)}-entry table"
            )
        return arr


def codebook(values, label: str | None = None) -> Codebook:
    """A codebook format over ``values`` (strictly increasing, finite, at least 2)."""
    return Codebook(values, label=label)


#: QLoRA's NF4 as a format.
NF4 = Codebook(NF4_VALUES, label="nf4")
