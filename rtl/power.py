"""Energy per MAC of the synthesized engine, from gate-level switching activity.

The flow (one call of :func:`energy_per_mac`):

1. the mapped, flattened sky130 netlist of :func:`rtl.synth.synthesize` (``keep=DIR``
   leaves it as ``DIR/net.v``) gets simple net names (:func:`rtl.gatesim.simple_names`);
2. Icarus (or Verilator) simulates it, zero delay, around ``rtl/tb/tb_stream.v`` on the
   stream of :func:`rtl.run.beats_for_rows`; its outputs are checked bit for bit against
   sim.mac, and each net bit's toggles are counted from a VCD (reset excluded);
3. OpenSTA, under the project's constraints (:func:`rtl.sta.sdc` at the netlist's clock),
   gives every pin's actual transition time (:func:`pin_slews`); each net's load is the
   input-pin capacitances on it plus the wire capacitance of the Liberty wire-load model
   for its fan-out (:func:`rtl.liberty.wire_cap`), plus the output load on engine outputs;
4. energy = per toggle of a net, for each cell pin on it, the Liberty internal energy
   interpolated in its NLDM tables (:class:`rtl.liberty.Table`): an input pin's own table at
   its slew; an output pin's tables at the slew of each related input pin and the net's
   load, averaged over its arcs; each entry the mean of rise and fall energy) + 0.5 C V^2
   with C the net's load; + every cell's ``cell_leakage_power`` over the simulated time.
   Energy per MAC = that energy / MACs (every element product of every ACC beat of every
   active lane; CLEAR/READ beats and the pipeline drain are in the time).

Dynamic energy (internal + switching) does not depend on the clock; leakage does, so every
result carries ``dynamic_pj``, ``leakage_nw`` and ``cycles`` and can be quoted at any clock
(``dse.costgen.pj_at``).  Zero-delay simulation counts no glitches; the clock is ungated.

OpenSTA 2.0.17 (Debian) has no ``read_vcd``/``read_saif`` and its per-pin activity path did
not give usable results, so the computation above, from the same Liberty tables, is done
here instead.
"""
from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from . import liberty, sta
from .gatesim import SIM_PERIOD_PS, cell_models, gate_sim, simple_names, toggle_stats
from .run import beats_for_rows

__all__ = ["VDD", "netlist_pins", "output_ports", "pin_slews", "net_loads", "liberty_energy", "energy_per_mac",
           "cell_models", "simple_names", "gate_sim", "toggle_stats"]

VDD = 1.8          #: supply of the tt_025C_1v80 corner, volts


def netlist_pins(net_v: Path) -> list[tuple[str, str, dict]]:
    """(cell type, instance, {pin: net bit}) of every cell instance of a flat netlist."""
    text = Path(net_v).read_text()
    insts = []
    for m in re.finditer(r'(sky130_fd_sc_hd__\w+)\s+(\S+)\s*\((.*?)\);', text, re.S):
        conns = {p: re.sub(r"\s+", "", n) for p, n in re.findall(r'\.(\w+)\(([^()]*)\)', m.group(3))}
        insts.append((m.group(1), m.group(2).lstrip("\\"), conns))
    return insts


def output_ports(net_v: Path) -> list[str]:
    """Every output port bit of the netlist's module, as net-bit names."""
    text = Path(net_v).read_text()
    bits = []
    for m in re.finditer(r'^\s*output\s*(?:\[(\d+):(\d+)\])?\s*(\w+)\s*;', text, re.M):
        if m.group(1) is None:
            bits.append(m.group(3))
        else:
            hi, lo = int(m.group(1)), int(m.group(2))
            bits += [f"{m.group(3)}[{i}]" for i in range(min(hi, lo), max(hi, lo) + 1)]
    return bits


