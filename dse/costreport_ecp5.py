"""``reports/costs_ecp5.md`` from ``dse/data/costs_ecp5.csv`` (``python -m dse.costgen_ecp5 --report``)."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from formats.provenance import stamp


def read_table(path: Path) -> tuple[list[str], list[dict]]:
    """(the table's # header lines, its rows)."""
    text = Path(path).read_text()
    head = [ln for ln in text.splitlines() if ln.startswith("#")]
    body = "\n".join(ln for ln in text.splitlines() if not ln.startswith("#"))
    return head, list(csv.DictReader(io.StringIO(body)))


def _f(v, nd=1):
    try:
        return f"{float(v):,.{nd}f}"
    except (TypeError, ValueError):
        return "–"


def _ratio(a, b) -> str:
    try:
        return f"{float(a) / float(b):.3f} ({100 * (float(a) / float(b) - 1):+.1f} %)"
    except (TypeError, ValueError, ZeroDivisionError):
        return "–"


def xr_npe_claim(rows: list[dict]) -> list[str]:
    """The reconfigurable XR-NPE set against one single-mode engine per mode, post-route."""
    pick = {r["build"]: r for r in rows if r["build"] in ("xr-npe", "separate") and r["lanes"] == "1"}
    if set(pick) != {"xr-npe", "separate"}:
        return ["The xr-npe and separate 1-lane rows are not both in the table: no comparison."]
    x, s = pick["xr-npe"], pick["separate"]
    out = ["| resource | xr-npe (reconfigurable) | separate units | ratio xr-npe / separate |", "|---|---|---|---|"]
    for col, label in (("lut4", "LUT4 (Yosys cells)"), ("ccu2c", "CCU2C carry cells"), ("ff", "flip-flops"),
                       ("mult18x18d", "MULT18X18D DSPs"), ("comb_sites", "TRELLIS_COMB sites (post-route)"),
                       ("fmax_mhz", "post-route Fmax, median (MHz)")):
        out.append(f"| {label} | {_f(x[col], 0 if col != 'fmax_mhz' else 1)} | "
                   f"{_f(s[col], 0 if col != 'fmax_mhz' else 1)} | {_ratio(x[col], s[col])} |")
    return out


def accumulators(rows: list[dict]) -> list[str]:
    """Per mode, the 1-lane single-mode engine with each accumulator: Fmax and logic, post-route."""
    accs = list(dict.fromkeys(r["accumulator"] for r in rows if r["build"] == "single" and r["lanes"] == "1"))
    if len(accs) < 2:
        return ["The table has one accumulator only: no comparison."]
    by = {(r["compiled_modes"], r["accumulator"]): r for r in rows if r["build"] == "single" and r["lanes"] == "1"}
    modes = list(dict.fromkeys(m for m, a in by if a != "exact"))
    out = ["| mode | " + " | ".join(f"{a}: Fmax MHz / LUT4 / DSP" for a in accs) + " |", "|---" * (len(accs) + 1) + "|"]
    for m in modes:
        cells = []
        for a in accs:
            r = by.get((m, a))
            cells.append("–" if r is None else
                         (f"{_f(r['fmax_mhz'])} / {_f(r['lut4'], 0)} / {r['mult18x18d']}" if r["placeable"] == "True"
                          else "not placeable"))
        out.append(f"| {m} | " + " | ".join(cells) + " |")
    return out


def write_report(table: Path, path: Path) -> None:
    head, rows = read_table(table)
    lines = [
        "# Engine costs on an ECP5 FPGA, placed and routed",
        "",
        "Made by `python -m dse.costgen_ecp5 --jobs 2 && python -m dse.costgen_ecp5 --report` from "
        "`dse/data/costs_ecp5.csv`, whose header says when, on what machine and with which tools:",
        "",
        *[f"    {h[2:]}" for h in head],
        "",
        stamp("costs_ecp5"),
        "",
        "Unlike the sky130 table (cells only, before placement), every number here is after real placement "
        "and routing (nextpnr-ecp5), so it includes wires. Fmax is the median over the placement seeds; "
        "min and max give the spread placement alone causes; builds of more than 6,000 LUT4 were placed with one "
        "seed (column seeds: 15-24 min of placement and routing each here), so they show no spread. "
        "Left out: the 4-lane XR-NPE set (about 18,000 LUT4; its placement and routing did not fit a session), "
        "8 lanes (the ports exceed the package's 365 user IOs; 4 lanes use 337), the sky130 table's `*-eq` "
        "rows (an equal-clock synthesis target is an ASIC notion). No energy is claimed for this target.",
        "",
        "The sweep reads this table with `target = \"ecp5\"` (`dse/costs_ecp5.py`, docs/sweep.md): one-mode "
        "builds, LUT-equivalents weighted by the device's own resource ratios, post-route Fmax.",
        "",
        "Beside sky130 (`reports/costs.md`, cells before placement): there the reconfigurable XR-NPE set saved "
        "45.9 % area against the separate units at equal clock; here it saves about half of every resource "
        "but runs at less than half the clock of the separate units (table below), so per unit of throughput it "
        "saves nothing on this FPGA. Which path limits it here is not analysed in this report.",
        "",
        "## The XR-NPE claim, post-route",
        "",
        "XR-NPE reports that its reconfigurable multiplier saves 42 % area against separate units (on an ASIC). "
        "The same two 1-lane builds of this project (the XR-NPE mode set: fp4_e2m1, posit4_1, posit8_0, "
        "posit16_1; `separate` = `rtl/src/baseline/sep_engine.v`, one single-mode engine per mode behind one "
        "interface) on the FPGA:",
        "",
        *xr_npe_claim(rows),
        "",
        "## Accumulators",
        "",
        "The same 1-lane single-mode engine with the exact (Kulisch) accumulator, the FP32 accumulator "
        "(`sim.mac`'s fused FP32 adds, all in one cycle at `PIPE = 0`; at `PIPE = 1` one rounding per word into two partial sums, docs/mac.md 4.2) and fixed-point ones (`fixed:I:F`). MX modes have one "
        "scheme (block sums into FP32) and appear only as exact.",
        "",
        *accumulators(rows),
        "",
        "Read with `docs/mac.md`: at `PIPE = 0` the fp32 accumulator adds each product of a word into FP32 in turn within "
        "one cycle (4 chained adds in the 4-bit modes, 2 in the 8-bit ones, 1 in posit16_1), and its Fmax "
        "falls in that order; the sky130 table shows the same order (`PIPE = 1` changes the rounding points "
        "there, docs/mac.md 4.2). Which path limits the fixed-point builds below "
        "the exact ones on this FPGA is not analysed here.",
        "",
        "## Every build",
        "",
        "| build | modes | lanes | accumulator | Fmax median (min–max) MHz | seeds | LUT4 | CCU2C | FF | MULT18X18D | "
        "COMB sites | IO |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        fm = (f"{_f(r['fmax_mhz'])} ({_f(r['fmax_mhz_min'])}–{_f(r['fmax_mhz_max'])})" if r["placeable"] == "True"
              else "not placeable")
        modes = r["compiled_modes"] if r["build"] == "single" else r["build"]
        lines.append(f"| {r['build']} | {modes} | {r['lanes']} | {r['accumulator']} | {fm} | {r['seeds']} | {r['lut4']} | "
                     f"{r['ccu2c']} | {r['ff']} | {r['mult18x18d']} | {r['comb_sites']} | {r['io']} |")
    Path(path).write_text("\n".join(lines) + "\n")
