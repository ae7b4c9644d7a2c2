"""Bit-exact number formats: the single definition of every format in the project.

Every family (integer, minifloat, posit, takum, codebook, MX and NVFP4 blocks) is a
small frozen description object whose ``encode``/``decode``/``quantize`` run
Numba kernels derived from the description::

    import formats
    f = formats.get("posit8_0")                 # or formats.posit(8, 0)
    codes = f.encode(x, rounding="rne")         # unsigned codes, same shape as x
    y = f.decode(codes)                         # exact float64 values
    y = f.quantize(x, rounding="stochastic", seed=1)
    formats.names()                             # every preset
    formats.get("block_int4_bf16_g128")         # any block-scaled format (formats.block_scaled)

Rounding modes (one enum for the whole project): rne, rna, rtz, rup, rdn,
stochastic.  See ``docs/formats.md`` for the table of conventions.  The torch
versions of the quantizers live in ``formats.torch`` (imported lazily, so this
package imports without torch).
"""
from __future__ import annotations

from .base import ScalarFormat, set_threads
from .block import BlockCodes
from .codebook import Codebook, codebook
from .integer import Integer, integer
from .minifloat import Minifloat, minifloat
from .mx import MX, mx
from .nvfp4 import NVFP4, nvfp4
from .packing import pack, packed_size, unpack
from .posit import Posit, posit
from .registry import get, names, register
from .takum import Takum, takum
from .scaled import BlockScaled, block_scaled
from .double_quant import DoubleQuant, DQCodes, double_quant
from .learned import FittedCodebook, GroupChoice, select_per_group
from .learned import fit as fit_codebook
from .rotation import Hadamard, hadamard
from .rounding import Overflow, Rounding, draw32_array, parse_overflow, parse_rounding

# The factory functions above share their names with the modules that define them
# (formats.posit is the function; the module is formats.posit's __module__).
__all__ = [
    "get", "names", "register",
    "integer", "minifloat", "posit", "takum", "mx", "nvfp4", "codebook",
    "Integer", "Minifloat", "Posit", "Takum", "MX", "NVFP4", "Codebook", "ScalarFormat",
    "Rounding", "Overflow", "parse_rounding", "parse_overflow", "draw32_array",
    "pack", "unpack", "packed_size", "set_threads", "BlockCodes", "BlockScaled", "block_scaled",
    "fit_codebook", "FittedCodebook", "select_per_group", "GroupChoice", "hadamard", "Hadamard",
    "DoubleQuant", "DQCodes", "double_quant",
]

#: ``formats.codebook.fit(weights, entries=16, per="row")``: the codebook factory also fits tables
codebook.fit = fit_codebook



def __getattr__(name):
    if name == "torch":
        import importlib

        return importlib.import_module(".torch", __name__)
    raise AttributeError(f"module 'formats' has no attribute {name!r}")
