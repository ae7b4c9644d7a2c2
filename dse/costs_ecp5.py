"""Costs of a design point on the FPGA target: the engine placed and routed on a Lattice ECP5.

The sweep's ``target = "ecp5"`` reads ``dse/data/costs_ecp5.csv`` (written by
``python -m dse.costgen_ecp5``: synth_ecp5 + nextpnr-ecp5 on an LFE5U-85F, post-route
Fmax as the median over placement seeds).  :func:`lookup` returns, per engine mode, lane
count and accumulator:

* the resources: ``comb`` (nextpnr's used TRELLIS_COMB sites: LUT4s and the halves of the
  CCU2C carry cells, i.e. the logic that was placed), ``ff``, ``mult18x18d`` (DSP
  multipliers), ``dp16kd`` (EBR blocks), and ``lut4`` (Yosys' LUT4 cells, for reference);
* ``lut_equiv``, the one FPGA cost objective: ``comb + LUT_PER_DSP * mult18x18d +
  LUT_PER_EBR * dp16kd``.  The weights are the device's own ratios (LFE5U-85F: 83,640
  TRELLIS_COMB sites, 156 MULT18X18D, 208 DP16KD), so a resource costs the share of the
  chip it takes, in LUT units.  The separate columns are kept for a reader who weighs
  DSPs otherwise;
* ``fmax_mhz``: post-route, median over seeds.

No energy: there is no power model of the ECP5 fabric here, so FPGA points carry none.

A (mode, lanes) without a row is modelled only from measurements, and ``source`` says so:
the mode's 1-lane row scaled by :data:`FIT_MODE`'s measured ratio between L lanes and 1 lane
(each resource and Fmax; the DSP count scales exactly with L).  Lane counts the fitting mode
was not implemented at (8 lanes need more I/O than the package has) are ``"unmeasured"``.
"""
from __future__ import annotations

import math
from pathlib import Path

from sim.mac import Accumulator
from sim.mac.modes import mode_spec

from . import csvtable

__all__ = ["COSTS_ECP5_CSV", "FIT_MODE", "LUT_PER_DSP", "LUT_PER_EBR", "RESOURCES", "data_version", "lookup",
           "measured", "WEIGHTING"]

COSTS_ECP5_CSV = Path(__file__).with_name("data") / "costs_ecp5.csv"
#: the device's resources (nextpnr's report for LFE5U-85F): the weights of lut_equiv
_DEVICE = {"TRELLIS_COMB": 83640, "MULT18X18D": 156, "DP16KD": 208}
LUT_PER_DSP = _DEVICE["TRELLIS_COMB"] / _DEVICE["MULT18X18D"]
LUT_PER_EBR = _DEVICE["TRELLIS_COMB"] / _DEVICE["DP16KD"]
WEIGHTING = (f"lut_equiv = TRELLIS_COMB sites + {LUT_PER_DSP:.1f} x MULT18X18D + {LUT_PER_EBR:.1f} x DP16KD "
             "(LFE5U-85F's ratios: 83,640 logic sites, 156 DSP multipliers, 208 EBR blocks; a resource costs "
             "its share of the device)")
#: resource columns of a lookup (besides lut_equiv and fmax_mhz)
RESOURCES = ("comb", "lut4", "ff", "mult18x18d", "dp16kd")
#: the mode implemented at 1, 2 and 4 lanes, whose ratios model the lane count of other modes
FIT_MODE = "posit8_0"
_COLS = {"comb": "comb_sites", "lut4": "lut4", "ff": "ff", "mult18x18d": "mult18x18d", "dp16kd": "dp16kd",
         "fmax_mhz": "fmax_mhz"}


def _parse(path: str, reader) -> dict:
    csvtable.require(path, reader, {"build", "compiled_modes", "lanes", "accumulator", "placeable", *_COLS.values()})
    rows = {}
    for row in reader:
        if row["placeable"].strip() != "True":
            continue
        if row["build"].strip() != "single":
            continue  # the sweep costs one mode's engine; multi-mode builds are in reports/costs_ecp5.md
        key = (row["compiled_modes"].strip().lower(), int(row["lanes"]), str(Accumulator.parse(row["accumulator"])))
        rows[key] = {k: csvtable.number(row[c]) for k, c in _COLS.items()}
    return rows


def _rows(path=None) -> dict:
    return csvtable.table(Path(path) if path is not None else COSTS_ECP5_CSV, _parse)


def measured(path=None) -> bool:
    """Whether the ECP5 cost table exists."""
    return bool(_rows(path))


def data_version(path=None) -> str:
    """A short hash of the ECP5 table's contents ("unmeasured" when there is none)."""
    return csvtable.data_version(Path(path) if path is not None else COSTS_ECP5_CSV)


def _with_equiv(r: dict) -> dict:
    out = dict(r)
    out["lut_equiv"] = r["comb"] + LUT_PER_DSP * r["mult18x18d"] + LUT_PER_EBR * (
        0.0 if math.isnan(r["dp16kd"]) else r["dp16kd"])
    return out


def lookup(mode: str | None, lanes: int, accumulator: str, path=None, pipe: int = 0) -> dict:
    """Resources, ``lut_equiv`` and post-route ``fmax_mhz`` of the one-mode engine on the ECP5.

    Returns a dict with :data:`RESOURCES`, ``lut_equiv``, ``fmax_mhz`` and ``source``: the
    table's file name (a measured row), ``"model: ..."`` (lanes scaled by :data:`FIT_MODE`'s
    measured ratios), ``"unmeasured"`` or ``"no engine mode"`` (mode None); NaN values then.
    MX modes have one accumulation scheme (block sums into FP32, listed as ``exact``)."""
    nan = {k: math.nan for k in (*RESOURCES, "lut_equiv", "fmax_mhz")}
    if mode is None:
        return {**nan, "source": "no engine mode"}
    if pipe:        # the deep pipeline (issue 14) has no ECP5 row yet: reports/costs_ecp5.md
        return {**nan, "source": "unmeasured (no ECP5 row with PIPE = 1)"}
    spec = mode_spec(mode)
    acc = "exact" if spec.mx else str(Accumulator.parse(accumulator))
    rows = _rows(path)
    name = (Path(path) if path else COSTS_ECP5_CSV).name
    L = int(lanes)
    row = rows.get((spec.name, L, acc))
    if row is not None:
        return {**_with_equiv(row), "source": name}
    one = rows.get((spec.name, 1, acc))
    f1, fl = rows.get((FIT_MODE, 1, "exact")), rows.get((FIT_MODE, L, "exact"))
    if one is None or f1 is None or fl is None:
        return {**nan, "source": "unmeasured"}
    scaled = {k: (one[k] * L if k == "mult18x18d" else
                  one[k] * fl[k] / f1[k] if f1[k] else one[k]) for k in _COLS}
    return {**_with_equiv(scaled),
            "source": f"model: {name} 1-lane row x {FIT_MODE}'s measured {L}-lane / 1-lane ratios"}
