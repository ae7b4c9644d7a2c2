"""Costs of a design point: the MAC engine's area, Fmax and energy, and memory traffic.

Two parts, with different provenance:

**MAC engine costs** (:func:`lookup`) come only from measurements of this project's
RTL: ``dse/data/costs.csv``, produced by the Yosys + OpenSTA flow of issue 7.  Its
columns are ``mode, lanes, accumulator, area_um2, fmax_mhz, pj_per_mac`` (further
columns are kept but unused here).  Until that file exists, or for a configuration
it lacks a row for, ``lookup`` returns NaN with ``source="unmeasured"``.  A weight
format that the engine has no mode for (:func:`sim.mac.mode_for`, which decides by the
format's description, not its spelling) gets NaN with ``source="no engine mode"``.  There are no placeholder numbers anywhere.

The table is written by ``python -m dse.costgen`` (Yosys + OpenSTA on sky130, gate-level
activity -> Liberty energy; see reports/costs.md).  It has rows for builds of one mode
(``build="single"``), the XR-NPE mode set and all modes, and for the accumulators of
``sim.mac`` and the RTL: ``exact``, ``fp32`` and ``fixed:16:16`` for every non-MX mode (MX
modes have one scheme, block sums into FP32, listed as ``exact``; :func:`lookup` answers
an MX query with those rows whatever the accumulator), plus ``fixed`` rows of other widths
for ``FIT_MODE``.  Where the table has no row, :func:`lookup` models, and says so in
``source``:

* other lane counts: the mode's 1-lane row scaled by :func:`lane_model`, fitted on the
  table's ``FIT_MODE`` rows at 1 and 4 lanes (a shared part plus a per-lane part);
* other fixed widths ``fixed:I:F``: the mode's ``fixed:16:16`` row scaled by the relative
  per-register-bit slope of :func:`fixed_model`, fitted on ``FIT_MODE``'s fixed rows (area,
  energy and critical path linear in ``I + F``).

**Memory traffic** (:func:`bits_per_element`, :func:`tensor_bits`,
:func:`memory_energy_pj`) is defined now: the bits a tensor occupies in a format,
including its scale overhead as the formats objects describe it (MX: one 8-bit
E8M0 scale per 32 elements; NVFP4: one 8-bit UE4M3 scale per 16 elements plus one
FP32 scale per tensor), times the energy of moving a bit from the memory it lives
in, from :data:`MEMORY_PJ_PER_64BIT`.

Reference for the memory energies: M. Horowitz, "Computing's energy problem (and
what we can do about it)", ISSCC 2014, 45 nm, 0.9 V: a 64-bit read from an 8 KB
SRAM costs 10 pJ, from a 32 KB SRAM 20 pJ, from a 1 MB SRAM 100 pJ, and a 64-bit
DRAM access 1.3 to 2.6 nJ (both ends of that range are offered, no midpoint).
"""
from __future__ import annotations

import math
from pathlib import Path

from sim.mac import PIPES, Accumulator, MODES, mode_for
from sim.mac.modes import mode_spec

from . import csvtable

__all__ = [
    "COSTS_CSV", "ENGINE_MODES", "FIT_MODE", "FIXED_REF", "fixed_model", "lane_model", "MEMORY_PJ_PER_64BIT", "MEMORY_REFERENCE",
    "bits_per_element", "data_version", "engine_mode", "lookup", "measured",
    "memory_energy_pj", "tensor_bits",
]

#: the measured cost table (issue 7)
COSTS_CSV = Path(__file__).with_name("data") / "costs.csv"

#: modes of the SIMD MAC engine (sim.mac's, in its order); other weight formats have no MAC cost
ENGINE_MODES = tuple(MODES)

MEMORY_REFERENCE = "M. Horowitz, Computing's energy problem, ISSCC 2014 (45 nm, 0.9 V)"
#: energy of moving 64 bits, pJ, by where they live (Horowitz, ISSCC 2014, 45 nm)
MEMORY_PJ_PER_64BIT = {
    "sram_8kb": 10.0,
    "sram_32kb": 20.0,
    "sram_1mb": 100.0,
    "dram_low": 1300.0,
    "dram_high": 2600.0,
}

_NUMERIC = ("area_um2", "fmax_mhz", "pj_per_mac")
_EXTRA = ("pj_per_mac_real",)
#: the mode whose 1- and 4-lane single-mode builds fit the lane model (and whose fixed
#: accumulator rows of several widths fit the width model)
FIT_MODE = "posit8_0"
#: the fixed accumulator measured for every mode
FIXED_REF = "fixed:16:16"


def engine_mode(weights) -> str | None:
    """The engine mode that multiplies weights of this format (a name or format object), or
    None (no such mode, or None given): :func:`sim.mac.mode_for`, by the format's description."""
    if weights is None:
        return None
    return mode_for(weights)


