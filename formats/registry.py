"""Preset names and the parser of generic format names.

A preset is just a named description object.  ``get`` is case-insensitive and
also understands generic names:

=================== =============================================================
``intN``/``uintN``  N-bit two's complement / unsigned integer, N = 2..32
``fpN_eXmY[sfx]``   ExMy minifloat with N = 1 + X + Y bits; ``sfx`` picks the
                    special values: ``fn``, ``fnuz``, ``ieee``, ``fin`` (every
                    code finite); without one, formats under 8 bits are ``fin``
                    (the OCP FP4/FP6 convention) and wider ones ``ieee``; an
                    optional ``_bB`` sets the bias (``fp8_e4m3_b9``); B may be
                    negative, which moves the range up (``fp8_e4m3_b-5``:
                    min normal 2**6, max 983040)
``positN_E``        posit(N, E), N = 2..32, E = 0..4
``takumN``          linear takum(N), N = 8..32 (``formats.takum``)
``mx<element>``     OCP MX block of 32 over a scalar element format
                    (``mxfp8_e4m3``); the element cannot be a block format
=================== =============================================================
"""
from __future__ import annotations

import difflib
import functools
import re

__all__ = ["get", "names", "register"]

_FACTORIES: dict = {}


def register(name: str, factory) -> None:
    """Add a preset: ``factory()`` builds its description object."""
    key = name.lower()
    if key in _FACTORIES:
        raise ValueError(f"format preset {name!r} is already registered")
    _FACTORIES[key] = factory


def names() -> list[str]:
    """Every preset name, sorted."""
    return sorted(_FACTORIES)


def _mf(e, m, special="ieee", **kw):
    def make(label):
        from .minifloat import Minifloat

        return Minifloat(e, m, special=special, label=label, **kw)

    return make


def _int(n, signed=True):
    def make(label):
        from .integer import Integer

        return Integer(n, signed, label=label)

    return make


def _posit(n, es):
    def make(label):
        from .posit import Posit

        return Posit(n, es, label=label)

    return make


def _takum(n):
    def make(label):
        from .takum import Takum

        return Takum(n, label=label)

    return make


def _mx(element):
    def make(label):
        import dataclasses

        from .mx import mx

        return dataclasses.replace(mx(element, block=32), label=label)

    return make


def _nvfp4(label):
    from .nvfp4 import nvfp4

    return nvfp4()


def _nf4(label):
    from .codebook import NF4_VALUES, Codebook

    return Codebook(NF4_VALUES, label=label)


def _nf4_dq(code):
    def make(label):
        from .double_quant import DoubleQuant

        return DoubleQuant(_nf4("nf4"), 64, code, 256, label=label)

    return make


_PRESETS = {
    "fp4_e2m1": _mf(2, 1, "none"),
    "fp6_e2m3": _mf(2, 3, "none"),
    "fp6_e3m2": _mf(3, 2, "none"),
    "fp8_e4m3": _mf(4, 3, "fn"),
    "fp8_e5m2": _mf(5, 2, "ieee"),
    "fp8_e4m3fnuz": _mf(4, 3, "fnuz"),
    "fp8_e5m2fnuz": _mf(5, 2, "fnuz"),
    "fp16": _mf(5, 10, "ieee"),
    "bf16": _mf(8, 7, "ieee"),
    "fp32": _mf(8, 23, "ieee"),
    "e8m0": _mf(8, 0, "fn", bias=127, signed=False, zero=False, subnormals=False),
    "ue4m3": _mf(4, 3, "fn", signed=False),
    "posit4_1": _posit(4, 1),
    "posit8_0": _posit(8, 0),
    "posit16_1": _posit(16, 1),
    "posit8_2": _posit(8, 2),
    "posit16_2": _posit(16, 2),
    "posit32_2": _posit(32, 2),
    "takum8": _takum(8),
    "takum16": _takum(16),
    "takum32": _takum(32),
    "mxfp8_e4m3": _mx("fp8_e4m3"),
    "mxfp8_e5m2": _mx("fp8_e5m2"),
    "mxfp6_e2m3": _mx("fp6_e2m3"),
    "mxfp6_e3m2": _mx("fp6_e3m2"),
    "mxfp4": _mx("fp4_e2m1"),
    "mxint8": _mx("int8"),
    "nvfp4": _nvfp4,
    "nf4": _nf4,
    "nf4_dq": _nf4_dq("dyn8"),
    "nf4_dq_e4m3": _nf4_dq("e4m3"),
}
for _bits in (2, 3, 4, 5, 6, 7, 8, 16, 32):
    _PRESETS[f"int{_bits}"] = _int(_bits)
    _PRESETS[f"uint{_bits}"] = _int(_bits, signed=False)

for _name, _make in _PRESETS.items():
    register(_name, functools.partial(_make, _name))

