"""Synthesis of the MAC engine with Yosys (area) and OpenSTA (critical path, Fmax).

::

    python -m rtl.synth                                  # every mode, technology-independent area
    python -m rtl.synth --liberty ../shared/pdk/sky130_fd_sc_hd__tt_025C_1v80.lib.gz
    python -m rtl.synth --modes int8 int4 --lanes 2 --liberty LIB --json out.json
    python -m rtl.synth --modes posit8_0 --accumulator fixed:16:16 --liberty LIB

With a Liberty file (``.lib`` or ``.lib.gz``; a gzipped file is unpacked to a
temporary file, never into the project) Yosys maps to its cells and reports
``stat -liberty`` chip area per block (the hierarchy is kept while measuring),
then OpenSTA times the flattened netlist.  Without one, Yosys' ``stat -tech
cmos`` transistor estimate is reported.  Debian yosys 0.23 and opensta are used.
"""
from __future__ import annotations

import argparse
import gzip
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sim.mac import Accumulator

from . import modes as M
from .params import acc_params
from .sources import TOP, sources

__all__ = ["synthesize", "main", "BLOCKS"]

#: block of the area report -> module-name prefixes that belong to it
BLOCKS = {
    "decoders": ("dec_",),
    "multiplier": ("rmul",),
    "align+accumulator": ("align", "acc_", "lane_acc", "mx_", "prod_", "fixed_", "fp32_", "fadd_"),
    "readout/encoder": ("enc_", "readout", "lzc"),
}


def _block_of(module: str) -> str:
    name = module.split("\\")[-1]
    name = re.sub(r"^\$paramod\$[0-9a-f]+\\", "", name)
    m = re.match(r"^\$paramod\\([A-Za-z0-9_]+)", module)
    if m:
        name = m.group(1)
    for block, prefixes in BLOCKS.items():
        if name.startswith(prefixes):
            return block
    return "control/other"


def _liberty_file(path: str, tmp: Path) -> Path:
    src = Path(path)
    if not src.is_file():
        raise FileNotFoundError(f"Liberty file {path!r} does not exist")
    if src.suffix == ".gz":
        out = tmp / src.name[:-3]
        with gzip.open(src, "rb") as fi, open(out, "wb") as fo:
            shutil.copyfileobj(fi, fo)
        return out
    return src


def _parse_stat(text: str, liberty: bool) -> dict:
    """Per-module own area (or transistor count) from Yosys' hierarchical stat output."""
    mods: dict[str, float] = {}
    cur = None
    key = "Chip area for module" if liberty else "Estimated number of transistors"
    for line in text.splitlines():
        m = re.match(r"^=== (.+) ===$", line.strip())
        if m:
            cur = m.group(1)
            continue
        if cur and key in line:
            num = re.findall(r"[-+]?\d+(?:\.\d+)?", line.split(":")[-1])
            if num:
                mods[cur] = float(num[-1])
    counts: dict[str, int] = {}
    design = re.search(r"=== design hierarchy ===(.*)", text, re.S)
    if design:
        for line in design.group(1).splitlines():
            m = re.match(r"^\s+(\S+)\s+(\d+)$", line)
            if m and m.group(1) in mods:
                counts[m.group(1)] = int(m.group(2))
    total = None
    m = re.findall(r"Chip area for top module '[^']*':\s*([\d.]+)", text) if liberty else []
    if m:
        total = float(m[-1])
    return {"modules": mods, "counts": counts, "total": total}


