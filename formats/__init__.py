"""Bit-exact number formats: the single definition of every format in the project.

Every family (integer, minifloat, posit, codebook, MX and NVFP4 blocks) is a
small frozen description object whose ``encode``/``decode``/``quantize`` run
Numba kernels derived from the description::

    import formats
    f = formats.get("posit8_0")                 # or formats.posit(8, 0)
    codes = f.encode(x, rounding="rne")         # unsigned codes, same shape as x
    y = f.decode(codes)                         # exact float64 values
    y = f.quantize(x, rounding="stochastic", seed=1)
    formats.names()                             # every preset

Rounding modes (one enum for the whole project): rne, rna, rtz, rup, rdn,
stochastic.  See ``docs/formats.md`` for the table of conventions.  The torch
versions of the quantizers live in ``formats.torch`` (imported lazily, so this
package imports without torch).
"""
from __future__ import annotations

from .base import ScalarFormat, set_threads
from .integer import Integer, integer
from .minifloat import Minifloat, minifloat
from .registry import get, names, register
from .rounding import Overflow, Rounding, draw32_array, parse_overflow, parse_rounding

__all__ = [
    "get", "names", "register",
    "integer", "minifloat", "posit", "mx", "nvfp4", "codebook",
    "Integer", "Minifloat", "Posit", "MX", "NVFP4", "Codebook", "ScalarFormat",
    "Rounding", "Overflow", "parse_rounding", "parse_overflow", "draw32_array",
    "pack", "unpack", "set_threads",
]

_LAZY = {
    "posit": ".posit", "Posit": ".posit",
    "mx": ".block", "nvfp4": ".block", "MX": ".block", "NVFP4": ".block",
    "codebook": ".codebook", "Codebook": ".codebook",
    "pack": ".packing", "unpack": ".packing",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    if name == "torch":
        import importlib

        return importlib.import_module(".torch", __name__)
    raise AttributeError(f"module 'formats' has no attribute {name!r}")
