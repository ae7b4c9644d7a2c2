"""The Verilog sources of the engine, in one place for the runner, the tests and synthesis."""
from __future__ import annotations

from pathlib import Path

__all__ = ["SRC_DIR", "BASELINE_DIR", "TOP", "sources"]

SRC_DIR = Path(__file__).resolve().parent / "src"
BASELINE_DIR = SRC_DIR / "baseline"
TOP = "mac_engine"


def sources(top: str = TOP) -> list[Path]:
    """Every module file (one module per file), top last.  ``top`` may also name a module of
    ``src/baseline/`` (comparison designs built from the engine): its file comes last."""
    files = sorted(p for p in SRC_DIR.glob("*.v") if p.name != f"{TOP}.v") + [SRC_DIR / f"{TOP}.v"]
    if top == TOP:
        return files
    extra = BASELINE_DIR / f"{top}.v"
    if not extra.exists():
        known = [TOP] + sorted(p.stem for p in BASELINE_DIR.glob("*.v"))
        raise ValueError(f"unknown top module {top!r}; known: {', '.join(known)}")
    return files + [extra]
