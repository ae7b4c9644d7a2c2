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
import hashlib
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

from formats import provenance
from rtl.modes import XR_NPE
from sim.mac.modes import MODES as _SIM_MODES
from sim.mac.modes import mode_spec

ROOT = Path(__file__).resolve().parent.parent
LIBERTY = ROOT.parent / "shared" / "pdk" / "sky130_fd_sc_hd__tt_025C_1v80.lib.gz"
WORK = ROOT / "build" / "costgen"
OUT = Path(__file__).with_name("data") / "costs.csv"
MODES = tuple(_SIM_MODES)
PERIOD_NS = 10.0

NON_MX = tuple(m for m in MODES if not mode_spec(m).mx)
#: fixed accumulator the table measures for every mode; other widths: the width model
FIXED_REF = "fixed:16:16"
#: (build, compiled modes, lanes, accumulator, energy runs?) in the order they are measured
CONFIGS = ([("single", (m,), 1, "exact", True) for m in MODES]
           + [("single", ("posit8_0",), 4, "exact", True), ("single", ("int8",), 4, "exact", False),
              ("single", ("posit8_0",), 2, "exact", True),     # held out: validates the lane model
              ("xr-npe", XR_NPE, 1, "exact", True), ("xr-npe", XR_NPE, 4, "exact", False),
              ("all", MODES, 1, "exact", False)]
           + [("single", (m,), 1, "fp32", True) for m in NON_MX]
           + [("single", (m,), 1, FIXED_REF, True) for m in NON_MX]
           # the fixed-width model: posit8_0 at 16, 32 and 48 register bits; fp4_e2m1 at 48 held out
           + [("single", ("posit8_0",), 1, "fixed:8:8", True), ("single", ("posit8_0",), 1, "fixed:24:24", True),
              ("single", ("fp4_e2m1",), 1, "fixed:24:24", True)]
           # 8 lanes: held out from the lane model's fit (1 and 4 lanes)
           + [("single", ("posit8_0",), 8, "exact", False), ("single", ("int8",), 8, "exact", False)])

COLUMNS = ["mode", "lanes", "accumulator", "build", "compiled_modes", "area_um2", "fmax_mhz",
           "pj_per_mac", "pj_per_mac_real", "critical_path_ns", "cells", "area_decoders_um2",
           "area_multiplier_um2", "area_align_acc_um2", "area_readout_um2", "area_control_um2",
           "energy_clock_mhz", "flow_version"]
BLOCK_COLS = {"decoders": "area_decoders_um2", "multiplier": "area_multiplier_um2",
              "align+accumulator": "area_align_acc_um2", "readout/encoder": "area_readout_um2",
              "control/other": "area_control_um2"}


def key(build: str, modes, lanes: int, acc: str = "exact") -> str:
    base = f"{build}:{'+'.join(modes) if build == 'single' else build}:{lanes}"
    return base if acc == "exact" else f"{base}:{acc.replace('fixed:', 'fixed').replace(':', '.')}"


def flow_version() -> str:
    """Tools and a hash of what shapes area/timing: the RTL sources and rtl/synth.py."""
    from rtl.run import flow_hash

    yv = subprocess.run(["yosys", "-V"], capture_output=True, text=True).stdout.split("(")[0].strip()
    return f"{yv.replace('Yosys ', 'yosys-')}+opensta-2.0.17+{flow_hash()}"


def energy_version() -> str:
    """Hash of the energy flow (rtl/power.py and this file's stimulus functions), Icarus 11."""
    from rtl import power

    import inspect

    h = hashlib.sha256(Path(power.__file__).read_bytes())
    for fn in (random_operands, real_operands, _trained_layer, energy_one):
        h.update(inspect.getsource(fn).encode())
    return f"icarus-11+e{h.hexdigest()[:8]}"


def unpack_liberty(dst: Path) -> Path:
    lib = dst / "sky130_fd_sc_hd__tt_025C_1v80.lib"
    if not lib.exists():
        dst.mkdir(parents=True, exist_ok=True)
        with gzip.open(LIBERTY, "rb") as fi, open(lib, "wb") as fo:
            shutil.copyfileobj(fi, fo)
    return lib


