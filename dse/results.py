"""The results table: cached runs + cost model -> one row per design point.

A row aggregates a point's runs over its seeds.  The workload's metric (test
accuracy, or validation bits per byte for a language model) is summarised as
``metric_mean`` and ``metric_std`` (sample std, ``ddof = 1``; NaN for one seed),
with the per-seed values in ``metric_per_seed``.  Every run also carries its
seed's FP32 reference metric (``reference_metric``), so a quantized point is read
as the *paired* difference ``delta = metric - reference`` per seed, summarised by
:func:`dse.stats.paired`: ``delta_mean``, ``delta_std``, the 95 % t interval
``delta_ci_low .. delta_ci_high`` and a ``verdict``: ``better`` / ``worse`` than
FP32 (the interval excludes 0), ``not resolved`` (it includes 0), ``reference``
for the FP32 row itself.  ``gain_mean`` is ``delta_mean`` turned so that higher
is better whatever the metric's direction (``higher_is_better``); it is the
objective of the Pareto fronts.  A point whose spread over several seeds is 0 is
checked and explained in ``seeds_note`` (see :func:`seeds_note`).

Costs:

* ``model_bits``: the model's size as the evaluation counts it (weight codes,
  their scales, FP32 biases and FP32 layers).
* ``act_bits``: the input activations of every layer for one inference, each a
  tensor in the activation format with its scales (:func:`dse.costs.tensor_bits`),
  in FP32 for the first and last layers when ``quantize_first_last`` is false.
* ``memory_energy_pj``: weights read once from ``weight_memory`` and every layer's
  input read once from ``act_memory`` (writes not counted), at the energies of
  :data:`dse.costs.MEMORY_PJ_PER_64BIT`.
* ``area_um2``, ``fmax_mhz``, ``pj_per_mac`` from :func:`dse.costs.lookup` (NaN
  where unmeasured), ``mac_energy_pj = macs_per_inference * pj_per_mac`` and
  ``energy_per_inference_pj = mac_energy_pj + memory_energy_pj`` (``target = "sky130"``).
* ``target = "ecp5"``: the engine placed and routed on an ECP5 FPGA
  (:func:`dse.costs_ecp5.lookup`): ``lut_equiv`` and its parts ``comb``, ``lut4``, ``ff``,
  ``mult18x18d``, ``dp16kd``, post-route ``fmax_mhz``; no area and no MAC energy (NaN).
* ``macs_per_cycle`` (lanes x operands per 16-bit word of the mode) and
  ``inference_us = macs_per_inference / (macs_per_cycle * fmax_mhz)``: the time of one
  inference's MACs at the build's Fmax, on either target.

The table is a function of the cache and the cost table alone: nothing is
computed here but sums and statistics.
"""
from __future__ import annotations

import math
import statistics

import pandas as pd

from sim.mac.modes import mode_spec

from . import costs, costs_ecp5
from .cache import run_key
from .space import POINT_KEYS, is_reference, point_id, runs_for
from .stats import paired

__all__ = ["point_row", "records_for", "seeds_note", "table", "COLUMNS"]

STATS = ["metric_name", "higher_is_better", "metric_mean", "metric_std", "metric_per_seed", "reference_mean",
         "delta_mean", "delta_std", "delta_ci_low", "delta_ci_high", "verdict", "gain_mean", "seeds_note",
         "accuracy_mean", "accuracy_std"]
COLUMNS = [
    "point_id", *POINT_KEYS, "status", "n_seeds", "n_ok", *STATS, "loss_mean", "train_seconds", "error",
    "workload_id", "n_params", "macs_per_inference", "model_bits", "act_bits", "engine_mode", "cost_source",
    "area_um2", "fmax_mhz", "pj_per_mac", "mac_energy_pj", "memory_energy_pj", "energy_per_inference_pj",
    "macs_per_cycle", "inference_us", "lut_equiv", "comb", "lut4", "ff", "mult18x18d", "dp16kd",
]
#: columns of the FPGA target's costs (dse.costs_ecp5); NaN for sky130 points
FPGA = ("lut_equiv", "comb", "lut4", "ff", "mult18x18d", "dp16kd")
_TIMING = ("train_seconds", "seconds")


