"""Names of block-scaled formats: ``mx...``, ``nvfp4...`` and ``block_<element>_<scale>...``.

The grammar is in :mod:`formats.scaled`'s docstring and in docs/formats.md; this
module turns a lower-case name into an :class:`~formats.mx.MX`,
:class:`~formats.nvfp4.NVFP4` or :class:`~formats.scaled.BlockScaled`.
"""
from __future__ import annotations

import re

from .block import FixedPoint
from .minifloat import Minifloat
from .scale_rules import RULES, canonical_rule
from .scaled import BlockScaled, scale_format

__all__ = ["parse_block_name"]

# --------------------------------------------------------------------------------------
_SUFFIX = re.compile(r"^(?:[gk](\d+)|ax(\d+)|t|recip|" + "|".join(RULES + ("4o6",)) + ")$")


def _suffixes(key: str):
    """Split ``base_sfx_sfx`` into the base and a dict of recognised suffixes (rightmost first)."""
    key = key.replace("four_over_six", "4o6")
    toks = key.split("_")
    opts = {}
    while len(toks) > 1 and _SUFFIX.match(toks[-1]):
        t = toks.pop()
        m = _SUFFIX.match(t)
        if m.group(1):
            opts.setdefault("block", int(m.group(1)))
        elif m.group(2):
            opts.setdefault("axis", int(m.group(2)))
        elif t == "t":
            opts["tensor_scale"] = True
        elif t == "recip":
            opts["recipe"] = "reciprocal"
        else:
            opts.setdefault("scale_rule", canonical_rule(t))
    return "_".join(toks), opts


def _element(name: str, key: str):
    from .registry import get

    try:
        return get(name)
    except KeyError:
        raise ValueError(f"{key!r}: element {name!r} is not a format name (formats.names() lists the presets)") from None


def parse_block_name(key: str):
    """The block format called ``key`` (lower case), or None if ``key`` is not a block name."""
    from .registry import get

    if key.startswith("block_"):
        base, opts = _suffixes(key[6:])
        if "_" not in base:
            raise ValueError(f"{key!r}: expected block_<element>_<scale>[_gB][_rule][_t][_recip][_axN]")
        elem_name, scale_name = base.rsplit("_", 1)
        return BlockScaled(_element(elem_name, key), scale_format(scale_name), opts.get("block", 32),
                           opts.get("scale_rule", "nearest"), opts.get("tensor_scale", False),
                           opts.get("recipe", "divide"), opts.get("axis", -1), label=None)
    if key.startswith("nvfp4"):
        base, opts = _suffixes(key)
        if base != "nvfp4":
            return None
        if set(opts) <= {"block"}:
            from .nvfp4 import NVFP4

            return NVFP4(block=opts.get("block", 16))
        return BlockScaled(get("fp4_e2m1"), scale_format("ue4m3"), opts.get("block", 16),
                           opts.get("scale_rule", "nearest"), True, opts.get("recipe", "divide"), opts.get("axis", -1))
    if key.startswith("mx") and len(key) > 2:
        from .mx import _ALIASES, MX

        base, opts = _suffixes(key[2:].lstrip("_"))
        if not base or (not opts and not key.startswith("mx_")):
            return None  # plain mx<element>: the registry's own parser and messages
        try:
            elem = _ALIASES.get(base) or get(base)
        except KeyError:
            return None  # the caller's "unknown format" message, with close matches
        if set(opts) <= {"block", "scale_rule"} and isinstance(elem, (Minifloat, FixedPoint)):
            return MX(elem, block=opts.get("block", 32), scale_rule=opts.get("scale_rule", "floor"))
        return BlockScaled(elem, scale_format("e8m0"), opts.get("block", 32), opts.get("scale_rule", "floor"),
                           opts.get("tensor_scale", False), opts.get("recipe", "divide"), opts.get("axis", -1))
    return None
