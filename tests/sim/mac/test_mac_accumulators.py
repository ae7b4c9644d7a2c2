"""The fp32 and fixed accumulators against short straightforward references written here,
and the MX block/FP32 scheme against a Fraction reference."""
from __future__ import annotations

import math
import struct
from fractions import Fraction

import numpy as np
import pytest
from test_mac import NON_MX, random_rows
from test_mac_oracle import NAN, add, fp32_bits, mul, readout, values_fraction

import formats
from sim import mac


def f32_value(bits):
    """Fraction / 'nan' / ±inf of a binary32 bit pattern."""
    x = struct.unpack("<f", struct.pack("<I", bits))[0]
    if math.isnan(x):
        return NAN
    return x if math.isinf(x) else Fraction(x)


def ref_fp32(engine, a, b):
    """acc = RNE_fp32(acc + a_j*b_j), j in element order, product exact (fused)."""
    vals = values_fraction(engine.element_format)
    acc = Fraction(0)
    for x, y in zip(a, b):
        acc = f32_value(fp32_bits(add(acc, mul(vals[x], vals[y]))))
    return readout(engine, acc)


def ref_fp32_words(engine, a, b):
    """pipe = 1 (docs/mac.md 4.2): word c's exact product sum S_c added into partial c % 2 with
    one rounding, P_i <- RNE_fp32(P_i + S_c); READ rounds P_0 + P_1 once (IEEE specials)."""
    vals = values_fraction(engine.element_format)
    parts = [Fraction(0), Fraction(0)]
    for w, c in enumerate(range(0, len(a), engine.k)):
        s = Fraction(0)
        for x, y in zip(a[c:c + engine.k], b[c:c + engine.k]):
            s = add(s, mul(vals[x], vals[y]))
        parts[w % 2] = f32_value(fp32_bits(add(parts[w % 2], s)))
    return readout(engine, add(parts[0], parts[1]))


def ref_fixed(engine, a, b, ib, fb):
    """Per cycle: k products floor()ed to 2**-fb and clamped, summed, then a saturating add."""
    vals = values_fraction(engine.element_format)
    hi, lo = 2 ** (ib + fb - 1) - 1, -(2 ** (ib + fb - 1))
    acc, special = 0, Fraction(0)
    for c in range(0, len(a), engine.k):
        cyc = 0
        for x, y in zip(a[c:c + engine.k], b[c:c + engine.k]):
            p = mul(vals[x], vals[y])
            if not isinstance(p, Fraction):
                special = add(special, p)
                continue
            cyc += min(hi, max(lo, math.floor(p * 2**fb)))
        acc = min(hi, max(lo, acc + cyc))
    if not isinstance(special, Fraction):
        return readout(engine, special)
    return readout(engine, Fraction(acc, 2**fb))


@pytest.mark.parametrize("mode", NON_MX)
@pytest.mark.parametrize("n_rows,kmax", [(6, 64), pytest.param(40, 1024, marks=pytest.mark.slow)])
def test_fp32_accumulator(mode, n_rows, kmax):
    rows = random_rows(mode, np.random.default_rng(21 + kmax), n_rows, kmax=kmax)
    for ro in ("native", "fp32"):
        e = mac.Engine(mode, accumulator="fp32", readout=ro)
        got = [int(e.dot(a, b)) for a, b in rows]
        assert got == [ref_fp32(e, a.tolist(), b.tolist()) for a, b in rows], ro


@pytest.mark.parametrize("mode", NON_MX)
@pytest.mark.parametrize("n_rows,kmax", [(6, 64), pytest.param(40, 1024, marks=pytest.mark.slow)])
def test_fp32_accumulator_pipe1(mode, n_rows, kmax):
    """pipe = 1: one rounding per word into two interleaved partial sums, the Engine and the
    cycle-level Lane against the Fraction reference."""
    rows = random_rows(mode, np.random.default_rng(31 + kmax), n_rows, kmax=kmax)
    for ro in ("native", "fp32"):
        e = mac.Engine(mode, accumulator="fp32", readout=ro, pipe=1)
        assert e.fp32_partials == 2 and mac.Engine(mode, accumulator="fp32").fp32_partials == 1
        got = [int(e.dot(a, b)) for a, b in rows]
        assert got == [ref_fp32_words(e, a.tolist(), b.tolist()) for a, b in rows], ro
        for a, b in rows[:3]:
            lane = e.lane()
            lane.clear()
            for wa, wb in zip(e.pack(a), e.pack(b)):
                lane.step(int(wa), int(wb))
            assert lane.readout() == int(e.dot(a, b))


def test_fp32_accumulator_pipe1_rounding_points():
    """posit16_1 (one product a word), products 2**24, 1, 1, 1, 1: pipe 0 rounds each 1 away
    (ties to even); pipe 1's partial 0 takes words 0, 2, 4 (2**24, the 1s rounded away), partial 1
    words 1, 3 (exactly 2), and READ adds them exactly: 2**24 + 2."""
    f = formats.get("posit16_1")
    one = f.encode(1.0)
    a = np.array([f.encode(2.0**12), one, one, one, one], dtype=np.uint16)
    fp = formats.get("fp32")
    p0 = mac.Engine("posit16_1", accumulator="fp32", readout="fp32")
    p1 = mac.Engine("posit16_1", accumulator="fp32", readout="fp32", pipe=1)
    assert fp.decode(p0.dot(a, a)) == 2.0**24
    assert fp.decode(p1.dot(a, a)) == 2.0**24 + 2