def _act_bits(point: dict, act_elements: list[int]) -> float:
    a_fmt = None if point["acts"] == "fp32" else point["acts"]
    last = len(act_elements) - 1
    keep = point["quantize_first_last"] is False
    return sum(costs.tensor_bits(None if i in (0, last) and keep else a_fmt, n)
               for i, n in enumerate(act_elements))


def workload_id(m: dict) -> str:
    """What identifies the data a run measured (the evaluation records it): the corpus checksum, file
    count and Python version of a text workload, the split sizes of a data set."""
    if "workload_id" in m:
        return str(m["workload_id"])
    if "corpus_sha256" in m:
        return (f"{m.get('corpus', 'corpus')} sha256 {str(m['corpus_sha256'])[:16]}, {m.get('corpus_files')} files, "
                f"{m.get('corpus_bytes')} bytes, Python {m.get('python')}")
    if "workload_spec" in m:
        return (f"{m['workload_spec']}, source sha256 {m.get('source_sha256')}"
                + (f", pretrained sha256 {m['pretrained_sha256']}" if m.get("pretrained_sha256") else ""))
    if "data" in m:
        return f"{m['data']}: {m.get('n_train')} train, {m.get('n_calib')} calibration, {m.get('n_test')} test"
    return ""


def _metric(m: dict) -> float:
    return float(m["metric"] if "metric" in m else m["accuracy"])


def seeds_note(point: dict, ok: list[dict]) -> str:
    """Why a point shows no spread over several seeds ('' when it does, or with one seed).

    Zero spread is checked, never taken on trust: either every metric of the runs
    is the same (the seed does not change this point: said so), or the metric
    repeats while the runs differ, or the quantized model scores exactly its
    reference on every seed (a zero paired difference).
    """
    if len(ok) < 2:
        return ""
    ms = [r["metrics"] for r in ok]
    vals = [_metric(m) for m in ms]
    refs = [m.get("reference_metric") for m in ms]
    name = ms[0].get("metric_name", "metric")
    if not is_reference(point) and None not in refs and all(v == r for v, r in zip(vals, refs)):
        same = " (the same value on every seed)" if len(set(vals)) == 1 else ""
        return f"{name} equal to its FP32 reference's on each of {len(ms)} seeds{same}: paired difference exactly 0"
    deltas = [v - r for v, r in zip(vals, refs)] if None not in refs and not is_reference(point) else []
    if deltas and len(set(deltas)) == 1 and len(set(vals)) > 1:
        return (f"the paired difference is the same on all {len(ms)} seeds ({deltas[0]:+.6g}) while the {name} "
                "itself varies: distinct runs, a zero-width interval (no spread to estimate)")
    if len(set(vals)) == 1:
        keys = sorted({k for m in ms for k in m if k not in _TIMING})
        differ = [k for k in keys if any(m.get(k) != ms[0].get(k) for m in ms[1:])]
        if not differ:
            return (f"identical over {len(ms)} seeds: every metric of the runs is equal "
                    "(the seed does not change this point)")
        return (f"same {name} on all {len(ms)} seeds, from distinct runs (they differ in "
                + ", ".join(differ[:4]) + (", ..." if len(differ) > 4 else "") + ")")
    return ""


