"""Carry measured cost rows over an RTL change that leaves their designs as they were.

::

    python -m dse.restamp REF        # REF: the git commit whose sources measured the rows

A cost row's ``flow_version`` hashes the Verilog sources (and the flow), so any edit of
rtl/src marks every row as measured by other sources, even an edit that only adds a build
option whose default elaborates the old design (such as the engine's ``PIPE = 0``). This
command asks :func:`rtl.designhash.compare` which of the tables' builds elaborate to the
same design in this tree and in ``REF``'s, and moves the ``flow_version`` of those rows (and
only those) to the current sources' in ``dse/data/costs.csv`` and ``dse/data/costs_ecp5.csv``.
Their numbers stay as measured; a ``# Note:`` line in each table says what was done. Rows
of a build whose design changed keep their old stamp (re-measure them with
``python -m dse.costgen --only KEY``). The flow code itself must be unchanged for the builds
(the synthesis script of a PIPE = 0 build is); the note names the reference.
"""
from __future__ import annotations

import argparse
import datetime
import subprocess
import sys
from pathlib import Path

from sim.mac import Accumulator

from . import csvtable

ROOT = Path(__file__).resolve().parent.parent


def _build_id(build: str, compiled_modes: str, lanes, acc) -> tuple:
    """The key :func:`rtl.designhash.compare` gives a build (``*-eq`` builds are their base design)."""
    b = build.replace("-eq", "")
    return (b, compiled_modes if b == "single" else b, int(lanes), str(Accumulator.parse(acc)))


def restamp_table(path: Path, same: set, stamp, columns, ref: str, log=print) -> tuple[int, int]:
    """Move the stamps of ``path``'s PIPE = 0 rows whose build is in ``same``; ``stamp(row)``
    gives the new ``flow_version``. Returns (rows moved, rows left stale)."""
    head, rows = csvtable.read_raw(path)
    if not rows:
        return 0, 0
    moved = stale = 0
    for r in rows:
        if "pipe" in columns:
            r["pipe"] = r.get("pipe") or "0"
        if int(r.get("pipe") or 0) != 0:
            continue
        new = stamp(r)
        if r["flow_version"] == new:
            continue
        if _build_id(r["build"], r["compiled_modes"], r["lanes"], r["accumulator"]) in same:
            r["flow_version"] = new
            moved += 1
        else:
            stale += 1
    if moved:
        sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short=12", ref], capture_output=True,
                             text=True).stdout.strip() or ref
        head.append(f"# Note: {datetime.date.today()}: {moved} rows re-stamped by python -m dse.restamp {ref} "
                    f"(commit {sha}): rtl.designhash shows their builds elaborate to the same design as at that "
                    "commit, so their numbers stand as measured; their flow_version is the current sources'.")
        csvtable.write_raw(path, head, columns, rows)
    log(f"{Path(path).name}: {moved} rows re-stamped, {stale} rows of changed designs left as they were")
    return moved, stale


def restamp(ref: str, log=print) -> int:
    from rtl import designhash

    from . import costgen, costgen_ecp5

    cmp = designhash.compare(ref, log=None)
    same = {(r["build"], r["modes"], r["lanes"], r["accumulator"]) for r in cmp if r["same"]}
    log(f"{len(same)} of {len(cmp)} builds identical to {ref}'s design")
    fv = {}

    def sky(r):
        b = r["build"]
        base = fv.setdefault(("sky", b), costgen.flow_version(b))
        old_energy = r["flow_version"].split("/", 1)[1] if "/" in r["flow_version"] else ""
        return base + (f"/{old_energy}" if old_energy else "")

    def ecp5(r):
        b = r["build"]
        return fv.setdefault(("ecp5", b), costgen_ecp5.flow_version(b))

    _, s1 = restamp_table(costgen.OUT, same, sky, costgen.COLUMNS, ref, log)
    _, s2 = restamp_table(costgen_ecp5.OUT, same, ecp5, costgen_ecp5.COLUMNS, ref, log)
    return 1 if s1 or s2 else 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m dse.restamp", description=__doc__.split("\n\n")[0])
    p.add_argument("ref", help="git commit (or branch) whose sources measured the tables' rows")
    a = p.parse_args(argv)
    try:
        return restamp(a.ref)
    except RuntimeError as err:
        print(f"dse.restamp: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
