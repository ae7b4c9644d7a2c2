"""Exhaustive checks of every 4-bit and 8-bit mode: all operand pairs, driven as real dot
products through the plain stream testbench (rtl.run), compared bit for bit with sim.mac.

Every pair appears once in every sub-word slot of the multiplier (see vectors.exhaustive_rows);
the same pairs are also shuffled into long dot products (64 products) to exercise the
accumulator.  Timing is checked too: the last result appears at Engine.cycles(K, rows)."""
import numpy as np
import pytest
from rtl_helpers import check, exhaustive_rows, require_sim

from sim import mac

MODES4 = ["int4", "fp4_e2m1", "posit4_1"]
MODES8 = ["int8", "fp8_e4m3", "fp8_e5m2", "posit8_0"]
#: Icarus (about 100x slower here) runs the 4-bit modes one word pair per dot product and two
#: 8-bit modes as long dot products in the default run; the `slow` marker runs the rest
ICARUS_LONG = ["int4", "posit4_1", "int8", "posit8_0"]


def _cases(icarus_default):
    """(mode, sim) pairs: every mode on Verilator; on Icarus the rest are `slow` and `icarus_full`
    (about 30 CPU-minutes here, so CI leaves them to Verilator; they passed on Icarus when run)."""
    out = [pytest.param(m, "verilator", id=f"{m}-verilator") for m in MODES4 + MODES8]
    for m in MODES4 + MODES8:
        marks = () if m in icarus_default else (pytest.mark.slow, pytest.mark.icarus_full)
        out.append(pytest.param(m, "icarus", id=f"{m}-icarus", marks=marks))
    return out


@pytest.mark.rtl
@pytest.mark.parametrize("mode,sim", _cases(MODES4))
def test_exhaustive_pairs(mode, sim):
    require_sim(sim)
    A, B = exhaustive_rows(mode)
    for readout in (("native", "fp32") if sim == "verilator" else ("native",)):
        check(mode, A, B, sim, readout)


@pytest.mark.rtl
@pytest.mark.parametrize("mode,sim", _cases(ICARUS_LONG))
def test_exhaustive_pairs_long_dots(mode, sim):
    """All pairs, shuffled into dot products of 64 (4-bit modes: 16) products."""
    require_sim(sim)
    A, B = exhaustive_rows(mode)
    a, b = A[:, 0], B[:, 0]
    perm = np.random.default_rng(5).permutation(a.size)
    K = 16 if mac.Engine(mode).k == 4 else 64
    check(mode, a[perm].reshape(-1, K), b[perm].reshape(-1, K), sim, "native")
