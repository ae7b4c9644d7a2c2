"""The engine's Verilog build parameters for an accumulator (``ACC``, ``FIX_I``, ``FIX_F``).

Shared by the simulation runner (:mod:`rtl.run`) and the synthesis flow
(:mod:`rtl.synth`), which both build the engine for a :class:`sim.mac.Accumulator`.

>>> acc_params("fixed:16:8")
{'ACC': 2, 'FIX_I': 16, 'FIX_F': 8}
"""
from __future__ import annotations

from sim.mac import PIPES, Accumulator

__all__ = ["acc_params", "acc_token", "pipe_params", "PIPES"]

#: the ``ACC`` parameter of each accumulator kind (rtl/src: 0 exact, 1 fp32, 2 fixed)
ACC_IDS = {"exact": 0, "fp32": 1, "fixed": 2}
#: FIX_I/FIX_F of the builds whose accumulator is not fixed (unused by the Verilog then)
_UNUSED_FIX = 24


def acc_params(accumulator="exact") -> dict:
    """The Verilog parameters (ACC, FIX_I, FIX_F) for an accumulator in any spelling
    :meth:`sim.mac.Accumulator.parse` accepts (ValueError/TypeError otherwise)."""
    acc = Accumulator.parse(accumulator)
    if acc.kind != "fixed":
        return {"ACC": ACC_IDS[acc.kind], "FIX_I": _UNUSED_FIX, "FIX_F": _UNUSED_FIX}
    return {"ACC": ACC_IDS["fixed"], "FIX_I": acc.int_bits, "FIX_F": acc.frac_bits}


def acc_token(accumulator) -> str:
    """A file-name-safe token of an accumulator (``exact``, ``fp32``, ``fixedI.F``), for build folders."""
    return str(Accumulator.parse(accumulator)).replace("fixed:", "fixed").replace(":", ".")


def pipe_params(pipe=0) -> dict:
    """The Verilog parameter of a pipeline setting: ``{}`` for 0 (the default, so that every
    existing build's command line and design stay as they were), ``{"PIPE": 1}`` for 1."""
    if isinstance(pipe, bool) or pipe not in PIPES:      # sim.mac's list (docs/mac.md 3)
        raise ValueError(f"unknown pipeline setting {pipe!r}; allowed: {', '.join(map(str, PIPES))}")
    return {"PIPE": int(pipe)} if pipe else {}
