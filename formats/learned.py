"""Learned codebooks (any4-style tables fitted to the data) and per-group format selection (BitMoD-style).

``fit(weights, entries=16, per="row"|"tensor", iters=100)`` fits a table of
``entries`` values to each row (or to the whole tensor) by Lloyd's algorithm
(k-means in one dimension) and stores the tables alongside the codes.  It is
deterministic: no random start, no threads in the arithmetic.

1. The values of a group (a row, or the flattened tensor), as float64, are sorted.
2. Start: entry ``k`` is the sorted value at index ``floor((k + 1/2) n / entries)``.
3. Step: boundaries are the midpoints of neighbouring entries; a value below a
   boundary belongs to the lower entry, a value on it or above to the upper one;
   each entry becomes the mean of its values (summed in sorted order), and an
   entry with no values keeps its place.  Steps repeat until no entry changes or
   ``iters`` steps are done.
4. Entries are made strictly increasing (an entry not above its left neighbour
   becomes that neighbour's next float64), and codes are the
   :class:`~formats.codebook.Codebook` round-to-nearest-even codes of each value
   in its group's table.

``select_per_group(x, formats, group=128)`` encodes every group of ``group``
consecutive elements (last axis) in each candidate block format with that group
size and keeps, per group, the candidate with the smallest squared error
``sum (x - q)**2`` (float64, numpy's sum; a tie keeps the earlier candidate),
recording the choice.
"""
from __future__ import annotations

import dataclasses

import numpy as np
from numba import njit

from .base import as_float_array
from .codebook import Codebook, _encode_one

__all__ = ["FittedCodebook", "fit", "GroupChoice", "select_per_group"]


@njit(cache=True)
def _lloyd(v, entries, iters):
    """Lloyd's algorithm on sorted float64 ``v``; returns the entries (float64, non-decreasing)."""
    n = v.size
    c = np.empty(entries)
    for k in range(entries):
        c[k] = v[min(n - 1, int(np.floor((k + 0.5) * n / entries)))]
    for _ in range(iters):
        changed = False
        lo = 0
        new = c.copy()
        for k in range(entries):
            hi = n
            if k < entries - 1:
                b = 0.5 * (c[k] + c[k + 1])
                hi = lo
                while hi < n and v[hi] < b:
                    hi += 1
            if hi > lo:
                s = 0.0
                for i in range(lo, hi):
                    s += v[i]
                m = s / (hi - lo)
                if m != c[k]:
                    changed = True
                new[k] = m
            lo = hi
        c = new
        if not changed:
            break
    return c


#: below this magnitude a table's midpoint arithmetic could meet float64 subnormals (where halving
#: rounds; above 2**1020 a sum could overflow): such tables take :class:`~formats.codebook.Codebook`'s
#: exact-fraction path instead
_TINY = 2.0 ** -1000


@njit(cache=True, inline="always")
def _mids(t, mid_floor, mid_exact):
    """Each midpoint of neighbouring entries of ``t``, rounded down to float64, and whether it is
    exact: the sum by TwoSum (its rounding error exactly), halving exact above :data:`_TINY`.
    The same numbers as Codebook's Fraction arithmetic, without Fractions."""
    for k in range(t.size - 1):
        a, b = t[k], t[k + 1]
        s = a + b
        bb = s - a
        err = (a - (s - bb)) + (b - bb)   # a + b = s + err exactly
        h = s * 0.5
        if err == 0.0:
            mid_floor[k], mid_exact[k] = h, True
        elif err > 0.0:
            mid_floor[k], mid_exact[k] = h, False
        else:
            mid_floor[k], mid_exact[k] = np.nextafter(h, -np.inf), False


@njit(cache=True, nogil=True)
def _encode_rows(x, tables, out):
    """Round-to-nearest-even codes of each row of ``x`` (float64, 2-D) in its row of ``tables``."""
    m = tables.shape[1]
    mid_floor = np.empty(m - 1)
    mid_exact = np.empty(m - 1, np.bool_)
    for i in range(x.shape[0]):
        _mids(tables[i], mid_floor, mid_exact)
        for j in range(x.shape[1]):
            out[i, j] = _encode_one(x[i, j], tables[i], mid_floor, mid_exact, 0, 0.0, 0)