_INT_RE = re.compile(r"^(u?)int(\d+)$")
_FP_RE = re.compile(r"^(u?)fp(\d+)_e(\d+)m(\d+)(fnuz|fn|ieee|fin)?(?:_b(-?\d+))?$")
_POSIT_RE = re.compile(r"^posit(\d+)_(\d+)$")
_TAKUM_RE = re.compile(r"^takum(\d+)$")
_LUT_RE = re.compile(r"^lut(\d+)_(row|tensor)$")
_PICK_RE = re.compile(r"^pick_([a-z0-9_]+(?:\+[a-z0-9_]+)+)_g(\d+)$")


def _parse(key: str):
    if m := _INT_RE.match(key):
        from .integer import Integer

        return Integer(int(m.group(2)), signed=not m.group(1), label=key)
    if m := _FP_RE.match(key):
        from .minifloat import Minifloat

        unsigned = bool(m.group(1))
        n, e, mb = int(m.group(2)), int(m.group(3)), int(m.group(4))
        if n != int(not unsigned) + e + mb:
            sign = "" if unsigned else "1 + "
            raise KeyError(f"format name {key!r}: {m.group(1)}fp{n} needs {sign}e + m = {n} bits, "
                           f"got {sign}{e} + {mb}")
        sfx = m.group(5) or ("ieee" if n >= 8 else "fin")
        special = {"fin": "none"}.get(sfx, sfx)
        bias = int(m.group(6)) if m.group(6) is not None else None
        return Minifloat(e, mb, bias=bias, special=special, signed=not unsigned, label=key)
    if m := _POSIT_RE.match(key):
        from .posit import Posit

        return Posit(int(m.group(1)), int(m.group(2)), label=key)
    if m := _TAKUM_RE.match(key):
        from .takum import Takum

        return Takum(int(m.group(1)), label=key)
    if m := _LUT_RE.match(key):
        from .learned import LearnedFormat

        return LearnedFormat(int(m.group(1)), m.group(2))
    if m := _PICK_RE.match(key):
        from .learned import PickFormat

        return PickFormat(tuple(m.group(1).split("+")), int(m.group(2)))
    if key.startswith(("mx", "block_", "nvfp4")):
        from .block_names import parse_block_name

        fmt = parse_block_name(key)
        if fmt is not None:
            return fmt
    if key.startswith("mx") and len(key) > 2:
        import dataclasses

        from .block import BlockFormat
        from .mx import _ALIASES, mx

        inner = key[2:]
        mx_names = [n for n in names() if n.startswith("mx")]
        if inner in _ALIASES and not inner.startswith("mx"):  # short element names: e2m1, fp4, int8 ...
            element = _ALIASES[inner]
        else:
            try:
                element = _get(inner)
            except KeyError:
                close = [n for n in mx_names if n.startswith(key)]
                close += [n for n in difflib.get_close_matches(key, mx_names, n=3, cutoff=0.6) if n not in close]
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                raise KeyError(f"unknown format {key!r}: {inner!r} is not an element format{hint} MX presets: "
                               f"{', '.join(mx_names)}; or mx<element> over a scalar format") from None
        if isinstance(element, BlockFormat):
            raise KeyError(f"unknown format {key!r}: mx<element> takes a scalar element format, and "
                           f"{inner!r} is a block format; MX presets: {', '.join(mx_names)}")
        return dataclasses.replace(mx(element, block=32), label=key)
    return None


@functools.lru_cache(maxsize=None)
def _get(key: str):
    if key in _FACTORIES:
        return _FACTORIES[key]()
    try:
        fmt = _parse(key)
    except (ValueError, TypeError) as err:
        raise KeyError(f"format name {key!r}: {err}") from None
    if fmt is None:
        close = difflib.get_close_matches(key, names(), n=5, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise KeyError(
            f"unknown format {key!r}{hint} Known presets: {', '.join(names())}; generic names: "
            f"intN, uintN, [u]fpN_eXmY[fn|fnuz|ieee|fin][_bB], positN_E, takumN, lutB_row|tensor (fitted tables), "
            f"pick_<a>+<b>[+...]_gG (per-group choice), mx<element>[_gB][_rule], "
            f"nvfp4[_gB][_rule][_recip], block_<element>_<scale>[_gB][_rule][_t][_recip][_axN] "
            f"(scale: e8m0, bf16, fp16, fp32, ueXmY; rule: floor, ceil, even, rceil, nearest, four_over_six)"
        )
    return fmt


def get(name):
    """The format called ``name`` (case-insensitive); a format object is returned as is.

    Raises KeyError naming close matches for an unknown name.
    """
    if not isinstance(name, str):
        if hasattr(name, "encode") and hasattr(name, "decode"):
            return name
        raise TypeError(f"format name must be a string, got {type(name).__name__}")
    return _get(name.strip().lower())
