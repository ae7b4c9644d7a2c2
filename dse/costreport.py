"""reports/costs.md and reports/costs_area_energy.png from dse/data/costs.csv alone
(``python -m dse.costgen --report``)."""
from __future__ import annotations

import datetime
import math
import platform
import tempfile
from pathlib import Path

from formats import provenance

from .costgen import COMMON_MHZ, FIXED_REF, MODES, NON_MX, OUT, PERIOD_NS, ROOT, SWEEP_LANES

#: rows of the table before this flow (dse/data/costs.csv at commit 7be8ed7, measured 2026-11-25:
#: hierarchy-kept synthesis, ABC without a delay target, Fmax = 1/arrival with ports at 0 delay,
#: energy at one fixed Liberty table point, no wire load, every build at 100 MHz; and the
#: unpipelined engine of that time): (mode, build) -> (area um2, Fmax MHz, pJ/MAC random)
OLD = {("int4", "single"): (18855.58, 118.5, 4.6925), ("int8", "single"): (24362.12, 80.0, 10.8447),
       ("posit8_0", "single"): (36627.63, 60.1, 13.7667), ("fp8_e4m3", "single"): (34232.83, 70.9, 12.8124),
       ("mxfp4", "single"): (40896.72, 18.1, 6.8419), ("posit8_0", "xr-npe"): (107630.73, 29.1, 27.8382)}
#: XR-NPE paper's claim for its reconfigurable unit against separate units
PAPER = {"area": -42.0, "power": -38.0}


def _num(v) -> str:
    if isinstance(v, str):
        return v
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, (int,)) or (isinstance(v, float) and v.is_integer() and abs(v) >= 1000):
        return f"{v:.0f}"
    return f"{v:.0f}" if abs(v) >= 1000 else f"{v:.4g}" if abs(v) >= 1 else f"{v:.3g}"


def _md(frame, cols, names=None) -> str:
    names = names or cols
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(cols)]
    for _, r in frame.iterrows():
        lines.append("| " + " | ".join(_num(r[c]) for c in cols) + " |")
    return "\n".join(lines)


def at(row, mhz: float) -> float:
    """A row's random-code energy per MAC re-quoted at clock ``mhz``."""
    return float(row["pj_dynamic_per_mac"]) + float(row["pj_leak_per_mac_ns"]) * 1000.0 / mhz


