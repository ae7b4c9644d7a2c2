"""The timing constraints of every cost number (rtl/sta.py): the SDC text, the output load
read from the Liberty file, and the Fmax search from slack on a hand-made netlist."""
import gzip
import re
import shutil

import pytest

from dse import costgen
from rtl import sta

LIB = costgen.LIBERTY
needs_sta = pytest.mark.skipif(shutil.which("sta") is None or not LIB.exists(),
                               reason="needs OpenSTA and the sky130 Liberty file")


def _pin_cap(cell, pin):
    with gzip.open(LIB, "rt") as fh:
        text = fh.read()
    i = text.index(f'cell ("{cell}")')
    j = text.index(f'pin ("{pin}")', i)
    return float(re.search(r"\bcapacitance\s*:\s*([\d.]+)", text[j:]).group(1))


@pytest.mark.skipif(not LIB.exists(), reason="needs the sky130 Liberty file")
def test_constraint_file_states_every_constraint():
    load = sta.output_load_pf(str(LIB))
    assert load == pytest.approx(4 * _pin_cap("sky130_fd_sc_hd__inv_2", "A"))
    text = sta.sdc(8.0, load)
    lines = text.splitlines()
    assert "create_clock -name clk -period 8 [get_ports clk]" in lines
    assert "set_clock_uncertainty 0.25 [get_clocks clk]" in lines
    assert "set_driving_cell -lib_cell sky130_fd_sc_hd__inv_2 -pin Y $ins" in lines
    assert "set_input_delay 1.6 -clock clk $ins" in lines          # 20 % of the period
    assert "set_output_delay 1.6 -clock clk [all_outputs]" in lines
    assert f"set_load {load:.6g} [all_outputs]" in lines
    assert "set_wire_load_model -name Small" in lines
    # the clock port is not an input of the data paths
    assert "set ins [delete_from_list [all_inputs] [get_ports clk]]" in lines
    assert sta.abc_constr(str(LIB)).splitlines() == ["set_driving_cell sky130_fd_sc_hd__inv_2",
                                                      f"set_load {load:.6g}"]


def _chain(tmp_path, n):
    """clk -> r1 -> n inverters -> r2 -> y; input a -> r1.D."""
    wires = [f"n{i}" for i in range(n + 1)]
    cells = [f"  sky130_fd_sc_hd__dfxtp_1 r1 (.CLK(clk), .D(a), .Q(n0));"]
    for i in range(n):
        cells.append(f"  sky130_fd_sc_hd__inv_1 i{i} (.A(n{i}), .Y(n{i + 1}));")
    cells.append(f"  sky130_fd_sc_hd__dfxtp_1 r2 (.CLK(clk), .D(n{n}), .Q(y));")
    v = tmp_path / f"chain{n}.v"
    v.write_text("module chain (clk, a, y);\n  input clk, a;\n  output y;\n"
                 f"  wire {', '.join(wires)};\n" + "\n".join(cells) + "\nendmodule\n")
    return v


@pytest.mark.rtl
@needs_sta
def test_fmax_from_slack_includes_setup_and_uncertainty(tmp_path, monkeypatch):
    short = sta.timing(LIB, _chain(tmp_path, 10), "chain", 10.0, work=tmp_path / "a")
    long = sta.timing(LIB, _chain(tmp_path, 40), "chain", 10.0, work=tmp_path / "b")
    assert long["min_period_ns"] > short["min_period_ns"] + 1.0
    for r in (short, long):
        # at 10 ns the output port's path (20 % output delay) has the least slack; at the
        # minimum period the register-to-register path does, with zero slack
        assert r["startpoint"].startswith("r1") and r["endpoint"].startswith("r2")
        assert r["arrival_ns"] == pytest.approx(r["required_ns"], abs=0.006)
        assert r["slack_at_target_ns"] < 10.0 - r["min_period_ns"]
        assert r["fmax_mhz"] == pytest.approx(1000 / r["min_period_ns"], rel=1e-3)
        # setup counts: the required time is below the period minus the uncertainty
        assert r["required_ns"] < r["min_period_ns"] - 0.25 - 0.02
    # at the found period the slack is zero
    again = sta.timing(LIB, _chain(tmp_path, 40), "chain", long["min_period_ns"], work=tmp_path / "c")
    assert abs(again["slack_at_target_ns"]) <= 0.006
    # the clock uncertainty is part of the minimum period
    monkeypatch.setitem(sta.CONSTRAINTS, "clock_uncertainty_ns", 0.0)
    no_unc = sta.timing(LIB, _chain(tmp_path, 40), "chain", 10.0, work=tmp_path / "d")
    assert long["min_period_ns"] - no_unc["min_period_ns"] == pytest.approx(0.25, abs=0.006)


