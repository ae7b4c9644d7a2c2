"""The engine's mode numbering shared by the Verilog (``MODE`` input, ``MODES`` mask) and Python.

Mode ids follow the order of ``sim.mac.modes.MODES``; bit ``i`` of the
``MODES`` parameter compiles mode ``i`` in.  ``K`` is the number of sub-words
per 16-bit word (4, 2 or 1).
"""
from __future__ import annotations

from sim.mac.modes import MODES as SIM_MODES

__all__ = ["MODE_IDS", "mode_id", "mask_of", "ALL_MASK", "names", "XR_NPE"]

#: mode name -> id (the value driven on the engine's ``mode`` input)
MODE_IDS = {name: i for i, name in enumerate(SIM_MODES)}
ALL_MASK = (1 << len(MODE_IDS)) - 1
#: the XR-NPE paper's mode set (FP4, Posit(4,1), Posit(8,0), Posit(16,1))
XR_NPE = ("fp4_e2m1", "posit4_1", "posit8_0", "posit16_1")


def names() -> list[str]:
    return list(MODE_IDS)


def mode_id(name: str) -> int:
    key = str(name).strip().lower()
    if key not in MODE_IDS:
        raise ValueError(f"unknown engine mode {name!r}; allowed: {', '.join(MODE_IDS)}")
    return MODE_IDS[key]


def mask_of(modes) -> int:
    """Bit mask of the MODES parameter for a list of mode names (None or 'all': every mode)."""
    if modes is None or modes == "all" or list(modes) == ["all"]:
        return ALL_MASK
    m = 0
    for name in modes:
        m |= 1 << mode_id(name)
    return m
