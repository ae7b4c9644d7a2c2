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
from .codebook import Codebook

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
        codes[g] = Codebook(tuple(float(t) for t in tables[g])).encode(groups[g]).astype(codes.dtype)
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
