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


_DECL = re.compile(r"^\s*(?:wire|input|output|inout|reg)\s*(?:\[(\d+):(\d+)\])?\s*(\\\S+|[A-Za-z_][\w$]*)\s*;", re.M)
_CONST = re.compile(r"^(\d+)'([hbd])([0-9a-fA-FxXzZ_]+)$")
_REF = re.compile(r"^(\\\S+|[A-Za-z_][\w$]*)\s*(?:\[(\d+)(?::(\d+))?\])?$")


def _split_concat(text: str) -> list[str]:
    """The comma-separated items of ``{ a, b [3:0], 2'h0 }`` (escaped names may hold commas? no:
    they end at white space, and Yosys writes a space after each)."""
    inner = text.strip()
    if not (inner.startswith("{") and inner.endswith("}")):
        return [inner]
    return [t.strip() for t in inner[1:-1].split(",")]


def _bits(item: str, widths: dict) -> list[str]:
    """The single-bit references of one item, MSB first."""
    m = _CONST.match(item.replace(" ", ""))
    if m:
        n, base, digits = int(m.group(1)), m.group(2), m.group(3).replace("_", "").lower()
        if base == "d":
            bits = bin(int(digits))[2:]
        else:                          # x / z digits: undefined constants, timed as 0
            per = 4 if base == "h" else 1
            bits = "".join("0" * per if c in "xz" else bin(int(c, 16))[2:].zfill(per) for c in digits)
        bits = bits.zfill(n)[-n:]
        return [f"1'b{c}" for c in bits]
    m = _REF.match(item)
    if m is None:
        raise StaError(f"cannot read the netlist item {item!r}")
    name, hi, lo = m.group(1), m.group(2), m.group(3)
    sep = " " if name.startswith("\\") else ""
    if hi is None:
        rng = widths.get(name)
        if rng is None:
            return [name]
        hi, lo = rng
    else:
        hi, lo = int(hi), int(lo) if lo is not None else int(hi)
    step = -1 if hi >= lo else 1
    return [f"{name}{sep}[{i}]" for i in range(hi, lo + step, step)]


def sta_netlist(net: Path, out: Path) -> Path:
    """A copy of a Yosys netlist that OpenSTA 2.0.17 reads whole: its parser rejects a
    concatenation on the left of an ``assign`` (it would drop the statement, and with it the
    connection), so each such assign becomes one assign per bit; and ``signed`` in a
    declaration (written by newer Yosys) is dropped."""
    text = Path(net).read_text()
    # newer Yosys (PyPI 0.70) declares "wire signed [..]": not in OpenSTA 2.0.17's grammar, no meaning here
    text = re.sub(r"^(\s*(?:wire|input|output|inout|reg))\s+signed\b", r"\1", text, flags=re.M)
    widths = {m.group(3): (int(m.group(1)), int(m.group(2))) for m in _DECL.finditer(text) if m.group(1)}

    def expand(m):
        lhs, rhs = m.group(1), m.group(2)
        lb = [b for it in _split_concat(lhs) for b in _bits(it, widths)]
        rb = [b for it in _split_concat(rhs) for b in _bits(it, widths)]
        if len(lb) != len(rb):
            raise StaError(f"assign with {len(lb)} bits on the left and {len(rb)} on the right: {m.group(0)[:200]}")
        return "\n".join(f"  assign {a} = {b} ;" for a, b in zip(lb, rb))    # escaped names end at a space

    text = re.sub(r"^\s*assign\s+(\{[^;]*?\})\s*=\s*([^;]*?)\s*;", expand, text, flags=re.M | re.S)
    out.write_text(text)
    return out


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
    net = sta_netlist(net, work / "net_sta.v")
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
    errors = [l for l in out.splitlines() + proc.stderr.splitlines() if l.startswith("Error")]
    if errors:
        raise StaError(f"OpenSTA reported errors on {net}:\n" + "\n".join(errors[:10]))
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