def nearest_codes(x: np.ndarray, tables: np.ndarray, dtype=np.uint8) -> np.ndarray:
    """Codes of each row of ``x`` (2-D, finite) in the strictly increasing row of ``tables`` with the
    same index: exactly :meth:`Codebook.encode` (round to nearest, ties to the even index) row by
    row, in one compiled pass."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    tables = np.ascontiguousarray(tables, dtype=np.float64)
    out = np.empty(x.shape, dtype=dtype)
    nz = np.abs(tables[tables != 0])
    if nz.size and (nz.min() < _TINY or nz.max() > 2.0 ** 1020):   # near float64's ends, where a sum could
        # overflow or a halving round: the exact-fraction path, row by row
        for i in range(x.shape[0]):
            out[i] = Codebook(tuple(float(t) for t in tables[i])).encode(x[i]).astype(dtype)
        return out
    _encode_rows(x, tables, out)
    return out


@dataclasses.dataclass(frozen=True, eq=False)
class FittedCodebook:
    """Tables fitted by :func:`fit` and the codes of the data they were fitted to."""

    #: one table per group, shape ``(groups, entries)`` (float64, strictly increasing rows)
    tables: np.ndarray
    #: codes, same shape as the weights (uint8 for <= 256 entries)
    codes: np.ndarray
    #: ``"row"`` (one table per row of the last axis) or ``"tensor"``
    per: str

    def codebooks(self) -> list:
        """A :class:`~formats.codebook.Codebook` per group."""
        return [Codebook(tuple(float(t) for t in row)) for row in self.tables]

    def decode(self) -> np.ndarray:
        """The fitted values of the data: ``tables[group, code]`` (float64, shape of the codes)."""
        if self.per == "tensor":
            return self.tables[0][self.codes.astype(np.int64)]
        c = self.codes.reshape(-1, self.codes.shape[-1]).astype(np.int64)
        return np.take_along_axis(self.tables, c, axis=1).reshape(self.codes.shape)


def _strict(c: np.ndarray) -> np.ndarray:
    c = c.copy()
    for k in range(1, c.size):
        if c[k] <= c[k - 1]:
            c[k] = np.nextafter(c[k - 1], np.inf)
    return c


def fit(weights, entries: int = 16, per: str = "row", iters: int = 100) -> FittedCodebook:
    """Fit ``entries``-value tables to ``weights`` (per row of the last axis, or per tensor)."""
    w = as_float_array(weights, "codebook fit").astype(np.float64)
    if isinstance(entries, bool) or not isinstance(entries, (int, np.integer)) or not 2 <= entries <= 65536:
        raise ValueError(f"entries must be an integer in 2..65536, got {entries!r}")
    if per not in ("row", "tensor"):
        raise ValueError(f"per must be 'row' or 'tensor', got {per!r}")
    if isinstance(iters, bool) or not isinstance(iters, (int, np.integer)) or iters < 0:
        raise ValueError(f"iters must be a non-negative integer, got {iters!r}")
    if w.size == 0 or w.ndim == 0:
        raise ValueError("codebook fit needs a non-empty array with at least one dimension")
    if not np.isfinite(w).all():
        raise ValueError("codebook fit needs finite weights (the input holds NaN or Inf)")
    groups = w.reshape(1, -1) if per == "tensor" else w.reshape(-1, w.shape[-1])
    tables = np.empty((groups.shape[0], entries))
    codes = np.empty(groups.shape, dtype=np.uint8 if entries <= 256 else np.uint16)
    for g in range(groups.shape[0]):
        tables[g] = _strict(_lloyd(np.sort(groups[g]), entries, int(iters)))
    codes = nearest_codes(groups, tables, codes.dtype)
    return FittedCodebook(tables, codes.reshape(w.shape), per)


@dataclasses.dataclass(frozen=True, eq=False)
class GroupChoice:
    """What :func:`select_per_group` chose: a candidate index per group and each group's codes."""

    #: the candidates, in the order given
    formats: tuple
    #: index of the chosen candidate per group, shape ``(..., K // group)`` (uint8)
    choice: np.ndarray
    #: the BlockCodes of every candidate (only the chosen group's codes are used)
    codes: tuple

    def decode(self) -> np.ndarray:
        """The values of the chosen encodings (float64)."""
        vals = np.stack([f.decode(c) for f, c in zip(self.formats, self.codes)])
        k = self.formats[0].block
        pick = np.repeat(self.choice.astype(np.int64), k, axis=-1)
        return np.take_along_axis(vals, pick[None], axis=0)[0]