def _stats(point: dict, ok: list[dict]) -> dict:
    nan = math.nan
    out = dict.fromkeys(STATS, nan)
    out.update(metric_name="", higher_is_better=None, metric_per_seed="", verdict="", seeds_note="")
    if not ok:
        return out
    ms = [r["metrics"] for r in ok]
    vals = [_metric(m) for m in ms]
    higher = bool(ms[0].get("higher_is_better", True))
    out.update(metric_name=ms[0].get("metric_name", "accuracy"), higher_is_better=higher,
               metric_mean=statistics.fmean(vals), metric_std=statistics.stdev(vals) if len(vals) > 1 else nan,
               metric_per_seed=";".join(repr(v) for v in vals), seeds_note=seeds_note(point, ok))
    if "accuracy" in ms[0] and ms[0]["accuracy"] is not None:
        acc = [float(m["accuracy"]) for m in ms]
        out.update(accuracy_mean=statistics.fmean(acc), accuracy_std=statistics.stdev(acc) if len(acc) > 1 else nan)
    refs = [m.get("reference_metric") for m in ms]
    if is_reference(point):
        out.update(reference_mean=out["metric_mean"], verdict="reference", gain_mean=0.0)
    elif None not in refs:
        p = paired([v - float(r) for v, r in zip(vals, refs)])
        sign = 1.0 if higher else -1.0
        verdict = "not resolved" if not p.resolved else ("better" if sign * p.mean > 0 else "worse")
        if p.n > 1 and p.std == 0 and p.mean != 0:
            verdict = "same difference on every seed"  # a degenerate interval: the report says why
        out.update(reference_mean=statistics.fmean(float(r) for r in refs), delta_mean=p.mean, delta_std=p.std,
                   delta_ci_low=p.ci_low, delta_ci_high=p.ci_high, verdict=verdict if p.n > 1 else "one seed",
                   gain_mean=sign * p.mean)
    return out


def point_row(point: dict, records: list[dict | None]) -> dict:
    """The table row of ``point`` from its runs' records (None for a run not yet done)."""
    nan = math.nan
    ok = [r for r in records if r and r.get("status") == "ok"]
    failed = [r for r in records if r and r.get("status") == "error"]
    if len(ok) == len(records):
        status = "ok"
    elif any(r is None for r in records):
        status = "pending"
    else:
        status = "failed" if not ok else "partial"
    row = {"point_id": point_id(point), **point, "status": status, "n_seeds": len(records), "n_ok": len(ok)}
    row.update(_stats(point, ok))
    losses = [r["metrics"].get("loss", nan) for r in ok]
    row.update(
        loss_mean=statistics.fmean(losses) if ok else nan,
        train_seconds=sum(r.get("seconds", 0.0) for r in ok + failed),
        error=failed[0]["error"] if failed else "",
        workload_id=" | ".join(dict.fromkeys(workload_id(r["metrics"]) for r in ok)) if ok else "",
    )
    mode = costs.engine_mode(None if is_reference(point) else point["weights"])
    fpga = point.get("target", "sky130") == "ecp5"
    if fpga:   # placed and routed: resources and post-route Fmax, no energy (no ECP5 power model)
        mac = costs_ecp5.lookup(mode, point["lanes"], point["accumulator"], pipe=point.get("pipe", 0))
        mac.update(area_um2=nan, pj_per_mac=nan)
    else:
        mac = costs.lookup(mode, point["lanes"], point["accumulator"], pipe=point.get("pipe", 0))
    row.update(engine_mode=mode or "", cost_source=mac["source"], area_um2=mac["area_um2"],
               fmax_mhz=mac["fmax_mhz"], pj_per_mac=mac["pj_per_mac"], **{k: mac.get(k, nan) for k in FPGA})
    # MACs per cycle: each lane's 16-bit word holds k operands of the mode (4 x 4-bit, 2 x 8-bit, 1 x 16-bit)
    k = mode_spec(mode).k * int(point["lanes"]) if mode else nan
    row["macs_per_cycle"] = k
    if ok:
        m = ok[0]["metrics"]
        wbits, abits = m["model_bits"], _act_bits(point, m["act_elements"])
        mem = costs.memory_energy_pj(wbits, point["weight_memory"]) + costs.memory_energy_pj(abits, point["act_memory"])
        mac_energy = m["macs_per_inference"] * mac["pj_per_mac"]
        row.update(n_params=m["n_params"], macs_per_inference=m["macs_per_inference"], model_bits=wbits,
                   act_bits=abits, mac_energy_pj=mac_energy, memory_energy_pj=mem,
                   energy_per_inference_pj=mac_energy + mem,
                   inference_us=m["macs_per_inference"] / (k * mac["fmax_mhz"]) if mode else nan)
    else:
        row.update(n_params=nan, macs_per_inference=nan, model_bits=nan, act_bits=nan,
                   mac_energy_pj=nan, memory_energy_pj=nan, energy_per_inference_pj=nan, inference_us=nan)
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
