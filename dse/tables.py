"""The small table helpers the sweep's report and plots share: workloads, cost targets and
the sections (workload x target) of a results table, a point's label, a metric's direction."""
from __future__ import annotations

import pandas as pd

__all__ = ["workloads", "targets", "groups", "of", "label", "direction"]


def workloads(table: pd.DataFrame) -> list[tuple[str, str]]:
    """The (dataset, model) pairs of the table, in table order."""
    return list(dict.fromkeys(zip(table["dataset"], table["model"])))


def targets(table: pd.DataFrame) -> list[str]:
    """The cost targets of the table's quantized points, in table order (sky130 when none is named)."""
    if "target" not in table:
        return ["sky130"]
    q = table[table["weights"] != "fp32"] if "weights" in table else table
    return list(dict.fromkeys(q["target"].dropna())) or list(dict.fromkeys(table["target"].dropna())) or ["sky130"]


def groups(table: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(dataset, model, target) of every section and front, workload by workload."""
    return [(*wl, t) for wl in workloads(table) for t in targets(table)]


def of(table: pd.DataFrame, wl) -> pd.DataFrame:
    """The rows of workload ``wl`` ((dataset, model)); with a target ((dataset, model, target)),
    that target's points and the workload's FP32 reference."""
    m = (table["dataset"] == wl[0]) & (table["model"] == wl[1])
    if len(wl) > 2 and "target" in table:
        m &= (table["target"] == wl[2]) | (table["weights"] == "fp32")
    return table[m]


def label(row) -> str:
    acts = "" if row["acts"] == row["weights"] else f"/a:{row['acts']}"
    extra = "" if row["method"] == "ptq" else f" {row['rounding']} {row['schedule']}"
    return f"{row['method']} {row['weights']}{acts}{extra}"


def direction(sub: pd.DataFrame) -> str:
    """``max`` when the metric of these rows is higher-is-better, else ``min``."""
    hib = sub["higher_is_better"].dropna()
    return "max" if hib.empty or bool(hib.iloc[0]) else "min"
