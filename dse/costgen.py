"""Measure the MAC engine's costs and write ``dse/data/costs.csv``.

::

    python -m dse.costgen                        # every configuration of CONFIGS, then the table
    python -m dse.costgen --only single:int4:1   # one configuration (build:mode-set:lanes[:acc])
    python -m dse.costgen --only single:int8:1:fixed16.16
    python -m dse.costgen --no-energy            # area and timing only

Per configuration: Yosys 0.23 maps the engine (``MODES`` = the compiled modes, ``LANES``)
onto sky130_fd_sc_hd (tt, 25 C, 1.80 V) through :func:`rtl.synth.synthesize`, OpenSTA
times it (critical path, Fmax), and for the configurations that have energy runs
:func:`rtl.power.energy_per_mac` simulates the gate-level netlist on operand streams
(random codes of each mode; real quantized weights and activations of a trained MLP) and
turns the toggle counts into pJ per MAC from the Liberty power data.  Results are kept as
JSON under ``build/costgen/`` (a finished configuration is not redone; ``--fresh`` redoes
it) and assembled into the table.  The Liberty file is read from ``../shared/pdk/`` (never
copied into the project).
"""
from __future__ import annotations

import argparse
import datetime
import gzip
import json
import platform
import shutil
import sys
import time
import zlib
from pathlib import Path

import numpy as np

from rtl.modes import XR_NPE
from sim.mac.modes import MODES as _SIM_MODES
from sim.mac.modes import mode_spec

from . import csvtable
from .costgen_energy import energy_one, energy_version, pj_at, timed_one, timed_version

ROOT = Path(__file__).resolve().parent.parent
LIBERTY = ROOT.parent / "shared" / "pdk" / "sky130_fd_sc_hd__tt_025C_1v80.lib.gz"
WORK = ROOT / "build" / "costgen"
OUT = Path(__file__).with_name("data") / "costs.csv"
MODES = tuple(_SIM_MODES)
#: synthesis target: ``abc -D`` and OpenSTA's starting period (Fmax is then found from slack)
PERIOD_NS = 10.0
#: the common clock at which the report compares energy per MAC across builds (equal
#: throughput at equal lanes); every row is also quoted at its own Fmax
COMMON_MHZ = 25.0

NON_MX = tuple(m for m in MODES if not mode_spec(m).mx)
#: fixed accumulator the table measures for every mode; other widths: the width model
FIXED_REF = "fixed:16:16"
#: the modes and lane count of the default sweep (dse/default.toml): measured, with energy
SWEEP_LANES = 4
SWEEP_MODES = ("int4", "int8", "fp4_e2m1", "fp8_e4m3", "mxfp4", "nvfp4")
#: (build, compiled modes, lanes, accumulator, energy runs?, timed run?) in the order they are
#: measured.  build "separate": rtl/src/baseline/sep_engine.v (one single-mode engine per mode)
CONFIGS = ([("single", (m,), 1, "exact", True, m == "int8") for m in MODES]
           + [("xr-npe", XR_NPE, 1, "exact", True, False), ("separate", XR_NPE, 1, "exact", False, False)]
           # XR-NPE's claim at equal throughput: both synthesized for the reconfigurable build's clock
           + [("xr-npe-eq", XR_NPE, 1, "exact", True, True), ("separate-eq", XR_NPE, 1, "exact", True, True)]
           + [("single", (m,), SWEEP_LANES, "exact", True, False) for m in SWEEP_MODES]
           + [("single", ("posit8_0",), 4, "exact", True, False),
              ("single", ("posit8_0",), 2, "exact", True, False),     # held out: validates the lane model
              ("xr-npe", XR_NPE, 4, "exact", False, False), ("all", MODES, 1, "exact", False, False)]
           + [("single", (m,), 1, "fp32", True, False) for m in NON_MX]
           + [("single", (m,), 1, FIXED_REF, True, False) for m in NON_MX]
           # the fixed-width model: posit8_0 at 16, 32 and 48 register bits; fp4_e2m1 at 48 held out
           + [("single", ("posit8_0",), 1, "fixed:8:8", True, False),
              ("single", ("posit8_0",), 1, "fixed:24:24", True, False),
              ("single", ("fp4_e2m1",), 1, "fixed:24:24", True, False)]
           # 8 lanes: held out from the lane model's fit (1 and 4 lanes)
           + [("single", ("posit8_0",), 8, "exact", False, False), ("single", ("int8",), 8, "exact", False, False)])
