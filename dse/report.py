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
``ranked.csv``                 every point, by Pareto rank within its workload
``summary.md``                 per workload: the FP32 reference, the Pareto-optimal points, every
                               point with its paired difference to FP32 and its 95 % interval,
                               what is not resolved; the sanity checks (:mod:`dse.sanity`); failures
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from .pareto import pareto_mask, pareto_ranks

__all__ = ["PLOTS", "ranked", "write"]

#: file name -> (x column, x label)
PLOTS = {
    "pareto_energy_per_inference.png": ("energy_per_inference_pj", "energy per inference (pJ, MACs + memory)"),
    "pareto_energy_per_mac.png": ("pj_per_mac", "energy per MAC (pJ)"),
    "pareto_area.png": ("area_um2", "MAC engine area (µm²)"),
    "pareto_model_bits.png": ("model_bits", "model size (bits, scales included)"),
    "pareto_memory_energy.png": ("memory_energy_pj", "memory-traffic energy per inference (pJ)"),
}
STATISTICS = (
    "Statistics: every seed has its own FP32 reference (trained to convergence once per workload and seed), "
    "and every quantized point of that seed starts from it, so a point is read as the paired difference "
    "`delta = metric - FP32 metric`, seed by seed. `delta_mean` and `delta_std` (sample std, n - 1) are over "
    "the seeds; `delta_ci_low .. delta_ci_high` is the 95 % confidence interval of the mean difference from "
    "Student's t distribution with n - 1 degrees of freedom. `verdict`: `better` or `worse` than FP32 where "
    "the interval excludes 0, **not resolved** where it includes 0 (the seeds do not tell the sign). "
    "`metric_std` is the spread of the metric itself over seeds."
)


def workloads(table: pd.DataFrame) -> list[tuple[str, str]]:
    """The (dataset, model) pairs of the table, in table order."""
    return list(dict.fromkeys(zip(table["dataset"], table["model"])))


def _of(table: pd.DataFrame, wl) -> pd.DataFrame:
    return table[(table["dataset"] == wl[0]) & (table["model"] == wl[1])]


def label(row) -> str:
    acts = "" if row["acts"] == row["weights"] else f"/a:{row['acts']}"
    extra = "" if row["method"] == "ptq" else f" {row['rounding']} {row['schedule']}"
    return f"{row['method']} {row['weights']}{acts}{extra}"


def ranked(table: pd.DataFrame, objs) -> pd.DataFrame:
    """The table with a ``pareto_rank`` column (fronts within each workload), best rank first."""
    out = table.copy()
    out["pareto_rank"] = float("nan")
    for wl in workloads(out):
        sub = _of(out, wl)
        out.loc[sub.index, "pareto_rank"] = pareto_ranks(sub, objs)
    return out.sort_values(["dataset", "model", "pareto_rank", "gain_mean"], ascending=[True, True, True, False],
                           na_position="last", kind="stable")


def _direction(sub: pd.DataFrame) -> str:
    hib = sub["higher_is_better"].dropna()
    return "max" if hib.empty or bool(hib.iloc[0]) else "min"


def _plot(table: pd.DataFrame, x: str, xlabel: str, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    wls = workloads(table) or [("", "")]
    fig, axes = plt.subplots(1, len(wls), figsize=(6.2 * len(wls), 4.6), dpi=110, squeeze=False)
    for ax, wl in zip(axes[0], wls):
        sub = _of(table, wl)
        ref = sub[sub["verdict"] == "reference"]
        ok = sub[sub["verdict"] != "reference"].dropna(subset=[x, "metric_mean"])
        name = str(sub["metric_name"].iloc[0]) if len(sub) else "metric"
        if ok.empty:
            why = ("not measured: dse/data/costs.csv has no row for these points"
                   if x in ("pj_per_mac", "area_um2", "energy_per_inference_pj") else "no finished point")
            ax.text(0.5, 0.5, why, ha="center", va="center", wrap=True, transform=ax.transAxes)
            ax.set_xticks([])
            ax.set_yticks([])
        else:
            direction = _direction(sub)
            front = ok[pareto_mask(ok, [("metric_mean", direction), (x, "min")])].sort_values(x)
            half = ((ok["delta_ci_high"] - ok["delta_ci_low"]) / 2).fillna(0.0)
            for method, marker in (("ptq", "o"), ("qat", "s")):
                m = ok["method"] == method
                if m.any():
                    ax.errorbar(ok[x][m], ok["metric_mean"][m], yerr=half[m], fmt=marker, ms=4, alpha=0.5,
                                label=f"{method.upper()} (mean, 95% CI of the difference to FP32)")
            ax.step(front[x], front["metric_mean"], where="post",
                    color="tab:red", lw=1.2)
            ax.plot(front[x], front["metric_mean"], "o", mfc="none", mec="tab:red", ms=9, label="Pareto front")
            for _, row in front.iterrows():
                ax.annotate(label(row), (row[x], row["metric_mean"]), fontsize=7, xytext=(4, -10),
                            textcoords="offset points")
            if len(ref):
                ax.axhline(float(ref["metric_mean"].iloc[0]), color="k", ls="--", lw=1,
                           label=f"FP32 reference ({float(ref['metric_mean'].iloc[0]):.4g})")
            if ok[x].max() / max(ok[x].min(), 1e-300) > 30:
                ax.set_xscale("log")
            else:
                ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 4))
            ax.legend(fontsize=7, loc="best")
            ax.grid(alpha=0.3)
        better = "higher is better" if _direction(sub) == "max" else "lower is better"
        ax.set_xlabel(xlabel)
        ax.set_ylabel(f"{name.replace('_', ' ')} ({better})")
        ax.set_title(f"{wl[0]}/{wl[1]}", fontsize=10)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


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


