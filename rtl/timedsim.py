"""Timed gate-level simulation: the energy of the same stream with glitches counted.

Zero-delay simulation (:mod:`rtl.power`) settles every net once per cycle, so it misses the
extra transitions a real datapath makes while its inputs arrive at different times.  Here
the netlist runs with OpenSTA's delays:

1. OpenSTA writes an SDF of the (simply named) netlist under the project's constraints
   (:func:`rtl.sta.timing`, ``write_sdf``); its ``(min::max)`` triplets become the max delay
   (``(max:max:max)``: Icarus reads the typical field), the interconnect entries (wire-load
   wire delays of about a picosecond) and the timing checks are dropped;
2. the Liberty cells' behavioural models (:func:`rtl.gatesim.cell_models`) get a ``specify``
   block with one module path per timing arc of the Liberty file (input -> output,
   clock -> Q), which ``$sdf_annotate`` fills with the cell instance's delays; Verilog module
   paths are inertial, so a pulse shorter than a cell's delay does not pass it (as in a
   real gate);
3. Icarus (``-gspecify``) runs ``rtl/tb/tb_stream.v`` with the clock slowed to 1.25 x the
   build's minimum period and the outputs sampled at the clock edge (settled values; the
   plain bench samples 1 ns after it, too early for an output behind logic, such as the
   separate-units baseline's output mux), checked bit for bit against sim.mac, toggles are
   counted from the VCD and priced with the same model as the zero-delay run
   (:func:`rtl.power.liberty_energy`).
"""
from __future__ import annotations

import math
import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from . import liberty, power, sta
from .gatesim import _testbench, cell_models, simple_names, toggle_stats
from .run import beats_for_rows

__all__ = ["timed_cells", "fix_sdf", "energy_per_mac"]


def _arcs(lib, name: str) -> list[tuple[str, str]]:
    """(input, output) pins of every delay arc of a cell (timing groups of its output pins;
    the checks on input pins are not delays)."""
    text, index, _ = liberty._library(str(lib))
    body, _ = liberty._group(text, index[name])
    arcs = []
    for m in re.finditer(r'\n\s*pin\s*\(\s*"?(\w+)"?\s*\)\s*\{', body):
        pb, _ = liberty._group(body, m.start())
        if not re.search(r'direction\s*:\s*"?output', pb):
            continue
        for t in re.finditer(r'\n\s*timing\s*\(\s*\)\s*\{', pb):
            tb, _ = liberty._group(pb, t.start())
            rel = re.search(r'related_pin\s*:\s*"?(\w+)"?', tb)
            typ = re.search(r'timing_type\s*:\s*"?(\w+)"?', tb)
            if rel and not (typ and typ.group(1).startswith(("setup", "hold", "recovery", "removal", "skew",
                                                                "min_pulse", "three_state"))):
                if (rel.group(1), m.group(1)) not in arcs:
                    arcs.append((rel.group(1), m.group(1)))
    return arcs


def timed_cells(lib, models: Path, out: Path) -> Path:
    """The behavioural cell models with a ``specify`` path per Liberty delay arc."""
    text = models.read_text()

    def add(m):
        name, body = m.group(1), m.group(0)
        try:
            arcs = _arcs(lib, name)
        except KeyError:
            return body
        if not arcs:
            return body
        spec = "  specify\n" + "".join(f"    ({a} => {b}) = (0, 0);\n" for a, b in arcs) + "  endspecify\n"
        return body.replace("endmodule", spec + "endmodule")

    out.write_text(re.sub(r"module (sky130_fd_sc_hd__\w+)\(.*?endmodule", add, text, flags=re.S))
    return out


def fix_sdf(src: Path, dst: Path) -> Path:
    """OpenSTA's SDF for Icarus: ``(a::b)`` -> ``(b:b:b)``; no INTERCONNECT, no TIMINGCHECK."""
    text = src.read_text()
    text = re.sub(r"\(([-\d.eE+]*)::([-\d.eE+]+)\)", r"(\2:\2:\2)", text)
    text = re.sub(r"^\s*\(INTERCONNECT [^\n]*\n", "", text, flags=re.M)
    text = re.sub(r"\(TIMINGCHECK.*?\n\s*\)\n", "", text, flags=re.S)
    # blocks left empty (the top cell had only interconnects): Icarus rejects them
    text = re.sub(r"\s*\(DELAY\s*\(ABSOLUTE\s*\)\s*\)", "", text)
    text = re.sub(r"\s*\(CELL\s*\(CELLTYPE \"[^\"]*\"\)\s*\(INSTANCE[^)]*\)\s*\)", "", text)
    dst.write_text(text)
    return dst