def xr_npe_claim(df) -> tuple[list[str], dict]:
    """The XR-NPE build against the separate-units baseline (1 lane): area with and without the
    readout, energy per MAC at the common clock (zero-delay and timed)."""
    eq = (df.build == "xr-npe-eq").any() and (df.build == "separate-eq").any()
    bx, bs = ("xr-npe-eq", "separate-eq") if eq else ("xr-npe", "separate")
    xr = df[(df.build == bx) & (df.lanes == 1) & (df.accumulator == "exact")]
    sep = df[(df.build == bs) & (df.lanes == 1) & (df.accumulator == "exact")]
    if xr.empty or sep.empty:
        return ["Not measured (no xr-npe or separate row in the table)."], {}
    a, b = xr.iloc[0], sep.iloc[0]
    out = {"area": 100 * (a["area_um2"] / b["area_um2"] - 1)}
    if all(isinstance(x.get("area_readout_um2"), float) and not math.isnan(x["area_readout_um2"]) for x in (a, b)):
        out["area_no_readout"] = 100 * ((a["area_hier_um2"] - a["area_readout_um2"])
                                        / (b["area_hier_um2"] - b["area_readout_um2"]) - 1)
    f = min(COMMON_MHZ, float(a["fmax_mhz"]), float(b["fmax_mhz"]))
    rows = []
    for m in xr["mode"]:
        x, s = xr[xr["mode"] == m], sep[sep["mode"] == m]
        if x.empty or s.empty or math.isnan(x.iloc[0]["pj_per_mac"]) or math.isnan(s.iloc[0]["pj_per_mac"]):
            continue
        x, s = x.iloc[0], s.iloc[0]
        r = {"mode": m, "xr_pj": at(x, f), "sep_pj": at(s, f)}
        r["energy_pct"] = 100 * (r["xr_pj"] / r["sep_pj"] - 1)
        if not math.isnan(x.get("glitch_ratio", math.nan)) and not math.isnan(s.get("glitch_ratio", math.nan)):
            gx = x["pj_dynamic_per_mac"] * x["glitch_ratio"] + x["pj_leak_per_mac_ns"] * 1000 / f
            gs = s["pj_dynamic_per_mac"] * s["glitch_ratio"] + s["pj_leak_per_mac_ns"] * 1000 / f
            r.update(xr_timed_pj=gx, sep_timed_pj=gs, timed_pct=100 * (gx / gs - 1))
        rows.append(r)
    import pandas as pd

    t = pd.DataFrame(rows)
    if not t.empty:
        out["energy"] = float(t["energy_pct"].mean())
        if "timed_pct" in t:
            out["energy_timed"] = float(t["timed_pct"].mean())
    text = [
        f"Both builds: the XR-NPE mode set ({a['compiled_modes']}), 1 lane, exact accumulator, same readout; "
        "the baseline (`rtl/src/baseline/sep_engine.v`) is one single-mode engine per mode with isolated "
        "operands and a muxed output. Equal throughput: both take one operand word pair per cycle, both are "
        f"synthesized for the same clock (abc -D {a['target_period_ns']:g} ns: "
        + ("the period the reconfigurable build reaches" if eq else "the table's common target, which both reach")
        + f"; builds `{bx}`, `{bs}`), and energy per MAC is compared at one clock, {f:g} MHz (both reach it).", "",
        "| | reconfigurable (xr-npe) | separate units | difference | paper |", "|---|---|---|---|---|",
        f"| area, flat run (cells only, before placement) | {a['area_um2']:.0f} µm² | {b['area_um2']:.0f} µm² | "
        f"{out['area']:+.1f} % | {PAPER['area']:+.0f} % |",
    ]
    if "area_no_readout" in out:
        text.append(f"| area without the readout/encoder (hierarchy-kept breakdown) | "
                    f"{a['area_hier_um2'] - a['area_readout_um2']:.0f} µm² | "
                    f"{b['area_hier_um2'] - b['area_readout_um2']:.0f} µm² | {out['area_no_readout']:+.1f} % | |")
    text.append(f"| Fmax | {a['fmax_mhz']:g} MHz | {b['fmax_mhz']:g} MHz | | |")
    if "energy" in out:
        text.append(f"| energy per MAC, zero-delay, mean over modes | | | {out['energy']:+.1f} % | "
                    f"{PAPER['power']:+.0f} % (power) |")
    if "energy_timed" in out:
        text.append(f"| energy per MAC, glitches counted (SDF-timed), mean over modes | | | "
                    f"{out['energy_timed']:+.1f} % | |")
    if not t.empty:
        cols = [c for c in ["mode", "xr_pj", "sep_pj", "energy_pct", "xr_timed_pj", "sep_timed_pj", "timed_pct"]
                if c in t]
        text += ["", f"Per mode, pJ per MAC at {f:g} MHz (random codes):", "", _md(t, cols)]
    text += ["", _verdict(out)]
    return text, out


def _verdict(out: dict) -> str:
    """Per metric: "supported" where our saving is at least 3/4 of the paper's, else how it falls short."""
    if not out:
        return "No verdict: the comparison is not measured."

    def judge(ours, paper):
        if ours <= 0.75 * paper:
            return f"supported ({ours:+.1f} % against {paper:+.0f} %)"
        if ours < 0:
            return f"a smaller saving than claimed ({ours:+.1f} % against {paper:+.0f} %)"
        return f"no saving ({ours:+.1f} % against {paper:+.0f} %)"

    parts = [f"area: {judge(out['area'], PAPER['area'])}"]
    if "energy" in out:
        parts.append(f"energy per MAC with zero-delay activity: {judge(out['energy'], PAPER['power'])}")
    if "energy_timed" in out:
        parts.append(f"with glitches counted: {judge(out['energy_timed'], PAPER['power'])}")
    return ("Verdict (a claim counts as supported where our saving is at least 3/4 of the paper's): "
            + "; ".join(parts) + ". One lane, ungated clocks, random codes, sky130; the paper's baseline "
            "units and node differ from ours.")