TOPS = {"separate": "sep_engine", "separate-eq": "sep_engine"}
#: builds synthesized at the period the 1-lane xr-npe build reaches (EQ_FROM), rounded up to 0.1 ns
EQ_BUILDS = ("xr-npe-eq", "separate-eq")
#: the deep pipeline (the engine's PIPE = 1, issue 14): every build of CONFIGS again, with a seventh
#: field, the pipeline (the separate-units baseline takes PIPE too; the equal-clock pairs, synthesized
#: for the PIPE = 0 xr-npe build's clock, have no PIPE = 1 twin; so the 1-lane xr-npe and
#: separate-units builds, both at the common 10 ns target and both reaching it, get the energy and
#: SDF-timed runs there and carry XR-NPE's energy claim at PIPE = 1)
_CLAIM = ("xr-npe", "separate")
PIPE_CONFIGS = [(*c[:4], c[4] or (c[0] in _CLAIM and c[2] == 1), c[5] or (c[0] in _CLAIM and c[2] == 1), 1)
                for c in CONFIGS if c[0] not in EQ_BUILDS]
EQ_FROM = ("xr-npe", XR_NPE, 1, "exact")

COLUMNS = ["mode", "lanes", "accumulator", "build", "pipe", "compiled_modes", "area_um2", "fmax_mhz",
           "pj_per_mac", "pj_per_mac_real", "energy_clock_mhz", "pj_dynamic_per_mac", "pj_leak_per_mac_ns",
           "pj_per_mac_timed", "glitch_ratio", "critical_path_ns", "target_period_ns", "slack_at_target_ns", "cells",
           "area_hier_um2", "area_decoders_um2", "area_multiplier_um2", "area_align_acc_um2",
           "area_readout_um2", "area_pipeline_regs_um2", "area_control_um2", "flow_version"]
BLOCK_COLS = {"decoders": "area_decoders_um2", "multiplier": "area_multiplier_um2",
              "align+accumulator": "area_align_acc_um2", "readout/encoder": "area_readout_um2",
              "pipeline registers": "area_pipeline_regs_um2", "control/other": "area_control_um2"}


def key(build: str, modes, lanes: int, acc: str = "exact", pipe: int = 0) -> str:
    """A configuration's name, ``build:modes:lanes[:acc][:pipe1]`` (``--only`` takes these)."""
    base = f"{build}:{'+'.join(modes) if build == 'single' else build}:{lanes}"
    base = base if acc == "exact" else f"{base}:{acc.replace('fixed:', 'fixed').replace(':', '.')}"
    return f"{base}:pipe{pipe}" if pipe else base


def cfg_key(cfg: tuple) -> str:
    """:func:`key` of a CONFIGS entry."""
    return key(cfg[0], cfg[1], cfg[2], cfg[3], cfg[6] if len(cfg) > 6 else 0)


def flow_version(build: str = "single") -> str:
    """:func:`rtl.flowid.flow_version` of a build (the "separate" build adds its baseline file)."""
    from rtl.flowid import flow_version as fv

    return fv(TOPS.get(build))


def unpack_liberty(dst: Path) -> Path:
    lib = dst / "sky130_fd_sc_hd__tt_025C_1v80.lib"
    if not lib.exists():
        dst.mkdir(parents=True, exist_ok=True)
        tmp = lib.with_suffix(".tmp")
        with gzip.open(LIBERTY, "rb") as fi, open(tmp, "wb") as fo:
            shutil.copyfileobj(fi, fo)
        tmp.replace(lib)
    return lib


def synth_one(build, modes, lanes, work: Path, log=print, acc: str = "exact", breakdown: bool = True,
              sdf: bool = False, period_ns: float = PERIOD_NS, pipe: int = 0) -> dict:
    from rtl import synth

    d = work / key(build, modes, lanes, acc, pipe).replace(":", "_").replace("+", "-")
    res = synth.synthesize(list(modes), lanes, str(LIBERTY), period_ns, keep=str(d), log=log,
                           accumulator=acc, breakdown=breakdown, sdf=sdf, top=TOPS.get(build, "mac_engine"),
                           pipe=pipe)
    res["cells"] = sum(1 for line in (d / "net.v").read_text().splitlines()
                       if line.lstrip().startswith("sky130_fd_sc_hd__"))
    res["net_dir"] = str(d)
    return res


