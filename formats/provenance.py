"""Which code a generated report was made from: a hash of the sources its numbers depend on.

Every report in ``reports/`` is registered in ``reports/index.toml`` under a name,
with the source files its numbers depend on (glob patterns relative to the
repository root, as narrow as the report allows), the command that regenerates
it and how long that takes.  The command writes :func:`stamp`'s line into the
report::

    Code version: `qat_study@3f2a9c0b71de` (formats.provenance: hash of formats/**/*.py, sim/qat/**/*.py)

and ``tests/test_reports_current.py`` fails when a committed report's hash no
longer matches the code, naming the command that regenerates it.
``python -m formats.provenance`` lists every report with its state (``--stale``:
only those to regenerate, with their commands).

The hash (:func:`source_hash`) is SHA-256 over the matched files in sorted order,
each as its path and its content.  A Python file counts by its syntax tree with
docstrings removed (``ast.unparse``), so comments, docstrings and formatting do
not make a report stale; any other file (Verilog, CSV, TOML, checkpoints) counts
by its bytes.

This module sits in ``formats`` (the bottom layer, importing nothing of the
project) so that every layer's report generator may import it.
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ROOT", "INDEX", "Entry", "entries", "source_files", "source_hash", "stamp", "read_stamp", "state"]

#: the source checkout this package lives in
ROOT = Path(__file__).resolve().parent.parent
#: the registry of reports
INDEX = ROOT / "reports" / "index.toml"
_STAMP = re.compile(r"Code version: `([A-Za-z0-9_.-]+)@([0-9a-f]{12})`")


@dataclass(frozen=True)
class Entry:
    """One registered report: its name, the files that carry its stamp, its sources and its command."""

    name: str
    files: tuple[str, ...]
    sources: tuple[str, ...]
    command: str
    time: str           # how long the command takes, as measured (and where)
    pending: str = ""   # why a report is not stamped yet (regenerate it, then delete this)


def entries(index: Path | None = None) -> dict[str, Entry]:
    """The registered reports of ``reports/index.toml`` by name."""
    path = Path(index) if index is not None else INDEX
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"no report registry at {path} (formats.provenance needs a source checkout)") \
            from None
    out = {}
    for name, e in data.get("report", {}).items():
        missing = {"files", "sources", "command", "time"} - set(e)
        if missing:
            raise ValueError(f"{path}: report {name!r} lacks {', '.join(sorted(missing))}")
        out[name] = Entry(name, tuple(e["files"]), tuple(e["sources"]), e["command"], str(e["time"]),
                          e.get("pending", ""))
    return out


def source_files(patterns, root: Path | None = None) -> list[Path]:
    """The files matched by glob ``patterns`` (relative to ``root``), sorted; ValueError for a pattern matching none."""
    base = Path(root) if root is not None else ROOT
    found = set()
    for pat in patterns:
        hits = [p for p in base.glob(pat) if p.is_file() and "__pycache__" not in p.parts]
        if not hits:
            raise ValueError(f"source pattern {pat!r} matches no file under {base}")
        found.update(hits)
    return sorted(found, key=lambda p: p.relative_to(base).as_posix())


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


def _content(path: Path) -> bytes:
    if path.suffix == ".py":
        return ast.unparse(_strip_docstrings(ast.parse(path.read_bytes(), str(path)))).encode()
    return path.read_bytes()


def source_hash(patterns, root: Path | None = None) -> str:
    """12 hex digits of SHA-256 over the files of ``patterns`` (paths and contents, see the module doc)."""
    base = Path(root) if root is not None else ROOT
    h = hashlib.sha256()
    for f in source_files(patterns, base):
        rel = f.relative_to(base).as_posix().encode()
        body = _content(f)
        h.update(len(rel).to_bytes(4, "big") + rel + len(body).to_bytes(8, "big") + body)
    return h.hexdigest()[:12]


def stamp(name: str, index: Path | None = None) -> str:
    """The line a report registered as ``name`` carries: its current code version and what it hashes.

    A generator run outside a source checkout (no ``reports/index.toml``) gets a line saying so.
    """
    try:
        e = entries(index)[name]
    except FileNotFoundError:
        return "Code version: not recorded (not run from a source checkout with reports/index.toml)"
    return (f"Code version: `{name}@{source_hash(e.sources)}` (formats.provenance: hash of "
            + ", ".join(e.sources) + ")")


def read_stamp(text: str) -> tuple[str, str] | None:
    """``(name, hash)`` of the first stamp in ``text``, or None."""
    m = _STAMP.search(text)
    return (m.group(1), m.group(2)) if m else None


def state(entry: Entry) -> list[tuple[str, str]]:
    """``(file, state)`` for each file of ``entry``: current, stale (recorded HASH), unstamped, missing, pending."""
    want = source_hash(entry.sources)
    out = []
    for f in entry.files:
        p = ROOT / f
        if not p.is_file():
            out.append((f, "missing"))
            continue
        got = read_stamp(p.read_text(errors="replace"))
        if got == (entry.name, want):
            out.append((f, "current" if not entry.pending else "current (delete its pending note)"))
        elif entry.pending:
            out.append((f, f"pending: {entry.pending}"))
        elif got is None:
            out.append((f, "unstamped"))
        else:
            out.append((f, f"stale (made from {got[0]}@{got[1]}, code is now {want})"))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m formats.provenance",
                                description="List the reports of reports/index.toml and whether each matches the code.")
    p.add_argument("--stale", action="store_true", help="list only reports to regenerate, with their commands")
    args = p.parse_args(argv)
    try:
        reg = entries()
    except (FileNotFoundError, ValueError) as err:
        print(f"formats.provenance: error: {err}", file=sys.stderr)
        return 1
    todo = 0
    for e in reg.values():
        states = state(e)
        bad = [s for s in states if s[1] != "current"]
        todo += bool(bad)
        if args.stale and not bad:
            continue
        for f, s in states:
            print(f"{s.split(' (')[0].split(':')[0]:<10} {f}: {s}")
        if bad:
            print(f"           regenerate ({e.time}): {e.command}")
    print(f"formats.provenance: {todo} of {len(reg)} reports to regenerate", file=sys.stderr)
    return 1 if todo else 0


if __name__ == "__main__":
    sys.exit(main())
