"""What the energy model reads from a Liberty file: per cell its leakage, per pin its input
capacitance and its NLDM internal-power tables, and the wire-load models.

Tables are looked up as Liberty tools do: bilinear interpolation between the index points
(``index_1`` = input transition in ns, ``index_2`` = output load in pF) and linear
extrapolation beyond the first and last points along each axis (OpenSTA's rule for NLDM
tables).  Units are the library's: ns, pF, and pJ for internal energy (sky130_fd_sc_hd:
``time_unit 1ns``, ``capacitive_load_unit 1 pF``, ``voltage_unit 1V``), nW for leakage.
"""
from __future__ import annotations

import bisect
import gzip
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

__all__ = ["Table", "PowerGroup", "Pin", "Cell", "read_cells", "wire_load", "wire_cap"]


@dataclass(frozen=True)
class Table:
    """An NLDM table: ``values[i][j]`` at (``index_1[i]``, ``index_2[j]``); 1-D: one row."""

    index_1: tuple
    index_2: tuple
    values: tuple

    def __call__(self, x: float, y: float = 0.0) -> float:
        if not self.index_2:                      # 1-D: along index_1
            return _lerp1(self.index_1, self.values[0], x)
        i0, i1, tx = _bracket(self.index_1, x)
        j0, j1, ty = _bracket(self.index_2, y)
        v = self.values
        a = v[i0][j0] + (v[i0][j1] - v[i0][j0]) * ty
        b = v[i1][j0] + (v[i1][j1] - v[i1][j0]) * ty
        return a + (b - a) * tx


def _bracket(idx, x):
    """Indices of the two points around ``x`` (the end pair outside the range) and the fraction."""
    if len(idx) == 1:
        return 0, 0, 0.0
    k = min(max(bisect.bisect_right(idx, x), 1), len(idx) - 1)
    lo, hi = idx[k - 1], idx[k]
    return k - 1, k, (x - lo) / (hi - lo)


def _lerp1(idx, vals, x):
    i0, i1, t = _bracket(idx, x)
    return vals[i0] + (vals[i1] - vals[i0]) * t


@dataclass(frozen=True)
class PowerGroup:
    """One ``internal_power`` group of a pin: its related pin (None for an input pin's own
    group) and its rise and fall energy tables."""

    related_pin: str | None
    rise: Table | None
    fall: Table | None

    def energy(self, slew: float, load: float = 0.0) -> float:
        """Energy per transition, the mean of rise and fall (a toggle count does not tell which)."""
        got = [t(slew, load) for t in (self.rise, self.fall) if t is not None]
        return sum(got) / len(got) if got else 0.0


@dataclass
class Pin:
    direction: str
    capacitance: float
    power: list = field(default_factory=list)


@dataclass
class Cell:
    leakage_nw: float
    pins: dict


def _text(lib) -> str:
    lib = Path(lib)
    if lib.suffix == ".gz":
        with gzip.open(lib, "rt") as fh:
            return fh.read()
    return lib.read_text()


def _group(text: str, start: int) -> tuple[str, int]:
    """The brace-balanced group opening at the first '{' at or after ``start``, and its end."""
    i = text.index("{", start)
    depth = 0
    for j in range(i, len(text)):
        c = text[j]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[i:j + 1], j + 1
    raise ValueError("unbalanced Liberty group")


def _nums(s: str) -> tuple:
    return tuple(float(x) for x in s.replace("\\", "").replace('"', "").split(",") if x.strip())


def _table(body: str, kind: str, templates: dict) -> Table | None:
    m = re.search(kind + r'\s*\(\s*"?([\w.]*)"?\s*\)\s*\{', body)
    if m is None:
        return None
    grp, _ = _group(body, m.start())
    tpl = templates.get(m.group(1), {})
    i1 = re.search(r'index_1\s*\(\s*"([^"]*)"\s*\)', grp)
    i2 = re.search(r'index_2\s*\(\s*"([^"]*)"\s*\)', grp)
    vals = re.search(r'values\s*\((.*?)\)\s*;', grp, re.S)
    if vals is None:
        return None
    rows = tuple(_nums(r) for r in re.findall(r'"([^"]*)"', vals.group(1)))
    index_1 = _nums(i1.group(1)) if i1 else tpl.get("index_1", ())
    index_2 = _nums(i2.group(1)) if i2 else tpl.get("index_2", ())
    if len(rows) == 1 and not index_2 and len(rows[0]) != len(index_1) and len(index_1) == 1:
        index_1, index_2 = (), ()
    if index_2 and len(rows) != len(index_1):
        raise ValueError(f"table {kind}: {len(rows)} rows for {len(index_1)} index_1 points")
    return Table(index_1, index_2, rows)