def synthesize(modes=None, lanes: int = 1, liberty: str | None = None, period_ns: float = 10.0,
               keep: str | None = None, log=print, accumulator="exact") -> dict:
    """Synthesize the engine; returns a dict with area per block, total, and timing.

    ``accumulator``: ``"exact"``, ``"fp32"``, ``("fixed", I, F)`` or ``"fixed:I:F"``."""
    yosys = shutil.which("yosys")
    if yosys is None:
        raise RuntimeError("yosys not found; install it with: apt-get install yosys")
    mask = M.mask_of(modes)
    ap = acc_params(accumulator)
    chparams = " ".join(f"-set {k} {v}" for k, v in ap.items())
    with tempfile.TemporaryDirectory(prefix="rtl-synth-") as td:
        tmp = Path(td)
        lib = _liberty_file(liberty, tmp) if liberty else None
        files = " ".join(str(p) for p in sources())
        net = tmp / "net.v"
        stat = tmp / "stat.txt"
        pre = f"read_liberty -lib {lib}; " if lib else ""
        script = (
            f"{pre}read_verilog -DSYNTHESIS {files}; "
            f"chparam -set LANES {lanes} -set MODES {mask} {chparams} {TOP}; "
            f"synth -top {TOP}; "
        )
        if lib:
            script += (f"dfflibmap -liberty {lib}; abc -liberty {lib}; opt_clean; "
                       f"tee -q -o {stat} stat -liberty {lib}; "
                       f"flatten; opt_clean; write_verilog -noattr -noexpr {net}; ")
        else:
            script += f"abc -g cmos2; opt_clean; tee -q -o {stat} stat -tech cmos; "
        t0 = time.time()
        proc = subprocess.run([yosys, "-q", "-p", script], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"yosys failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        text = stat.read_text()
        parsed = _parse_stat(text, bool(lib))
        blocks: dict[str, float] = {}
        for mod, own in parsed["modules"].items():
            n = parsed["counts"].get(mod, 1) if mod != TOP else 1
            blk = _block_of(mod)
            blocks[blk] = blocks.get(blk, 0.0) + own * n
        total = parsed["total"] if parsed["total"] is not None else sum(blocks.values())
        res = {"modes": [n for n in M.names() if mask >> M.mode_id(n) & 1], "mask": mask,
               "lanes": lanes, "accumulator": str(Accumulator.parse(accumulator)),
               "liberty": str(liberty) if liberty else None,
               "unit": "um^2" if lib else "transistors (stat -tech cmos)",
               "total": total, "blocks": blocks, "yosys_s": round(time.time() - t0, 1)}
        if lib:
            res.update(_sta(lib, net, period_ns))
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            for f in (net, stat):
                if f.exists():
                    shutil.copy(f, Path(keep) / f.name)
    return res


def _sta(lib: Path, net: Path, period_ns: float) -> dict:
    sta = shutil.which("sta")
    if sta is None:
        return {"sta": "opensta not found (apt-get install opensta)"}
    tcl = net.parent / "sta.tcl"
    tcl.write_text(
        f"read_liberty {lib}\nread_verilog {net}\nlink_design {TOP}\n"
        f"create_clock -name clk -period {period_ns} [get_ports clk]\n"
        "set_input_delay 0 -clock clk [delete_from_list [all_inputs] [get_ports clk]]\n"
        "set_output_delay 0 -clock clk [all_outputs]\n"
        "report_checks -path_delay max -fields {net} -digits 3\nexit\n")
    proc = subprocess.run([sta, "-no_init", "-exit", str(tcl)] if False else [sta, str(tcl)],
                          capture_output=True, text=True, timeout=1200, stdin=subprocess.DEVNULL)
    out = proc.stdout
    arr = re.search(r"([\d.]+)\s+data arrival time", out)
    slack = re.search(r"([-\d.]+)\s+slack", out)
    start = re.search(r"Startpoint:\s*(\S+)", out)
    end = re.search(r"Endpoint:\s*(\S+)", out)
    if not (arr and slack):
        return {"sta": "no path found", "sta_log": out[-2000:]}
    crit = period_ns - float(slack.group(1))
    # named nets on the path (Yosys keeps register and wire names through flatten)
    allnets = re.findall(r"(\S+) \(net\)", out)
    named = [n for n in allnets if not re.match(r"^_\d+_$", n)]
    return {"critical_path_ns": round(crit, 3), "fmax_mhz": round(1000.0 / crit, 1),
            "startpoint": start.group(1) if start else None,
            "endpoint": end.group(1) if end else None, "period_ns": period_ns,
            "path_nets": (named[:3] + ["..."] + named[-3:]) if len(named) > 6 else named,
            "path_nets_all": named, "path_len": len(allnets)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m rtl.synth", description=__doc__.split("\n\n")[0])
    p.add_argument("--modes", nargs="+", default=None, metavar="MODE",
                   help=f"modes to compile in (default: all): {', '.join(M.names())}")
    p.add_argument("--lanes", type=int, default=1, help="number of lanes (default 1)")
    p.add_argument("--liberty", default=None, help="Liberty file (.lib or .lib.gz) for area and timing")
    p.add_argument("--accumulator", default="exact",
                   help="exact (default), fp32 or fixed:INT_BITS:FRAC_BITS (non-MX modes)")
    p.add_argument("--period", type=float, default=10.0, help="clock period for OpenSTA in ns")
    p.add_argument("--json", default=None, help="also write the result as JSON here")
    p.add_argument("--keep", default=None, help="copy the netlist and stat output into this folder")
    args = p.parse_args(argv)
    try:
        if args.lanes < 1:
            raise ValueError(f"--lanes must be >= 1, got {args.lanes}")
        M.mask_of(args.modes)
        acc_params(args.accumulator)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        res = synthesize(args.modes, args.lanes, args.liberty, args.period, args.keep,
                         accumulator=args.accumulator)
    except (RuntimeError, FileNotFoundError, subprocess.TimeoutExpired) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"modes: {', '.join(res['modes'])}   lanes: {res['lanes']}   accumulator: {res['accumulator']}")
    for blk, a in sorted(res["blocks"].items()):
        print(f"  {blk:<20} {a:14.1f} {res['unit']}")
    print(f"  {'total':<20} {res['total']:14.1f} {res['unit']}")
    if "critical_path_ns" in res:
        print(f"critical path {res['critical_path_ns']} ns ({res['startpoint']} -> {res['endpoint']}), "
              f"Fmax ~ {res['fmax_mhz']} MHz")
        if res.get("path_nets"):
            print(f"  named nets on it: {' '.join(res['path_nets'])}")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