def select_per_group(x, formats, group: int = 128, rounding="rne") -> GroupChoice:
    """Per group of ``group`` elements, the candidate (a format name or object) of least squared error.

    A scalar candidate is used as the element of ``block_<element>_fp32_g<group>_rceil``
    (an absmax scale per group, as BitMoD does); a block candidate must have block ``group``.
    """
    from .registry import get
    from .scaled import BlockScaled, scale_format

    if not formats:
        raise ValueError("select_per_group needs at least one candidate format")
    cands = []
    for f in formats:
        f = get(f)
        if not hasattr(f, "block"):
            f = BlockScaled(f, scale_format("fp32"), group, "rceil")
        if f.block != group:
            raise ValueError(f"candidate {f.name} has block {f.block}; every candidate needs block {group}")
        cands.append(f)
    arr = as_float_array(x, "select_per_group")
    codes = tuple(f.encode(arr, rounding=rounding) for f in cands)
    errs = []
    for f, c in zip(cands, codes):
        d = (arr.astype(np.float64) - f.decode(c)).reshape(arr.shape[:-1] + (-1, group))
        errs.append(np.sum(d * d, axis=-1))
    choice = np.argmin(np.stack(errs), axis=0).astype(np.uint8)  # argmin keeps the first of equals
    return GroupChoice(tuple(cands), choice, codes)