def report(table: Path = OUT, out_dir: Path = ROOT / "reports") -> Path:
    """reports/costs.md and reports/costs_area_energy.png from the table alone."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from . import costs

    head = [l for l in open(table) if l.startswith("#")]
    allrows = pd.read_csv(table, comment="#")
    if "pipe" not in allrows:
        allrows["pipe"] = 0
    allrows["pipe"] = allrows["pipe"].fillna(0).astype(int)
    # the tables show the default pipeline: PIPE = 1 (dse/default.toml) once the table has its rows
    main_pipe = 1 if (allrows["pipe"] == 1).any() else 0
    other, allrows = allrows[allrows["pipe"] != main_pipe], allrows[allrows["pipe"] == main_pipe]
    df = allrows[allrows.accumulator == "exact"]
    s1 = df[(df.build == "single") & (df.lanes == 1)]
    single = s1.set_index("mode").reindex([m for m in MODES if m in set(s1["mode"])]).reset_index()
    single["pj_common"] = [at(r, COMMON_MHZ) if not math.isnan(r["pj_per_mac"]) and r["fmax_mhz"] >= COMMON_MHZ
                           else math.nan for _, r in single.iterrows()]
    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    single.set_index("mode")["area_um2"].div(1e3).plot.bar(ax=ax[0], color="tab:blue")
    ax[0].set_ylabel("area, 1000 µm² (cells only, before placement)")
    ax[0].set_title("one mode compiled, 1 lane (sky130, flat timing-driven run)")
    single.set_index("mode")[["pj_per_mac", "pj_per_mac_real"]].rename(
        columns={"pj_per_mac": "random codes", "pj_per_mac_real": "real MLP weights x acts"}).plot.bar(ax=ax[1])
    ax[1].set_ylabel("pJ per MAC at the build's own Fmax")
    ax[1].set_title("energy per MAC (zero-delay gate-level activity)")
    fig.tight_layout()
    png = out_dir / "costs_area_energy.png"
    fig.savefig(png, dpi=110)
    plt.close(fig)

    from rtl import sta

    c = sta.CONSTRAINTS
    text = [
        "# MAC engine costs: area, timing, energy (sky130)", "",
        f"Made by `python -m dse.costgen --jobs 2` (measure + table) and `python -m dse.costgen --report` (this "
        f"page, {png.name}), {datetime.date.today()}, on {platform.node()} ({platform.machine()}, 2 cores shared), "
        "Debian Yosys 0.23, OpenSTA 2.0.17, Icarus 11, sky130_fd_sc_hd tt_025C_1v80 (1.80 V, 25 C). "
        "The table is `dse/data/costs.csv`; its header says how it was made:", "",
        provenance.stamp("costs"), "",
        "```", "".join(head).rstrip(), "```", "",
        (f"**Every table below is the engine with PIPE = 1** (the deep pipeline of issue 14, READ latency 16; "
         "the sweep's default, `pipe = 1` in dse/default.toml; docs/mac.md 3). The same builds with PIPE = 0 "
         "(READ latency 14) are compared in \"PIPE = 1 against PIPE = 0\" at the end."
         if main_pipe == 1 else "Every table below is the engine with PIPE = 0 (READ latency 14)."), "",
        "## Flow and constraints", "",
        f"- Synthesis: one flattened, timing-driven run per build gives the totals and Fmax: `synth -flatten`, "
        f"`dfflibmap`, `abc -D {PERIOD_NS * 1000:.0f} -constr` (the driving cell and output load below). A second "
        "run with the hierarchy kept (ABC per module, no delay target) only splits the area into blocks; its "
        "block figures (and its total, `area_hier_um2`) are a per-block breakdown, labelled so, never the total.",
        "- Areas are cells only, before placement. For a placed estimate divide by a utilisation of about "
        "0.6-0.7 (typical of standard-cell rows with routing).",
        f"- OpenSTA (`rtl/sta.py`): ideal clock with {c['clock_uncertainty_ns']} ns uncertainty; inputs driven by "
        f"`{c['driving_cell']}`; outputs loaded with {c['load_fanout']} x `{c['load_cell']}/{c['load_pin']}`; "
        f"input and output delays {c['io_delay_fraction']:.0%} of the period; wire-load model "
        f"`{c['wire_load_model']}` set explicitly; setup times count. Fmax = 1 / the period at which the worst "
        f"slack is zero (found by moving the period by the slack); `slack_at_target_ns` is the slack at "
        f"{PERIOD_NS} ns.",
        "- Energy: see the table header; every row is quoted at its own Fmax; comparisons across builds use "
        f"one common clock ({COMMON_MHZ:g} MHz, or the lower Fmax) so they are at equal throughput.", "",
        "## One mode compiled, 1 lane, exact accumulator", "",
        _md(single, ["mode", "area_um2", "cells", "fmax_mhz", "slack_at_target_ns", "pj_per_mac", "pj_per_mac_real",
                     "pj_common", "area_hier_um2", "area_decoders_um2", "area_multiplier_um2", "area_align_acc_um2",
                     "area_readout_um2", "area_pipeline_regs_um2", "area_control_um2"],
            ["mode", "area µm² (flat)", "cells", "Fmax MHz", "slack at 10 ns", "pJ/MAC @Fmax",
             "pJ/MAC real @Fmax", f"pJ/MAC @{COMMON_MHZ:g} MHz", "hier. total µm²", "decoders*", "multiplier*",
             "align+acc*", "readout*", "pipeline regs*", "control*"]), "",
        "\\* per-block breakdown of the hierarchy-kept run (not the flat total).", "",
        f"![area and energy per mode]({png.name})", "",
    ]
    sw = df[(df.build == "single") & (df.lanes == SWEEP_LANES)]
    if not sw.empty:
        text += [f"## {SWEEP_LANES} lanes (the default sweep's engine)", "",
                 _md(sw, ["mode", "area_um2", "fmax_mhz", "pj_per_mac", "pj_per_mac_real"],
                     ["mode", "area µm² (flat)", "Fmax MHz", "pJ/MAC @Fmax", "pJ/MAC real @Fmax"]), ""]
    multi = df[(df.build != "single") | (~df.lanes.isin([1, SWEEP_LANES]))]
    text += ["## Multi-mode builds and other lane counts", "",
             _md(multi.drop_duplicates(["build", "compiled_modes", "lanes"]),
                 ["build", "compiled_modes", "lanes", "area_um2", "cells", "fmax_mhz", "slack_at_target_ns"],
                 ["build", "modes", "lanes", "area µm² (flat)", "cells", "Fmax MHz", "slack at 10 ns"]), ""]
    me = multi[multi.pj_per_mac.notna()]
    if not me.empty:
        text += ["Energy per MAC measured on these builds (at each build's Fmax):", "",
                 _md(me, ["build", "lanes", "mode", "fmax_mhz", "pj_per_mac", "pj_per_mac_real"]), ""]
    claim, _ = xr_npe_claim(allrows)
    text += ["## XR-NPE's claim: reconfigurable unit against separate units", ""] + claim + [""]
    tm = allrows[allrows.glitch_ratio.notna()] if "glitch_ratio" in allrows else allrows.iloc[:0]
    if not tm.empty:
        text += ["## Glitches: SDF-timed against zero-delay simulation", "",
                 "Dynamic energy of the same random stream with OpenSTA's cell and wire delays annotated (SDF, "
                 "Icarus), divided by the zero-delay run's: the factor by which zero-delay dynamic energy of a "
                 "row undercounts glitches. Rows without a timed run should be read with the factor of the most "
                 "similar build here.", "",
                 _md(tm, ["build", "compiled_modes", "lanes", "mode", "pj_per_mac", "pj_per_mac_timed", "glitch_ratio"]),
                 ""]
    acc_rows = []
    for m in NON_MX:
        r = {"mode": m}
        for acc in ("exact", "fp32", FIXED_REF):
            x = allrows[(allrows["mode"] == m) & (allrows.lanes == 1) & (allrows.build == "single")
                        & (allrows.accumulator == acc)]
            if not x.empty:
                x = x.iloc[0]
                r[f"{acc} µm²"], r[f"{acc} MHz"], r[f"{acc} pJ"] = x["area_um2"], x["fmax_mhz"], x["pj_per_mac"]
        acc_rows.append(r)
    adf = pd.DataFrame(acc_rows)
    if not adf.empty:
        text += ["## Accumulators (one mode compiled, 1 lane)", "",
                 "exact: the wide exact register (docs/mac.md 4.1); fp32: one fused RNE FP32 addition per product "
                 "at pipe = 0, one rounding per word into two alternating FP32 partial sums added exactly at READ at "
                 f"pipe = 1 (4.2); {FIXED_REF}: 32-bit register, products truncated toward -inf and clamped, saturating add "
                 "(4.3). Area: flat run, cells only, before placement; energy at each row's Fmax (random codes).", "",
                 _md(adf, list(adf.columns)), ""]
    text += _models(allrows, table, costs, main_pipe)
    text += _old_vs_new(allrows)
    deep, shallow = (allrows, other) if main_pipe == 1 else (other, allrows)
    text += _deep(deep, shallow, main_pipe)
    text += [
        "## Orientation: the XR-NPE paper (28 nm)", "",
        "The paper reports 0.016 mm², 1.72 GHz and \"14 pJ\" for its whole NPE at 28 nm. sky130 is a 130 nm "
        "process at 1.8 V: cell area differs by roughly (130/28)^2 ~ 22x and energy per toggle (C V^2) by "
        "more than 4x from the supply alone, so the numbers here compare modes, lane counts and designs with "
        "each other, not with the paper. No placement, clock tree, clock gating or retiming is modelled.", "",
        "## What these numbers are and are not", "",
        "- Energy: gate-level simulation of the mapped netlist (its outputs checked bit for bit against sim.mac "
        "on the same stream), toggles per net bit from the VCD; per toggle the Liberty internal energy "
        "interpolated at the pin's slew and load, plus 0.5 C V² with C = pin capacitances + the wire-load "
        "model's wire capacitance; plus leakage over the simulated time at the quoted clock. The zero-delay "
        "runs count no glitches (see the glitch table). The clock is ungated.",
        "- MACs: each element product of an ACC beat of an active lane; CLEAR/READ beats and the pipeline's "
        "drain are in the time. Random data: uniform random codes (MX scales 2^-7..2^7); real data: an FP32 "
        "MLP trained on digits, layer-2 weights x its ReLU inputs, quantized per row (MX: the MX encoder).",
        "- Accumulators: every row is the RTL built with that accumulator, checked against sim.mac's "
        "accumulator of the same name in the energy runs (fp32 rows simulated with Verilator: same toggles, "
        "much faster on the chained adders).",
    ]
    md_path = out_dir / "costs.md"
    md_path.write_text("\n".join(text) + "\n")
    return md_path


def _models(allrows, table, costs, pipe: int = 0) -> list[str]:
    """The lane and fixed-width models (of pipeline ``pipe``) checked against rows not used in their fits."""
    import pandas as pd

    text = []
    df = allrows[allrows.accumulator == "exact"]
    fit = costs.lane_model(table, pipe)
    if fit:
        val = []
        for _, r in df.drop_duplicates(["build", "compiled_modes", "lanes", "mode"]).iterrows():
            if r["lanes"] == 1 or (r["build"] == "single" and r["mode"] == costs.FIT_MODE and r["lanes"] == 4):
                continue
            b1 = df[(df.build == r["build"]) & (df.compiled_modes == r["compiled_modes"]) & (df.lanes == 1)
                    & (df["mode"] == r["mode"])]
            if b1.empty:
                continue
            b1 = b1.iloc[0]
            L = r["lanes"]
            row = {"config": f"{r['build']} {r['mode']} x{L}", "measured_um2": r["area_um2"],
                   "model_um2": b1["area_um2"] * (fit["area_shared"] + (1 - fit["area_shared"]) * L)}
            row["area_err_pct"] = 100 * (row["model_um2"] / r["area_um2"] - 1)
            if not math.isnan(r["pj_per_mac"]) and not math.isnan(b1["pj_per_mac"]):
                fe = fit["energy_shared"]
                row["measured_pj"] = r["pj_per_mac"]
                row["model_pj"] = b1["pj_per_mac"] * (fe + (1 - fe) * L) / L
                row["energy_err_pct"] = 100 * (row["model_pj"] / r["pj_per_mac"] - 1)
            val.append(row)
        vdf = pd.DataFrame(val)
        text += ["## Lane model (dse.costs.lookup for lane counts without a row)", "",
                 f"X(L) = X(1) x (f + (1 - f) L), fitted on {costs.FIT_MODE} at 1 and 4 lanes: area shared "
                 f"fraction f = {fit['area_shared']:.3f}, energy-per-cycle shared fraction f_e = "
                 f"{fit['energy_shared']:.3f}; Fmax(L) = Fmax(1). Checked against rows not used in the fit:", "",
                 _md(vdf, list(vdf.columns)) if not vdf.empty else "(none measured)", ""]
    fx = allrows[(allrows.build == "single") & (allrows.lanes == 1) & allrows.accumulator.str.startswith("fixed")]
    fmod = costs.fixed_model(table, pipe)
    if fmod:
        fval = []
        for _, r in fx.iterrows():
            if r["mode"] == costs.FIT_MODE or r["accumulator"] == FIXED_REF:
                continue
            sub = allrows[~((allrows["mode"] == r["mode"]) & (allrows.accumulator == r["accumulator"]))]
            with tempfile.TemporaryDirectory(prefix="costs-holdout-") as td:
                tmp = Path(td) / "costs.csv"              # the table without the checked row
                sub.to_csv(tmp, index=False)
                pred = costs.lookup(r["mode"], 1, r["accumulator"], path=tmp, pipe=pipe)
            fval.append({"config": f"{r['mode']} {r['accumulator']}", "measured_um2": r["area_um2"],
                         "model_um2": pred["area_um2"], "area_err_pct": 100 * (pred["area_um2"] / r["area_um2"] - 1),
                         "measured_pj": r["pj_per_mac"], "model_pj": pred["pj_per_mac"],
                         "energy_err_pct": 100 * (pred["pj_per_mac"] / r["pj_per_mac"] - 1)})
        text += [f"## Fixed-width model (fitted on {costs.FIT_MODE} at register widths "
                 f"{', '.join(str(w) for w in fmod['widths'])})", "",
                 f"Area {100 * fmod['area_per_bit']:+.2f} %, energy per MAC {100 * fmod['pj_per_bit']:+.2f} % and "
                 f"critical path {100 * fmod['ns_per_bit']:+.2f} % per register bit, relative to a mode's "
                 f"{FIXED_REF} row. Checked against a row not used in the fit:", "",
                 _md(pd.DataFrame(fval), list(fval[0])) if fval else "(none measured)", ""]
    return text


def _deep(deep, shallow, main_pipe: int = 0) -> list[str]:
    """The deep pipeline's (PIPE = 1) measured rows beside the same build with PIPE = 0, and which
    rows miss issue 14's clock targets."""
    if main_pipe == 1:
        out = ["## PIPE = 1 against PIPE = 0", "",
               "Each PIPE = 1 row (the tables above) beside the same build with PIPE = 0 (READ latency 14; the "
               "same results bit for bit except the fp32 accumulator's rounding points, docs/mac.md 4.2). "
               "Fmax and energy are each build's own; energy is quoted at that Fmax."]
    else:
        out = ["## The deep pipeline (PIPE = 1)", "",
               "The engine with `PIPE = 1` (issue 14: READ latency 16 instead of 14; docs/mac.md 3). "
               "Every table above is PIPE = 0."]
    if deep.empty:
        return out + ["", "No PIPE = 1 build is in the table yet: `python -m dse.costgen --only KEY:pipe1` measures "
                      "one (keys: `python -m dse.costgen --help`); reports/rtl_synth.md has the one-lane synthesis "
                      "of each mode subset with PIPE = 1.", ""]
    lines = ["| build | mode | lanes | accumulator | area µm² | Fmax MHz | pJ/MAC @Fmax | PIPE = 0: area µm² | "
             "Fmax MHz | pJ/MAC @Fmax | area | Fmax |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for _, r in deep.iterrows():
        twin = shallow[(shallow.build == r["build"]) & (shallow.compiled_modes == r["compiled_modes"])
                       & (shallow.lanes == r["lanes"]) & (shallow.accumulator == r["accumulator"])
                       & (shallow["mode"] == r["mode"])]
        t = twin.iloc[0] if not twin.empty else None
        ratio = (lambda a, b: f"{100 * (a / b - 1):+.1f} %" if t is not None and b and not math.isnan(b) else "–")
        lines.append(f"| {r['build']} | {r['mode']} | {r['lanes']} | {r['accumulator']} | {_num(r['area_um2'])} | "
                     f"{_num(r['fmax_mhz'])} | {_num(r['pj_per_mac'])} | "
                     + (f"{_num(t['area_um2'])} | {_num(t['fmax_mhz'])} | {_num(t['pj_per_mac'])} | "
                        f"{ratio(r['area_um2'], t['area_um2'])} | {ratio(r['fmax_mhz'], t['fmax_mhz'])} |"
                        if t is not None else "– | – | – | – | – |"))
    slow = deep[deep.fmax_mhz < deep.accumulator.map(lambda a: 50 if a == "fp32" else 100)]
    out += ["", *lines, "",
            "PIPE = 1 rows below issue 14's targets (100 MHz with the exact and fixed accumulators; 50 MHz with "
            "the fp32 accumulator): "
            + (", ".join(f"{r['build']} {r['mode']} x{r['lanes']} {r['accumulator']} ({r['fmax_mhz']:g} MHz)"
                         for _, r in slow.iterrows()) or "none") + ".", ""]
    if main_pipe == 1:
        eq = shallow[shallow.build.str.endswith("-eq")]
        if not eq.empty:
            claim, _ = xr_npe_claim(shallow)
            out += ["### XR-NPE's claim at PIPE = 0 (both builds synthesized for one clock)", "",
                    "The equal-clock pair (`xr-npe-eq`, `separate-eq`) exists at PIPE = 0 only.", "", *claim, ""]
    return out


def _old_vs_new(allrows) -> list[str]:
    rows = []
    for (mode, build), (a, f, e) in OLD.items():
        x = allrows[(allrows["mode"] == mode) & (allrows.build == build) & (allrows.lanes == 1)
                    & (allrows.accumulator == "exact")]
        if x.empty:
            continue
        x = x.iloc[0]
        rows.append(f"| {mode} ({build}) | {a:.0f} | {x['area_um2']:.0f} | {f:g} | {x['fmax_mhz']:g} | "
                    f"{e:.3g} @100 MHz | {_num(x['pj_per_mac'])} @{x['fmax_mhz']:g} MHz |")
    if not rows:
        return []
    return ["## Old against new", "",
            "The table before this flow (commit 7be8ed7, 2026-11-25): hierarchy-kept synthesis without a delay "
            "target, Fmax = 1/arrival with ports at 0 delay and no setup or uncertainty, energy at one fixed "
            "Liberty table point without wire load, every build at 100 MHz, and the unpipelined engine of that "
            "time (so area and Fmax moved for two reasons: the flow and the pipeline registers).", "",
            "| row | area µm² old | new | Fmax MHz old | new | pJ/MAC old | new |", "|---|---|---|---|---|---|---|",
            *rows, ""]