def energy_per_mac(net_dir: Path, lib: Path, mode: str, A, B, SA=None, SB=None, lanes: int = 1,
                   period_ns: float = 10.0, accumulator="exact", top: str = "mac_engine",
                   TA=None, TB=None, pipe: int = 0) -> dict:
    """pJ per MAC of the netlist in ``net_dir`` with cell delays (glitches counted), quoted at
    ``period_ns`` (the build's minimum period); same fields as :func:`rtl.power.energy_per_mac`
    (``accumulator`` and ``pipe``: the netlist's, for the check against sim.mac)."""
    from sim import mac

    e = mac.Engine(mode=mode, lanes=lanes, accumulator=accumulator, pipe=pipe)
    A, B = np.atleast_2d(A), np.atleast_2d(B)
    beats = beats_for_rows(e, A, B, SA, SB, lanes=lanes, TA=TA, TB=TB)   # TA, TB: nvfp4's tensor scales
    passes = -(-A.shape[0] // lanes)
    half_ps = int(math.ceil(1.25 * period_ns * 1000 / 2))       # the simulated clock, 1.25 x the min period
    with tempfile.TemporaryDirectory(prefix="rtl-timed-") as td:
        work = Path(td)
        net = simple_names(Path(net_dir) / "net.v", work / "net_simple.v")
        raw = work / "raw.sdf"
        sta.timing(lib, net, top, period_ns, work=work / "sta", sdf=raw)
        sdf = fix_sdf(raw, work / "net.sdf")
        cells = timed_cells(lib, cell_models(lib, Path(net_dir) / "cells.v"), work / "cells_timed.v")
        vcd = work / "act.vcd"
        tb = _testbench(work / "tb_gl.v", vcd, top).read_text()
        tb = tb.replace("always #5 clk = ~clk;", f"always #{half_ps / 1000:.3f} clk = ~clk;")
        # outputs are sampled at the clock edge (the values settled over the cycle), not 1 ns after
        # it: with delays, an output behind logic (a baseline's output mux) has not settled by then
        loop_sample = ("            if (out_valid) begin\n                $fwrite(fout, \"%0d %h\\n\", cycle, out_y);\n"
                       "                outs = outs + 1;\n            end\n")
        if loop_sample not in tb:
            raise RuntimeError("rtl/tb/tb_stream.v changed: cannot find where it samples the outputs")
        tb = tb.replace(loop_sample, "").replace(
            "    always #", "    always @(posedge clk) if (out_valid === 1'b1) begin\n"
            "        $fwrite(fout, \"%0d %h\\n\", cycle, out_y);\n        outs = outs + 1;\n    end\n    always #", 1)
        tb = tb.replace("    initial begin $dumpfile", f'    initial $sdf_annotate("{sdf}", tb_stream.dut);\n'
                                                      "    initial begin $dumpfile")
        (work / "tb_gl.v").write_text(tb)
        exe = work / "gl.vvp"
        proc = subprocess.run(["iverilog", "-g2012", "-gspecify", "-o", str(exe), "-s", "tb_stream",
                               "-P", f"tb_stream.LANES={lanes}", str(work / "tb_gl.v"), str(net), str(cells)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"iverilog (timed) failed: {proc.stderr[-3000:]}")
        fin, fout = work / "in.hex", work / "out.txt"
        with open(fin, "w") as f:
            for op, md, fp32, en, a, b, sa, sb in beats:
                f.write(f"{op:x} {md:x} {fp32:x} {en:x} {a:x} {b:x} {sa:x} {sb:x}\n")
        proc = subprocess.run(["vvp", "-n", str(exe), f"+in={fin}", f"+out={fout}", f"+reads={passes}"],
                              capture_output=True, text=True, cwd=work)
        if proc.returncode != 0 or not fout.exists():
            raise RuntimeError(f"timed simulation failed: {proc.stdout[-2000:]} {proc.stderr[-2000:]}")
        annotated = len(re.findall(r"\(IOPATH ", sdf.read_text()))
        warn = [l for l in (proc.stdout + proc.stderr).splitlines() if "SDF" in l and "ERROR" in l.upper()]
        if warn:
            raise RuntimeError(f"SDF annotation failed: {warn[:5]}")
        outs = [(int(p[0]), int(p[1], 16)) for p in (l.split() for l in fout.read_text().splitlines())
                if p[0] != "done"]
        power.check_outputs(e, outs, A, B, SA, SB, TA, TB, what="timed netlist")
        period_ps = 2 * half_ps
        stats, span = toggle_stats(vcd, 3 * period_ps)
        cycles = span / period_ps
        toggles = {n: s[0] for n, s in stats.items()}
        slews = power.pin_slews(Path(lib), net, top, period_ns, work / "slews")
        en = power.liberty_energy(lib, net, toggles, cycles * period_ns * 1e-9, slews)
    macs = int(A.size)
    return {"mode": mode, "lanes": lanes, "macs": macs, "cycles": round(cycles, 1), "top": top, "timed": True,
            "sim_period_ns": period_ps / 1000, "period_ns": period_ns, "sdf_iopaths": annotated,
            **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in en.items()},
            "pj_per_mac": en["total_pj"] / macs}
