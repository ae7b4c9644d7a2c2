"""The nvfp4 engine mode (docs/mac.md 4.5) against an independent Fraction reference.

The reference shares only the code values with the model (``formats``' ``values()`` of the
E2M1 element and the UE4M3 scale) and the FP32 RNE rounding of ``test_mac_oracle``
(Fraction arithmetic): per block of 16 the exact sum times the two scales, added into an
FP32 sum with one RNE rounding; at readout that sum times S_A * S_B, rounded once.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from test_mac_oracle import FP32_NAN, fp32_bits

import formats
from sim import mac
from sim.mac import tensor_scale

E = mac.Engine("nvfp4")
FMT = formats.get("nvfp4")
EV = [Fraction(float(v)) for v in FMT.element.values()]
SV = [None if math.isnan(v) else Fraction(float(v)) for v in FMT.scale_format.values()]
#: UE4M3 edge codes: zero, the smallest subnormals, the largest subnormal, the smallest
#: normal, 1.0, values with odd significands, the largest finite (448), NaN (0x7F)
SCALES = [0x00, 0x01, 0x02, 0x03, 0x07, 0x08, 0x09, 0x2F, 0x38, 0x3B, 0x4D, 0x6F, 0x7D, 0x7E, 0x7F]


def f32(x) -> Fraction:
    return Fraction(float(np.float32(x)))


def signed_bits(x: Fraction) -> int:
    """FP32 RNE bits of a Fraction; a nonzero negative value that rounds to 0 gives -0."""
    b = fp32_bits(x)
    return 0x80000000 if (b == 0 and x < 0) else b


def bits_value(b: int) -> Fraction:
    return Fraction(float(np.array([b], np.uint32).view(np.float32)[0]))


def reference(a, b, sa, sb, ta, tb) -> int:
    """Output bits of one nvfp4 dot product (lists of codes, Fraction tensor scales)."""
    acc = Fraction(0)
    for blk in range(len(sa)):
        if SV[sa[blk]] is None or SV[sb[blk]] is None:
            return FP32_NAN
        s = sum(EV[x] * EV[y] for x, y in zip(a[16 * blk:16 * blk + 16], b[16 * blk:16 * blk + 16]))
        acc = bits_value(fp32_bits(acc + s * SV[sa[blk]] * SV[sb[blk]]))  # never -0 (see docs)
    return signed_bits(acc * ta * tb)


def test_mode_description():
    assert mac.mode_for("nvfp4") == "nvfp4" and "nvfp4" in mac.MODES
    assert (E.k, E.block, E.element_bits, E.tensor_scale) == (4, 16, 4, True)
    assert E.scale_format == FMT.scale_format and E.output_format.name == "fp32"
    assert E.widths == {"width": 13, "int_bits": 11, "frac_bits": 2}
    assert E.latency == mac.LATENCY["mx"] == 14
    assert E.cycles(64) == 16 + 2 + 14 and mac.Engine("nvfp4", lanes=2).cycles(64, rows=3) == 2 * 18 + 14
    assert not mac.Engine("mxfp4").tensor_scale


@pytest.mark.parametrize("ts", [(1.0, 1.0), (0.3, 7.5e-4), (2.0**-149, 2.0**60), (3e38, 2.0**20)])
def test_exhaustive_pairs_times_scale_codes(ts):
    """Every element pair x the UE4M3 edge codes on both operands (incl. zero and NaN scales),
    under ordinary, subnormal-producing and overflowing tensor scales."""
    ta, tb = np.float32(ts[0]), np.float32(ts[1])
    c = np.arange(16, dtype=np.uint8)
    A, B = (x.reshape(-1) for x in np.meshgrid(c, c, indexing="ij"))
    SA, SB = (x.reshape(-1) for x in np.meshgrid(SCALES, SCALES, indexing="ij"))
    a = np.repeat(A, SA.size)[:, None]
    b = np.repeat(B, SB.size)[:, None]
    sa = np.tile(SA, A.size)[:, None].astype(np.uint8)
    sb = np.tile(SB, B.size)[:, None].astype(np.uint8)
    got = E.dot(a, b, sa, sb, ta, tb)
    fa, fb = f32(ta), f32(tb)
    want = [reference([int(a[i, 0])], [int(b[i, 0])], [int(sa[i, 0])], [int(sb[i, 0])], fa, fb)
            for i in range(a.shape[0])]
    assert got.tolist() == want


def test_every_slot_of_a_word():
    """Each element pair in each of the four sub-word slots (the other slots zero)."""
    c = np.arange(16, dtype=np.uint8)
    A, B = (x.reshape(-1) for x in np.meshgrid(c, c, indexing="ij"))
    for slot in range(4):
        a = np.zeros((A.size, 4), np.uint8)
        b = np.zeros((A.size, 4), np.uint8)
        a[:, slot], b[:, slot] = A, B
        s = np.full((A.size, 1), 0x3B, np.uint8)
        got = E.dot(a, b, s, s, np.float32(0.1), np.float32(3.0))
        want = [reference(a[i].tolist(), b[i].tolist(), [0x3B], [0x3B], f32(0.1), f32(3.0)) for i in range(A.size)]
        assert got.tolist() == want, slot


def test_random_blocks():
    rng = np.random.default_rng(2024)
    for trial in range(60):
        K = int(rng.integers(1, 300))
        nb = -(-K // 16)
        a = rng.integers(0, 16, K).astype(np.uint8)
        b = rng.integers(0, 16, K).astype(np.uint8)
        kind = trial % 4
        if kind == 0:      # typical: scales near 1, tensor scales of amax/2688
            sa, sb = rng.integers(40, 72, nb), rng.integers(40, 72, nb)
            ta, tb = np.float32(rng.random() / 2688), np.float32(rng.random() * 10 / 2688)
        elif kind == 1:    # full scale range, extreme tensor scales (overflow, subnormal results)
            sa, sb = rng.integers(0, 0x7F, nb), rng.integers(0, 0x7F, nb)
            ta = np.float32(np.ldexp(1 + rng.random(), int(rng.integers(-149, 128))))
            tb = np.float32(np.ldexp(1 + rng.random(), int(rng.integers(-149, 128))))
        elif kind == 2:    # cancellation across blocks: large then opposite blocks
            sa, sb = rng.choice([0x38, 0x7E, 0x01], nb), rng.choice([0x38, 0x7E, 0x01], nb)
            ta, tb = np.float32(1.0), np.float32(1.0)
        else:              # an occasional NaN scale
            sa, sb = rng.integers(30, 80, nb), rng.integers(30, 80, nb)
            if trial % 8 == 3:
                sb[rng.integers(nb)] = 0x7F
            ta, tb = np.float32(0.5), np.float32(1e-3)
        ta = max(ta, np.float32(2.0**-149))
        tb = max(tb, np.float32(2.0**-149))
        sa, sb = sa.astype(np.uint8), sb.astype(np.uint8)
        got = int(E.dot(a, b, sa, sb, ta, tb))
        assert got == reference(a.tolist(), b.tolist(), sa.tolist(), sb.tolist(), f32(ta), f32(tb)), trial


def test_matches_formats_decode_when_nothing_rounds():
    """With power-of-two tensor scales and few blocks the FP32 sum is exact, so the engine
    returns formats' decoded dot product (decode: element * scale * S, exact)."""
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(8, 32)), rng.normal(size=(8, 32))
    cx = FMT.encode(x, tensor_scale=np.float32(2.0**-9))
    cy = FMT.encode(y, tensor_scale=np.float32(2.0**-7))
    got = formats.get("fp32").decode(E.dot(cx.elements, cy.elements, cx.scales, cy.scales,
                                           cx.tensor_scale, cy.tensor_scale))
    want = (FMT.decode(cx) * FMT.decode(cy)).sum(-1)
    np.testing.assert_array_equal(got, want.astype(np.float32))


