"""Reading the measured cost tables (``dse/data/costs.csv``, ``dse/data/costs_ecp5.csv``).

Both files carry ``#`` comment lines (how they were measured) above a CSV header. This
module reads them once per file version (path and modification time), checks that the
columns a reader needs are there, and hashes a table's contents for the sweep's cache keys.
"""
from __future__ import annotations

import csv
import functools
import hashlib
import math
from pathlib import Path
from typing import Callable, Iterable

__all__ = ["data_version", "merge", "notes", "number", "read_raw", "require", "table", "write_raw"]


def number(v) -> float:
    """A cell as a float; an empty cell (not measured) is NaN."""
    return float(v) if v not in ("", None) else math.nan


def require(path: str, reader: csv.DictReader, columns: Iterable[str]) -> None:
    """Raise ValueError naming the columns of ``columns`` that the table at ``path`` lacks."""
    missing = set(columns) - set(reader.fieldnames or ())
    if missing:
        raise ValueError(f"{path} lacks the columns {', '.join(sorted(missing))}")


@functools.lru_cache(maxsize=8)
def _parsed(path: str, stamp: float, parse: Callable[[str, csv.DictReader], dict]) -> dict:
    with open(path, newline="") as fh:
        return parse(path, csv.DictReader(row for row in fh if not row.lstrip().startswith("#")))


def table(path: Path, parse: Callable[[str, csv.DictReader], dict]) -> dict:
    """``parse(path, reader)`` of the table at ``path`` (comment lines skipped), cached until
    the file changes; ``{}`` when the file does not exist."""
    p = Path(path)
    if not p.exists():
        return {}
    return _parsed(str(p), p.stat().st_mtime, parse)


def data_version(path: Path) -> str:
    """A short hash of the table's contents; ``"unmeasured"`` when there is no table."""
    p = Path(path)
    return hashlib.sha256(p.read_bytes()).hexdigest()[:12] if p.exists() else "unmeasured"


def read_raw(path: Path) -> tuple[list[str], list[dict]]:
    """(the ``#`` lines, the rows as dicts of strings) of a table; ([], []) when it does not exist."""
    p = Path(path)
    if not p.exists():
        return [], []
    lines = p.read_text().splitlines()
    head = [ln for ln in lines if ln.startswith("#")]
    body = [ln for ln in lines if not ln.startswith("#")]
    return head, list(csv.DictReader(body))


def write_raw(path: Path, head: list[str], columns: list[str], rows: list[dict]) -> None:
    """Write ``head`` (``#`` lines), then the rows under ``columns``; atomically (a temporary
    file renamed over the table), so an interrupted write leaves the old table."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(".tmp")
    with open(tmp, "w", newline="") as fh:
        fh.write("".join(h + "\n" for h in head))
        w = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)
    tmp.replace(p)


def notes(head: list[str]) -> list[str]:
    """The ``# Note:`` lines of a table's head (kept when the table is rewritten)."""
    return [h for h in head if h.startswith("# Note:")]


def merge(previous: list[dict], new: list[dict], ident, order=None) -> list[dict]:
    """``new`` rows plus the ``previous`` rows whose ``ident(row)`` no new row has (a run that
    measured some configurations keeps the table's others), sorted by ``order(row)`` (stable;
    default: new rows first)."""
    have = {ident(r) for r in new}
    rows = list(new) + [r for r in previous if ident(r) not in have]
    return sorted(rows, key=order) if order else rows
