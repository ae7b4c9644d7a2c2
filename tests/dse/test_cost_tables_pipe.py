"""The deep pipeline's rows in the cost table, incremental table writes and re-stamping."""
import pytest

from dse import costgen, costs, csvtable, restamp


def _table(path, rows, head=("# made by: a test",)):
    cols = ["mode", "lanes", "accumulator", "build", "pipe", "compiled_modes", "area_um2", "fmax_mhz", "pj_per_mac",
            "flow_version"]
    csvtable.write_raw(path, list(head), cols, [dict(zip(cols, r)) for r in rows])


def test_pipe_rows_are_looked_up_apart_from_the_default_pipeline(tmp_path):
    t = tmp_path / "costs.csv"
    _table(t, [("int8", 1, "exact", "single", 0, "int8", 100.0, 110.0, 2.0, "a"),
               ("int8", 1, "exact", "single", 1, "int8", 120.0, 150.0, 2.5, "b")])
    assert costs.lookup("int8", 1, "exact", path=t)["area_um2"] == 100.0
    got = costs.lookup("int8", 1, "exact", path=t, pipe=1)
    assert (got["area_um2"], got["fmax_mhz"], got["pj_per_mac"], got["source"]) == (120.0, 150.0, 2.5, "costs.csv")
    assert costs.lookup("posit8_0", 1, "exact", path=t, pipe=1)["source"] == "unmeasured"
    with pytest.raises(ValueError, match="unknown pipeline setting pipe=2; allowed: 0, 1"):
        costs.lookup("int8", 1, "exact", path=t, pipe=2)


def test_a_table_without_a_pipe_column_is_all_pipe_0(tmp_path):
    t = tmp_path / "costs.csv"
    t.write_text("mode,lanes,accumulator,area_um2,fmax_mhz,pj_per_mac\nint8,1,exact,1.0,2.0,3.0\n")
    assert costs.lookup("int8", 1, "exact", path=t)["area_um2"] == 1.0
    assert costs.lookup("int8", 1, "exact", path=t, pipe=1)["source"] == "unmeasured"


def test_pipe_configs_key_apart_and_cover_every_engine_build():
    keys = [costgen.cfg_key(c) for c in costgen.CONFIGS + costgen.PIPE_CONFIGS]
    assert len(keys) == len(set(keys))
    assert "single:int8:1:pipe1" in keys and "all:all:1:pipe1" in keys and "single:int8:1:fp32:pipe1" in keys
    assert not any(c[0] in costgen.EQ_BUILDS for c in costgen.PIPE_CONFIGS)
    assert "separate:separate:1:pipe1" in keys


def _res(mode, pipe, area):
    return {"modes": [mode], "lanes": 1, "accumulator": "exact", "pipe": pipe, "total": area, "fmax_mhz": 100.0,
            "critical_path_ns": 10.0, "slack_at_target_ns": 0.0, "cells": 1, "flow_version": "new"}


def test_a_partial_run_keeps_the_tables_other_rows_and_notes(tmp_path):
    t = tmp_path / "costs.csv"
    _table(t, [("int8", 1, "exact", "single", 0, "int8", 100.0, 110.0, 2.0, "old"),
               ("int4", 1, "exact", "single", 0, "int4", 90.0, 120.0, 1.0, "old")],
           head=("# made by: a test", "# Note: kept"))
    costgen.write_table([("single", _res("int8", 1, 130.0)), ("single", _res("int4", 0, 91.0))], t, "test")
    head, rows = csvtable.read_raw(t)
    got = {(r["mode"], r["pipe"]): (float(r["area_um2"]), r["flow_version"]) for r in rows}
    assert got == {("int8", "0"): (100.0, "old"), ("int4", "0"): (91.0, "new"), ("int8", "1"): (130.0, "new")}
    assert "# Note: kept" in head and head[0] == "# MAC engine costs measured by: test"
    order = [(r["mode"], r["pipe"]) for r in rows]           # CONFIGS order, then PIPE_CONFIGS
    assert order.index(("int4", "0")) < order.index(("int8", "0")) < order.index(("int8", "1"))


def test_restamp_moves_only_identical_builds_and_says_so(tmp_path):
    t = tmp_path / "costs.csv"
    _table(t, [("int8", 1, "exact", "single", 0, "int8", 100.0, 110.0, 2.0, "v0/e1"),
               ("int4", 1, "exact", "single", 0, "int4", 90.0, 120.0, 1.0, "v0/e1"),
               ("int8", 1, "exact", "single", 1, "int8", 90.0, 120.0, 1.0, "v0")])
    same = {("single", "int8", 1, "exact")}
    cols = ["mode", "lanes", "accumulator", "build", "pipe", "compiled_modes", "area_um2", "fmax_mhz", "pj_per_mac",
            "flow_version"]
    moved, stale = restamp.restamp_table(t, same, lambda r: "v1/" + r["flow_version"].split("/")[1]
                                         if "/" in r["flow_version"] else "v1", cols, "HEAD", log=lambda *a: None)
    assert (moved, stale) == (1, 1)
    head, rows = csvtable.read_raw(t)
    assert [r["flow_version"] for r in rows] == ["v1/e1", "v0/e1", "v0"]
    assert any(h.startswith("# Note:") and "1 rows re-stamped" in h for h in head)