def _parse(path: str, reader) -> dict:
    csvtable.require(path, reader, {"mode", "lanes", "accumulator", *_NUMERIC})
    rows = {}
    for row in reader:
        build = (row.get("build") or "single").strip()
        key = (row["mode"].strip().lower(), int(row["lanes"]), str(Accumulator.parse(row["accumulator"])), build,
               int(row.get("pipe") or 0))
        rows[key] = {k: csvtable.number(row.get(k)) for k in _NUMERIC + _EXTRA}
    return rows


def _rows(path=None) -> dict:
    return csvtable.table(Path(path) if path is not None else COSTS_CSV, _parse)


def measured(path=None) -> bool:
    """Whether a measured cost table exists."""
    return bool(_rows(path))


def data_version(path=None) -> str:
    """A short hash of the cost table's contents ("unmeasured" when there is none)."""
    return csvtable.data_version(Path(path) if path is not None else COSTS_CSV)


def lane_model(path=None, pipe: int = 0) -> dict | None:
    """Shared fractions of area and of energy per cycle, fitted on FIT_MODE at 1 and 4 lanes.

    Model: ``X(L) = X(1) * (f + (1 - f) * L)`` for area and for energy per cycle (so
    pJ/MAC(L) = pJ/MAC(1) * (f_e + (1 - f_e) * L) / L, since MACs per cycle grow with L);
    Fmax(L) = Fmax(1).  None when the table lacks the two fitting rows."""
    rows = _rows(path)
    one, four = rows.get((FIT_MODE, 1, "exact", "single", pipe)), rows.get((FIT_MODE, 4, "exact", "single", pipe))
    if one is None or four is None:
        return None

    def shared(x1, x4):
        return (4 * x1 - x4) / (3 * x1) if x1 and not math.isnan(x1) and not math.isnan(x4) else math.nan

    e1, e4 = one["pj_per_mac"], 4 * four["pj_per_mac"]       # energy per cycle at full rate
    return {"area_shared": shared(one["area_um2"], four["area_um2"]), "energy_shared": shared(e1, e4)}


def fixed_model(path=None, pipe: int = 0) -> dict | None:
    """Relative per-register-bit slopes of a fixed accumulator's costs, fitted on FIT_MODE.

    A least-squares line ``a + b W`` over FIT_MODE's single-mode, 1-lane ``fixed:I:F`` rows
    (at least two widths W = I + F) gives the relative slope ``b / (a + b W_ref)`` at the
    reference width of FIXED_REF; a mode's cost at width W is then its FIXED_REF row times
    ``1 + slope * (W - W_ref)``, for area, energy per MAC (random and real data) and critical
    path.  (Relative rather than absolute, so that a mode with more products per cycle is
    not charged the fitting mode's per-MAC increment; reports/costs.md checks it on a row not
    in the fit.)  None when fewer than two widths are measured."""
    pts = sorted(((Accumulator.parse(acc).width, row) for (m, l, acc, b, p), row in _rows(path).items()
                  if m == FIT_MODE and l == 1 and b == "single" and p == pipe and Accumulator.parse(acc).kind == "fixed"),
                 key=lambda t: t[0])
    if len({w for w, _ in pts}) < 2:
        return None

    w_ref = Accumulator.parse(FIXED_REF).width

    def slope(get):
        xy = [(w, get(r)) for w, r in pts if not math.isnan(get(r))]
        if len(xy) < 2:
            return math.nan
        mx = sum(x for x, _ in xy) / len(xy)
        my = sum(y for _, y in xy) / len(xy)
        b = sum((x - mx) * (y - my) for x, y in xy) / sum((x - mx) ** 2 for x, _ in xy)
        return b / (my + b * (w_ref - mx))

    return {"widths": [w for w, _ in pts], "area_per_bit": slope(lambda r: r["area_um2"]),
            "pj_per_bit": slope(lambda r: r["pj_per_mac"]),
            "pj_real_per_bit": slope(lambda r: r["pj_per_mac_real"]),
            "ns_per_bit": slope(lambda r: 1000.0 / r["fmax_mhz"])}


def _fixed_row(mode: str, accumulator: str, build: str, path=None, pipe: int = 0) -> tuple[dict, str] | None:
    """The mode's 1-lane row for a fixed accumulator: measured, or modelled from FIXED_REF."""
    rows = _rows(path)
    row = rows.get((mode, 1, accumulator, build, pipe))
    if row is not None:
        return row, "measured"
    w = Accumulator.parse(accumulator).width
    ref = rows.get((mode, 1, FIXED_REF, build, pipe))
    fit = fixed_model(path, pipe)
    if w is None or ref is None or fit is None:
        return None
    d = w - Accumulator.parse(FIXED_REF).width
    cp = 1000.0 / ref["fmax_mhz"] * (1 + fit["ns_per_bit"] * d)
    return ({"area_um2": ref["area_um2"] * (1 + fit["area_per_bit"] * d), "fmax_mhz": 1000.0 / cp,
             "pj_per_mac": ref["pj_per_mac"] * (1 + fit["pj_per_bit"] * d),
             "pj_per_mac_real": ref["pj_per_mac_real"] * (1 + fit["pj_real_per_bit"] * d)},
            f"{FIXED_REF} row x width slope fitted on {FIT_MODE}")


