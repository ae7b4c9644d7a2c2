"""Static timing of a mapped netlist with OpenSTA, under stated constraints.

The constraints (:data:`CONSTRAINTS`, written out by :func:`sdc`) are the ones every
cost number of this project is timed with:

- one ideal clock ``clk`` on the port of that name, with a clock uncertainty of
  0.25 ns (jitter and skew margin, taken off every register-to-register path);
- every other input driven by a ``sky130_fd_sc_hd__inv_2`` (``set_driving_cell``),
  arriving 20 % of the period after the clock edge (``set_input_delay``);
- every output loaded with four ``inv_2`` inputs (4 x the Liberty pin capacitance of
  its ``A`` pin, ``set_load``) and required 20 % of the period before the next edge
  (``set_output_delay``);
- the Liberty file's ``Small`` wire-load model set explicitly (``set_wire_load_model``;
  sky130_fd_sc_hd's default), so every net carries a fan-out based wire capacitance;
- setup times of the capturing flops count (OpenSTA's required time).

Fmax is found from slack, not from the arrival time: the period is moved by the worst
slack (``P <- P - slack``) until the slack is within 5 ps of zero.  Input and output
delays scale with the period, so a port-bounded path converges geometrically; a
register-to-register path converges in one step.  Fmax = 1 / the period at zero slack.
"""
from __future__ import annotations

import gzip
import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

__all__ = ["CONSTRAINTS", "output_load_pf", "sdc", "abc_constr", "timing", "StaError"]

#: the constraints every timing and cost number uses (see the module docstring)
CONSTRAINTS = {
    "clock_uncertainty_ns": 0.25,
    "driving_cell": "sky130_fd_sc_hd__inv_2",
    "driving_pin": "Y",
    "load_cell": "sky130_fd_sc_hd__inv_2",
    "load_pin": "A",
    "load_fanout": 4,
    "io_delay_fraction": 0.2,
    "wire_load_model": "Small",
    "fmax_tolerance_ns": 0.005,
}


class StaError(RuntimeError):
    """OpenSTA failed or printed no usable result."""


def _liberty_text(lib: Path) -> str:
    lib = Path(lib)
    if lib.suffix == ".gz":
        with gzip.open(lib, "rt") as fh:
            return fh.read()
    return lib.read_text()


@lru_cache(maxsize=4)
def output_load_pf(lib: str) -> float:
    """The output load: ``load_fanout`` x the capacitance of ``load_cell``'s ``load_pin``, pF."""
    text = _liberty_text(Path(lib))
    c = CONSTRAINTS
    i = text.find(f'cell ("{c["load_cell"]}")')
    if i < 0:
        raise StaError(f"cell {c['load_cell']} not in {lib}")
    j = text.find(f'pin ("{c["load_pin"]}")', i)
    m = re.search(r"\bcapacitance\s*:\s*([\d.eE+-]+)", text[j:j + 2000]) if j >= 0 else None
    if m is None:
        raise StaError(f"no capacitance for {c['load_cell']}/{c['load_pin']} in {lib}")
    return c["load_fanout"] * float(m.group(1))


def _sdc(period: str, io: str, load_pf: float) -> str:
    c = CONSTRAINTS
    return (f"create_clock -name clk -period {period} [get_ports clk]\n"
            f"set_clock_uncertainty {c['clock_uncertainty_ns']} [get_clocks clk]\n"
            "set ins [delete_from_list [all_inputs] [get_ports clk]]\n"
            f"set_driving_cell -lib_cell {c['driving_cell']} -pin {c['driving_pin']} $ins\n"
            f"set_input_delay {io} -clock clk $ins\n"
            f"set_output_delay {io} -clock clk [all_outputs]\n"
            f"set_load {load_pf:.6g} [all_outputs]\n"
            f"set_wire_load_model -name {c['wire_load_model']}\n")


def sdc(period_ns: float, load_pf: float) -> str:
    """SDC commands constraining the engine at ``period_ns`` (clock, ports, wire load)."""
    return _sdc(f"{period_ns:.6g}", f"{CONSTRAINTS['io_delay_fraction'] * period_ns:.6g}", load_pf)


def abc_constr(lib: str) -> str:
    """The same driving cell and output load for Yosys' ``abc -constr`` (delay-targeted mapping)."""
    c = CONSTRAINTS
    return f"set_driving_cell {c['driving_cell']}\nset_load {output_load_pf(lib):.6g}\n"


