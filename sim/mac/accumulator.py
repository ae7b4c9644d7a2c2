"""The accumulator of the MAC engine as one value: :class:`Accumulator`.

An accumulator spec enters the project in several spellings (a config file's
``"fixed:16:16"``, a command line's ``--accumulator fp32``, a Python caller's
``("fixed", 16, 16)``).  :meth:`Accumulator.parse` is the one parser of all of them;
everything downstream (the engine model, the sweep's config check, the cost model,
the Verilog parameters in ``rtl``) takes the parsed value and asks it, instead of
reading the spelling again.

>>> from sim.mac import Accumulator
>>> acc = Accumulator.parse("fixed:16:8")
>>> acc.kind, acc.int_bits, acc.frac_bits, acc.width, str(acc)
('fixed', 16, 8, 24, 'fixed:16:8')
>>> str(Accumulator.parse(" FP32 ")), Accumulator.parse(("fixed", 16, 8)) == acc
('fp32', True)

Kinds (docs/mac.md section 4):

* ``exact``: a two's-complement register wide enough that no sum of up to 2**16
  products rounds or overflows (MX modes: exact block sums added into FP32);
* ``fp32``: every product added into an FP32 register, rounded to nearest even;
* ``fixed``: a two's-complement register of ``int_bits`` integer bits (sign
  included) and ``frac_bits`` fraction bits; products are truncated to it and the
  sum saturates.  Limits: ``int_bits >= MIN_INT_BITS`` (a sign and one magnitude
  bit), ``frac_bits >= 0``, ``int_bits + frac_bits <= FIXED_MAX_WIDTH`` (the
  model's int64 never overflows).
"""
from __future__ import annotations

import dataclasses
import numbers

__all__ = ["Accumulator", "ACCUMULATORS", "FIXED_MAX_WIDTH", "MIN_INT_BITS"]

#: the accumulator kinds
ACCUMULATORS = ("exact", "fp32", "fixed")
#: the fixed accumulator's total width is limited so that the model's int64 never overflows
FIXED_MAX_WIDTH = 60
#: a fixed accumulator needs a sign bit and at least one magnitude bit above the point
MIN_INT_BITS = 2

_ALLOWED = ("'exact', 'fp32', 'fixed:INT_BITS:FRAC_BITS' or ('fixed', int_bits, frac_bits) with "
            f"int_bits >= {MIN_INT_BITS}, frac_bits >= 0 and int_bits + frac_bits <= {FIXED_MAX_WIDTH}")


@dataclasses.dataclass(frozen=True)
class Accumulator:
    """One accumulator: ``kind`` (``exact``, ``fp32`` or ``fixed``) and, for ``fixed``, its
    ``int_bits`` (sign included) and ``frac_bits``.

    Constructing one checks the limits (ValueError/TypeError naming the bad value and
    the allowed ones); use :meth:`parse` for any spelling.  ``str(acc)`` is the
    canonical spelling (``exact``, ``fp32``, ``fixed:I:F``), which :meth:`parse` reads back.
    """

    kind: str
    int_bits: int | None = None
    frac_bits: int | None = None

    def __post_init__(self):
        if self.kind not in ACCUMULATORS:
            raise ValueError(f"unknown accumulator kind {self.kind!r}; allowed: {_ALLOWED}")
        if self.kind != "fixed":
            if self.int_bits is not None or self.frac_bits is not None:
                raise ValueError(f"accumulator {self.kind!r} takes no widths, got "
                                 f"int_bits={self.int_bits!r}, frac_bits={self.frac_bits!r}")
            return
        for name in ("int_bits", "frac_bits"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise TypeError(f"fixed accumulator {name} must be an integer, got {v!r}")
            object.__setattr__(self, name, int(v))
        ib, fb = self.int_bits, self.frac_bits
        if ib < MIN_INT_BITS or fb < 0 or ib + fb > FIXED_MAX_WIDTH:
            raise ValueError(f"fixed accumulator fixed:{ib}:{fb} is outside the limits; allowed: {_ALLOWED}")

    @classmethod
    def parse(cls, spec) -> "Accumulator":
        """An :class:`Accumulator` from any accepted spelling: an Accumulator, ``"exact"``,
        ``"fp32"``, ``"fixed:I:F"`` (case and surrounding blanks ignored) or ``("fixed", I, F)``."""
        if isinstance(spec, Accumulator):
            return spec
        if isinstance(spec, str):
            text = spec.strip().lower()
            if text in ("exact", "fp32"):
                return cls(text)
            parts = text.split(":")
            if parts[0] == "fixed":
                if len(parts) != 3 or not all(p.isdigit() for p in parts[1:]):
                    raise ValueError(f"accumulator {spec!r}: write fixed:INT_BITS:FRAC_BITS, e.g. fixed:16:16 "
                                     f"(or 'exact', 'fp32')")
                return cls("fixed", int(parts[1]), int(parts[2]))
        elif isinstance(spec, (tuple, list)) and len(spec) == 3 and spec[0] == "fixed":
            return cls("fixed", spec[1], spec[2])
        raise ValueError(f"unknown accumulator {spec!r}; allowed: {_ALLOWED}")

    @property
    def width(self) -> int | None:
        """Total register bits of a fixed accumulator (``int_bits + frac_bits``); None otherwise."""
        return self.int_bits + self.frac_bits if self.kind == "fixed" else None

    @property
    def engine_value(self):
        """What ``sim.mac.Engine.accumulator`` holds: ``"exact"``, ``"fp32"`` or
        ``("fixed", int_bits, frac_bits)``."""
        return ("fixed", self.int_bits, self.frac_bits) if self.kind == "fixed" else self.kind

    def __str__(self) -> str:
        return f"fixed:{self.int_bits}:{self.frac_bits}" if self.kind == "fixed" else self.kind
