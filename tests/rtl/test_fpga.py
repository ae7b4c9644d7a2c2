"""The ECP5 flow (rtl/fpga.py, dse/costgen_ecp5.py): a real small build placed and routed, the
parsers, bad input, and the committed table against the current flow."""
import json

import pytest

from dse import costgen_ecp5 as CG
from dse.costreport_ecp5 import read_table, xr_npe_claim
from rtl import fpga

STAT = """
=== mac_engine ===

        +----------Local Count, excluding submodules.
        |
     2342 wires
       94 port bits
     2715 cells
       19   $scopeinfo
      160   CCU2C
      129   L6MUX21
     1423   LUT4
        8   MULT18X18D
      263   PFUMX
      713   TRELLIS_FF
"""


def test_parse_stat_and_report():
    c = fpga.parse_stat(STAT)
    assert c["LUT4"] == 1423 and c["CCU2C"] == 160 and c["MULT18X18D"] == 8 and c["TRELLIS_FF"] == 713
    assert c["DP16KD"] == 0
    rep = {"fmax": {"$glbnet$clk": {"achieved": 70.99, "constraint": 100}},
           "utilization": {"TRELLIS_COMB": {"available": 83640, "used": 1831}, "MULT18X18D": {"available": 156, "used": 8}}}
    r = fpga.parse_report(rep)
    assert r["fmax_mhz"] == 70.99 and r["target_mhz"] == 100 and r["used"]["TRELLIS_COMB"] == 1831
    with pytest.raises(ValueError, match="no fmax"):
        fpga.parse_report({"utilization": {}})


def test_small_build_places_and_routes(tmp_path):
    work = fpga.ROOT / "build" / "fpga" / "test-int4"
    r = fpga.implement(["int4"], 1, "exact", seeds=(1,), work=work)
    assert r["placeable"] and r["modes"] == ["int4"] and r["seeds"] == [1]
    assert 10.0 < r["fmax_mhz"] < 400.0 and r["fmax_mhz"] == r["fmax_mhz_min"] == r["fmax_mhz_max"]
    assert r["cells"]["LUT4"] > 100 and r["cells"]["TRELLIS_FF"] > 100
    assert 0 < r["used"]["TRELLIS_COMB"] <= r["available"]["TRELLIS_COMB"]
    assert r["used"]["TRELLIS_IO"] <= r["available"]["TRELLIS_IO"]
    assert json.loads((work / "report_1.json").read_text())["fmax"]


def test_bad_input(capsys):
    assert fpga.main(["--modes", "int5"]) == 2
    assert "int5" in capsys.readouterr().err
    with pytest.raises(ValueError, match="at least one placement seed"):
        fpga.implement(["int4"], seeds=())
    assert CG.main(["--seeds", "one"]) == 2


def test_committed_table_matches_the_flow():
    head, rows = read_table(CG.OUT)
    assert head[0].startswith("# MAC engine costs on a Lattice ECP5 FPGA") and any("nextpnr" in h for h in head)
    assert list(rows[0]) == CG.COLUMNS
    keys = {(r["build"], r["compiled_modes"], r["lanes"], r["accumulator"]) for r in rows}
    want = {(b, "+".join(m), str(n), a) for b, m, n, a in CG.configs()}
    assert keys == want
    fv = {r["build"]: r["flow_version"] for r in rows}
    assert fv["single"] == CG.flow_version("single"), "costs_ecp5.csv is stale: rerun python -m dse.costgen_ecp5"
    assert fv["separate"] == CG.flow_version("separate")
    for r in rows:
        if r["placeable"] == "True":
            assert float(r["fmax_mhz_min"]) <= float(r["fmax_mhz"]) <= float(r["fmax_mhz_max"])
            assert int(r["lut4"]) > 0
    claim = "\n".join(xr_npe_claim(rows))
    assert "LUT4" in claim and "ratio" in claim
