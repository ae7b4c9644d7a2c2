"""cocotb tests of the separate-units baseline (rtl/src/baseline/sep_engine.v) built with the
XR-NPE modes (rtl.modes.XR_NPE): streams of random codes in every XR-NPE mode, mode switches
(each pass starts with a CLEAR, the baseline's contract), random lane enables on ACC and READ
beats, random gaps and back-pressure.  Expected values come from sim.mac through the Bench of
test_engine_cocotb (the same checks as the reconfigurable engine's protocol tests), so an
equal result here is equality with mac_engine's behaviour on the same stream.
"""
from __future__ import annotations

import cocotb
import numpy as np

from rtl import modes as M
from test_engine_cocotb import ACC, READ, Bench, dot_beats

XR = list(M.XR_NPE)


def _shuffle_enables(beats, rng, full):
    """Random lanes sit out ACC beats; READs go to a random subset of the lanes (none, some or
    all: a lane left out keeps showing its last READ's value, possibly of another mode)."""
    out = []
    for op, m, ro, en, wa, wb, sa, sb in beats:
        if op == ACC:
            en = int(rng.integers(0, full + 1))
        elif op == READ:
            en = int(rng.choice([full, 0, int(rng.integers(0, full + 1))]))
        out.append((op, m, ro, en, wa, wb, sa, sb))
    return out


@cocotb.test()
async def xr_npe_switches_and_latency(dut):
    """Back-to-back passes of every XR-NPE mode in both readouts in a shuffled order: exact
    results, every READ out exactly sim's latency later."""
    b = Bench(dut, seed=11)
    await b.start()
    rng = np.random.default_rng(11)
    order = [(m, ro) for m in XR for ro in ("native", "fp32")] * 2
    rng.shuffle(order)
    beats = []
    for mode, ro in order:
        beats += dot_beats(b, mode, int(rng.integers(1, 70)), rng, ro)
    await b.run(beats, latency_check=True)
    assert b.got == len(order)


@cocotb.test()
async def xr_npe_random_stream(dut):
    """60 passes of random XR-NPE modes, readouts and lengths with random lane enables, random
    input gaps and random out_ready: every output equals sim.mac's, in order."""
    b = Bench(dut, seed=12)
    await b.start()
    rng = np.random.default_rng(12)
    full = (1 << b.lanes) - 1
    beats = []
    for _ in range(60):
        mode = XR[int(rng.integers(0, len(XR)))]
        ro = ("native", "fp32")[int(rng.integers(0, 2))]
        beats += _shuffle_enables(dot_beats(b, mode, int(rng.integers(1, 40)), rng, ro), rng, full)
    await b.run(beats, p_valid=0.8, p_ready=0.5)
    assert b.got == 60
