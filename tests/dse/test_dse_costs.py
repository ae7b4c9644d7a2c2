"""dse.costs: measured-table lookup (NaN until measured) and memory-traffic accounting."""
import math

import pytest

from dse import costs


def test_without_a_cost_table_every_mode_is_unmeasured(tmp_path):
    missing = tmp_path / "costs.csv"
    assert not costs.measured(missing)
    for mode in costs.ENGINE_MODES:
        got = costs.lookup(mode, 4, "exact", path=missing)
        assert got["source"] == "unmeasured"
        assert all(math.isnan(got[k]) for k in ("area_um2", "fmax_mhz", "pj_per_mac"))


def test_formats_without_an_engine_mode_have_no_mac_cost():
    assert costs.engine_mode("fp6_e2m3") is None and costs.engine_mode("fp32") is None
    assert costs.engine_mode("MXFP4") == "mxfp4" and costs.engine_mode("nvfp4") == "nvfp4"
    got = costs.lookup(costs.engine_mode("fp6_e2m3"), 4, "exact")
    assert got["source"] == "no engine mode" and math.isnan(got["pj_per_mac"])
    with pytest.raises(ValueError, match="unknown engine mode 'fp6_e2m3'.*posit8_0"):
        costs.lookup("fp6_e2m3", 4, "exact")


def test_measured_rows_are_read_exactly(tmp_path):
    table = tmp_path / "costs.csv"
    table.write_text(
        "# made by: a test\n"
        "mode,lanes,accumulator,area_um2,fmax_mhz,pj_per_mac,cells\n"
        "posit8_0,4,exact,1234.5,250.0,0.75,900\n"
    )
    assert costs.measured(table)
    got = costs.lookup("posit8_0", 4, "exact", path=table)
    assert got == {"area_um2": 1234.5, "fmax_mhz": 250.0, "pj_per_mac": 0.75, "source": "costs.csv"}
    assert costs.lookup("posit8_0", 8, "exact", path=table)["source"] == "unmeasured"
    assert costs.data_version(table) != "unmeasured"


def test_a_cost_table_missing_columns_is_an_error(tmp_path):
    table = tmp_path / "costs.csv"
    table.write_text("mode,lanes,area_um2\nint4,1,3\n")
    with pytest.raises(ValueError, match="lacks the columns accumulator"):
        costs.lookup("int4", 1, "exact", path=table)


@pytest.mark.parametrize("fmt, n, bits", [
    (None, 64, 32.0),
    ("int4", 64, 4.0),
    ("posit8_0", 64, 8.0),
    ("fp8_e4m3", 64, 8.0),
    ("mxfp4", 64, 4.0 + 8 / 32),            # OCP MX: one E8M0 scale per 32
    ("mxint8", 64, 8.0 + 8 / 32),
    ("nvfp4", 64, 4.0 + 8 / 16 + 32 / 64),  # UE4M3 per 16, FP32 per tensor
])
def test_bits_per_element_include_scale_overhead(fmt, n, bits):
    assert costs.bits_per_element(fmt, n) == pytest.approx(bits)
    assert costs.tensor_bits(fmt, n) == pytest.approx(bits * n)


def test_memory_energy_follows_horowitz_2014():
    assert costs.memory_energy_pj(64, "sram_8kb") == 10.0
    assert costs.memory_energy_pj(64, "sram_32kb") == 20.0
    assert costs.memory_energy_pj(128, "sram_1mb") == 200.0
    assert costs.memory_energy_pj(64, "dram_low") == 1300.0 and costs.memory_energy_pj(64, "dram_high") == 2600.0
    with pytest.raises(ValueError, match="unknown memory 'hbm'.*sram_8kb"):
        costs.memory_energy_pj(64, "hbm")
