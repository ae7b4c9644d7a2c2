"""Independent oracle of the MAC engine: exact rational arithmetic (fractions.Fraction).

It shares only the element values (``formats``' ``values()``, the single
definition of a code's value) and, for posit outputs, ``formats.reference.posit``
(a pure-Python Fraction encoder).  Specials follow IEEE 754 written out by hand,
FP32 rounding is a few lines of Fraction arithmetic below.  Other test files
import these helpers; the tests here check the oracle itself.
"""
from __future__ import annotations

import math
import struct
from fractions import Fraction

import numpy as np

import formats
from formats.reference import posit as ref_posit

NAN = "nan"

FP32_NAN = 0x7FC00000


def fp32_bits(x) -> int:
    """RNE rounding of a Fraction (or 'nan' / ±inf float) to binary32, as its bit pattern.

    Overflow goes to ±Inf (the RNE threshold is 2**128 - 2**103), subnormals are kept,
    zero is +0 (the exact accumulators never produce -0).
    """
    if isinstance(x, str):
        return FP32_NAN
    if isinstance(x, float):
        if math.isnan(x):
            return FP32_NAN
        if math.isinf(x):
            return 0x7F800000 if x > 0 else 0xFF800000
        x = Fraction(x)
    if x == 0:
        return 0
    sign = 0x80000000 if x < 0 else 0
    a = abs(x)
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if Fraction(2) ** e > a:
        e -= 1
    while Fraction(2) ** (e + 1) <= a:
        e += 1
    e = max(e, -126)                    # subnormals share the quantum of the min normal binade
    q = Fraction(2) ** (e - 23)
    m = a / q
    n = math.floor(m)
    rem = m - n
    if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and n % 2 == 1):
        n += 1
    val = n * q
    if val >= Fraction(2) ** 128:
        return sign | 0x7F800000
    f = struct.unpack("<I", struct.pack("<f", float(val)))[0]  # val is exactly a binary32
    return sign | f


def values_fraction(fmt):
    """Code -> Fraction (or 'nan', +inf, -inf floats) from formats' value table."""
    out = []
    for v in fmt.values():
        if math.isnan(v):
            out.append(NAN)
        elif math.isinf(v):
            out.append(v)
        else:
            out.append(Fraction(v))
    return out


def mul(x, y):
    """IEEE 754 product of Fractions / 'nan' / ±inf."""
    if x is NAN or y is NAN:
        return NAN
    xi, yi = isinstance(x, float), isinstance(y, float)
    if xi or yi:
        if x == 0 or y == 0:
            return NAN
        s = (1 if x > 0 else -1) * (1 if y > 0 else -1)
        return math.inf if s > 0 else -math.inf
    return x * y


def add(x, y):
    if x is NAN or y is NAN:
        return NAN
    if isinstance(x, float) and isinstance(y, float):
        return x if x == y else NAN
    if isinstance(x, float):
        return x
    if isinstance(y, float):
        return y
    return x + y


def exact_dot(vals, a_codes, b_codes):
    s = Fraction(0)
    for ca, cb in zip(a_codes, b_codes):
        s = add(s, mul(vals[int(ca)], vals[int(cb)]))
    return s


def readout(engine, s) -> int:
    """Round the exact sum ``s`` once to the engine's output format."""
    out = engine.output_format
    if out.name == "fp32":
        return fp32_bits(s)
    if out.family == "posit":
        if isinstance(s, (str, float)):
            return out.nan_code
        return ref_posit.encode(out, s, "rne")
    # int32: RNE to an integer (only a saturated fixed accumulator holds fractions), saturate
    v = max(-(2**31), min(2**31 - 1, round(s)))
    return v & 0xFFFFFFFF


def oracle_dot(engine, A, B):
    vals = values_fraction(engine.element_format)
    return np.array([readout(engine, exact_dot(vals, a, b)) for a, b in zip(A, B)])


# --- tests of the oracle itself --------------------------------------------------------------
def test_fp32_bits_matches_numpy_on_floats():
    rng = np.random.default_rng(0)
    xs = np.concatenate([rng.standard_normal(200) * 10.0 ** rng.integers(-45, 39, 200),
                         [3.4028235677973366e38, 3.4028235677973362e38, 1e-45, 7e-46, 2**-150]])
    for x in xs:
        with np.errstate(over="ignore"):
            want = int(np.float32(x).view(np.uint32))
        assert fp32_bits(Fraction(float(x))) == want, x


def test_fp32_bits_ties_and_overflow():
    one = Fraction(1)
    assert fp32_bits(one + Fraction(1, 2**24)) == 0x3F800000       # tie -> even
    assert fp32_bits(one + Fraction(3, 2**24)) == 0x3F800002
    assert fp32_bits(Fraction(2) ** 128 - Fraction(2) ** 103) == 0x7F800000
    assert fp32_bits(Fraction(2) ** 128 - Fraction(2) ** 103 - Fraction(1, 2**200)) == 0x7F7FFFFF
    assert fp32_bits(Fraction(1, 2**150)) == 0                     # tie below min subnormal -> 0
    assert fp32_bits(-Fraction(3, 2**151)) == 0x80000001


def test_ieee_special_rules():
    assert mul(math.inf, Fraction(0)) is NAN
    assert add(math.inf, -math.inf) is NAN
    assert add(math.inf, Fraction(5)) == math.inf
    assert readout(_posit_engine(), NAN) == 0x80


def _posit_engine():
    from sim import mac

    return mac.Engine("posit8_0")


def test_values_fraction_nan():
    v = values_fraction(formats.get("posit8_0"))
    assert v[0x80] is NAN and v[0x40] == 1
