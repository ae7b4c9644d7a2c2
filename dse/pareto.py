"""Pareto fronts of the results table.

An objective is a (column, direction) pair, direction ``"max"`` or ``"min"``.  A
row dominates another when it is at least as good in every objective and better in
one.  Rows with NaN in any objective (a failed point, a cost not yet measured) are
on no front: their rank is NaN.

:func:`objectives` picks the sweep's objectives: the gain over the FP32 reference
up (``gain_mean``: the paired difference to FP32 turned so that higher is better
whatever the metric's direction, so accuracy and bits per byte are handled
alike), energy per inference down, area down, as issue 8 asks, once the MAC
engine's costs are measured (``dse/data/costs.csv``).  Until then those two
columns are NaN for every point, and it falls back to what is defined now: gain
up, memory-traffic energy per inference down, model bits down (and says so).
Fronts compare points of one workload only (the report ranks each workload apart).

On the FPGA target (``target = "ecp5"``, :mod:`dse.costs_ecp5`) the cost objectives are the
engine's LUT-equivalents down (``lut_equiv``: logic sites plus DSP and EBR blocks weighted by
their share of the device) and the time of one inference's MACs at post-route Fmax down
(``inference_us``); no energy is claimed there.  Points of different targets are on
different fronts.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["ECP5", "MEASURED", "UNMEASURED", "objectives", "pareto_mask", "pareto_ranks"]

MEASURED = [("gain_mean", "max"), ("energy_per_inference_pj", "min"), ("area_um2", "min")]
UNMEASURED = [("gain_mean", "max"), ("memory_energy_pj", "min"), ("model_bits", "min")]
ECP5 = [("gain_mean", "max"), ("lut_equiv", "min"), ("inference_us", "min")]


def objectives(measured: bool, target: str = "sky130") -> tuple[list[tuple[str, str]], str]:
    """(objectives, note) of ``target``: sky130's measured-cost objectives, or the fallback with a
    note why; ecp5's (its table is read by dse.costs_ecp5; unmeasured points are on no front)."""
    if target == "ecp5":
        return ECP5, ""
    if target != "sky130":
        raise ValueError(f"unknown cost target {target!r}; allowed: sky130, ecp5")
    if measured:
        return MEASURED, ""
    return UNMEASURED, (
        "The MAC engine's area and energy are not measured yet (dse/data/costs.csv, issue 7): "
        "the front is over accuracy, memory-traffic energy per inference and model bits."
    )


def _matrix(df: pd.DataFrame, objs) -> np.ndarray:
    """Objective values as a float matrix, all turned into 'smaller is better'."""
    cols = []
    for col, direction in objs:
        if direction not in ("max", "min"):
            raise ValueError(f"objective direction must be 'max' or 'min', got {direction!r} for {col!r}")
        v = df[col].to_numpy(dtype=float)
        cols.append(-v if direction == "max" else v)
    return np.stack(cols, axis=1) if cols else np.empty((len(df), 0))


def pareto_ranks(df: pd.DataFrame, objs) -> pd.Series:
    """Non-dominated sorting: 1 for the front, 2 for the front without it, ...; NaN rows NaN."""
    m = _matrix(df, objs)
    valid = ~np.isnan(m).any(axis=1)
    ranks = np.full(len(df), np.nan)
    left = np.flatnonzero(valid)
    rank = 1
    while left.size:
        sub = m[left]
        le = (sub[:, None, :] <= sub[None, :, :]).all(axis=2)
        lt = (sub[:, None, :] < sub[None, :, :]).any(axis=2)
        dominated = (le & lt).any(axis=0)  # column j dominated by some row i
        front = left[~dominated]
        ranks[front] = rank
        left = left[dominated]
        rank += 1
    return pd.Series(ranks, index=df.index, name="pareto_rank")


def pareto_mask(df: pd.DataFrame, objs) -> pd.Series:
    """True for the rows on the Pareto front of ``objs``."""
    return (pareto_ranks(df, objs) == 1).rename("pareto")