def _templates(text: str) -> dict:
    out = {}
    for m in re.finditer(r'power_lut_template\s*\(\s*"?([\w.]+)"?\s*\)\s*\{', text):
        grp, _ = _group(text, m.start())
        d = {}
        for k in ("index_1", "index_2"):
            x = re.search(k + r'\s*\(\s*"([^"]*)"\s*\)', grp)
            if x:
                d[k] = _nums(x.group(1))
        out[m.group(1)] = d
    return out


@lru_cache(maxsize=4)
def _library(lib: str) -> tuple[str, dict, dict]:
    text = _text(lib)
    cells = {}
    for m in re.finditer(r'\n\s*cell\s*\(\s*"?([\w]+)"?\s*\)\s*\{', text):
        cells[m.group(1)] = m.start()
    return text, cells, _templates(text)


def read_cells(lib, names) -> dict[str, Cell]:
    """The :class:`Cell` of each name (KeyError for a cell the library lacks)."""
    text, index, templates = _library(str(lib))
    out = {}
    for name in names:
        if name not in index:
            raise KeyError(f"cell {name} not in {lib}")
        body, _ = _group(text, index[name])
        leak = re.search(r'cell_leakage_power\s*:\s*([-\d.eE+]+)', body)
        pins = {}
        for m in re.finditer(r'\n\s*pin\s*\(\s*"?(\w+)"?\s*\)\s*\{', body):
            pb, _ = _group(body, m.start())
            cap = re.search(r'\n\s*capacitance\s*:\s*([-\d.eE+]+)', pb)
            dirn = re.search(r'direction\s*:\s*"?(\w+)"?', pb)
            groups = []
            for g in re.finditer(r'internal_power\s*\(\s*\)\s*\{', pb):
                gb, _ = _group(pb, g.start())
                rel = re.search(r'related_pin\s*:\s*"?(\w+)"?', gb)
                groups.append(PowerGroup(rel.group(1) if rel else None, _table(gb, "rise_power", templates),
                                         _table(gb, "fall_power", templates)))
            pins[m.group(1)] = Pin(dirn.group(1) if dirn else "input", float(cap.group(1)) if cap else 0.0, groups)
        out[name] = Cell(float(leak.group(1)) if leak else 0.0, pins)
    return out


@lru_cache(maxsize=8)
def wire_load(lib: str, name: str = "Small") -> dict:
    """The wire-load model ``name``: capacitance per unit length, slope, {fanout: length}."""
    text, _, _ = _library(str(lib))
    m = re.search(r'wire_load\s*\(\s*"' + re.escape(name) + r'"\s*\)\s*\{', text)
    if m is None:
        raise KeyError(f"wire-load model {name!r} not in {lib}")
    grp, _ = _group(text, m.start())
    cap = float(re.search(r'capacitance\s*:\s*([-\d.eE+]+)', grp).group(1))
    slope = float(re.search(r'slope\s*:\s*([-\d.eE+]+)', grp).group(1))
    lengths = {int(f): float(l) for f, l in re.findall(r'fanout_length\s*\(\s*(\d+)\s*,\s*([-\d.eE+]+)\s*\)', grp)}
    return {"capacitance": cap, "slope": slope, "lengths": lengths}


def wire_cap(lib, fanout: int, name: str = "Small") -> float:
    """Wire capacitance (pF) of a net with ``fanout`` sinks under the wire-load model: the
    length for that fanout (beyond the table's largest fanout: its length + slope per extra
    sink) times the capacitance per unit length.  A net without sinks has no wire."""
    if fanout <= 0:
        return 0.0
    wl = wire_load(str(lib), name)
    top = max(wl["lengths"])
    length = wl["lengths"][fanout] if fanout in wl["lengths"] else \
        wl["lengths"][top] + wl["slope"] * (fanout - top) if fanout > top else \
        _lerp1(tuple(sorted(wl["lengths"])), tuple(wl["lengths"][k] for k in sorted(wl["lengths"])), fanout)
    return length * wl["capacitance"]