@pytest.mark.parametrize("mode", NON_MX)
@pytest.mark.parametrize("ib,fb", [(8, 4), (16, 16), pytest.param(30, 30, marks=pytest.mark.slow),
                                   pytest.param(2, 0, marks=pytest.mark.slow)])
def test_fixed_accumulator(mode, ib, fb):
    rows = random_rows(mode, np.random.default_rng(22), 6, kmax=200)
    e = mac.Engine(mode, accumulator=("fixed", ib, fb))
    got = [int(e.dot(a, b)) for a, b in rows]
    assert got == [ref_fixed(e, a.tolist(), b.tolist(), ib, fb) for a, b in rows]


def test_fp32_accumulator_rounds_every_addition():
    # 2**24 + 1 + 1: exact sum 2**24 + 2, but FP32 accumulation loses each 1 (ties to even)
    f = formats.get("posit16_1")
    a = f.encode([2.0**12, 1.0, 1.0])
    b = f.encode([2.0**12, 1.0, 1.0])
    exact = mac.Engine("posit16_1", readout="fp32")
    fp32 = mac.Engine("posit16_1", accumulator="fp32", readout="fp32")
    assert formats.get("fp32").decode(exact.dot(a, b)) == 2.0**24 + 2
    assert formats.get("fp32").decode(fp32.dot(a, b)) == 2.0**24


def test_fixed_truncates_toward_minus_inf_and_saturates():
    f = formats.get("posit8_0")
    e = mac.Engine("posit8_0", accumulator=("fixed", 4, 2), readout="fp32")
    val = lambda a, b: float(formats.get("fp32").decode(e.dot(f.encode(a), f.encode(b))))  # noqa: E731
    assert val([0.375], [1.0]) == 0.25          # floor to 2**-2
    assert val([-0.375], [1.0]) == -0.5         # floor, not toward zero
    assert val([4.0, 4.0], [4.0, 4.0]) == 7.75  # saturates at 2**3 - 2**-2
    assert val([-4.0, -4.0], [4.0, 4.0]) == -8.0


# --- MX ------------------------------------------------------------------------------------------
def ref_mx(engine, a, b, sa, sb):
    vals = values_fraction(engine.element_format)
    sv = formats.get("e8m0").values()
    acc = Fraction(0)
    for blk in range(len(sa)):
        s = sum(vals[x] * vals[y] for x, y in zip(a[32 * blk:32 * blk + 32], b[32 * blk:32 * blk + 32]))
        if math.isnan(sv[sa[blk]]) or math.isnan(sv[sb[blk]]):
            acc = NAN
            continue
        x = s * Fraction(sv[sa[blk]]) * Fraction(sv[sb[blk]])
        acc = add(acc, x)
        if isinstance(acc, Fraction):
            acc = f32_value(fp32_bits(acc))
    return fp32_bits(acc)


@pytest.mark.parametrize("mode", ["mxfp4", "mxint8"])
def test_mx_blocks(mode):
    rng = np.random.default_rng(31)
    e = mac.Engine(mode)
    n = 1 << e.element_bits
    for trial in range(30):
        K = int(rng.integers(1, 200))
        nb = -(-K // 32)
        a = rng.integers(0, n, K).astype(np.uint8)
        b = rng.integers(0, n, K).astype(np.uint8)
        kind = trial % 3
        if kind == 0:    # ordinary scales
            sa, sb = rng.integers(110, 145, nb), rng.integers(110, 145, nb)
        elif kind == 1:  # overflow to Inf and underflow into subnormals / zero
            sa = rng.choice([0, 1, 2, 20, 230, 254], nb)
            sb = rng.choice([0, 1, 2, 20, 230, 254], nb)
        else:            # cancellation across blocks, occasional NaN scale
            sa, sb = rng.integers(120, 135, nb), rng.integers(120, 135, nb)
            if trial % 6 == 2:
                sa[rng.integers(nb)] = 255
        sa, sb = sa.astype(np.uint8), sb.astype(np.uint8)
        got = int(e.dot(a, b, sa, sb))
        want = ref_mx(e, a.tolist(), b.tolist(), sa.tolist(), sb.tolist())
        if want == 0 and got == 0x80000000:  # -0 from a negative sum that underflowed (IEEE)
            continue
        assert got == want, (trial, K)


def test_mx_overflow_underflow_nan():
    e = mac.Engine("mxint8")
    el = e.element_format
    one = el.encode(np.array([1.0] * 32))
    neg = el.encode(np.array([-1.0] * 32))
    fp = formats.get("fp32")
    d = lambda a, b, sa, sb: fp.decode(e.dot(a, b, np.array([sa], np.uint8), np.array([sb], np.uint8)))  # noqa: E731
    assert d(one, one, 127, 127) == 32.0
    assert d(one, one, 254, 254) == np.inf                   # 32 * 2**254: FP32 overflow -> +Inf
    assert d(one, neg, 254, 254) == -np.inf
    assert d(one, one, 0, 0) == 0.0                          # 32 * 2**-254 rounds to +0
    assert d(one, one, 0, 100) == 2.0**-149                  # 32 * 2**-127 * 2**-27: min subnormal
    assert np.isnan(d(one, one, 255, 127))                   # NaN scale poisons
    got = e.dot(one, neg, np.array([0], np.uint8), np.array([0], np.uint8))
    assert int(got) == 0x80000000                            # negative underflow keeps its sign