def rows_of(res: dict, build: str) -> list[dict]:
    rows = []
    f = float(res["fmax_mhz"])
    for mode in res["modes"]:
        en = res.get("energy", {}).get(mode, {})
        row = {"mode": mode, "lanes": res["lanes"], "accumulator": res.get("accumulator", "exact"),
               "build": build, "pipe": res.get("pipe", 0), "compiled_modes": "+".join(res["modes"]), "area_um2": round(res["total"], 2),
               "fmax_mhz": res["fmax_mhz"], "critical_path_ns": res["critical_path_ns"],
               "target_period_ns": res.get("target_period_ns", PERIOD_NS),
               "slack_at_target_ns": res["slack_at_target_ns"], "cells": res["cells"],
               "area_hier_um2": round(res["hier_total"], 2) if res.get("hier_total") else "",
               "flow_version": res["flow_version"] + (f"/{res['energy_version']}" if en else "")}
        if "random" in en:
            r = en["random"]
            row.update(pj_per_mac=round(pj_at(r, f), 4), energy_clock_mhz=f,
                       pj_dynamic_per_mac=round(r["dynamic_pj"] / r["macs"], 4),
                       pj_leak_per_mac_ns=round(r["leakage_nw"] * 1e-9 * r["cycles"] * 1e3 / r["macs"], 6))
        if "real" in en:
            row["pj_per_mac_real"] = round(pj_at(en["real"], f), 4)
        tm = res.get("timed", {}).get(mode)
        if tm is not None and "random" in en:
            row["pj_per_mac_timed"] = round(pj_at(tm, f), 4)
            row["glitch_ratio"] = round(tm["dynamic_pj"] / en["random"]["dynamic_pj"], 3)
        for blk, col in BLOCK_COLS.items():
            row[col] = round(res["blocks"][blk], 2) if blk in res.get("blocks", {}) else ""
        rows.append(row)
    return rows


def row_id(row: dict) -> tuple:
    """What a table row is: (build, compiled modes, lanes, accumulator, pipeline, mode)."""
    return (row["build"], row["compiled_modes"], int(row["lanes"]), str(row["accumulator"]),
            int(row.get("pipe") or 0), row["mode"])


def _order(row: dict) -> int:
    """A row's place: the order of CONFIGS then PIPE_CONFIGS (rows of no configuration last)."""
    b, cm, lanes, acc, pipe, _ = row_id(row)
    for i, c in enumerate(CONFIGS + PIPE_CONFIGS):
        if (c[0], c[2], c[3], c[6] if len(c) > 6 else 0) == (b, lanes, acc, pipe) and "+".join(c[1]) == cm:
            return i
    return len(CONFIGS) + len(PIPE_CONFIGS)


def write_table(results: list[tuple[str, dict]], out: Path, command: str) -> None:
    """The table of ``results``, plus the previous table's rows of configurations this run has no
    result for (kept as they were, with their own flow_version) and its ``# Note:`` lines."""
    from rtl import sta

    c = sta.CONSTRAINTS
    old_head, old_rows = csvtable.read_raw(out)
    for r in old_rows:
        r.setdefault("pipe", "0")
        r["pipe"] = r["pipe"] or "0"
    head = (
        f"# MAC engine costs measured by: {command}\n"
        f"# Table written {datetime.date.today()} on {platform.node()} ({platform.machine()}), sky130_fd_sc_hd tt_025C_1v80 (1.80 V, 25 C).\n"
        f"# Flow: Yosys synth -flatten, dfflibmap, abc -D {PERIOD_NS * 1000:.0f} -constr (driving cell, output load); "
        "area_um2 = stat -liberty of that flat run, cells only, before placement\n"
        "# (placed estimate: divide by a utilisation of ~0.6-0.7); area_hier_um2 and area_*_um2 blocks: a second, "
        "hierarchy-kept run (ABC per module, no delay target), a per-block breakdown only.\n"
        "# fp32-accumulator builds: synth -noshare (Yosys' SAT-based sharing runs out of memory on their flattened "
        "chained FP32 adders, which are all busy every cycle).\n"
        f"# OpenSTA 2.0.17 (rtl/sta.py): clock uncertainty {c['clock_uncertainty_ns']} ns, inputs driven by "
        f"{c['driving_cell']}, outputs loaded with {c['load_fanout']}x {c['load_cell']}/{c['load_pin']}, "
        f"input/output delays {c['io_delay_fraction']:.0%} of the period,\n"
        f"# wire-load model {c['wire_load_model']}, setup included; fmax_mhz = 1/the period at zero worst slack; "
        "slack_at_target_ns at target_period_ns (the abc -D target).\n"
        "# Energy (rtl/power.py): gate-level simulation of the netlist (bit-exact against sim.mac), toggles x "
        "Liberty internal energy at each pin's slew and load + 0.5 C V^2 (pins + wire load) + leakage;\n"
        "# pj_per_mac (uniform random codes) and pj_per_mac_real (quantized MLP weights x ReLU activations) "
        "quoted at energy_clock_mhz = the row's own Fmax; zero-delay (no glitches):\n"
        "# pj_per_mac_timed = SDF-timed simulation (glitches counted), glitch_ratio = its dynamic energy / the "
        "zero-delay one. At another clock f (MHz): pj_dynamic_per_mac + pj_leak_per_mac_ns x 1000/f.\n"
        "# Accumulators: exact, fp32 and fixed:I:F as in sim.mac (MX modes: their block scheme, listed as exact). "
        "build separate = rtl/src/baseline/sep_engine.v; builds *-eq: synthesized for the clock the 1-lane xr-npe "
        "build reaches (equal throughput). Empty cell = not measured.\n"
        "# Rows of configurations a run did not measure are kept from the previous table; each row's "
        "flow_version names the sources and flow it was measured with (python -m dse.restamp moves it "
        "when rtl.designhash shows the design unchanged).\n"
        "# pipe: the engine's PIPE parameter (0: READ latency 14; 1: the deep pipeline, docs/mac.md 3).\n")
    new_rows = [row for build, res in results for row in rows_of(res, build)]
    rows = csvtable.merge(old_rows, new_rows, row_id, _order)
    csvtable.write_raw(out, head.rstrip("\n").split("\n") + csvtable.notes(old_head), COLUMNS, rows)


