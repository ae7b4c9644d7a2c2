"""dse.accelergy: the cost table as an Accelergy table-based plug-in set of tables."""
import csv

import pytest
import yaml

from dse import accelergy

HEADER = ("# MAC engine costs measured by: python -m dse.costgen (test table)\n"
          "# flow: flattened synthesis, abc -D, OpenSTA\n")
COLS = ("mode,lanes,accumulator,build,compiled_modes,area_um2,fmax_mhz,pj_per_mac,pj_per_mac_real,"
        "energy_clock_mhz,extra_col,flow_version\n")
ROWS = ("int8,1,exact,single,int8,24362.12,80.0,10.8447,9.9809,100.0,x,f1\n"
        "posit8_0,4,exact,single,posit8_0,143367.5,60.1,13.0294,,60.1,y,f1\n"
        "int8,4,exact,single,int8,94140.29,79.9,,,,z,f1\n"
        "posit8_0,1,exact,xr-npe,fp4_e2m1+posit4_1+posit8_0+posit16_1,107630.73,29.1,27.8382,24.5553,29.1,w,f1\n")


def _table(tmp_path, text=HEADER + COLS + ROWS):
    p = tmp_path / "costs.csv"
    p.write_text(text)
    return p


def _rows(csv_path):
    with open(csv_path, newline="") as fh:
        return list(csv.DictReader(fh))       # exactly how the plug-in reads its tables


def test_export_round_trip(tmp_path):
    paths = accelergy.export(_table(tmp_path), tmp_path / "out")
    ident, data, readme = paths
    assert all(p.exists() for p in paths)
    y = yaml.safe_load(ident.read_text())
    assert y == {"name": "numfmt_mac_costs", "technology": accelergy.TECHNOLOGY, "accuracy": 90,
                 "path_to_data_dir": "./data"}
    assert (ident.parent / y["path_to_data_dir"] / f"{accelergy.CLASS}.csv") == data
    text = ident.read_text()
    assert "python -m dse.costgen (test table)" in text and "abc -D" in text       # provenance
    assert "#   int8/exact/4/single (no energy measured)\n" in text
    rows = _rows(data)
    # one entry (with one or two actions) per mode/accumulator/lanes/build; the unmeasured row is out
    keys = {(r["mode"], r["accumulator"], r["lanes"], r["build"]) for r in rows}
    assert keys == {("int8", "exact", "1", "single"), ("posit8_0", "exact", "4", "single"),
                    ("posit8_0", "exact", "1", "xr-npe")}
    p8 = [r for r in rows if r["mode"] == "posit8_0" and r["build"] == "xr-npe"]
    assert {r["action"]: float(r["energy"]) for r in p8} == {"mac_random": 27.8382, "mac_data": 24.5553}
    assert {float(r["area"]) for r in p8} == {107630.73}
    assert p8[0]["technology"] == "130nm" and p8[0]["compiled_modes"] == "fp4_e2m1+posit4_1+posit8_0+posit16_1"
    p8x4 = [r for r in rows if r["mode"] == "posit8_0" and r["lanes"] == "4"]
    assert [(r["action"], r["energy"], r["area"]) for r in p8x4] == [("mac_random", "13.0294", "143367.5")]
    assert "extra_col" not in rows[0]
    assert "abc -D" in readme.read_text()


def test_query_like_the_plug_in(tmp_path):
    """The plug-in's matching: the rows whose attribute columns equal the component's
    attributes (ones the CSV lacks are ignored), first match wins."""
    _, data, _ = accelergy.export(_table(tmp_path), tmp_path / "out")
    attrs = {"technology": "130nm", "mode": "int8", "lanes": 1, "accumulator": "exact", "build": "single",
             "datawidth": 8}
    match = [r for r in _rows(data) if all(r[k] == str(v) for k, v in attrs.items() if k in r)]
    energy = {r["action"]: float(r["energy"]) for r in match}
    assert energy == {"mac_random": 10.8447, "mac_data": 9.9809}
    assert float(match[0]["area"]) == 24362.12


def test_missing_table(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        accelergy.export(tmp_path / "nope.csv", tmp_path / "out")


def test_missing_column(tmp_path):
    text = HEADER + COLS.replace(",pj_per_mac,", ",energy,") + ROWS
    with pytest.raises(ValueError, match="lacks the column.*pj_per_mac"):
        accelergy.export(_table(tmp_path, text), tmp_path / "out")


def test_bad_number_and_duplicates(tmp_path):
    with pytest.raises(ValueError, match="area_um2 is 'big', not a number"):
        accelergy.export(_table(tmp_path, HEADER + COLS + ROWS.replace("24362.12", "big")), tmp_path / "o1")
    dup = ROWS + ROWS.splitlines(keepends=True)[0]
    with pytest.raises(ValueError, match="repeats data row 1"):
        accelergy.export(_table(tmp_path, HEADER + COLS + dup), tmp_path / "o2")
    with pytest.raises(ValueError, match="no row with measured energy"):
        accelergy.export(_table(tmp_path, HEADER + COLS + ROWS.splitlines(keepends=True)[2]), tmp_path / "o3")


def test_costgen_cli_exports(tmp_path, capsys):
    """``python -m dse.costgen --export accelergy DIR`` writes the same files; an unknown format: exit 2."""
    from dse import costgen

    table = _table(tmp_path)
    assert costgen.main(["--out", str(table), "--export", "accelergy", str(tmp_path / "x")]) == 0
    rows = _rows(tmp_path / "x" / "data" / f"{accelergy.CLASS}.csv")
    assert len(rows) >= 3
    assert costgen.main(["--out", str(table), "--export", "timeloop", str(tmp_path / "y")]) == 2
    assert "unknown export format 'timeloop'; allowed: accelergy" in capsys.readouterr().err
