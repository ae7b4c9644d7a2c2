"""The Verilog sources of the engine, in one place for the runner, the tests and synthesis."""
from __future__ import annotations

from pathlib import Path

__all__ = ["SRC_DIR", "TOP", "sources"]

SRC_DIR = Path(__file__).resolve().parent / "src"
TOP = "mac_engine"


def sources() -> list[Path]:
    """Every module file (one module per file), top last."""
    files = sorted(p for p in SRC_DIR.glob("*.v") if p.name != f"{TOP}.v")
    return files + [SRC_DIR / f"{TOP}.v"]