def _unpacked(lib: Path, work: Path) -> Path:
    if lib.suffix != ".gz":
        return lib
    out = work / lib.name[:-3]
    if not out.exists():
        with gzip.open(lib, "rb") as fi, open(out, "wb") as fo:
            shutil.copyfileobj(fi, fo)
    return out


def timing(lib, net, top: str, period_ns: float = 10.0, work=None, sdf: Path | None = None,
           iterations: int = 12, timeout: int = 3600) -> dict:
    """Time ``net`` (a flat mapped netlist) under :func:`sdc`; find Fmax from slack.

    Returns the slack at ``period_ns``, the zero-slack period and Fmax, and the critical path
    at that period (start, end, arrival, required, the named nets on it).  ``sdf``: also write
    an SDF of the netlist's cell and wire delays there (at ``period_ns``' constraints)."""
    sta = shutil.which("sta")
    if sta is None:
        raise StaError("OpenSTA (sta) not found; install it with: apt-get install opensta")
    net = Path(net).resolve()
    work = Path(work) if work is not None else net.parent
    work.mkdir(parents=True, exist_ok=True)
    libf = _unpacked(Path(lib).resolve(), work)
    load = output_load_pf(str(Path(lib).resolve()))
    tol = CONSTRAINTS["fmax_tolerance_ns"]
    body = _sdc("$p", f"[expr {{{CONSTRAINTS['io_delay_fraction']} * $p}}]", load)
    tcl = work / "sta.tcl"
    tcl.write_text(
        f"read_liberty {libf}\nread_verilog {net}\nlink_design {top}\n"
        f"proc constrain {{p}} {{\n{body}}}\n"
        f"set p {period_ns}\nconstrain $p\n"
        + (f"write_sdf -digits 4 {Path(sdf).resolve()}\n" if sdf else "")
        + "puts \"SLACK_AT_TARGET [sta::worst_slack -max]\"\n"
        f"for {{set i 0}} {{$i < {iterations}}} {{incr i}} {{\n"
        "  set s [sta::worst_slack -max]\n"
        "  puts \"ITER $p $s\"\n"
        f"  if {{abs($s) <= {tol}}} break\n"
        "  set p [expr {$p - $s}]\n"
        "  constrain $p\n"
        "}\n"
        "puts \"PERIOD $p [sta::worst_slack -max]\"\n"
        "report_checks -path_delay max -fields {slew cap net fanout} -digits 3\n"
        "exit\n")
    proc = subprocess.run([sta, "-no_splash", str(tcl)], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, cwd=work)
    out = proc.stdout
    tgt = re.search(r"SLACK_AT_TARGET (\S+)", out)
    fin = re.search(r"PERIOD (\S+) (\S+)", out)
    if proc.returncode != 0 or not (tgt and fin):
        raise StaError(f"OpenSTA failed on {net}:\n{out[-2000:]}\n{proc.stderr[-2000:]}")
    per, slack = float(fin.group(1)), float(fin.group(2))
    if abs(slack) > 10 * tol:
        raise StaError(f"Fmax search did not converge ({iterations} steps): period {per} ns, slack {slack} ns")
    crit = per - slack
    arr = re.search(r"([-\d.]+)\s+data arrival time", out)
    req = re.search(r"([-\d.]+)\s+data required time", out)
    start = re.search(r"Startpoint:\s*(\S+)", out)
    end = re.search(r"Endpoint:\s*(\S+)", out)
    allnets = re.findall(r"(\S+) \(net\)", out)
    named = [n for n in allnets if not re.match(r"^_\d+_$", n)]
    return {"slack_at_target_ns": round(float(tgt.group(1)), 3), "period_ns": period_ns,
            "min_period_ns": round(crit, 3), "critical_path_ns": round(crit, 3),
            "fmax_mhz": round(1000.0 / crit, 1),
            "arrival_ns": float(arr.group(1)) if arr else None,
            "required_ns": float(req.group(1)) if req else None,
            "startpoint": start.group(1) if start else None, "endpoint": end.group(1) if end else None,
            "path_nets": (named[:3] + ["..."] + named[-3:]) if len(named) > 6 else named,
            "path_len": len(allnets), "fmax_iterations": len(re.findall(r"^ITER ", out, re.M)),
            "constraints": dict(CONSTRAINTS, output_load_pf=round(load, 6))}
