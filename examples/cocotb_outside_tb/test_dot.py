"""An outside cocotb test bench for the engine: numbers in, numbers out, with formats/ turning
values into codes and sim.mac as the golden model (no arithmetic of its own).

Run it with ``python run.py [verilator|icarus]`` from this folder.
"""
import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

import formats
from rtl import modes
from sim import mac

MODE = "posit8_0"
ACC, CLEAR, READ = 0, 1, 2


async def beat(dut, op, a=0, b=0):
    """Present one beat and wait until the engine took it."""
    dut.in_valid.value = 1
    dut.in_op.value = op
    dut.in_mode.value = modes.mode_id(MODE)
    dut.in_a.value = int(a)
    dut.in_b.value = int(b)
    await FallingEdge(dut.clk)
    while not int(dut.in_ready.value):
        await FallingEdge(dut.clk)
    dut.in_valid.value = 0


@cocotb.test()
async def dot_of_values(dut):
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.in_valid.value = 0
    dut.out_ready.value = 1
    dut.in_lane_en.value = 1
    dut.in_fp32.value = 0
    await FallingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0

    fmt = formats.get(MODE)
    rng = np.random.default_rng(0)
    x = fmt.encode(rng.normal(size=37))          # element codes of two random vectors
    y = fmt.encode(rng.normal(size=37))
    engine = mac.Engine(MODE)
    expected = int(engine.dot(x, y))             # the golden model's output code

    await beat(dut, CLEAR)
    for wa, wb in zip(engine.pack(x), engine.pack(y)):   # two posit8 codes per 16-bit word
        await beat(dut, ACC, wa, wb)
    await beat(dut, READ)
    while not int(dut.out_valid.value):
        await FallingEdge(dut.clk)
    got = int(dut.out_y.value) & 0xFF
    out = engine.output_format
    dut._log.info(f"dot = {out.decode(np.array([got]))[0]} (code {got:#04x}), "
                  f"sim.mac says {out.decode(np.array([expected]))[0]} (code {expected:#04x})")
    assert got == expected, f"{MODE}: rtl {got:#04x} != sim {expected:#04x}"
