"""Energy per MAC of the synthesized engine, from gate-level switching activity.

The flow (one call of :func:`energy_per_mac`):

1. the mapped, flattened sky130 netlist of :func:`rtl.synth.synthesize` (``keep=DIR``
   leaves it as ``DIR/net.v``) gets simple net names (escaped Verilog identifiers are
   renamed ``n<k>``, so the VCD and the netlist parser agree on every name);
2. Icarus simulates it, zero delay, with behavioural models of the sky130 cells that
   Yosys writes from the Liberty file's ``function`` / ``ff`` groups (``read_liberty``),
   driven by ``rtl/tb/tb_stream.v`` (one beat per line, the stream of
   :func:`rtl.run.beats_for_rows`), and dumps every net of the engine to a VCD;
3. each net bit's toggles are counted from the VCD (from the third clock edge on: reset
   excluded);
4. energy = for every cell pin on a toggling net, the Liberty internal energy per
   transition ((rise_power + fall_power) / 2 of each ``internal_power`` group, averaged over
   the pin's groups, read at the tables' second index point) + 0.5 C V^2 per toggle with C =
   the input-pin capacitances on the net (no wire capacitance) + every cell's
   ``cell_leakage_power`` over the simulated time.  Energy per MAC = that energy / MACs
   done (every element product of every ACC beat of every active lane counts one MAC;
   CLEAR/READ beats and the pipeline drain are in the time, so the figure is the engine's
   energy per useful MAC).

OpenSTA 2.0.17 (Debian) has no ``read_vcd``/``read_saif``; its ``set_power_activity`` /
``sta::set_power_pin_activity`` path was tried and did not give usable per-pin results (a
combinational test net with a set activity reported zero switching power, and a single
flop's clock internal power came out twice the Liberty value), so the computation above,
which uses the same Liberty tables, is done here instead.

Zero-delay simulation counts no glitches, so the dynamic energy is a lower bound on what a
timed simulation would show; the clock is ungated, so every flop pays its clock-pin energy
every cycle.  Both are stated wherever the numbers are reported.
"""
from __future__ import annotations

import hashlib
import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from .run import TB_DIR, beats_for_rows

#: clock period of rtl/tb/tb_stream.v (``always #5``, timescale 1ns/1ps), in VCD time units
SIM_PERIOD_PS = 10_000

__all__ = ["cell_models", "simple_names", "gate_sim", "toggle_stats", "liberty_cells",
           "netlist_pins", "liberty_energy", "energy_per_mac"]


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


def _testbench(out: Path, vcd: Path) -> Path:
    tb = (TB_DIR / "tb_stream.v").read_text()
    tb, n = re.subn(r"mac_engine #\([^;]*?\) dut", "mac_engine dut", tb)   # the netlist has no parameters
    if n != 1:
        raise RuntimeError("rtl/tb/tb_stream.v changed: cannot find the engine instance")
    tb = tb.replace("endmodule", f'    initial begin $dumpfile("{vcd.name}"); $dumpvars(1, tb_stream.dut); end\n'
                    "endmodule")
    out.write_text(tb)
    return out


def gate_sim(netlist: Path, cells: Path, beats, lanes: int, work: Path, reads: int,
             sim: str = "icarus", build_dir: Path | None = None) -> tuple[Path, list]:
    """Simulate the netlist on ``beats``; returns (VCD path, [(cycle, out_y)]).

    ``sim``: "icarus" (event driven) or "verilator" (compiled; much faster on deep
    combinational logic such as the fp32 accumulator's chained adders, whose zero-delay
    event cascades make Icarus crawl).  Both dump the settled value of every net at each
    time step, so the toggle counts agree (tests/rtl/test_power.py checks it).  The VCD is
    written into ``work`` (the simulation's working folder).  ``build_dir``: keep the
    Verilator model there and reuse it (one build per netlist; the stimulus is read at run
    time)."""
    vcd = work / "act.vcd"
    tb = _testbench(work / "tb_gl.v", vcd)
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


VDD = 1.8          #: supply of the tt_025C_1v80 corner, volts


def _block(text: str, start: int) -> str:
    """The brace-balanced group starting at the first '{' after ``start``."""
    i = text.index("{", start)
    depth = 0
    for j in range(i, len(text)):
        c = text[j]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[i:j + 1]
    raise ValueError("unbalanced Liberty group")


def _table_point(group: str, name: str) -> float | None:
    """Value of a rise_power/fall_power table at its second index point (slew, load)."""
    m = re.search(name + r'\s*\([^)]*\)\s*\{(.*?)\}', group, re.S)
    if not m:
        return None
    vals = re.search(r'values\s*\((.*?)\)\s*;', m.group(1), re.S)
    if not vals:
        return None
    rows = [[float(x) for x in r.split(",") if x.strip()] for r in re.findall(r'"([^"]*)"', vals.group(1))]
    row = rows[min(1, len(rows) - 1)]
    return row[min(1, len(row) - 1)]


