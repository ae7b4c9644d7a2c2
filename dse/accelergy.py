"""Export the measured MAC costs (``dse/data/costs.csv``) as an Accelergy table-based plug-in
set of tables, so a Timeloop/Accelergy user can put our numbers into an accelerator model.

Layout read by Accelergy's table-based plug-in (``accelergy-table-based-plug-ins``): an
identifier ``<name>.table.yaml`` (keys ``name``, ``technology``, ``accuracy``,
``path_to_data_dir``) beside a data folder with one ``<component class>.csv`` per class; each
CSV row holds attribute columns, an ``action`` column, ``energy`` (pJ per action) and
``area`` (um^2 per component).  A query matches the rows whose attribute columns equal the
component's attributes (columns the component does not give are ignored), so a component::

    - name: mac
      class: numfmt_mac
      attributes: {technology: 130nm, mode: posit8_0, accumulator: exact, lanes: 1, build: single}

gets ``mac_random`` (random codes) or ``mac_data`` (real quantized operands) energy per MAC and
the build's area.  The plug-in reads the CSV with ``csv.DictReader``, so the CSV itself cannot
hold comment lines: where the numbers come from is in the identifier's header comment, in a
README.md beside the CSV and, per row, in the ``source`` and ``flow_version`` columns.

::

    python -m dse.costgen --export accelergy DIR     # (the lead's entry point) -> export(table, DIR)
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

__all__ = ["export", "CLASS", "TECHNOLOGY", "REQUIRED"]

#: the component class (the CSV's file name) and the technology attribute Accelergy matches on
CLASS = "numfmt_mac"
TECHNOLOGY = "130nm"
#: costs.csv columns the export needs (others are carried when listed in ATTRS, else ignored)
REQUIRED = ("mode", "lanes", "accumulator", "build", "compiled_modes", "area_um2", "fmax_mhz",
            "pj_per_mac", "pj_per_mac_real", "energy_clock_mhz")
#: attribute columns of the exported CSV, in order (the first five identify an entry)
KEY = ("mode", "accumulator", "lanes", "build", "compiled_modes")
INFO = ("fmax_mhz", "energy_clock_mhz", "flow_version")
#: action -> costs.csv energy column
ACTIONS = (("mac_random", "pj_per_mac"), ("mac_data", "pj_per_mac_real"))


def _read(table: Path) -> tuple[list[str], list[dict]]:
    """Comment lines (without '# ') and the rows of a costs table; clear errors for bad input."""
    table = Path(table)
    if not table.is_file():
        raise FileNotFoundError(f"cost table {table} does not exist (write it with: python -m dse.costgen)")
    with open(table, newline="") as fh:
        lines = fh.read().splitlines()
    comments = [ln.lstrip()[1:].strip() for ln in lines if ln.lstrip().startswith("#")]
    body = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    if not body:
        raise ValueError(f"cost table {table} has no header line (only comments or empty)")
    reader = csv.DictReader(body)
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"cost table {table} lacks the column(s) {', '.join(missing)}; "
                         f"the export needs {', '.join(REQUIRED)} (other columns are ignored)")
    return comments, list(reader)


def _number(row: dict, col: str, where: str) -> str | None:
    """The cell as written (no float round trip), None when empty; error when not a number."""
    text = (row.get(col) or "").strip()
    if not text:
        return None
    try:
        float(text)
    except ValueError:
        raise ValueError(f"{where}: column {col} is {text!r}, not a number") from None
    return text


def export(table: Path, out_dir: Path, name: str = "numfmt_mac_costs", accuracy: int = 90) -> list[Path]:
    """Write ``out_dir/<name>.table.yaml``, ``out_dir/data/numfmt_mac.csv`` and
    ``out_dir/data/README.md`` from the cost table; returns the paths written.

    One entry per mode/accumulator/lanes/build (and compiled modes): action rows ``mac_random``
    (``pj_per_mac``) and, when measured, ``mac_data`` (``pj_per_mac_real``), each with the
    build's ``area_um2``.  Rows without a measured energy are not exported (the identifier and
    the README list them).  ``accuracy``: the plug-in's self-reported accuracy (0-100), which
    Accelergy uses to rank estimators; 90 stands for gate-level measurements before placement.
    """
    table = Path(table)
    comments, rows = _read(table)
    if not 0 <= accuracy <= 100:
        raise ValueError(f"accuracy must be in 0..100, got {accuracy}")
    out_rows, skipped, seen = [], [], {}
    for i, row in enumerate(rows):
        where = f"{table} data row {i + 1}"
        key = tuple((row.get(c) or "").strip() for c in KEY)
        if not all(key[:4]):
            raise ValueError(f"{where}: empty {', '.join(c for c, v in zip(KEY, key) if not v)}")
        label = "/".join(key[:4])
        area = _number(row, "area_um2", where)
        energies = [(act, _number(row, col, where)) for act, col in ACTIONS]
        if area is None or energies[0][1] is None:
            skipped.append(f"{label} ({'no area' if area is None else 'no energy'} measured)")
            continue
        if key in seen:
            raise ValueError(f"{where}: entry {label} [{key[4]}] repeats data row {seen[key] + 1}")
        seen[key] = i
        info = {c: (row.get(c) or "").strip() for c in INFO}
        for act, e in energies:
            if e is not None:
                out_rows.append(dict(technology=TECHNOLOGY, **dict(zip(KEY, key)), **info,
                                     source=f"{table.name} data row {i + 1}", action=act, energy=e, area=area))
    if not out_rows:
        raise ValueError(f"cost table {table} has no row with measured energy and area to export")

    out_dir = Path(out_dir)
    data = out_dir / "data"
    data.mkdir(parents=True, exist_ok=True)
    csv_path = data / f"{CLASS}.csv"
    with open(csv_path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(out_rows[0]))
        w.writeheader()
        w.writerows(out_rows)

    about = [f"Measured MAC costs of the numfmt-dse engine, exported from {table.name} by dse.accelergy.",
             f"Component class {CLASS} ({csv_path.name}): one entry per mode/accumulator/lanes/build;",
             "actions mac_random (energy per MAC, random codes: pj_per_mac) and mac_data (real",
             "quantized operands: pj_per_mac_real), energy in pJ per MAC of one lane, area in um^2 of",
             "the whole build (all its lanes; cells only, before placement).  Attributes to match:",
             f"technology ({TECHNOLOGY}: sky130_fd_sc_hd), {', '.join(KEY)}.",
             "The cost table's own header (the flow that measured the numbers):"]
    about += ["  " + c for c in comments] or ["  (the table has no header comment)"]
    if skipped:
        about += ["Not exported (no measured energy or area):"] + ["  " + s for s in skipped]
    yaml_path = out_dir / f"{name}.table.yaml"
    with open(yaml_path, "w") as fh:
        fh.write("".join(f"# {ln}\n" for ln in about))
        fh.write(f"name: {name}\ntechnology: {TECHNOLOGY}\naccuracy: {int(accuracy)}\npath_to_data_dir: ./data\n")
    readme = data / "README.md"
    readme.write_text(f"# {CLASS}: Accelergy table of {name}\n\n" + "\n".join(about) + "\n")
    if skipped:
        print(f"dse.accelergy: {len(skipped)} row(s) without measured costs not exported "
              f"(listed in {yaml_path.name})", file=sys.stderr)
    return [yaml_path, csv_path, readme]