def synth_one(build, modes, lanes, work: Path, log=print, acc: str = "exact") -> dict:
    from rtl import synth

    d = work / key(build, modes, lanes, acc).replace(":", "_").replace("+", "-")
    res = synth.synthesize(list(modes), lanes, str(LIBERTY), PERIOD_NS, keep=str(d), log=log,
                           accumulator=acc)
    res["cells"] = sum(1 for line in (d / "net.v").read_text().splitlines()
                       if line.lstrip().startswith("sky130_fd_sc_hd__"))
    res["net_dir"] = str(d)
    return res


def random_operands(mode: str, rows: int, K: int, rng):
    """Uniformly random codes (every bit pattern; MX: E8M0 scales 2^-7..2^7), rows x K."""
    from sim import mac

    e = mac.Engine(mode)
    bits = e.element_bits if hasattr(e, "element_bits") else e.element_format.bits
    A = rng.integers(0, 1 << bits, (rows, K))
    B = rng.integers(0, 1 << bits, (rows, K))
    if e.block:                       # E8M0 scales near 2^0 so block sums stay finite
        nb = -(-K // e.block)
        return A, B, rng.integers(120, 135, (rows, nb)), rng.integers(120, 135, (rows, nb))
    return A, B, None, None


def real_operands(mode: str, rows: int):
    """Layer-2 weights and its ReLU inputs of an FP32 MLP trained on digits, quantized to mode.

    Scalar formats: per-row scale max|row| / format max, then ``formats.get(mode).encode``;
    MX formats: ``encode`` gives the element codes and the E8M0 block scales itself.
    Returns (A, B, SA, SB) codes (SA, SB None for scalar modes)."""
    import formats

    W, X = _trained_layer()
    f = formats.get(mode)
    if getattr(f, "block", None):
        ca, cb = f.encode(W[:rows]), f.encode(X[:rows])
        return (np.asarray(ca.elements, np.int64), np.asarray(cb.elements, np.int64),
                np.asarray(ca.scales, np.int64), np.asarray(cb.scales, np.int64))

    def q(M):
        s = np.abs(M).max(axis=1, keepdims=True) / float(f.max)
        s[s == 0] = 1.0
        return f.encode(M / s).astype(np.int64)
    return q(W[:rows]), q(X[:rows]), None, None


_LAYER = None


def _trained_layer():
    global _LAYER
    if _LAYER is None:
        import torch
        from sim.qat import data as qdata
        from sim.qat.train import TrainConfig, train

        res = train(TrainConfig(dataset="digits", model="mlp", epochs=5, seed=0))
        lin = [m for m in res.model.modules() if isinstance(m, torch.nn.Linear)]
        ds = qdata.load("digits")
        x = torch.as_tensor(np.asarray(ds.x_test if hasattr(ds, "x_test") else ds.test[0]), dtype=torch.float32)
        with torch.no_grad():
            h = torch.relu(lin[0](x.reshape(len(x), -1)))
        _LAYER = (lin[1].weight.detach().numpy().astype(np.float64), h.numpy().astype(np.float64))
    return _LAYER


def energy_one(res: dict, lanes: int, mode: str, lib: Path, rng) -> dict:
    from rtl import power

    out = {}
    # same shape as the real set (8 dot products per lane of K = 128) so overheads match
    acc = res.get("accumulator", "exact")
    # the fp32 accumulator's four chained adders make Icarus' zero-delay event cascades crawl
    # (~50x); Verilator gives the same settled values per time step, hence the same toggles
    sim = "verilator" if acc == "fp32" else "icarus"
    A, B, SA, SB = random_operands(mode, 8 * lanes, 128, rng)
    out["random"] = power.energy_per_mac(Path(res["net_dir"]), lib, mode, A, B, SA, SB, lanes=lanes,
                                         period_ns=PERIOD_NS, accumulator=acc, sim=sim)
    real = real_operands(mode, 8 * lanes)
    if real is not None:     # always, since MX got its own encoding
        out["real"] = power.energy_per_mac(Path(res["net_dir"]), lib, mode, *real, lanes=lanes,
                                           period_ns=PERIOD_NS, accumulator=acc, sim=sim)
    return out


def rows_of(res: dict, build: str, version: str) -> list[dict]:
    rows = []
    for mode in res["modes"]:
        en = res.get("energy", {}).get(mode, {})
        row = {"mode": mode, "lanes": res["lanes"], "accumulator": res.get("accumulator", "exact"),
               "build": build,
               "compiled_modes": "+".join(res["modes"]), "area_um2": round(res["total"], 2),
               "fmax_mhz": res["fmax_mhz"], "critical_path_ns": res["critical_path_ns"],
               "cells": res["cells"],
               "pj_per_mac": round(en["random"]["pj_per_mac"], 4) if "random" in en else "",
               "pj_per_mac_real": round(en["real"]["pj_per_mac"], 4) if "real" in en else "",
               "energy_clock_mhz": round(1000 / PERIOD_NS, 1) if en else "",
               "flow_version": res["flow_version"] + (f"/{res['energy_version']}" if en else "")}
        for blk, col in BLOCK_COLS.items():
            row[col] = round(res["blocks"].get(blk, 0.0), 2)
        rows.append(row)
    return rows


def write_table(results: list[tuple[str, dict]], out: Path, command: str) -> None:
    import csv

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    with open(tmp, "w", newline="") as fh:
        fh.write(f"# MAC engine costs measured by: {command}\n"
                 f"# {datetime.date.today()} on {platform.node()} ({platform.machine()}), "
                 "sky130_fd_sc_hd tt_025C_1v80; area = Yosys stat -liberty (cells only, no wires/placement);\n"
                 f"# Fmax = 1/critical path from OpenSTA (no wire load, inputs/outputs at 0 delay); "
                 f"pj_per_mac: gate-level zero-delay simulation, random codes (pj_per_mac_real: quantized\n"
                 "# MLP weights x ReLU activations), Liberty internal+switching+leakage energy at "
                 f"{1000 / PERIOD_NS:.0f} MHz (rtl/power.py). Accumulators: exact, fp32 and fixed:I:F as in\n"
                 "# sim.mac (MX modes: their block scheme, listed as exact). Empty cell = not measured.\n")
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        for build, res in results:
            for row in rows_of(res, build, res["flow_version"]):
                w.writerow(row)
    tmp.replace(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m dse.costgen", description=__doc__.split("\n\n")[0])
    p.add_argument("--only", nargs="+", default=None, metavar="KEY",
                   help="configurations to (re)measure, as build:modes:lanes keys "
                        f"(default all: {', '.join(key(b, m, l, a) for b, m, l, a, _ in CONFIGS)})")
    p.add_argument("--no-energy", action="store_true", help="skip the gate-level energy runs")
    p.add_argument("--report", action="store_true", help="only write reports/costs.md from the table")
    p.add_argument("--fresh", action="store_true", help="redo configurations that have results")
    p.add_argument("--work", default=str(WORK), help=f"folder for netlists and results (default {WORK})")
    p.add_argument("--out", default=str(OUT), help=f"table to write (default {OUT})")
    args = p.parse_args(argv)
    if args.report:
        print(f"wrote {report(Path(args.out))}")
        return 0
    known = {key(b, m, l, a): (b, m, l, a, e) for b, m, l, a, e in CONFIGS}
    todo = args.only or list(known)
    bad = [k for k in todo if k not in known]
    if bad:
        print(f"error: unknown configuration {bad[0]!r}; known: {', '.join(known)}", file=sys.stderr)
        return 2
    if not LIBERTY.exists() or shutil.which("yosys") is None or shutil.which("sta") is None:
        print(f"error: need yosys, sta and the Liberty file {LIBERTY}", file=sys.stderr)
        return 1
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    version, ev = flow_version(), energy_version()
    lib = unpack_liberty(work / "lib")
    for i, k in enumerate(todo, 1):
        rng = np.random.default_rng(zlib.crc32(k.encode()))     # operands depend on the key only
        b, modes, lanes, acc, energy = known[k]
        jf = work / (k.replace(":", "_").replace("+", "-") + ".json")
        res = json.loads(jf.read_text()) if jf.exists() and not args.fresh else None
        if res is not None and res.get("flow_version") != version:
            res = None
        t0 = time.time()
        if res is None:
            res = synth_one(b, modes, lanes, work, acc=acc)
            res["flow_version"] = version
            jf.write_text(json.dumps(res, indent=1))
        if res.get("energy_version") not in (None, ev):
            res.pop("energy", None)
        if energy and not args.no_energy and "energy" not in res:
            res["energy"] = {m: energy_one(res, lanes, m, lib, rng) for m in modes}
            res["energy_version"] = ev
            jf.write_text(json.dumps(res, indent=1))
        done = ", ".join(f"{m} {v['random']['pj_per_mac']:.2f} pJ/MAC" for m, v in res.get("energy", {}).items())
        print(f"[{i}/{len(todo)}] {k}: {res['total']:.0f} um2, {res['fmax_mhz']} MHz" + (f", {done}" if done else "")
              + f"  ({time.time() - t0:.0f} s)", flush=True)
    results = []
    for k in known:
        jf = work / (k.replace(":", "_").replace("+", "-") + ".json")
        if jf.exists():
            res = json.loads(jf.read_text())
            if res.get("flow_version") == version:
                if res.get("energy_version") != ev:          # energy of an older flow: not used
                    res.pop("energy", None)
                results.append((known[k][0], res))
    write_table(results, Path(args.out), "python -m dse.costgen")
    print(f"wrote {args.out} ({len(results)} configurations, flow {version})")
    return 0



def _num(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 1000 else f"{v:.4g}" if abs(v) >= 1 else f"{v:.3f}"


def report(table: Path = OUT, out_dir: Path = ROOT / "reports") -> Path:
    """reports/costs.md and reports/costs_area_energy.png from the table alone."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    import math

    from . import costs

    head = [l for l in open(table) if l.startswith("#")]
    df = pd.read_csv(table, comment="#")
    allrows = df
    df = df[df.accumulator == "exact"]
    single = df[(df.build == "single") & (df.lanes == 1)].set_index("mode").reindex(
        [m for m in MODES if m in set(df[(df.build == "single") & (df.lanes == 1)]["mode"])])
    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    single["area_um2"].div(1e3).plot.bar(ax=ax[0], color="tab:blue")
    ax[0].set_ylabel("area, 1000 µm² (sky130, cells only)")
    ax[0].set_title("engine area, one mode compiled, 1 lane")
    ax[0].axhline(16.0, ls="--", color="gray")
    ax[0].text(-0.4, 16.8, "XR-NPE paper, 28 nm, whole NPE: 0.016 mm² (not comparable node)", fontsize=7)
    e = single[["pj_per_mac", "pj_per_mac_real"]].rename(
        columns={"pj_per_mac": "random codes", "pj_per_mac_real": "real MLP weights x acts"})
    e.plot.bar(ax=ax[1])
    ax[1].set_ylabel(f"pJ per MAC at {1000 / PERIOD_NS:.0f} MHz")
    ax[1].set_title("energy per MAC (gate-level activity)")
    ax[1].axhline(14.0, ls="--", color="gray")
    ax[1].text(-0.4, 14.8, 'XR-NPE paper, 28 nm: "14 pJ"', fontsize=7)
    fig.tight_layout()
    png = out_dir / "costs_area_energy.png"
    fig.savefig(png, dpi=110)
    plt.close(fig)

    def md(frame, cols):
        lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for _, r in frame.iterrows():
            lines.append("| " + " | ".join("" if (isinstance(r[c], float) and math.isnan(r[c])) else
                                            (_num(r[c]) if isinstance(r[c], float) else str(r[c]))
                                            for c in cols) + " |")
        return "\n".join(lines)

    s1 = single.reset_index()
    s1["real_vs_random_pct"] = (100 * (s1["pj_per_mac_real"] / s1["pj_per_mac"] - 1)).round(1)
    cols = ["mode", "area_um2", "cells", "critical_path_ns", "fmax_mhz", "pj_per_mac", "pj_per_mac_real",
            "real_vs_random_pct",
            "area_decoders_um2", "area_multiplier_um2", "area_align_acc_um2", "area_readout_um2",
            "area_control_um2"]
    multi = df[(df.build != "single") | (df.lanes != 1)]
    multi_cfg = multi.drop_duplicates(["build", "compiled_modes", "lanes"])
    val = []
    fit = costs.lane_model(table)
    if fit:
        for _, r in multi_cfg.iterrows():
            base_mode = r["mode"]
            if r["lanes"] == 1 or (r["build"] == "single" and r["mode"] == costs.FIT_MODE and r["lanes"] == 4):
                continue
            b1 = df[(df.build == r["build"]) & (df.compiled_modes == r["compiled_modes"]) & (df.lanes == 1)]
            if b1.empty:
                continue
            pred = float(b1.iloc[0]["area_um2"]) * (fit["area_shared"] + (1 - fit["area_shared"]) * r["lanes"])
            fpred = float(b1.iloc[0]["fmax_mhz"])
            row = {"config": f"{r['build']} {r['compiled_modes'] if r['build'] == 'single' else ''} x{r['lanes']}",
                   "measured_um2": r["area_um2"], "model_um2": round(pred, 1),
                   "area_err_pct": round(100 * (pred / r["area_um2"] - 1), 2),
                   "measured_mhz": r["fmax_mhz"], "model_mhz": fpred,
                   "fmax_err_pct": round(100 * (fpred / r["fmax_mhz"] - 1), 2)}
            b1m = b1[b1["mode"] == r["mode"]]
            if not math.isnan(r["pj_per_mac"]) and not b1m.empty and not math.isnan(fit["energy_shared"]):
                L, fe = r["lanes"], fit["energy_shared"]
                epred = float(b1m.iloc[0]["pj_per_mac"]) * (fe + (1 - fe) * L) / L
                row.update(measured_pj=r["pj_per_mac"], model_pj=round(epred, 3),
                           energy_err_pct=round(100 * (epred / r["pj_per_mac"] - 1), 2))
            val.append(row)
    vdf = pd.DataFrame(val)
    # accumulators: exact vs fp32 vs fixed:16:16 per non-MX mode, 1 lane
    acc_rows = []
    for m in NON_MX:
        r = {"mode": m}
        for acc in ("exact", "fp32", FIXED_REF):
            x = allrows[(allrows["mode"] == m) & (allrows.lanes == 1) & (allrows.build == "single")
                        & (allrows.accumulator == acc)]
            if not x.empty:
                x = x.iloc[0]
                r[f"{acc} um2"] = x["area_um2"]
                r[f"{acc} MHz"] = x["fmax_mhz"]
                r[f"{acc} pJ"] = x["pj_per_mac"]
        acc_rows.append(r)
    adf = pd.DataFrame(acc_rows)
    fx = allrows[(allrows.build == "single") & (allrows.lanes == 1) & allrows.accumulator.str.startswith("fixed")]
    fmod = costs.fixed_model(table)
    fval = []
    if fmod:
        for _, r in fx.iterrows():
            if r["mode"] == costs.FIT_MODE or r["accumulator"] == FIXED_REF:
                continue
            refr = fx[(fx["mode"] == r["mode"]) & (fx.accumulator == FIXED_REF)]
            if refr.empty:
                continue
            sub = allrows[~((allrows["mode"] == r["mode"]) & (allrows.accumulator == r["accumulator"]))]
            with tempfile.TemporaryDirectory(prefix="costs-holdout-") as td:
                tmp = Path(td) / "costs.csv"              # the table without the checked row
                sub.to_csv(tmp, index=False)
                pred = costs.lookup(r["mode"], 1, r["accumulator"], path=tmp)
            fval.append({"config": f"{r['mode']} {r['accumulator']}", "measured_um2": r["area_um2"],
                         "model_um2": round(pred["area_um2"], 1),
                         "area_err_pct": round(100 * (pred["area_um2"] / r["area_um2"] - 1), 2),
                         "measured_pj": r["pj_per_mac"], "model_pj": round(pred["pj_per_mac"], 3),
                         "energy_err_pct": round(100 * (pred["pj_per_mac"] / r["pj_per_mac"] - 1), 2),
                         "measured_mhz": r["fmax_mhz"], "model_mhz": round(pred["fmax_mhz"], 1),
                         "fmax_err_pct": round(100 * (pred["fmax_mhz"] / r["fmax_mhz"] - 1), 2)})
    fvdf = pd.DataFrame(fval)
    text = [
        "# MAC engine costs: area, timing, energy (sky130)", "",
        f"Made by `python -m dse.costgen` (measure + table) and `python -m dse.costgen --report` (this page, "
        f"{png.name}), {datetime.date.today()}, on {platform.node()} ({platform.machine()}, 2 cores shared), "
        "Debian Yosys 0.23, OpenSTA 2.0.17, Icarus 11, sky130_fd_sc_hd tt_025C_1v80 (1.80 V, 25 C). "
        "The table is `dse/data/costs.csv`; its header says how it was made:", "",
        provenance.stamp("costs"), "",
        "```", "".join(head).rstrip(), "```", "",
        "## One mode compiled, 1 lane, exact accumulator", "",
        md(s1, cols), "",
        f"![area and energy per mode]({png.name})", "",
        "## Multi-mode builds and lanes", "",
        md(multi_cfg, ["build", "compiled_modes", "lanes", "area_um2", "cells", "fmax_mhz"]), "",
    ]
    me = multi[multi.pj_per_mac.notna()]
    if not me.empty:
        text += ["Energy per MAC measured on these builds:", "",
                 md(me, ["build", "lanes", "mode", "pj_per_mac", "pj_per_mac_real"]), ""]
    if not adf.empty:
        text += ["## Accumulators (one mode compiled, 1 lane)", "",
                 "exact: Kulisch register (docs/mac.md 4.1); fp32: one fused RNE FP32 addition per product, "
                 "four chained per cycle in the 4-way modes (4.2); fixed:16:16: 32-bit register, products "
                 "truncated toward -inf and clamped, saturating add (4.3). Area in µm², Fmax in MHz, energy in "
                 "pJ per MAC (random codes).", "",
                 md(adf, list(adf.columns)), ""]
    if not fx.empty:
        text += ["Fixed accumulators of other widths:", "",
                 md(fx, ["mode", "accumulator", "area_um2", "fmax_mhz", "pj_per_mac", "pj_per_mac_real"]), ""]
    if fmod:
        text += [f"Width model (dse.costs.fixed_model, fitted on {costs.FIT_MODE} at register widths "
                 f"{', '.join(str(w) for w in fmod['widths'])}): area {100 * fmod['area_per_bit']:+.2f}%, "
                 f"energy per MAC {100 * fmod['pj_per_bit']:+.2f}% and critical path {100 * fmod['ns_per_bit']:+.2f}% "
                 f"per register bit, relative to a mode's {FIXED_REF} row. Checked against a row not used in the fit:", "",
                 md(fvdf, list(fvdf.columns)) if not fvdf.empty else "(none measured)", ""]
    if fit:
        text += ["## Lane model (dse.costs.lookup for lane counts without a row)", "",
                 f"X(L) = X(1) x (f + (1 - f) L), fitted on {costs.FIT_MODE} at 1 and 4 lanes: "
                 f"area shared fraction f = {fit['area_shared']:.3f}, energy-per-cycle shared fraction "
                 f"f_e = {fit['energy_shared']:.3f}; Fmax(L) = Fmax(1). Checked against builds not used in "
                 "the fit:", "", md(vdf, list(vdf.columns)) if not vdf.empty else "(none measured)", ""]
    text += [
        "## Orientation: the XR-NPE paper (28 nm)", "",
        "| | XR-NPE (paper, 28 nm) | this engine (sky130, 130 nm) |", "|---|---|---|",
        f"| area | 0.016 mm² | {df[df.build == 'xr-npe'].area_um2.min() / 1e6:.4f} mm² (XR-NPE mode set, 1 lane) |"
        if (df.build == "xr-npe").any() else "| area | 0.016 mm² | not measured |",
        f"| clock | 1.72 GHz | Fmax {df[df.build == 'xr-npe'].fmax_mhz.min():.0f} MHz (synthesis only, no retiming) |"
        if (df.build == "xr-npe").any() else "| clock | 1.72 GHz | not measured |",
        "| energy | \"14 pJ\" (as published; its exact definition is the paper's) | "
        + (", ".join(f"{r['mode']} {r['pj_per_mac']:.3g}" for _, r in df[(df.build == "xr-npe") & (df.lanes == 1)
                                                                          & df.pj_per_mac.notna()].iterrows())
           or "see the tables") + " pJ per element MAC (XR-NPE build, random codes, 100 MHz) |",
        "| vs earlier MACs | -42% area, -38% power | not compared (no baseline MAC built here) |", "",
        "Process node: sky130 is a 130 nm process at 1.8 V; the paper's figures are for 28 nm. Feature size "
        "differs by 4.6x, so cell area differs by roughly (130/28)^2 ~ 22x (a naive scaling of our XR-NPE-set "
        "build would be ~0.005 mm², which is not a measurement), and energy per toggle (C V^2) is lower at "
        "28 nm both from smaller capacitances and from the lower supply (about (1.8/0.9)^2 = 4x from voltage "
        "alone). The numbers here are for comparing modes and lane counts with each other, not with the paper. "
        "Our engine is also synthesized without wire loads, placement, clock gating or retiming, and its "
        "pipeline (4 stages) is not tuned for GHz clocks.", "",
        "## What these numbers are and are not", "",
        "- Area: sum of mapped cell areas (Yosys `stat -liberty`); blocks from the kept hierarchy "
        "(control/other includes the top-level registers and lane glue).",
        "- Fmax: 1 / (OpenSTA worst register-to-register or port path), ideal clock, no wire load, "
        "inputs and outputs constrained at 0 delay.",
        "- Energy: gate-level zero-delay Icarus simulation of the mapped netlist (checked bit for bit against "
        "sim.mac on the same stream), toggles per net bit counted from the VCD, then per toggle: Liberty "
        "internal energy ((rise+fall)/2 at the tables' second index point) of every pin on the net, plus "
        "0.5 C V² with C = the input pin capacitances on the net (no wire cap), plus cell leakage over the "
        "simulated time. Glitches are not counted (zero delay), so dynamic energy is a lower bound. The clock "
        "is not gated: every flop's clock pin costs energy every cycle, which is much of the total at 1 lane. "
        "OpenSTA 2.0.17's report_power was tried first but its Tcl activity interface in this Debian build "
        "did not apply per-pin activities reliably (and charged a flop's clock energy twice on a one-flop "
        "check), so the documented Liberty computation in rtl/power.py is used instead.",
        "- MACs: each element product of an ACC beat of an active lane; CLEAR/READ beats, reset drain and "
        "the pipeline's tail are in the time. Random data: uniform random codes (all bit patterns, MX "
        "scales 2^-7..2^7); real data: FP32 MLP trained on digits (5 epochs), layer-2 weights x its ReLU "
        "inputs (8 weight rows x 8 test images per lane, K = 128; the random set has the same shape), per-row "
        "max scaling then formats.get(mode).encode (MX modes: the MX encoder's own element codes and E8M0 "
        "block scales).",
        "- Accumulators: every row is the RTL built with that accumulator (`rtl/` parameter ACC), "
        "checked bit for bit against sim.mac's accumulator of the same name in the energy runs. The fp32 "
        "builds' energy comes from Verilator (the chained adders make Icarus' zero-delay event cascades "
        "about 50x slower; both dump settled values per time step, and give identical toggle counts and "
        "energy on the same netlist and stimulus). MX modes have one scheme (listed as exact).",
    ]
    md_path = out_dir / "costs.md"
    md_path.write_text("\n".join(text) + "\n")
    return md_path


if __name__ == "__main__":
    sys.exit(main())
