"""The gate-level energy flow (rtl/power.py): Icarus and Verilator give the same toggle counts,
hence the same energy, on the same netlist and stimulus; the netlist agrees with sim.mac."""
import numpy as np
import pytest

from dse import costgen
from rtl import power, synth, toolchain


@pytest.mark.rtl
def test_icarus_and_verilator_energy_agree(tmp_path):
    for tool in ("yosys", "iverilog", "verilator"):
        toolchain.require(tool)                   # fails with an install hint when missing
    assert costgen.LIBERTY.exists(), f"the sky130 Liberty file {costgen.LIBERTY} is missing (../shared/pdk/)"
    synth.synthesize(["int4"], 1, str(costgen.LIBERTY), 10.0, keep=str(tmp_path / "net"), log=lambda *a: None,
                     accumulator="fixed:8:4")
    lib = costgen.unpack_liberty(tmp_path / "lib")
    rng = np.random.default_rng(3)
    A = rng.integers(0, 16, size=(3, 24)).astype(np.uint8)
    B = rng.integers(0, 16, size=(3, 24)).astype(np.uint8)
    got = {sim: power.energy_per_mac(tmp_path / "net", lib, "int4", A, B, accumulator="fixed:8:4", sim=sim)
           for sim in ("icarus", "verilator")}
    ic, vl = got["icarus"], got["verilator"]
    assert ic["total_pj"] > 0 and ic["macs"] == A.size
    for k in ("internal_pj", "switching_pj", "leakage_pj", "cycles"):
        assert vl[k] == pytest.approx(ic[k], rel=1e-9), k


@pytest.mark.rtl
def test_timed_simulation_counts_glitches(tmp_path):
    """The SDF-timed run of the same stream: bit-exact (checked inside), delays really annotated
    (more toggles than zero-delay, which settles every net once per cycle)."""
    from rtl import timedsim

    res = synth.synthesize(["int4"], 1, str(costgen.LIBERTY), 10.0, keep=str(tmp_path / "net"),
                           log=lambda *a: None, breakdown=False)
    lib = costgen.unpack_liberty(tmp_path / "lib")
    rng = np.random.default_rng(5)
    A = rng.integers(0, 16, size=(4, 64)).astype(np.uint8)
    B = rng.integers(0, 16, size=(4, 64)).astype(np.uint8)
    zero = power.energy_per_mac(tmp_path / "net", lib, "int4", A, B, period_ns=res["critical_path_ns"])
    timed = timedsim.energy_per_mac(tmp_path / "net", lib, "int4", A, B, period_ns=res["critical_path_ns"])
    assert timed["sdf_iopaths"] > 1000 and timed["timed"]
    assert timed["macs"] == zero["macs"] == A.size
    assert timed["dynamic_pj"] > 1.02 * zero["dynamic_pj"]
    assert timed["leakage_nw"] == zero["leakage_nw"]
    # the model prices the same netlist: with the zero-delay toggles it gives the zero-delay energy
    assert zero["slew_defaults"] == 0


def test_the_netlist_check_uses_the_netlists_pipeline():
    """The check against sim.mac takes the netlist's pipeline: with the fp32 accumulator PIPE = 1
    rounds once per word into two partial sums, so a PIPE = 1 netlist's results differ from the
    PIPE = 0 model's on some streams (costgen's energy runs of the PIPE = 1 fp8_e4m3 build failed on
    one of them while the check used the PIPE = 0 model)."""
    from sim import mac

    rng = np.random.default_rng(11)
    A = rng.integers(0, 256, size=(16, 128)).astype(np.uint8)
    B = rng.integers(0, 256, size=(16, 128)).astype(np.uint8)
    deep, shallow = (mac.Engine(mode="fp8_e4m3", accumulator="fp32", pipe=p) for p in (1, 0))
    y1, y0 = deep.dot(A, B), shallow.dot(A, B)
    assert (y1 != y0).any()                       # the stream tells the two pipelines apart
    outs = [(i, int(y)) for i, y in enumerate(y1)]  # what a PIPE = 1 netlist gives
    power.check_outputs(deep, outs, A, B)
    with pytest.raises(RuntimeError, match=r"disagrees with sim.mac \(pipe=0, accumulator fp32\) on \d+ of 16"):
        power.check_outputs(shallow, outs, A, B)
    with pytest.raises(RuntimeError, match="on 1 of 16 rows"):  # a result missing counts
        power.check_outputs(deep, outs[:-1], A, B)