@pytest.mark.rtl
@needs_sta
def test_port_bounded_path_converges(tmp_path):
    """A path from an input port: its arrival holds 20 % of the period, so the search iterates."""
    v = tmp_path / "port.v"
    n = 30
    cells = [f"  sky130_fd_sc_hd__inv_1 i{i} (.A({'a' if i == 0 else f'n{i}'}), .Y(n{i + 1}));" for i in range(n)]
    v.write_text("module port (clk, a, y);\n  input clk, a;\n  output y;\n"
                 f"  wire {', '.join(f'n{i}' for i in range(1, n + 1))};\n" + "\n".join(cells)
                 + f"\n  sky130_fd_sc_hd__dfxtp_1 r (.CLK(clk), .D(n{n}), .Q(y));\nendmodule\n")
    r = sta.timing(LIB, v, "port", 10.0, work=tmp_path / "w")
    assert r["fmax_iterations"] >= 2
    p = r["min_period_ns"]
    # input delay 0.2 p + path d <= p - setup - uncertainty at the found period: p = (d + su + unc) / 0.8
    check = sta.timing(LIB, v, "port", p, work=tmp_path / "w2")
    assert abs(check["slack_at_target_ns"]) <= 0.006


def test_timing_reports_a_missing_tool(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(sta.StaError, match="OpenSTA"):
        sta.timing(LIB, tmp_path / "x.v", "x", 10.0)


@pytest.mark.rtl
@needs_sta
def test_concatenated_assign_keeps_its_connection(tmp_path):
    """Yosys writes ``assign { a [1], a [0] } = { n, 1'h0 };``; OpenSTA 2.0.17 cannot parse a
    concatenation on the left and would drop the statement (and the path through it)."""
    n = 30
    cells = ["  sky130_fd_sc_hd__dfxtp_1 r1 (.CLK(clk), .D(a), .Q(n0));"]
    cells += [f"  sky130_fd_sc_hd__inv_1 i{i} (.A(n{i}), .Y(n{i + 1}));" for i in range(n)]
    cells += ["  assign { \\w.x [2], \\w.x [1:0] } = { n30, 2'b0x };",
              "  sky130_fd_sc_hd__dfxtp_1 r2 (.CLK(clk), .D(\\w.x [2]), .Q(y));"]
    v = tmp_path / "cat.v"
    v.write_text("module cat (clk, a, y);\n  input clk, a;\n  output y;\n"
                 f"  wire {', '.join(f'n{i}' for i in range(n + 1))};\n  wire [2:0] \\w.x ;\n"
                 + "\n".join(cells) + "\nendmodule\n")
    fixed = sta.sta_netlist(v, tmp_path / "fixed.v").read_text()
    assert "assign {" not in fixed
    assert "assign \\w.x [2] = n30 ;" in fixed and "assign \\w.x [0] = 1'b0 ;" in fixed
    r = sta.timing(LIB, v, "cat", 10.0, work=tmp_path / "w")
    assert r["startpoint"].startswith("r1") and r["endpoint"].startswith("r2")   # the path through the assign
    assert r["min_period_ns"] > 1.0


def test_signed_declarations_are_read(tmp_path):
    """Newer Yosys writes ``wire signed [11:0] x;``, which OpenSTA 2.0.17 cannot parse."""
    v = tmp_path / "s.v"
    v.write_text("module s (a, y);\n  input a;\n  output y;\n  wire signed [1:0] \\w.x ;\n"
                 "  assign { \\w.x [1], \\w.x [0] } = { a, 1'h0 };\n  assign y = \\w.x [1];\nendmodule\n")
    text = sta.sta_netlist(v, tmp_path / "f.v").read_text()
    assert "signed" not in text and "wire [1:0] \\w.x ;" in text
    assert "assign \\w.x [1] = a ;" in text
