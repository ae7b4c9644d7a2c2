"""Simulation throughput of the engine in MAC/s on the exhaustive posit8_0 set (every operand
pair, two pairs per dot product), through the plain stream test bench (rtl.run) and,
with ``--cocotb``, through the cocotb bench.

    python -m rtl.bench [--sim verilator|icarus] [--lanes 4] [--cocotb]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from . import run as R


def plain(sim: str, lanes: int) -> float:
    from sim import mac

    e = mac.Engine("posit8_0", lanes=lanes)
    pairs = np.arange(1 << 16)
    A = (pairs >> 8).astype(np.uint8).reshape(-1, 2)
    B = (pairs & 0xFF).astype(np.uint8).reshape(-1, 2)
    R.build(sim, lanes)                                    # not timed
    t0 = time.time()
    Y, cycles = R.run_rows("posit8_0", A, B, sim=sim, lanes=lanes)
    dt = time.time() - t0
    bad = int((Y != e.dot(A, B)).sum())
    rate = A.size / dt
    print(f"plain runner, {sim}, {lanes} lanes: {A.size} MACs, {cycles} cycles in {dt:.2f} s = "
          f"{rate:,.0f} MAC/s ({cycles / dt:,.0f} cycles/s); {bad} mismatches against sim.mac")
    return rate


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m rtl.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--sim", default="verilator", choices=("verilator", "icarus"))
    p.add_argument("--lanes", type=int, default=4)
    p.add_argument("--cocotb", action="store_true", help="also run the cocotb throughput test")
    args = p.parse_args(argv)
    plain(args.sim, args.lanes)
    if args.cocotb:
        import subprocess
        from pathlib import Path

        env = dict(os.environ, RTL_BENCH="1")
        tests = Path(__file__).resolve().parents[1] / "tests" / "rtl" / "test_protocol.py"
        return subprocess.call([sys.executable, "-m", "pytest", "-q", "-s", str(tests), "-k",
                                f"bench and {args.sim}"], env=env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
