"""The sweep's report: Pareto plots (PNG), a ranked table and a Markdown summary.

Everything here is a function of the results table (itself a function of the
cache): ``write(table, folder, ...)`` can be rerun at any time, e.g. with
``python -m dse.sweep --report-only``.

Files written into ``folder`` (each plot has one panel per workload, its metric
on the y axis with the FP32 reference as a dashed line):

``pareto_energy_per_inference.png``  metric against energy per inference (MACs + memory)
``pareto_energy_per_mac.png``  metric against energy per MAC (pJ)
``pareto_area.png``            metric against engine area (µm²)
``pareto_model_bits.png``      metric against model size (bits, scales included)
``pareto_memory_energy.png``   metric against memory-traffic energy per inference
``pareto_ecp5_lut_equiv.png``  (``target = "ecp5"`` points only) metric against the engine's FPGA LUT-equivalents
``pareto_ecp5_inference_time.png``  (ecp5) metric against one inference's MAC time at post-route Fmax
``ranked.csv``                 every point, by Pareto rank within its workload
``summary.md``                 per workload: the FP32 reference, the Pareto-optimal points, every
                               point with its paired difference to FP32 and its 95 % interval,
                               what is not resolved; the sanity checks (:mod:`dse.sanity`); failures

With several cost targets (``target = ["sky130", "ecp5"]``) every workload has one section
and one front per target (their cost objectives differ, :func:`dse.pareto.objectives`); the
FP32 reference row is shown in each.
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from . import costs_ecp5
from .pareto import objectives, pareto_ranks
from .plots import PLOTS, PLOTS_ECP5, write_plots
from .tables import direction, groups, label, of, targets

__all__ = ["PLOTS", "PLOTS_ECP5", "ranked", "write"]

STATISTICS = (
    "Statistics: every seed has its own FP32 reference (trained to convergence once per workload and seed), "
    "and every quantized point of that seed starts from it, so a point is read as the paired difference "
    "`delta = metric - FP32 metric`, seed by seed. `delta_mean` and `delta_std` (sample std, n - 1) are over "
    "the seeds; `delta_ci_low .. delta_ci_high` is the 95 % confidence interval of the mean difference from "
    "Student's t distribution with n - 1 degrees of freedom. `verdict`: `better` or `worse` than FP32 where "
    "the interval excludes 0, **not resolved** where it includes 0 (the seeds do not tell the sign). "
    "`metric_std` is the spread of the metric itself over seeds."
)


def _objs(objs, target: str):
    """The objectives of ``target``: ``objs`` is a list (every target) or a dict target -> list."""
    if isinstance(objs, dict):
        return objs.get(target) or objectives(True, target)[0]
    return objs


def ranked(table: pd.DataFrame, objs) -> pd.DataFrame:
    """The table with a ``pareto_rank`` column (fronts within each workload), best rank first."""
    out = table.copy()
    out["pareto_rank"] = float("nan")
    for g in groups(out):
        sub = of(out, g[:2])
        sub = sub[sub["target"] == g[2]] if "target" in sub else sub   # the FP32 row: in its own target's
        out.loc[sub.index, "pareto_rank"] = pareto_ranks(sub, _objs(objs, g[2]))
    by = ["dataset", "model", *(["target"] if "target" in out else []), "pareto_rank", "gain_mean"]
    return out.sort_values(by, ascending=[True] * (len(by) - 1) + [False], na_position="last", kind="stable")


def _md_table(df: pd.DataFrame) -> str:
    if df.empty:
        return "(none)\n"

    def cell(v):
        if isinstance(v, float):
            return "" if math.isnan(v) else (f"{v:.4g}" if abs(v) < 1e5 else f"{v:.3e}")
        return str(v).replace("|", "\\|")

    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def _metric_text(v: float, name: str) -> str:
    return f"{100 * v:.2f} %" if name == "accuracy" else f"{v:.4f}"


def _display(df: pd.DataFrame, name: str, target: str = "sky130") -> pd.DataFrame:
    """The columns a reader compares, compact: metric mean ± std, difference to FP32 with its interval."""
    scale, unit = (100.0, " pt") if name == "accuracy" else (1.0, "")

    def pm(r):
        if math.isnan(r["metric_mean"]):
            return ""
        std = "" if math.isnan(r["metric_std"]) else f" ± {scale * r['metric_std']:.{2 if scale > 1 else 4}f}"
        return f"{scale * r['metric_mean']:.{2 if scale > 1 else 4}f}{std}"

    def delta(r):
        if math.isnan(r["delta_mean"]):
            return ""
        f = 2 if scale > 1 else 4
        ci = "" if math.isnan(r["delta_ci_low"]) else \
            f" [{scale * r['delta_ci_low']:+.{f}f}, {scale * r['delta_ci_high']:+.{f}f}]"
        return f"{scale * r['delta_mean']:+.{f}f}{ci}{unit}"

    out = pd.DataFrame({
        "rank": df["pareto_rank"] if "pareto_rank" in df else "",
        "method": df["method"], "weights": df["weights"], "acts": df["acts"],
        "QAT schedule": [f"{r} {s}" if s else "" for r, s in zip(df["rounding"].fillna(""), df["schedule"].fillna(""))],
        (("accuracy (%)" if scale > 1 else name.replace("_", " ")) + ", mean ± std"): df.apply(pm, axis=1),
        "Δ vs FP32 [95% CI]": df.apply(delta, axis=1),
        "verdict": df["verdict"],
        "model kbit": df["model_bits"] / 1e3,
        **({"energy/inference (nJ)": df["energy_per_inference_pj"] / 1e3,
            "area (µm²)": df["area_um2"],
            "pJ/MAC": df["pj_per_mac"]} if target != "ecp5" else
           {"LUT-equiv": df["lut_equiv"], "LUT4": df["lut4"], "DSP": df["mult18x18d"],
            "Fmax (MHz)": df["fmax_mhz"], "MAC time/inference (µs)": df["inference_us"]}),
    })
    if "pareto_rank" not in df:
        out = out.drop(columns="rank")
    return out


def _workload_section(table: pd.DataFrame, rk: pd.DataFrame, wl) -> list[str]:
    sub, rsub = of(table, wl), of(rk, wl)
    target = wl[2] if len(wl) > 2 else "sky130"
    name = str(sub["metric_name"].iloc[0]) if len(sub) else ""
    better = "higher is better" if direction(sub) == "max" else "lower is better"
    on = f" on {target} ({'ASIC cells' if target == 'sky130' else 'FPGA, placed and routed'})" if len(wl) > 2 else ""
    parts = [f"## {wl[0]}/{wl[1]}{on}: {name.replace('_', ' ') or 'metric'} ({better})\n"]
    ids = sorted({i for cell in sub["workload_id"] if cell for i in str(cell).split(" | ")})
    if ids:
        parts.append("Workload identity: " + "; ".join(f"`{i}`" for i in ids) + (
            ".\n" if len(ids) == 1 else ". **The runs measured different data** (another Python version or "
            "data set build): their differences are not comparable.\n"))
    ref = sub[sub["verdict"] == "reference"]
    for _, r in ref.iterrows():
        seeds = ", ".join(_metric_text(float(v), name) for v in str(r["metric_per_seed"]).split(";") if v)
        parts.append(f"FP32 reference: {_metric_text(r['metric_mean'], name)} ± "
                     f"{_metric_text(r['metric_std'], name) if not math.isnan(r['metric_std']) else 'n/a'} "
                     f"(std over {int(r['n_ok'])} seeds; per seed: {seeds})"
                     + (f"; {r['seeds_note']}" if r["seeds_note"] else "") + ".\n")
    front = rsub[rsub["pareto_rank"] == 1]
    parts += [f"### Pareto-optimal points ({len(front)})\n", _md_table(_display(front.drop(columns="pareto_rank"), name, target)),
              "### Every point\n",
              "By Pareto rank within this workload (1 = on the front; blank = off every front: the FP32 row, "
              "or a point without a measured cost), then gain over FP32. All columns: `ranked.csv`.\n",
              _md_table(_display(rsub, name, target))]
    unresolved = sub[sub["verdict"] == "not resolved"]
    parts.append(f"Not resolved (95 % interval of the difference to FP32 includes 0): {len(unresolved)} of "
                 f"{int((sub['verdict'] != 'reference').sum())} quantized points"
                 + (": " + ", ".join(label(r) for _, r in unresolved.iterrows()) if len(unresolved) else "") + ".\n")
    parts += _missing_costs(sub, target)
    return parts


#: why a point's MAC cost can be missing (dse.costs.lookup's ``source``)
_COST_WHY = {"no engine mode": "the MAC engine has no datapath for this format, so nothing was synthesized",
             "costs.csv": "its dse/data/costs.csv row has no energy run",
             "unmeasured": "dse/data/costs.csv has no row for this mode, accumulator and lane count, and no "
                           "model covers it"}
_COST_WHY_ECP5 = {**_COST_WHY,
                  "unmeasured": "dse/data/costs_ecp5.csv has no row for this mode, accumulator and lane count, "
                                "and no measured lane ratio covers it"}


def _missing_costs(sub: pd.DataFrame, target: str = "sky130") -> list[str]:
    """Name every quantized point whose area or energy is missing, and why (never a silent blank)."""
    if "cost_source" not in sub or "area_um2" not in sub:
        return []
    q = sub[(sub["verdict"] != "reference") & (sub["weights"] != "fp32")]
    if target == "ecp5":
        miss = q[q["lut_equiv"].isna() | q["fmax_mhz"].isna()]
        if miss.empty:
            return ["Costs: every quantized point has measured or modelled FPGA resources and post-route Fmax.\n"]
        return ["**Missing costs** (blank cost cells above):\n", "\n".join(
            f"- {label(r)}: no FPGA resources ({r['cost_source']}: "
            f"{_COST_WHY_ECP5.get(str(r['cost_source']), r['cost_source'])}); it cannot be on a cost front."
            for _, r in miss.iterrows()) + "\n"]
    miss = q[q["area_um2"].isna() | q["pj_per_mac"].isna()]
    if miss.empty:
        return ["Costs: every quantized point has a measured or modelled MAC area and energy.\n"]
    lines = []
    for _, r in miss.iterrows():
        src = str(r["cost_source"]) if r["cost_source"] == r["cost_source"] else "unmeasured"
        what = "area and energy" if (r["area_um2"] != r["area_um2"]) and (r["pj_per_mac"] != r["pj_per_mac"]) \
            else ("energy" if r["pj_per_mac"] != r["pj_per_mac"] else "area")
        lines.append(f"- {label(r)}: no {what} ({src}: {_COST_WHY.get(src, src)}); it cannot be on a cost front.")
    return ["**Missing costs** (blank cost cells above):\n", "\n".join(lines) + "\n"]


def _ecp5_note() -> str:

    return (f"FPGA cost table (`target = \"ecp5\"`): `dse/data/costs_ecp5.csv` version {costs_ecp5.data_version()}: "
            "the engine placed and routed on a Lattice LFE5U-85F (nextpnr-ecp5, post-route Fmax, median over "
            f"placement seeds). {costs_ecp5.WEIGHTING}. No energy is claimed on this target (no ECP5 power "
            "model here); `inference_us` is one inference's MACs at the lanes' MACs per cycle and that Fmax.\n")


def _sanity_section(table: pd.DataFrame) -> list[str]:
    from . import sanity

    parts = ["## Sanity checks\n"]
    for title, rule, found in (
        ("8-bit formats against FP32", "every 8-bit weight format within 1 point of accuracy of its FP32 "
         f"reference (classification), within {sanity.BPB_TOLERANCE} bits per byte (language model)",
         sanity.eight_bit(table)),
        ("More bits, never worse", "within one family and every other key equal, a format with more bits "
         "never scores worse than one with fewer beyond the 95 % interval of their paired per-seed difference",
         sanity.more_bits(table)),
    ):
        bad = [f for f in found if not f.ok]
        verdict = "no comparison in this sweep" if not found else (
            f"**passed** ({len(found)} comparisons)" if not bad else f"**FAILED** ({len(bad)} of {len(found)})")
        parts += [f"### {title}: {verdict}\n", f"Rule: {rule}.\n"]
        parts += ["\n".join(f"- {'ok' if f.ok else 'FAIL'}: {f.text}" for f in found) + "\n"] if found else []
    zero = table[table["seeds_note"].fillna("") != ""]
    parts.append("### Zero spread over seeds\n")
    parts.append("None: every point with several seeds varies over them.\n" if zero.empty else
                 "\n".join(f"- {r['dataset']}/{r['model']} {label(r)}: {r['seeds_note']}" for _, r in zero.iterrows())
                 + "\n")
    return parts


def _machine(timing: str) -> str:
    import datetime
    import os
    import platform

    try:
        import torch

        tv = f", torch {torch.__version__}"
    except ImportError:
        tv = ""
    when = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="minutes")
    return (f"Run on {platform.node()} ({platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}{tv}), finished {when}" + (f": {timing}" if timing else "") + ".")


def write(table: pd.DataFrame, folder, objs, note: str = "", title: str = "Sweep", how: str = "",
          timing: str = "") -> Path:
    """Write the plots, ``ranked.csv`` and ``summary.md`` into ``folder``; return the summary's path.

    The summary names the code version its numbers come from (:func:`formats.provenance.stamp`,
    registered as ``sweep``), the machine, and ``timing`` (what ran, how long).
    """
    from formats import provenance

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tgs = targets(table)
    plots = write_plots(table, folder, title)
    rk = ranked(table, objs)
    rk.to_csv(folder / "ranked.csv", index=False)
    failed = table[table["status"].isin(["failed", "partial"])]
    pending = int((table["status"] == "pending").sum())
    obj_text = "; ".join((f"{t}: " if len(tgs) > 1 or t != "sky130" else "")
                         + ", ".join(f"{c} ({'higher' if d == 'max' else 'lower'} is better)" for c, d in _objs(objs, t))
                         for t in tgs)
    from . import costs

    parts = [
        f"# {title}\n",
        f"{how}\n" if how else "",
        provenance.stamp("sweep") + "\n",
        _machine(timing) + "\n",
        f"{len(table)} design points: {int((table['status'] == 'ok').sum())} finished, "
        f"{len(failed)} with failed runs, {pending} not yet run.\n",
        f"Objectives, within each workload: {obj_text}. `gain_mean` is the mean paired difference to FP32, "
        "signed so that higher is better for every metric (accuracy: delta; bits per byte: -delta).\n",
        f"{note}\n" if note else "",
        STATISTICS + "\n",
        f"MAC cost table: `dse/data/costs.csv` version {costs.data_version()}.\n" if "sky130" in tgs else "",
        _ecp5_note() if "ecp5" in tgs else "",
        "Memory energies: " + costs.MEMORY_REFERENCE + ": "
        + ", ".join(f"{k} {v:g} pJ per 64 bits" for k, v in costs.MEMORY_PJ_PER_64BIT.items()) + ".\n",
    ]
    for g in groups(table):
        parts += _workload_section(table, rk, g if len(tgs) > 1 or tgs != ["sky130"] else g[:2])
    parts += _sanity_section(table if "target" not in table or len(tgs) == 1
                             else table[(table["target"] == tgs[0]) | (table["weights"] == "fp32")])
    parts += ["## Plots\n",
              "Each workload's Pareto table above is the front over all the objectives at once "
              f"({'; '.join(', '.join(c for c, _ in _objs(objs, t)) for t in tgs)}). Each plot draws its own "
              "two-objective front, the metric against "
              "that plot's axis, so a point on a plot's front need not be in the table, nor a point of the table "
              "on every plot's front.\n",
              *[f"![{n}]({n})\n" for n in plots]]
    if len(failed):
        parts += ["## Failed runs\n", _md_table(failed[["point_id", "dataset", "model", "method", "weights", "acts",
                                                       "rounding", "schedule", "n_ok", "n_seeds", "error"]])]
    path = folder / "summary.md"
    path.write_text("\n".join(p for p in parts if p))
    return path
