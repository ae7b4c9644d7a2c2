"""Lookup tables of scalar formats as torch tensors, built once per format, device and dtype.

* value table: ``values()[code]`` of a format of <= 16 bits (decode is one gather);
* float32 encode table: formats' own ``_f32_table`` (index = top 16 bits of a
  float32 and a low-16-bits-nonzero flag), for formats of <= 8 bits and the
  deterministic modes;
* quantize table: the two composed, so a float32 fake-quant is one gather;
* stochastic tables: the codes toward zero (rtz) and away from zero (rup for
  positive, rdn for negative inputs) and their magnitudes, from which
  stochastic rounding takes ``t = (|x| - lo) / (hi - lo)`` in float64.  For
  integers, minifloats and fixed point the two neighbours are one quantum (a
  power of two) apart, so that ``t`` is exact and ``u < t`` is the integer
  test of :func:`formats.bits.round_at`; for posits it is formats' own float64
  formula.  Only with saturation (with Inf/NaN overflow, values past the
  largest finite round on a virtual quantum that no table holds).

The tables are computed by the Numba kernels of :mod:`formats` themselves, so
they agree with them by construction.
"""
from __future__ import annotations

import torch

__all__ = ["value_table", "f32_encode_table", "f32_quantize_table", "f32_stochastic_tables", "f32_index"]

_CACHE: dict = {}


def _cached(key, build):
    t = _CACHE.get(key)
    if t is None:
        t = _CACHE[key] = build()
    return t


def value_table(fmt, device, dtype) -> torch.Tensor:
    """Value of every code (formats' float64 value table) cast to ``dtype`` on ``device``."""
    return _cached(("values", fmt, fmt.name, str(device), dtype),
                   lambda: torch.from_numpy(fmt._value_table.copy()).to(device=device).to(dtype))


def f32_encode_table(fmt, mode, ovf, nan_code, device):
    """int64 code table for float32 input, or None where formats has none for these settings."""
    def build():
        t = fmt._f32_table(mode, ovf, nan_code)
        return None if t is None else torch.from_numpy(t.astype("int64")).to(device)

    return _cached(("f32enc", fmt, fmt.name, int(mode), int(ovf), nan_code, str(device)), build)


def f32_quantize_table(fmt, mode, ovf, nan_code, device, dtype):
    """Value table composed with the float32 encode table (or None)."""
    def build():
        enc = f32_encode_table(fmt, mode, ovf, nan_code, device)
        return None if enc is None else value_table(fmt, device, dtype)[enc]

    return _cached(("f32q", fmt, fmt.name, int(mode), int(ovf), nan_code, str(device), dtype), build)


def f32_index(x: torch.Tensor) -> torch.Tensor:
    """Table index of each float32: ``(top 16 bits) * 2 + (low 16 bits != 0)`` (int32, flat)."""
    b = x.view(torch.int32)
    idx = (b << 16).ne_(0)  # the low half is nonzero: 1, else 0
    idx.add_(b >> 16, alpha=2)  # + 2 * (signed top half): negative for negative floats ...
    idx &= 0x1FFFF  # ... and modulo 2**17 the unsigned top half
    return idx.reshape(-1)


def gather(table: torch.Tensor, idx: torch.Tensor, shape) -> torch.Tensor:
    """``table[idx]`` reshaped to ``shape`` (index_select: the fastest gather on CPU)."""
    return table.index_select(0, idx.reshape(-1)).reshape(shape)


def f32_stochastic_tables(fmt, ovf, nan_code, device):
    """``(code toward zero, code away from zero, |value| of each)`` per float32 table index, or None."""
    from ..rounding import Rounding

    def build():
        rtz, rup, rdn = (f32_encode_table(fmt, m, ovf, nan_code, device)
                         for m in (Rounding.RTZ, Rounding.RUP, Rounding.RDN))
        if rtz is None or rup is None or rdn is None:
            return None
        negative = (torch.arange(rtz.numel(), device=device) >> 16) == 1  # the float's sign bit
        away = torch.where(negative, rdn, rup)
        v = value_table(fmt, device, torch.float64).abs()
        return rtz, away, v[rtz], v[away]

    return _cached(("f32sr", fmt, fmt.name, int(ovf), nan_code, str(device)), build)