def lookup(mode: str | None, lanes: int, accumulator: str, path=None, build: str = "single",
           data: str = "random", pipe: int = 0) -> dict:
    """Area (µm²), Fmax (MHz) and energy per MAC (pJ) of the engine in ``mode``.

    Returns ``dict(area_um2, fmax_mhz, pj_per_mac, source)``.  ``source`` is the
    table's file name for a measured row, ``"model: ..."`` when the value is the lane
    model's scaling of the mode's measured 1-lane row, ``"unmeasured"`` when neither
    exists (or the table does not), and ``"no engine mode"`` when ``mode`` is None.
    ``accumulator``: ``"exact"``, ``"fp32"`` or ``"fixed:I:F"`` (MX modes: ignored, their
    block/FP32 scheme is the only one).
    Unmeasured values are NaN.  ``build`` picks the compiled mode set ("single": the
    mode alone, "xr-npe", "all"); ``data`` the operand set of the energy ("random" codes
    or "real" quantized MLP weights and activations); ``pipe`` the engine's pipeline (0, or 1: the
    deep pipeline of issue 14; its rows and models come from its own measured rows only).
    """
    nan = dict(area_um2=math.nan, fmax_mhz=math.nan, pj_per_mac=math.nan)
    if mode is None:
        return {**nan, "source": "no engine mode"}
    if mode not in ENGINE_MODES:
        raise ValueError(f"unknown engine mode {mode!r}; modes: {', '.join(ENGINE_MODES)}")
    if data not in ("random", "real"):
        raise ValueError(f"unknown operand data {data!r}; choose random or real")
    if isinstance(pipe, bool) or pipe not in PIPES:
        raise ValueError(f"unknown pipeline setting pipe={pipe!r}; allowed: {', '.join(map(str, PIPES))}")
    col = "pj_per_mac" if data == "random" else "pj_per_mac_real"
    rows = _rows(path)
    name = (Path(path) if path else COSTS_CSV).name
    acc = "exact" if mode_spec(mode).mx else str(Accumulator.parse(accumulator))
    row = rows.get((mode, int(lanes), acc, build, pipe))
    if row is not None:
        return {"area_um2": row["area_um2"], "fmax_mhz": row["fmax_mhz"], "pj_per_mac": row[col],
                "source": name}
    base, how = rows.get((mode, 1, acc, build, pipe)), "measured"
    if base is None and Accumulator.parse(acc).kind == "fixed":
        got = _fixed_row(mode, acc, build, path, pipe)
        if got is not None:
            base, how = got
    if base is None:
        return {**nan, "source": "unmeasured"}
    if int(lanes) == 1:
        return {"area_um2": base["area_um2"], "fmax_mhz": base["fmax_mhz"], "pj_per_mac": base[col],
                "source": f"model: {name} {how}"}
    fit = lane_model(path, pipe)
    if fit is None or int(lanes) < 1:
        return {**nan, "source": "unmeasured"}
    L = int(lanes)
    fa, fe = fit["area_shared"], fit["energy_shared"]
    what = "1-lane row" if how == "measured" else f"1-lane {how}"
    return {"area_um2": base["area_um2"] * (fa + (1 - fa) * L), "fmax_mhz": base["fmax_mhz"],
            "pj_per_mac": base[col] * (fe + (1 - fe) * L) / L,
            "source": f"model: {name} {what} x lane fit on {FIT_MODE}"}


def bits_per_element(fmt, n: int | None = None) -> float:
    """Bits per element of an ``n``-element tensor in ``fmt`` (a name or object; None = FP32).

    Every format answers through its ``bits_per_element(n)``: a scalar format's
    ``bits``; a block format's element bits plus the block scale's share, plus NVFP4's
    32-bit tensor scale spread over ``n``.
    """
    import formats

    if fmt is None:
        return 32.0
    return float(formats.get(fmt).bits_per_element(n))


def tensor_bits(fmt, n: int) -> float:
    """Bits an ``n``-element tensor occupies in ``fmt`` (None = FP32), scales included."""
    n = int(n)
    return bits_per_element(fmt, n) * n if n else 0.0


def memory_energy_pj(bits: float, memory: str) -> float:
    """Energy (pJ) of moving ``bits`` from ``memory`` (a key of MEMORY_PJ_PER_64BIT)."""
    if memory not in MEMORY_PJ_PER_64BIT:
        raise ValueError(f"unknown memory {memory!r}; choose one of: {', '.join(MEMORY_PJ_PER_64BIT)}")
    return bits * MEMORY_PJ_PER_64BIT[memory] / 64.0
