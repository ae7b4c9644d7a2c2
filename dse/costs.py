"""Costs of a design point: the MAC engine's area, Fmax and energy, and memory traffic.

Two parts, with different provenance:

**MAC engine costs** (:func:`lookup`) come only from measurements of this project's
RTL: ``dse/data/costs.csv``, produced by the Yosys + OpenSTA flow of issue 7.  Its
columns are ``mode, lanes, accumulator, area_um2, fmax_mhz, pj_per_mac`` (further
columns are kept but unused here).  Until that file exists, or for a configuration
it lacks a row for, ``lookup`` returns NaN with ``source="unmeasured"``.  A weight
format that the engine has no mode for (see :data:`ENGINE_MODES`) gets NaN with
``source="no engine mode"``.  There are no placeholder numbers anywhere.

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

import csv
import functools
import hashlib
import math
from pathlib import Path

__all__ = [
    "COSTS_CSV", "ENGINE_MODES", "MEMORY_PJ_PER_64BIT", "MEMORY_REFERENCE",
    "bits_per_element", "data_version", "engine_mode", "lookup", "measured",
    "memory_energy_pj", "tensor_bits",
]

#: the measured cost table (issue 7)
COSTS_CSV = Path(__file__).with_name("data") / "costs.csv"

#: modes of the SIMD MAC engine (sim.mac, rtl/); other weight formats have no MAC cost
ENGINE_MODES = (
    "int4", "int8", "fp4_e2m1", "posit4_1", "posit8_0", "posit16_1",
    "fp8_e4m3", "fp8_e5m2", "mxfp4", "mxint8",
)

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


def engine_mode(weights: str | None) -> str | None:
    """The engine mode that multiplies weights of this format, or None (no such mode)."""
    if weights is None:
        return None
    key = weights.strip().lower()
    return key if key in ENGINE_MODES else None


@functools.lru_cache(maxsize=4)
def _table(path: str, stamp: float) -> dict:
    rows = {}
    with open(path, newline="") as fh:
        reader = csv.DictReader(row for row in fh if not row.lstrip().startswith("#"))
        missing = {"mode", "lanes", "accumulator", *_NUMERIC} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path} lacks the columns {', '.join(sorted(missing))}")
        for row in reader:
            key = (row["mode"].strip().lower(), int(row["lanes"]), row["accumulator"].strip())
            rows[key] = {k: float(row[k]) if row[k] not in ("", None) else math.nan for k in _NUMERIC}
    return rows


def _rows(path=None) -> dict:
    p = Path(path) if path is not None else COSTS_CSV
    if not p.exists():
        return {}
    return _table(str(p), p.stat().st_mtime)


def measured(path=None) -> bool:
    """Whether a measured cost table exists."""
    return bool(_rows(path))


def data_version(path=None) -> str:
    """A short hash of the cost table's contents ("unmeasured" when there is none)."""
    p = Path(path) if path is not None else COSTS_CSV
    if not p.exists():
        return "unmeasured"
    return hashlib.sha256(p.read_bytes()).hexdigest()[:12]


def lookup(mode: str | None, lanes: int, accumulator: str, path=None) -> dict:
    """Area (µm²), Fmax (MHz) and energy per MAC (pJ) of the engine in ``mode``.

    Returns ``dict(area_um2, fmax_mhz, pj_per_mac, source)``.  ``source`` is the
    table's file name for a measured row, ``"unmeasured"`` when the table has no row
    for (mode, lanes, accumulator) or does not exist, and ``"no engine mode"`` when
    ``mode`` is None.  Unmeasured values are NaN.
    """
    nan = dict(area_um2=math.nan, fmax_mhz=math.nan, pj_per_mac=math.nan)
    if mode is None:
        return {**nan, "source": "no engine mode"}
    if mode not in ENGINE_MODES:
        raise ValueError(f"unknown engine mode {mode!r}; modes: {', '.join(ENGINE_MODES)}")
    row = _rows(path).get((mode, int(lanes), str(accumulator)))
    if row is None:
        return {**nan, "source": "unmeasured"}
    return {**row, "source": (Path(path) if path else COSTS_CSV).name}


def bits_per_element(fmt, n: int | None = None) -> float:
    """Bits per element of an ``n``-element tensor in ``fmt`` (a name or object; None = FP32).

    Block formats answer through their own ``bits_per_element(n)`` (element bits plus
    the block scale's share, plus NVFP4's 32-bit tensor scale spread over ``n``); a
    scalar format's is its ``bits``.
    """
    import formats

    if fmt is None:
        return 32.0
    f = formats.get(fmt)
    per = getattr(f, "bits_per_element", None)
    return float(per(n)) if per is not None else float(f.bits)


def tensor_bits(fmt, n: int) -> float:
    """Bits an ``n``-element tensor occupies in ``fmt`` (None = FP32), scales included."""
    n = int(n)
    return bits_per_element(fmt, n) * n if n else 0.0


def memory_energy_pj(bits: float, memory: str) -> float:
    """Energy (pJ) of moving ``bits`` from ``memory`` (a key of MEMORY_PJ_PER_64BIT)."""
    if memory not in MEMORY_PJ_PER_64BIT:
        raise ValueError(f"unknown memory {memory!r}; choose one of: {', '.join(MEMORY_PJ_PER_64BIT)}")
    return bits * MEMORY_PJ_PER_64BIT[memory] / 64.0