def test_tensor_scale_words_and_lane():
    (ca, cb), (ra, rb) = tensor_scale.words(np.float32(1.5), np.float32(-0.0 + 2.0**-149))
    assert (ca, ra) == (0x0000, 0x3FC0) and (cb, rb) == (0x0001, 0x0000)
    lane = E.lane()
    lane.clear(0x0000, 0x0000)
    lane.step(0x0002, 0x0002, 0x38, 0x38)            # 1.0 * 1.0 in slot 0
    assert lane.readout(0x3FC0, 0x4000) == 0x40400000  # 1 * 1.5 * 2 = 3
    with pytest.raises(ValueError, match="tensor_scale_a"):
        lane.readout(0x0000, 0x4000)                   # S_A = 0
    with pytest.raises(ValueError, match="tensor_scale_b"):
        lane.readout(0x3FC0, 0x7FC0)                   # S_B = NaN
    with pytest.raises(ValueError, match="code"):
        lane.clear()
        lane.step(0, 0, 0x80, 0x38)                    # not a UE4M3 code


def test_bad_inputs():
    a = np.zeros((2, 20), np.uint8)
    s = np.full((2, 2), 0x38, np.uint8)
    one = np.float32(1.0)
    with pytest.raises(ValueError, match="tensor_scale_a and tensor_scale_b"):
        E.dot(a, a, s, s)
    with pytest.raises(ValueError, match="scale_a and scale_b"):
        E.dot(a, a, tensor_scale_a=one, tensor_scale_b=one)
    with pytest.raises(ValueError, match="2 scales"):
        E.dot(a, a, s[:, :1], s, one, one)
    with pytest.raises(ValueError):
        E.dot(a, a, np.full((2, 2), 0x80, np.uint8), s, one, one)   # 8-bit code: UE4M3 has 7
    for bad in (np.nan, np.inf, 0.0, -1.0):
        with pytest.raises(ValueError, match="positive finite"):
            E.dot(a, a, s, s, np.float32(bad), one)
    with pytest.raises(ValueError, match="exactly a float32"):
        E.dot(a, a, s, s, 0.1, one)
    with pytest.raises(TypeError):
        E.dot(a, a, s, s, "1.0", one)
    with pytest.raises(ValueError, match="broadcast"):
        E.dot(a, a, s, s, np.ones(3, np.float32), one)
    with pytest.raises(ValueError, match="no tensor scales"):
        mac.Engine("mxfp4").dot(a, a, np.full((2, 1), 127, np.uint8), np.full((2, 1), 127, np.uint8),
                                tensor_scale_a=one, tensor_scale_b=one)
    with pytest.raises(ValueError, match="exact"):
        mac.Engine("nvfp4", accumulator="fp32")
    # per-row tensor scales broadcast over the leading shape
    got = E.dot(a, a, s, s, np.array([1.0, 2.0], np.float32), one)
    assert got.shape == (2,)