def _json(work: Path, k: str) -> Path:
    return work / (k.replace(":", "_").replace("+", "-") + ".json")


def measure_one(k: str, cfg: tuple, work: str, energy: bool, fresh: bool, lib: str) -> str:
    """Synthesize, time and (``energy``) simulate one configuration; its JSON is saved after each
    step, so an interrupted run loses at most the step in progress.  Returns a progress line."""
    b, modes, lanes, acc, with_energy, timed = cfg[:6]
    pipe = cfg[6] if len(cfg) > 6 else 0
    work = Path(work)
    jf = _json(work, k)
    version = flow_version(b)
    res = json.loads(jf.read_text()) if jf.exists() and not fresh else None
    if res is not None and res.get("flow_version") != version:
        res = None
    t0 = time.time()
    if res is None:
        period = eq_period(work) if b in EQ_BUILDS else PERIOD_NS
        res = synth_one(b, modes, lanes, work, acc=acc, breakdown=(lanes == 1), sdf=timed, log=lambda *a: None,
                        period_ns=period, pipe=pipe)
        res["flow_version"] = version
        res["top"] = TOPS.get(b, "mac_engine")
        _save(jf, res)
    if energy and with_energy:
        ev = energy_version()
        if res.get("energy_version") != ev:
            res.pop("energy", None)
        res.setdefault("energy", {})
        for m in modes:
            if m not in res["energy"]:
                rng = np.random.default_rng(zlib.crc32(f"{k}|{m}".encode()))   # operands: key and mode only
                res["energy"][m] = energy_one(res, lanes, m, Path(lib), rng)
                res["energy_version"] = ev
                _save(jf, res)
    if energy and timed:
        tv = timed_version()
        if res.get("timed_version") != tv:
            res.pop("timed", None)
        res.setdefault("timed", {})
        for m in modes:
            if m not in res["timed"]:
                rng = np.random.default_rng(zlib.crc32(f"{k}|{m}".encode()))   # the random run's operands
                res["timed"][m] = timed_one(res, lanes, m, Path(lib), rng)
                res["timed_version"] = tv
                _save(jf, res)
    done = ", ".join(f"{m} {pj_at(v['random'], float(res['fmax_mhz'])):.2f} pJ/MAC"
                     for m, v in res.get("energy", {}).items())
    return (f"{k}: {res['total']:.0f} um2, {res['fmax_mhz']} MHz" + (f", {done}" if done else "")
            + f"  ({time.time() - t0:.0f} s)")


def eq_period(work: Path) -> float:
    """The target period of the equal-throughput builds: the 1-lane xr-npe build's minimum period,
    rounded up to 0.1 ns (that build must be measured first)."""
    import math

    jf = _json(work, key(*EQ_FROM))
    if not jf.exists():
        raise RuntimeError(f"{key(*EQ_FROM)} must be measured before {', '.join(EQ_BUILDS)}")
    return math.ceil(json.loads(jf.read_text())["min_period_ns"] * 10 - 1e-9) / 10