def pin_slews(lib: Path, net_v: Path, top: str, period_ns: float, work: Path) -> dict[str, float]:
    """Every cell pin's transition time (ns, mean of OpenSTA's max rise and fall) under the
    project's constraints at ``period_ns``; keys ``instance/pin`` (pins OpenSTA gives no
    transition, e.g. on constant nets, are left out)."""
    work.mkdir(parents=True, exist_ok=True)
    net = sta.sta_netlist(net_v, work / "net_sta.v")
    out = work / "slews.txt"
    load = sta.output_load_pf(str(lib))
    tcl = work / "slews.tcl"
    tcl.write_text(
        f"read_liberty {lib}\nread_verilog {net}\nlink_design {top}\n" + sta.sdc(period_ns, load)
        + f"set f [open {out} w]\n"
        "foreach p [get_pins -hierarchical *] {\n"
        "  puts $f \"[get_full_name $p] [get_property $p actual_rise_transition_max] "
        "[get_property $p actual_fall_transition_max]\"\n"
        "}\nclose $f\nexit\n")
    proc = subprocess.run(["sta", "-no_splash", str(tcl)], capture_output=True, text=True, timeout=3600,
                          stdin=subprocess.DEVNULL, cwd=work)
    errors = [l for l in (proc.stdout + proc.stderr).splitlines() if l.startswith("Error")]
    if proc.returncode != 0 or errors or not out.exists():
        raise sta.StaError(f"OpenSTA slew dump failed: {errors[:5]} {proc.stdout[-1000:]} {proc.stderr[-1000:]}")
    slews = {}
    for line in out.read_text().splitlines():
        p = line.split()
        try:
            r, f = float(p[1]), float(p[2])
        except (IndexError, ValueError):
            continue
        if np.isfinite(r) and np.isfinite(f) and abs(r) < 1e6 and abs(f) < 1e6:
            slews[p[0]] = (r + f) / 2
    return slews


def net_loads(lib: Path, insts, cells: dict, outputs) -> dict[str, float]:
    """Load of every net (pF): input-pin capacitances + wire-load wire capacitance for the
    net's fan-out + the output load on engine output ports."""
    cap: dict[str, float] = {}
    fanout: dict[str, int] = {}
    for ctype, _, conns in insts:
        for pin, net in conns.items():
            info = cells[ctype].pins.get(pin)
            if info is not None and info.direction == "input":
                cap[net] = cap.get(net, 0.0) + info.capacitance
                fanout[net] = fanout.get(net, 0) + 1
    port = sta.output_load_pf(str(lib))
    for net in outputs:
        cap[net] = cap.get(net, 0.0) + port
        fanout[net] = fanout.get(net, 0) + 1
    model = sta.CONSTRAINTS["wire_load_model"]
    return {net: c + liberty.wire_cap(lib, fanout.get(net, 0), model) for net, c in cap.items()}


def liberty_energy(lib: Path, netlist: Path, toggles: dict, seconds: float, slews: dict | None = None) -> dict:
    """Energy (pJ) of the toggles: internal (NLDM tables at each pin's slew and load),
    switching (0.5 C V^2 with C = the net's load), leakage over ``seconds``.

    ``toggles``: net bit -> transitions.  ``slews``: ``instance/pin`` -> ns (:func:`pin_slews`);
    a pin without one gets the median of the others (counted in ``slew_defaults``)."""
    insts = netlist_pins(netlist)
    cells = liberty.read_cells(lib, sorted({c for c, _, _ in insts}))
    loads = net_loads(lib, insts, cells, output_ports(netlist))
    slews = slews or {}
    default = float(np.median(list(slews.values()))) if slews else 0.05
    missing = 0

    def slew(inst, pin):
        nonlocal missing
        v = slews.get(f"{inst}/{pin}")
        if v is None:
            missing += 1
            return default
        return v

    internal = leak_nw = 0.0
    for ctype, inst, conns in insts:
        cell = cells[ctype]
        leak_nw += cell.leakage_nw
        for pin, net in conns.items():
            n = toggles.get(net, 0)
            info = cell.pins.get(pin)
            if not n or info is None or not info.power:
                continue
            if info.direction == "output":
                load = loads.get(net, 0.0)
                e = np.mean([g.energy(slew(inst, g.related_pin) if g.related_pin else default, load)
                             for g in info.power])
            else:
                s = slew(inst, pin)
                e = np.mean([g.energy(s) for g in info.power])
            internal += n * float(e)
    switching = sum(n * 0.5 * loads.get(net, 0.0) * VDD ** 2 for net, n in toggles.items() if n)
    leakage = leak_nw * 1e-9 * seconds * 1e12
    return {"internal_pj": internal, "switching_pj": switching, "leakage_pj": leakage,
            "dynamic_pj": internal + switching, "leakage_nw": leak_nw,
            "total_pj": internal + switching + leakage, "cells": len(insts), "slew_defaults": missing}


