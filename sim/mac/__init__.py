"""Bit-exact golden model of the SIMD MAC engine (the reference the Verilog in rtl/ must equal).

::

    from sim import mac
    e = mac.Engine(mode="posit8_0", lanes=4, accumulator="exact", readout="native")
    out = e.dot(a, b)                 # (..., K) element codes -> (...) output codes
    e.output_format.decode(out)       # values
    words = e.pack(a)                 # uint16 words, sub-word j in bits [j*w, (j+1)*w)
    e.cycles(K, rows=8)               # the timing model
    lane = e.lane(); lane.clear(); lane.step(wa, wb); lane.readout()   # cycle level

    mac.Accumulator.parse("fixed:16:16")                   # the accumulator value (limits, str)
    mac.mode_for("mxfp4_e2m1")                              # format -> engine mode ('mxfp4')

Modes, accumulator widths, readout rules, specials and timing: docs/mac.md.
"""
from __future__ import annotations

from .accumulator import ACCUMULATORS, FIXED_MAX_WIDTH, Accumulator
from .engine import LATENCIES, LATENCY, PIPES, READOUTS, Engine, mode_table, parse_accumulator
from .lane import Lane
from .modes import MODES, mode_for

__all__ = ["Engine", "Lane", "MODES", "ACCUMULATORS", "FIXED_MAX_WIDTH", "READOUTS", "LATENCY",
           "LATENCIES", "PIPES", "Accumulator", "mode_for", "mode_table", "parse_accumulator"]
