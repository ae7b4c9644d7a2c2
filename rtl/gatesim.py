"""Gate-level simulation of a mapped netlist for the energy model (:mod:`rtl.power`).

:func:`cell_models` writes behavioural Verilog of the Liberty cells (Yosys ``read_liberty``),
:func:`simple_names` renames the netlist's escaped identifiers so the VCD and the netlist
parser agree on every name, :func:`gate_sim` runs ``rtl/tb/tb_stream.v`` around the netlist
in Icarus (or Verilator) and dumps every net of the design to a VCD, and
:func:`toggle_stats` counts each net bit's toggles from it.
"""
from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

from .run import TB_DIR

#: clock period of rtl/tb/tb_stream.v (``always #5``, timescale 1ns/1ps), in VCD time units
SIM_PERIOD_PS = 10_000

__all__ = ["SIM_PERIOD_PS", "cell_models", "simple_names", "gate_sim", "toggle_stats"]


def cell_models(lib: Path, out: Path) -> Path:
    """Behavioural Verilog of every cell of the Liberty file (Yosys ``read_liberty``)."""
    if not out.exists():
        proc = subprocess.run(["yosys", "-q", "-p", f"read_liberty -ignore_miss_func {lib}; "
                               f"write_verilog -noattr {out}"], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"yosys read_liberty failed: {proc.stderr[-2000:]}")
    return out


def simple_names(net_v: Path, out: Path) -> Path:
    """Copy of the netlist with every escaped identifier renamed ``n<k>`` (same meaning)."""
    text = net_v.read_text()
    names: dict[str, str] = {}

    def sub(m):
        return names.setdefault(m.group(1), f"n{len(names)}") + m.group(2)

    text = re.sub(r"\\(\S+)(\s)", sub, text)
    out.write_text(text)
    return out