def _display(df: pd.DataFrame, name: str) -> pd.DataFrame:
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
        "energy/inference (nJ)": df["energy_per_inference_pj"] / 1e3,
        "area (µm²)": df["area_um2"],
        "pJ/MAC": df["pj_per_mac"],
    })
    if "pareto_rank" not in df:
        out = out.drop(columns="rank")
    return out


def _workload_section(table: pd.DataFrame, rk: pd.DataFrame, wl) -> list[str]:
    sub, rsub = _of(table, wl), _of(rk, wl)
    name = str(sub["metric_name"].iloc[0]) if len(sub) else ""
    better = "higher is better" if _direction(sub) == "max" else "lower is better"
    parts = [f"## {wl[0]}/{wl[1]}: {name.replace('_', ' ') or 'metric'} ({better})\n"]
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
    parts += [f"### Pareto-optimal points ({len(front)})\n", _md_table(_display(front.drop(columns="pareto_rank"), name)),
              "### Every point\n",
              "By Pareto rank within this workload (1 = on the front; blank = off every front: the FP32 row, "
              "or a point without a measured cost), then gain over FP32. All columns: `ranked.csv`.\n",
              _md_table(_display(rsub, name))]
    unresolved = sub[sub["verdict"] == "not resolved"]
    parts.append(f"Not resolved (95 % interval of the difference to FP32 includes 0): {len(unresolved)} of "
                 f"{int((sub['verdict'] != 'reference').sum())} quantized points"
                 + (": " + ", ".join(label(r) for _, r in unresolved.iterrows()) if len(unresolved) else "") + ".\n")
    parts += _missing_costs(sub)
    return parts


#: why a point's MAC cost can be missing (dse.costs.lookup's ``source``)
_COST_WHY = {"no engine mode": "the MAC engine has no datapath for this format, so nothing was synthesized",
             "costs.csv": "its dse/data/costs.csv row has no energy run",
             "unmeasured": "dse/data/costs.csv has no row for this mode, accumulator and lane count, and no "
                           "model covers it"}


def _missing_costs(sub: pd.DataFrame) -> list[str]:
    """Name every quantized point whose area or energy is missing, and why (never a silent blank)."""
    if "cost_source" not in sub or "area_um2" not in sub:
        return []
    q = sub[(sub["verdict"] != "reference") & (sub["weights"] != "fp32")]
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
    for name, (x, xlabel) in PLOTS.items():
        _plot(table, x, xlabel, folder / name, f"{title}: metric vs {xlabel}")
    rk = ranked(table, objs)
    rk.to_csv(folder / "ranked.csv", index=False)
    failed = table[table["status"].isin(["failed", "partial"])]
    pending = int((table["status"] == "pending").sum())
    obj_text = ", ".join(f"{c} ({'higher' if d == 'max' else 'lower'} is better)" for c, d in objs)
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
        f"MAC cost table: `dse/data/costs.csv` version {costs.data_version()}.\n",
        "Memory energies: " + costs.MEMORY_REFERENCE + ": "
        + ", ".join(f"{k} {v:g} pJ per 64 bits" for k, v in costs.MEMORY_PJ_PER_64BIT.items()) + ".\n",
    ]
    for wl in workloads(table):
        parts += _workload_section(table, rk, wl)
    parts += _sanity_section(table)
    parts += ["## Plots\n",
              "Each workload's Pareto table above is the front over all the objectives at once "
              f"({', '.join(c for c, _ in objs)}). Each plot draws its own two-objective front, the metric against "
              "that plot's axis, so a point on a plot's front need not be in the table, nor a point of the table "
              "on every plot's front.\n",
              *[f"![{n}]({n})\n" for n in PLOTS]]
    if len(failed):
        parts += ["## Failed runs\n", _md_table(failed[["point_id", "dataset", "model", "method", "weights", "acts",
                                                       "rounding", "schedule", "n_ok", "n_seeds", "error"]])]
    path = folder / "summary.md"
    path.write_text("\n".join(p for p in parts if p))
    return path
