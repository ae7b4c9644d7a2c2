"""The sweep report's Pareto plots (PNG): the metric against one cost axis, one panel per workload.

Each plot draws its own two-objective front (the metric against that plot's x axis), the
FP32 reference as a dashed line, PTQ and QAT points with the 95 % interval of their paired
difference to FP32.  Cost-target plots (sky130 area and energy; ECP5 LUT-equivalents and
MAC time) draw that target's points; target-free axes (model bits, memory energy) the first
target's.  :func:`write_plots` is called by :func:`dse.report.write`.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .pareto import pareto_mask
from .tables import direction, label, of, targets, workloads

__all__ = ["PLOTS", "PLOTS_ECP5", "write_plots"]

#: file name -> (x column, x label)
PLOTS = {
    "pareto_energy_per_inference.png": ("energy_per_inference_pj", "energy per inference (pJ, MACs + memory)"),
    "pareto_energy_per_mac.png": ("pj_per_mac", "energy per MAC (pJ)"),
    "pareto_area.png": ("area_um2", "MAC engine area (µm²)"),
    "pareto_model_bits.png": ("model_bits", "model size (bits, scales included)"),
    "pareto_memory_energy.png": ("memory_energy_pj", "memory-traffic energy per inference (pJ)"),
}
#: plots of the FPGA target's points (written when the table has any)
PLOTS_ECP5 = {
    "pareto_ecp5_lut_equiv.png": ("lut_equiv", "ECP5 engine LUT-equivalents (placed and routed)"),
    "pareto_ecp5_inference_time.png": ("inference_us", "ECP5: MAC time per inference at post-route Fmax (µs)"),
}
#: plots whose x axis does not depend on the cost target (drawn from the first target's points)
_TARGET_FREE = ("model_bits", "memory_energy_pj")


def write_plots(table: pd.DataFrame, folder: Path, title: str) -> dict:
    """Write every plot that applies to ``table``'s targets into ``folder`` (and remove those that do
    not, left by an earlier sweep); returns ``{file name: (x, label, target)}`` of those written."""
    tgs = targets(table)
    plots = {}
    for name, (x, xlabel) in PLOTS.items():
        t = tgs[0] if x in _TARGET_FREE else "sky130"
        if t in tgs:
            plots[name] = (x, xlabel, t)
    if "ecp5" in tgs:
        plots.update({n: (x, xl, "ecp5") for n, (x, xl) in PLOTS_ECP5.items()})
    for name, (x, xlabel, t) in plots.items():
        sub = table if "target" not in table else table[(table["target"] == t) | (table["weights"] == "fp32")]
        _plot(sub, x, xlabel, folder / name, f"{title}: metric vs {xlabel}")
    for name in [*PLOTS, *PLOTS_ECP5]:
        if name not in plots and (folder / name).exists():
            (folder / name).unlink()  # a plot of a target this sweep has not: not left from an earlier one
    return plots


def _plot(table: pd.DataFrame, x: str, xlabel: str, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    wls = workloads(table) or [("", "")]
    fig, axes = plt.subplots(1, len(wls), figsize=(6.2 * len(wls), 4.6), dpi=110, squeeze=False)
    for ax, wl in zip(axes[0], wls):
        sub = of(table, wl)
        ref = sub[sub["verdict"] == "reference"]
        ok = sub[sub["verdict"] != "reference"].dropna(subset=[x, "metric_mean"])
        name = str(sub["metric_name"].iloc[0]) if len(sub) else "metric"
        if ok.empty:
            why = ("not measured: dse/data/costs.csv has no row for these points"
                   if x in ("pj_per_mac", "area_um2", "energy_per_inference_pj") else
                   "not measured: dse/data/costs_ecp5.csv has no row for these points" if x in ("lut_equiv",)
                   else "no finished point")
            ax.text(0.5, 0.5, why, ha="center", va="center", wrap=True, transform=ax.transAxes)
            ax.set_xticks([])
            ax.set_yticks([])
        else:
            front = ok[pareto_mask(ok, [("metric_mean", direction(sub)), (x, "min")])].sort_values(x)
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
        better = "higher is better" if direction(sub) == "max" else "lower is better"
        ax.set_xlabel(xlabel)
        ax.set_ylabel(f"{name.replace('_', ' ')} ({better})")
        ax.set_title(f"{wl[0]}/{wl[1]}", fontsize=10)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


