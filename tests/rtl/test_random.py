"""Random vectors with corner cases for posit16_1 and the MX modes (and a random smoke test of
every other mode), through the plain stream testbench; expected values from sim.mac."""
import pytest

from rtl_helpers import SIMS, check, random_rows, require_sim

WIDE = ["posit16_1", "mxfp4", "mxint8"]


@pytest.mark.rtl
@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("mode", WIDE)
def test_random_default(mode, sim):
    """A few thousand products per mode: short rows (single products) and long rows."""
    require_sim(sim)
    n = 1 if sim == "verilator" else 0.25
    A, B, SA, SB = random_rows(mode, rows=int(1024 * n), K=1, seed=1, corners=False)
    check(mode, A, B, sim, "native", SA, SB)
    A, B, SA, SB = random_rows(mode, rows=int(64 * n), K=96, seed=2)
    for readout in ("native", "fp32"):
        check(mode, A, B, sim, readout, SA, SB)


@pytest.mark.rtl
@pytest.mark.slow
@pytest.mark.parametrize("mode", WIDE)
def test_random_100k(mode):
    """At least 100k products per mode on Verilator."""
    require_sim("verilator")
    A, B, SA, SB = random_rows(mode, rows=32768, K=1, seed=11, corners=False)
    check(mode, A, B, "verilator", "native", SA, SB)
    A, B, SA, SB = random_rows(mode, rows=1024, K=128, seed=12)
    check(mode, A, B, "verilator", "native", SA, SB)
