"""The sweep's report: Pareto plots (PNG), a ranked table and a Markdown summary.

Everything here is a function of the results table (itself a function of the
cache): ``write(table, folder, ...)`` can be rerun at any time, e.g. with
``python -m dse.sweep --report-only``.

Files written into ``folder``:

``pareto_energy_per_mac.png``  accuracy against energy per MAC (pJ)
``pareto_area.png``            accuracy against engine area (µm²)
``pareto_model_bits.png``      accuracy against model size (bits, scales included)
``pareto_memory_energy.png``   accuracy against memory-traffic energy per inference
``ranked.csv``                 every point, by Pareto rank of the sweep's objectives
``summary.md``                 the Pareto-optimal points, the ranked table, failures
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from .pareto import pareto_mask, pareto_ranks

__all__ = ["PLOTS", "ranked", "write"]

#: file name -> (x column, x label)
PLOTS = {
    "pareto_energy_per_mac.png": ("pj_per_mac", "energy per MAC (pJ)"),
    "pareto_area.png": ("area_um2", "MAC engine area (µm²)"),
    "pareto_model_bits.png": ("model_bits", "model size (bits, scales included)"),
    "pareto_memory_energy.png": ("memory_energy_pj", "memory-traffic energy per inference (pJ)"),
}
SHOWN = ["weights", "acts", "rounding", "schedule", "accumulator", "lanes", "accuracy_mean", "accuracy_std",
         "model_bits", "memory_energy_pj", "pj_per_mac", "area_um2", "energy_per_inference_pj", "status"]


def label(row) -> str:
    acts = "" if row["acts"] == row["weights"] else f"/a:{row['acts']}"
    return f"{row['weights']}{acts} {row['rounding']} {row['schedule']}"


def ranked(table: pd.DataFrame, objs) -> pd.DataFrame:
    """The table with a ``pareto_rank`` column, best rank first, then by accuracy."""
    out = table.copy()
    out["pareto_rank"] = pareto_ranks(out, objs)
    return out.sort_values(["pareto_rank", "accuracy_mean"], ascending=[True, False], na_position="last")


def _plot(table: pd.DataFrame, x: str, xlabel: str, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    ok = table.dropna(subset=[x, "accuracy_mean"])
    if ok.empty:
        why = ("not measured yet: dse/data/costs.csv comes from the RTL flow (issue 7)"
               if x in ("pj_per_mac", "area_um2") else "no finished point has this value")
        ax.text(0.5, 0.5, why, ha="center", va="center", wrap=True, transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
    else:
        front = ok[pareto_mask(ok, [("accuracy_mean", "max"), (x, "min")])].sort_values(x)
        err = ok["accuracy_std"].fillna(0.0)
        ax.errorbar(ok[x], ok["accuracy_mean"], yerr=err, fmt="o", ms=4, alpha=0.45, color="tab:blue",
                    label="design points (mean ± std over seeds)")
        ax.step(front[x], front["accuracy_mean"], where="post", color="tab:red", lw=1.2)
        ax.plot(front[x], front["accuracy_mean"], "o", color="tab:red", ms=6, label="Pareto front")
        for _, row in front.iterrows():
            ax.annotate(label(row), (row[x], row["accuracy_mean"]), fontsize=7, xytext=(4, -10),
                        textcoords="offset points")
        if ok[x].max() / max(ok[x].min(), 1e-300) > 30:
            ax.set_xscale("log")
        ax.legend(fontsize=8, loc="lower right")
        ax.grid(alpha=0.3)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test accuracy")
    ax.set_title(title, fontsize=10)
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


def write(table: pd.DataFrame, folder, objs, note: str = "", title: str = "Sweep", how: str = "") -> Path:
    """Write the plots, ``ranked.csv`` and ``summary.md`` into ``folder``; return the summary's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, (x, xlabel) in PLOTS.items():
        _plot(table, x, xlabel, folder / name, f"{title}: accuracy vs {xlabel}")
    rk = ranked(table, objs)
    rk.to_csv(folder / "ranked.csv", index=False)
    front = rk[rk["pareto_rank"] == 1]
    failed = table[table["status"].isin(["failed", "partial"])]
    pending = int((table["status"] == "pending").sum())
    obj_text = ", ".join(f"{c} ({'higher' if d == 'max' else 'lower'} is better)" for c, d in objs)
    from . import costs

    parts = [
        f"# {title}\n",
        f"{how}\n" if how else "",
        f"{len(table)} design points: {int((table['status'] == 'ok').sum())} finished, "
        f"{len(failed)} with failed runs, {pending} not yet run.\n",
        f"Objectives: {obj_text}.\n",
        f"{note}\n" if note else "",
        f"MAC cost table: `dse/data/costs.csv` version {costs.data_version()}.\n",
        "Memory energies: " + costs.MEMORY_REFERENCE + ": "
        + ", ".join(f"{k} {v:g} pJ per 64 bits" for k, v in costs.MEMORY_PJ_PER_64BIT.items()) + ".\n",
        f"## Pareto-optimal points ({len(front)})\n",
        _md_table(front[[c for c in SHOWN if c in front]]),
        "## Plots\n",
        f"The table above is the front over all the objectives at once ({', '.join(c for c, _ in objs)}). "
        "Each plot draws its own two-objective front, accuracy against that plot's axis, so a point on a "
        "plot's front need not be in the table, nor a point of the table on every plot's front.\n",
        *[f"![{n}]({n})\n" for n in PLOTS],
        "## Ranked table\n",
        "Every point by Pareto rank (1 = on the front), then accuracy; all columns in `ranked.csv`.\n",
        _md_table(rk[["pareto_rank", *[c for c in SHOWN if c in rk]]]),
    ]
    if len(failed):
        parts += ["## Failed runs\n", _md_table(failed[["point_id", "weights", "acts", "rounding", "schedule",
                                                       "n_ok", "n_seeds", "error"]])]
    path = folder / "summary.md"
    path.write_text("\n".join(p for p in parts if p))
    return path