def _file_hash(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()[:10]


def _testbench(out: Path, vcd: Path, top: str = "mac_engine") -> Path:
    tb = (TB_DIR / "tb_stream.v").read_text()
    tb, n = re.subn(r"mac_engine #\([^;]*?\) dut", f"{top} dut", tb)   # the netlist has no parameters
    if n != 1:
        raise RuntimeError("rtl/tb/tb_stream.v changed: cannot find the engine instance")
    tb = tb.replace("endmodule", f'    initial begin $dumpfile("{vcd.name}"); $dumpvars(1, tb_stream.dut); end\n'
                    "endmodule")
    out.write_text(tb)
    return out


def gate_sim(netlist: Path, cells: Path, beats, lanes: int, work: Path, reads: int,
             sim: str = "icarus", build_dir: Path | None = None, top: str = "mac_engine") -> tuple[Path, list]:
    """Simulate the netlist on ``beats``; returns (VCD path, [(cycle, out_y)]).

    ``sim``: "icarus" (event driven) or "verilator" (compiled; much faster on deep
    combinational logic such as the fp32 accumulator's chained adders, whose zero-delay
    event cascades make Icarus crawl).  Both dump the settled value of every net at each
    time step, so the toggle counts agree (tests/rtl/test_power.py checks it).  The VCD is
    written into ``work`` (the simulation's working folder).  ``build_dir``: keep the
    Verilator model there and reuse it (one build per netlist; the stimulus is read at run
    time)."""
    vcd = work / "act.vcd"
    tb = _testbench(work / "tb_gl.v", vcd, top)
    if sim == "icarus":
        exe = work / "gl.vvp"
        cmd = ["iverilog", "-g2012", "-o", str(exe), "-s", "tb_stream",
               "-P", f"tb_stream.LANES={lanes}", str(tb), str(netlist), str(cells)]
    elif sim == "verilator":
        from . import toolchain

        obj = Path(build_dir).resolve() if build_dir is not None else Path(work).resolve() / "obj"
        exe = obj / "Vgl"
        # the runs are a few hundred cycles: compile time dominates, so the C++ is not optimised
        cmd = ([toolchain.require("verilator"), "--binary", "--timing", "--trace", "--trace-underscore",
                "-Wno-fatal", "-Wno-lint", "-Wno-style", "--top-module", "tb_stream", f"-GLANES={lanes}",
                "--Mdir", str(obj), "-j", "2", "-o", "Vgl", "-MAKEFLAGS", "CFG_CXXFLAGS_PCH_I=-include",
                "-CFLAGS", "-O0 -fcoroutines", str(tb), str(netlist), str(cells)])
        if exe.exists():
            cmd = None
    else:
        raise ValueError(f"unknown simulator {sim!r}; allowed: icarus, verilator")
    if cmd is not None:
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{sim} build of the netlist failed: {proc.stdout[-2000:]} {proc.stderr[-3000:]}")
    fin, fout = work / "in.hex", work / "out.txt"
    with open(fin, "w") as f:
        for op, mode, fp32, en, a, b, sa, sb in beats:
            f.write(f"{op:x} {mode:x} {fp32:x} {en:x} {a:x} {b:x} {sa:x} {sb:x}\n")
    run = ["vvp", "-n", str(exe)] if sim == "icarus" else [str(exe)]
    proc = subprocess.run(run + [f"+in={fin}", f"+out={fout}", f"+reads={reads}"],
                          capture_output=True, text=True, cwd=work)
    if proc.returncode != 0 or not fout.exists():
        raise RuntimeError(f"gate-level simulation failed: {proc.stdout[-2000:]} {proc.stderr[-2000:]}")
    outs = []
    for line in fout.read_text().splitlines():
        p = line.split()
        if p[0] != "done":
            outs.append((int(p[0]), int(p[1], 16)))
    return vcd, outs


def toggle_stats(vcd: Path, t_from: int = 0) -> tuple[dict, int]:
    """Per net bit of the engine (the ``tb_stream.dut`` scope): (toggles, time at 1) from
    ``t_from`` to the end; and the time span.  Nets that share a VCD code (aliases) each get
    the code's toggles."""
    ids: dict[str, list] = {}       # code -> [bit names of each net with this code]
    state: dict[str, str] = {}
    stats: dict[str, list] = {}     # name -> [toggles, high_time, last_t]
    scope: list[str] = []
    t = 0
    in_defs = True
    with open(vcd) as fh:
        for line in fh:
            if in_defs:
                ls = line.lstrip()
                if ls.startswith("$scope"):
                    scope.append(ls.split()[2])
                elif ls.startswith("$upscope"):
                    scope.pop()
                elif ls.startswith("$var") and scope[-2:] == ["tb_stream", "dut"] and len(scope) == 2:
                    p = ls.split()
                    width, code, name = int(p[2]), p[3], p[4]
                    rng = p[5] if len(p) > 6 and p[5].startswith("[") else None
                    if width == 1:
                        bits = [name + (rng if rng else "")]
                    else:
                        hi, lo = (int(x) for x in rng.strip("[]").split(":"))
                        step = -1 if hi >= lo else 1
                        bits = [f"{name}[{i}]" for i in range(hi, lo + step, step)]   # MSB first
                    ids.setdefault(code, []).append(bits)
                elif ls.startswith("$enddefinitions"):
                    in_defs = False
                    for code, nets in ids.items():
                        state[code] = "x" * len(nets[0])
                        for bits in nets:
                            for b in bits:
                                stats[b] = [0, 0, 0]
                continue
            c = line[:1]
            if c == "#":
                t = int(line[1:])
                continue
            if c in "01xz":
                val, code = line[0], line[1:].strip()
            elif c == "b":
                v, code = line[1:].split()
                val = v
            else:
                continue
            nets = ids.get(code)
            if nets is None:
                continue
            val = val.rjust(len(nets[0]), "0" if val[0] in "01" else val[0])
            old = state[code]
            for i, (o, n) in enumerate(zip(old, val)):
                if o != n:
                    for bits in nets:
                        s = stats[bits[i]]
                        if o == "1":
                            s[1] += t - max(s[2], t_from) if t > t_from else 0
                        if t >= t_from and o in "01" and n in "01":
                            s[0] += 1
                        s[2] = t
            state[code] = val
    for code, nets in ids.items():
        for bits in nets:
            for i, b in enumerate(bits):
                s = stats[b]
                if state[code][i] == "1":
                    s[1] += t - max(s[2], t_from)
    return stats, t - t_from