def check_outputs(e, outs, A, B, SA=None, SB=None, TA=None, TB=None, what: str = "gate-level netlist") -> None:
    """Raise unless a simulation's outputs ``outs`` ((cycle, packed lanes) pairs) are sim.mac
    engine ``e``'s results for rows A . B, bit for bit (a missing result counts as a mismatch).
    ``e`` must be built like the netlist: mode, lanes, accumulator and pipeline (``pipe = 1``
    rounds the fp32 accumulator at other points than ``pipe = 0``)."""
    kw = {"scale_a": SA, "scale_b": SB} if e.block else {}
    kw.update({"tensor_scale_a": TA, "tensor_scale_b": TB} if e.tensor_scale else {})
    ref = e.dot(A, B, **kw).astype(np.uint64)
    obits = e.output_format.bits
    got = [(y >> (32 * l)) & ((1 << obits) - 1) for _, y in outs for l in range(e.lanes)][:len(ref)]
    bad = int(np.sum(np.asarray(got, dtype=np.uint64) != ref[:len(got)])) + max(0, len(ref) - len(got))
    if bad:
        raise RuntimeError(f"{what} disagrees with sim.mac (pipe={e.pipe}, accumulator {e.accumulator}) "
                           f"on {bad} of {len(ref)} rows")


def energy_per_mac(net_dir: Path, lib: Path, mode: str, A, B, SA=None, SB=None, lanes: int = 1,
                   mask: int | None = None, period_ns: float = 10.0, check: bool = True,
                   accumulator="exact", sim: str = "icarus", top: str = "mac_engine",
                   TA=None, TB=None, pipe: int = 0) -> dict:
    """pJ per MAC of the netlist in ``net_dir`` running rows A . B (codes) in ``mode``, quoted at
    a clock of ``period_ns`` (which also sets the OpenSTA constraints the slews are taken under).

    ``accumulator`` and ``pipe`` are those the netlist was synthesized with (the check against
    sim.mac uses them); ``top`` its module (``mac_engine`` or a baseline of rtl/src/baseline/)."""
    from sim import mac

    from .gatesim import _file_hash

    e = mac.Engine(mode=mode, lanes=lanes, accumulator=accumulator, pipe=pipe)
    A, B = np.atleast_2d(A), np.atleast_2d(B)
    beats = beats_for_rows(e, A, B, SA, SB, lanes=lanes, TA=TA, TB=TB)   # TA, TB: nvfp4's tensor scales
    passes = -(-A.shape[0] // lanes)
    with tempfile.TemporaryDirectory(prefix="rtl-power-") as td:
        work = Path(td)
        net = simple_names(Path(net_dir) / "net.v", work / "net_simple.v")
        cells = cell_models(lib, Path(net_dir) / "cells.v")
        vcd, outs = gate_sim(net, cells, beats, lanes, work, passes, sim=sim, top=top,
                             build_dir=(Path(net_dir) / f"gl_verilator_{_file_hash(Path(net_dir) / 'net.v')}"
                                        if sim == "verilator" else None))
        if check:
            check_outputs(e, outs, A, B, SA, SB, TA, TB)
        t_from = 3 * SIM_PERIOD_PS                       # skip reset
        stats, span = toggle_stats(vcd, t_from)
        cycles = span / SIM_PERIOD_PS
        toggles = {n: s[0] for n, s in stats.items()}
        slews = pin_slews(Path(lib), net, top, period_ns, work / "sta")
        en = liberty_energy(lib, net, toggles, cycles * period_ns * 1e-9, slews)
    macs = int(A.size)
    return {"mode": mode, "lanes": lanes, "macs": macs, "cycles": round(cycles, 1), "top": top,
            "period_ns": period_ns, **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in en.items()},
            "pj_per_mac": en["total_pj"] / macs,
            "mean_toggles_per_cycle": float(np.mean([s[0] for s in stats.values()])) / cycles}
