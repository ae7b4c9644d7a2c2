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

__all__ = ["data_version", "number", "require", "table"]


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
