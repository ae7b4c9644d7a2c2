"""Block scale rules: how a block's largest magnitude picks its scale code, exactly.

Notation: ``amax`` = the block's largest magnitude (> 0, finite), ``emax`` = the
element format's largest finite value, ``P = 2**floor(log2 emax)`` (the element's
top binade), ``S`` = the per-tensor second-level scale (1 without one), ``m`` =
the element's fraction bits at its top binade (a minifloat's mantissa bits;
otherwise the number of significant bits of ``emax`` minus one).  ``RD``, ``RU``
and ``RN`` round a positive rational into the scale format's positive finite
values: down, up, and to nearest with ties to the even code; all three saturate
at the scale format's largest value and at its smallest (zero where it has one).

============== =============================================== ===========================
rule           scale value                                     same as
============== =============================================== ===========================
floor          ``RD(amax / (P S))``                            OCP MX v1.0, torchao FLOOR
ceil           ``RU(amax / (P S))``                            torchao CEIL
even           ``RD(rho(amax) / (P S))``, ``rho`` = round to    torchao EVEN
               ``m + 1`` significant bits, ties away from zero
rceil          ``RU(amax / (emax S))`` (no element clips)       torchao/cuBLAS RCEIL
nearest        ``RN(amax / (emax S))``                          NVFP4 (NVIDIA, torchao)
four_over_six  ``RN(amax / (emax S))`` or ``RN(amax / (4 S))``, Cook et al. 2025 (4/6)
               the one whose block error is smaller (fp4_e2m1)
============== =============================================== ===========================

With an E8M0 scale and no tensor scale these are exponent rules: floor is
``floor(log2 amax) - floor(log2 emax)``, ceil ``ceil(log2 amax) - floor(log2 emax)``,
rceil ``ceil(log2(amax / emax))``.

Exactness.  The kernels divide once in float64 (``r = amax / D``) and encode ``r``
into the scale format with the rule's direction.  A float64 quotient never lies on
the far side of a rounding boundary of the exact one (every boundary of a scale
format of <= 24 significant bits is a float64, and ``r = RN(exact)``), except when
``r`` *equals* a boundary; then the sign of ``amax - boundary * D`` is computed
exactly (Dekker's two-product) and decides.  So every rule is the exact rule above.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["RULES", "rule_code", "scale_code", "ROUND_DOWN", "ROUND_UP", "ROUND_NEAREST"]

#: Every scale rule, in the order of their integer codes.
RULES = ("floor", "ceil", "even", "rceil", "nearest", "four_over_six")
FLOOR, CEIL, EVEN, RCEIL, NEAREST, FOUR_OVER_SIX = range(6)
#: Rounding-mode codes of :class:`formats.Rounding` used for the scale.
ROUND_NEAREST, ROUND_UP, ROUND_DOWN = 0, 3, 4

_ALIASES = {"4o6": "four_over_six", "4over6": "four_over_six", "rne": "nearest", "ocp": "floor"}


def rule_code(rule) -> int:
    """The integer code of a rule name (case-insensitive); ValueError names the allowed ones."""
    key = str(rule).strip().lower() if isinstance(rule, str) else rule
    key = _ALIASES.get(key, key)
    if key not in RULES:
        raise ValueError(f"unknown scale rule {rule!r}; allowed: {', '.join(RULES)}")
    return RULES.index(key)


def canonical_rule(rule) -> str:
    """The canonical spelling of a rule name."""
    return RULES[rule_code(rule)]


# --------------------------------------------------------------------------------------
# exact helpers
# --------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def two_prod(a, b):
    """``(p, e)`` with ``p = fl(a*b)`` and ``p + e = a*b`` exactly (Dekker; no FMA needed)."""
    p = a * b
    c = 134217729.0 * a
    ah = c - (c - a)
    al = a - ah
    c = 134217729.0 * b
    bh = c - (c - b)
    bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, e


@njit(cache=True, inline="always")
def cmp_prod(a, g, d):
    """Exact sign of ``a - g*d`` for finite non-negative float64s (-1, 0 or 1)."""
    p, e = two_prod(g, d)
    if a != p:
        return 1 if a > p else -1
    if e == 0.0:
        return 0
    return 1 if e < 0.0 else -1


@njit(cache=True, inline="always")
def mf_value(c, p):
    """Value of the non-negative code ``c`` of a minifloat with element params ``p``
    (:func:`formats.block.element_params`: ebits p[1], mbits p[2], bias p[3],
    subnormals p[5], zero p[6])."""
    m = p[2]
    ef = c >> m
    mf = c & ((np.int64(1) << m) - 1)
    if ef == 0 and p[6] != 0:
        if p[5] != 0:
            return math.ldexp(float(mf), int(1 - p[3] - m))
        return 0.0
    return math.ldexp(float((np.int64(1) << m) + mf), int(ef - p[3] - m))


@njit(cache=True, inline="always")
def round_sig_away(a, m):
    """``a`` (> 0) rounded to ``m + 1`` significant bits, ties away from zero (exact)."""
    fr, e = math.frexp(a)
    t = math.floor(fr * (2.0 ** (m + 1)) + 0.5)
    return math.ldexp(t, e - (m + 1))