def liberty_cells(lib: Path, names) -> dict:
    """Per cell: leakage (nW), per pin input capacitance (pF) and internal energy per toggle (pJ).

    Internal energy per toggle of a pin = mean over its ``internal_power`` groups (every
    related pin / ``when`` state weighted alike) of (rise_power + fall_power) / 2, each
    table read at its second index point (input slew index_1[1], output load index_2[1]:
    a small-cell, short-wire operating point)."""
    text = Path(lib).read_text()
    out = {}
    for name in names:
        i = text.find(f'cell ("{name}")')
        if i < 0:
            raise KeyError(f"cell {name} not in {lib}")
        body = _block(text, i)
        leak = re.search(r'cell_leakage_power\s*:\s*([-\d.eE+]+)', body)
        pins = {}
        for m in re.finditer(r'\n\s*pin\s*\(\s*"?(\w+)"?\s*\)', body):
            pb = _block(body, m.end())
            cap = re.search(r'\n\s*capacitance\s*:\s*([-\d.eE+]+)', pb)
            energies = []
            for g in re.finditer(r'internal_power\s*\(\s*\)', pb):
                gb = _block(pb, g.end())
                r, f = _table_point(gb, "rise_power"), _table_point(gb, "fall_power")
                got = [v for v in (r, f) if v is not None]
                if got:
                    energies.append(sum(got) / len(got))
            pins[m.group(1)] = {"cap_pf": float(cap.group(1)) if cap else 0.0,
                                "e_pj": float(np.mean(energies)) if energies else 0.0}
        out[name] = {"leak_nw": float(leak.group(1)) if leak else 0.0, "pins": pins}
    return out


def netlist_pins(net_v: Path) -> list[tuple[str, str, dict]]:
    """(cell type, instance, {pin: net bit}) of every cell instance of a flat netlist."""
    text = Path(net_v).read_text()
    insts = []
    for m in re.finditer(r'(sky130_fd_sc_hd__\w+)\s+(\S+)\s*\((.*?)\);', text, re.S):
        conns = {p: re.sub(r"\s+", "", n) for p, n in re.findall(r'\.(\w+)\(([^()]*)\)', m.group(3))}
        insts.append((m.group(1), m.group(2), conns))
    return insts


def liberty_energy(lib: Path, netlist: Path, toggles: dict, seconds: float) -> dict:
    """Energy (pJ) of the toggles: internal (Liberty tables), switching (0.5 C V^2), leakage.

    ``toggles``: net bit -> number of transitions in the simulated ``seconds``.  Switching
    capacitance of a net = the input capacitances of the cell pins on it (no wire load)."""
    insts = netlist_pins(netlist)
    cells = liberty_cells(lib, sorted({c for c, _, _ in insts}))
    internal = switching = leak_nw = 0.0
    for ctype, _, conns in insts:
        cell = cells[ctype]
        leak_nw += cell["leak_nw"]
        for pin, net in conns.items():
            info = cell["pins"].get(pin)
            n = toggles.get(net, 0)
            if info is None or not n:
                continue
            internal += n * info["e_pj"]
            switching += n * 0.5 * info["cap_pf"] * VDD ** 2
    leakage = leak_nw * 1e-9 * seconds * 1e12
    return {"internal_pj": internal, "switching_pj": switching, "leakage_pj": leakage,
            "total_pj": internal + switching + leakage, "cells": len(insts)}


def energy_per_mac(net_dir: Path, lib: Path, mode: str, A, B, SA=None, SB=None, lanes: int = 1,
                   mask: int | None = None, period_ns: float = 10.0, check: bool = True,
                   accumulator="exact", sim: str = "icarus") -> dict:
    """pJ per MAC of the netlist in ``net_dir`` running rows A . B (codes) in ``mode``.

    ``accumulator`` is the one the netlist was synthesized with (the check against sim.mac
    uses it)."""
    from sim import mac

    e = mac.Engine(mode=mode, lanes=lanes, accumulator=accumulator)
    A, B = np.atleast_2d(A), np.atleast_2d(B)
    beats = beats_for_rows(e, A, B, SA, SB, lanes=lanes)
    passes = -(-A.shape[0] // lanes)
    with tempfile.TemporaryDirectory(prefix="rtl-power-") as td:
        work = Path(td)
        net = simple_names(Path(net_dir) / "net.v", work / "net_simple.v")
        cells = cell_models(lib, Path(net_dir) / "cells.v")
        vcd, outs = gate_sim(net, cells, beats, lanes, work, passes, sim=sim,
                             build_dir=(Path(net_dir) / f"gl_verilator_{_file_hash(Path(net_dir) / 'net.v')}"
                                        if sim == "verilator" else None))
        if check:
            kw = {"scale_a": SA, "scale_b": SB} if e.block else {}
            ref = e.dot(A, B, **kw).astype(np.uint64)
            obits = e.output_format.bits
            got = [(y >> (32 * l)) & ((1 << obits) - 1) for _, y in outs for l in range(lanes)][:len(ref)]
            bad = int(np.sum(np.asarray(got, dtype=np.uint64) != ref))
            if bad:
                raise RuntimeError(f"gate-level netlist disagrees with sim.mac on {bad} of {len(ref)} rows")
        t_from = 3 * SIM_PERIOD_PS                       # skip reset
        stats, span = toggle_stats(vcd, t_from)
        cycles = span / SIM_PERIOD_PS
        toggles = {n: s[0] for n, s in stats.items()}
        en = liberty_energy(lib, net, toggles, cycles * period_ns * 1e-9)
    macs = int(A.size)
    return {"mode": mode, "lanes": lanes, "macs": macs, "cycles": round(cycles, 1),
            "period_ns": period_ns, **{k: round(v, 3) for k, v in en.items()},
            "pj_per_mac": en["total_pj"] / macs,
            "mean_toggles_per_cycle": float(np.mean([s[0] for s in stats.values()])) / cycles}