@dataclasses.dataclass(frozen=True)
class LearnedFormat:
    """A weight format fitted to the tensor it stores: ``lut<b>_row`` / ``lut<b>_tensor``.

    ``encode(x)`` fits a ``2**b``-entry table (:func:`fit`) to each slice of ``x`` along
    axis 0 (``row``: ``x.reshape(len(x), -1)``, a weight's output channel; any4 with
    ``b = 4``) or to the whole tensor, rounds the tables to float32 (what is stored: 32
    bits per entry, made strictly increasing in float32), and codes every value by the
    codebook rule (nearest entry, ties to the even code) in its float32 table.  The
    table is the scale: nothing else is stored.  ``storage_bits(shape)`` counts codes and
    tables.  Deterministic (fit has no random start).  Weight-only: a table fitted per
    batch of activations is no deployable format, so the QAT/PTQ path refuses it for
    activations.  Round to nearest only.
    """

    bits: int
    per: str = "row"
    iters: int = 100
    family = "learned"
    table_bits = 32

    def __post_init__(self):
        if isinstance(self.bits, bool) or not isinstance(self.bits, (int, np.integer)) or not 1 <= self.bits <= 8:
            raise ValueError(f"lut formats take 1..8 bits per code, got {self.bits!r}")
        if self.per not in ("row", "tensor"):
            raise ValueError(f"lut per must be 'row' or 'tensor', got {self.per!r}")

    @property
    def name(self) -> str:
        return f"lut{self.bits}_{self.per}"

    @property
    def entries(self) -> int:
        return 1 << self.bits

    def _groups(self, x) -> np.ndarray:
        arr = as_float_array(x, self.name).astype(np.float64)
        if arr.ndim == 0 or arr.size == 0:
            raise ValueError(f"{self.name} needs a non-empty array with at least one dimension")
        return arr.reshape(1, -1) if (self.per == "tensor" or arr.ndim == 1) else arr.reshape(arr.shape[0], -1)

    def encode(self, x) -> FittedCodebook:
        """Fitted float32 tables (as float64 values) and codes, codes in ``x``'s shape."""
        g = self._groups(x)
        fc = fit(g, self.entries, "row", self.iters)
        tables = np.empty_like(fc.tables)
        for i, row in enumerate(fc.tables):
            t = row.astype(np.float32)
            for k in range(1, t.size):  # strictly increasing after rounding, as fit's tables are
                if t[k] <= t[k - 1]:
                    t[k] = np.nextafter(t[k - 1], np.float32(np.inf))
            tables[i] = t
        codes = nearest_codes(g, tables)
        return FittedCodebook(tables, codes.reshape(np.shape(x)), self.per if np.ndim(x) > 1 else "tensor")

    def decode(self, codes: FittedCodebook) -> np.ndarray:
        if not isinstance(codes, FittedCodebook):
            raise TypeError(f"{self.name}.decode takes the FittedCodebook that {self.name}.encode returns")
        if codes.per == "tensor":
            return codes.tables[0][codes.codes.astype(np.int64)]
        c = codes.codes.reshape(codes.tables.shape[0], -1).astype(np.int64)
        return np.take_along_axis(codes.tables, c, axis=1).reshape(codes.codes.shape)

    def quantize(self, x) -> np.ndarray:
        """``decode(encode(x))``: every value replaced by its entry (float64)."""
        return self.decode(self.encode(x))

    def storage_bits(self, shape) -> int:
        """Bits to store a tensor of ``shape``: ``b`` per code plus 32 per table entry."""
        n = int(np.prod(shape))
        groups = 1 if (self.per == "tensor" or len(shape) == 1) else int(shape[0])
        return n * self.bits + groups * self.entries * self.table_bits


@dataclasses.dataclass(frozen=True)
class PickFormat:
    """Per-group format choice as a format: ``pick_<a>+<b>+..._g<group>`` (BitMoD-style).

    Each group of ``group`` consecutive elements (last axis) takes the candidate of
    least squared error (:func:`select_per_group`: scalar candidates get an fp32 absmax
    scale per group with the rceil rule).  Stored: the element codes, the group's scale,
    and ``ceil(log2(len(candidates)))`` bits per group for the choice.
    """

    candidates: tuple
    group: int = 128
    family = "pick"

    def __post_init__(self):
        from .registry import get

        if len(self.candidates) < 2:
            raise ValueError("pick_ needs at least two candidate formats, e.g. pick_fp4_e2m1+fp4_e1m2+fp4_e3m0_g128")
        for c in self.candidates:
            f = get(c)
            if hasattr(f, "block") or not hasattr(f, "bits"):
                raise ValueError(f"pick_ candidates are scalar formats (each gets a scale per group); {c!r} is not")

    @property
    def name(self) -> str:
        return f"pick_{'+'.join(self.candidates)}_g{self.group}"

    @property
    def bits(self) -> int:
        from .registry import get

        return max(get(c).bits for c in self.candidates)

    def encode(self, x, rounding="rne") -> GroupChoice:
        return select_per_group(x, list(self.candidates), self.group, rounding)

    def decode(self, codes: GroupChoice) -> np.ndarray:
        if not isinstance(codes, GroupChoice):
            raise TypeError(f"{self.name}.decode takes the GroupChoice that {self.name}.encode returns")
        return codes.decode()

    def quantize(self, x, rounding="rne") -> np.ndarray:
        return self.decode(self.encode(x, rounding))

    def storage_bits(self, shape) -> int:
        """Element codes, one fp32 scale per group, and the choice's bits per group."""
        n = int(np.prod(shape))
        groups = n // self.group
        choice = max(1, int(np.ceil(np.log2(len(self.candidates)))))
        return n * self.bits + groups * (32 + choice)