def _save(jf: Path, res: dict) -> None:
    tmp = jf.with_suffix(".tmp")
    tmp.write_text(json.dumps(res, indent=1))
    tmp.replace(jf)


def collect(work: Path) -> list[tuple[str, dict]]:
    """Finished configurations of the current flow, in CONFIGS order (energy of an older energy
    flow is dropped)."""
    ev = None
    results = []
    for cfg in CONFIGS + PIPE_CONFIGS:
        b = cfg[0]
        jf = _json(work, cfg_key(cfg))
        if not jf.exists():
            continue
        res = json.loads(jf.read_text())
        if res.get("flow_version") != flow_version(b):
            continue
        if "energy" in res:
            ev = ev or energy_version()
            if res.get("energy_version") != ev:
                res.pop("energy")
        if "timed" in res and res.get("timed_version") != timed_version():
            res.pop("timed")
        results.append((b, res))
    return results


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m dse.costgen", description=__doc__.split("\n\n")[0])
    p.add_argument("--only", nargs="+", default=None, metavar="KEY",
                   help="configurations to (re)measure, as build:modes:lanes keys "
                        f"(default all: {', '.join(cfg_key(c) for c in CONFIGS + PIPE_CONFIGS)})")
    p.add_argument("--no-energy", action="store_true", help="skip the gate-level energy runs")
    p.add_argument("--jobs", type=int, default=1, help="configurations measured in parallel (default 1)")
    p.add_argument("--table-only", action="store_true", help="only assemble the table from finished results")
    p.add_argument("--report", action="store_true", help="only write reports/costs.md from the table")
    p.add_argument("--export", nargs=2, metavar=("FORMAT", "DIR"),
                   help="write the table for another tool: accelergy DIR (Accelergy table plug-in files)")
    p.add_argument("--fresh", action="store_true", help="redo configurations that have results")
    p.add_argument("--work", default=str(WORK), help=f"folder for netlists and results (default {WORK})")
    p.add_argument("--out", default=str(OUT), help=f"table to write (default {OUT})")
    args = p.parse_args(argv)
    if args.report:
        from .costreport import report

        print(f"wrote {report(Path(args.out))}")
        return 0
    if args.export:
        fmt, dst = args.export
        if fmt != "accelergy":
            print(f"error: unknown export format {fmt!r}; allowed: accelergy", file=sys.stderr)
            return 2
        from . import accelergy

        for f in accelergy.export(Path(args.out), Path(dst)):
            print(f"wrote {f}")
        return 0
    if args.jobs < 1:
        print(f"error: --jobs must be >= 1, got {args.jobs}", file=sys.stderr)
        return 2
    known = {cfg_key(c): c for c in CONFIGS + PIPE_CONFIGS}
    todo = [] if args.table_only else (args.only or list(known))
    bad = [k for k in todo if k not in known]
    if bad:
        print(f"error: unknown configuration {bad[0]!r}; known: {', '.join(known)}", file=sys.stderr)
        return 2
    if not LIBERTY.exists() or shutil.which("yosys") is None or shutil.which("sta") is None:
        print(f"error: need yosys, sta and the Liberty file {LIBERTY}", file=sys.stderr)
        return 1
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    lib = str(unpack_liberty(work / "lib"))
    jobs = [(k, known[k], str(work), not args.no_energy, args.fresh, lib) for k in todo]
    failed = 0
    if args.jobs == 1 or len(jobs) <= 1:
        for i, j in enumerate(jobs, 1):
            print(f"[{i}/{len(jobs)}] {measure_one(*j)}", flush=True)
    else:
        from concurrent.futures import ProcessPoolExecutor, as_completed

        import os

        from .executors import die_with_parent

        with ProcessPoolExecutor(args.jobs, initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
            futs = {pool.submit(measure_one, *j): j[0] for j in jobs}
            for i, fut in enumerate(as_completed(futs), 1):
                try:
                    print(f"[{i}/{len(jobs)}] {fut.result()}", flush=True)
                except Exception as err:                     # keep the others going; report at the end
                    failed += 1
                    print(f"[{i}/{len(jobs)}] {futs[fut]}: FAILED: {err}", flush=True)
    results = collect(work)
    write_table(results, Path(args.out), "python -m dse.costgen")
    print(f"wrote {args.out} ({len(results)} of {len(known)} configurations)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
