"""The results table: cached runs + cost model -> one row per design point.

A row aggregates a point's runs over its seeds (accuracy mean and sample standard
deviation, ``ddof = 1``; NaN with a single seed) and adds its costs:

* ``model_bits``: the model's size as the QAT path counts it
  (``sim.qat.train.weight_bits``: weight codes, their scales, FP32 biases and
  FP32 layers).
* ``act_bits``: the input activations of every layer for one inference, each a
  tensor in the activation format with its scales (:func:`dse.costs.tensor_bits`),
  in FP32 for the first and last layers when ``quantize_first_last`` is false.
* ``memory_energy_pj``: weights read once from ``weight_memory`` and every layer's
  input read once from ``act_memory`` (writes not counted), at the energies of
  :data:`dse.costs.MEMORY_PJ_PER_64BIT`.
* ``area_um2``, ``fmax_mhz``, ``pj_per_mac`` from :func:`dse.costs.lookup` (NaN
  until measured), ``mac_energy_pj = macs_per_inference * pj_per_mac`` and
  ``energy_per_inference_pj = mac_energy_pj + memory_energy_pj``.

The table is a function of the cache and the cost table alone: nothing is
trained here.
"""
from __future__ import annotations

import math
import statistics

import pandas as pd

from . import costs
from .cache import run_key
from .config import SPACE_KEYS
from .space import point_id, runs_for

__all__ = ["point_row", "table", "COLUMNS"]

COLUMNS = [
    "point_id", *SPACE_KEYS, "status", "n_seeds", "n_ok", "accuracy_mean", "accuracy_std",
    "loss_mean", "train_seconds", "error", "n_params", "macs_per_inference", "model_bits",
    "act_bits", "engine_mode", "cost_source", "area_um2", "fmax_mhz", "pj_per_mac",
    "mac_energy_pj", "memory_energy_pj", "energy_per_inference_pj",
]


def _act_bits(point: dict, act_elements: list[int]) -> float:
    a_fmt = None if point["acts"] == "fp32" else point["acts"]
    last = len(act_elements) - 1
    return sum(costs.tensor_bits(None if i in (0, last) and not point["quantize_first_last"] else a_fmt, n)
               for i, n in enumerate(act_elements))


def point_row(point: dict, records: list[dict | None]) -> dict:
    """The table row of ``point`` from its runs' records (None for a run not yet done)."""
    nan = math.nan
    ok = [r for r in records if r and r.get("status") == "ok"]
    failed = [r for r in records if r and r.get("status") == "error"]
    acc = [r["metrics"]["accuracy"] for r in ok]
    if len(ok) == len(records):
        status = "ok"
    elif any(r is None for r in records):
        status = "pending"
    else:
        status = "failed" if not ok else "partial"
    row = {"point_id": point_id(point), **point, "status": status, "n_seeds": len(records), "n_ok": len(ok)}
    row.update(
        accuracy_mean=statistics.fmean(acc) if acc else nan,
        accuracy_std=statistics.stdev(acc) if len(acc) > 1 else nan,
        loss_mean=statistics.fmean(r["metrics"]["loss"] for r in ok) if ok else nan,
        train_seconds=sum(r.get("seconds", 0.0) for r in ok + failed),
        error=failed[0]["error"] if failed else "",
    )
    mode = costs.engine_mode(None if point["weights"] == "fp32" else point["weights"])
    mac = costs.lookup(mode, point["lanes"], point["accumulator"])
    row.update(engine_mode=mode or "", cost_source=mac["source"], area_um2=mac["area_um2"],
               fmax_mhz=mac["fmax_mhz"], pj_per_mac=mac["pj_per_mac"])
    if ok:
        m = ok[0]["metrics"]
        wbits, abits = m["model_bits"], _act_bits(point, m["act_elements"])
        mem = costs.memory_energy_pj(wbits, point["weight_memory"]) + costs.memory_energy_pj(abits, point["act_memory"])
        mac_energy = m["macs_per_inference"] * mac["pj_per_mac"]
        row.update(n_params=m["n_params"], macs_per_inference=m["macs_per_inference"], model_bits=wbits,
                   act_bits=abits, mac_energy_pj=mac_energy, memory_energy_pj=mem,
                   energy_per_inference_pj=mac_energy + mem)
    else:
        row.update(n_params=nan, macs_per_inference=nan, model_bits=nan, act_bits=nan,
                   mac_energy_pj=nan, memory_energy_pj=nan, energy_per_inference_pj=nan)
    return row


def records_for(point: dict, seeds, cache, code_version: str) -> list[dict | None]:
    return [cache.get(run_key(run, code_version)) for run in runs_for(point, seeds)]


def table(points: list[dict], seeds, cache, code_version: str) -> pd.DataFrame:
    """One row per point, columns :data:`COLUMNS`, from the cache alone."""
    rows = [point_row(p, records_for(p, seeds, cache, code_version)) for p in points]
    df = pd.DataFrame(rows, columns=COLUMNS)
    for col in ("n_params", "macs_per_inference", "model_bits", "act_bits"):
        df[col] = df[col].astype("float64")
    return df
