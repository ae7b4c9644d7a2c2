"""Packing codes into bytes: layouts, round trips, errors."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from formats.mx import MX_PRESETS
from formats.packing import pack, packed_size, unpack


def reference_pack(codes, bits):
    """Little-endian bit stream with Python integers."""
    acc = 0
    for i, c in enumerate(codes):
        acc |= int(c) << (i * bits)
    n = (len(codes) * bits + 7) // 8
    return list(acc.to_bytes(n, "little")) if n else []


def test_fp4_nibble_order():
    assert pack([0x1, 0x2, 0x3], 4).tolist() == [0x21, 0x03]  # element 2i low nibble, odd count padded
    assert unpack(np.array([0x21, 0x03], dtype=np.uint8), 4, 3).tolist() == [1, 2, 3]


def test_fp6_layout():
    c = [0b101011, 0b110001, 0b011110, 0b100111]
    b0 = c[0] | (c[1] << 6) & 0xFF
    b1 = (c[1] >> 2) | (c[2] << 4) & 0xFF
    b2 = (c[2] >> 4) | (c[3] << 2) & 0xFF
    assert pack(c, 6).tolist() == [b0, b1, b2]
    assert pack(c[:3], 6).tolist() == [b0, b1, c[2] >> 4]  # 18 bits -> 3 bytes, zero padding
    assert unpack(pack(c[:3], 6), 6, 3).tolist() == c[:3]


def test_other_widths():
    assert pack([1, 0, 1, 1, 0, 0, 0, 0, 1], 1).tolist() == [0b1101, 0b1]
    assert pack([200, 7], 8).tolist() == [200, 7]
    assert pack(np.array([[1, 2], [3, 4]]), 4).tolist() == [0x21, 0x43]  # C order
    assert pack([], 4).tolist() == [] and unpack(np.zeros(0, np.uint8), 4, 0).tolist() == []
    assert [packed_size(n, 6) for n in (0, 1, 4, 5)] == [0, 1, 3, 4]


@settings(max_examples=60, deadline=None)
@given(bits=st.integers(1, 8), data=st.data())
def test_round_trip(bits, data):
    codes = data.draw(st.lists(st.integers(0, (1 << bits) - 1), max_size=70))
    packed = pack(np.array(codes, dtype=np.uint16), bits)
    assert packed.dtype == np.uint8 and packed.size == packed_size(len(codes), bits)
    assert packed.tolist() == reference_pack(codes, bits)
    assert unpack(packed, bits, len(codes)).tolist() == codes


def test_block_codes_round_trip():
    x = np.random.default_rng(0).normal(size=(4, 64))
    for name, bits in (("mxfp4", 4), ("mxfp6_e2m3", 6), ("mxfp8_e4m3", 8)):
        e = MX_PRESETS[name].encode(x).elements
        np.testing.assert_array_equal(unpack(pack(e, bits), bits, e.size).reshape(e.shape), e)


@pytest.mark.parametrize("call, err, match", [
    (lambda: pack([16], 4), ValueError, "16 does not fit in 4 bits"),
    (lambda: pack([-1, 2], 4), ValueError, "negative"),
    (lambda: pack([1.0], 4), TypeError, "integers"),
    (lambda: pack([1], 0), ValueError, "1..8"),
    (lambda: pack([1], 9), ValueError, "1..8"),
    (lambda: pack([1], True), ValueError, "1..8"),
    (lambda: unpack(np.zeros(2, np.uint8), 4, 5), ValueError, "5 codes of 4 bits take 3 bytes"),
    (lambda: unpack(np.zeros(2, np.int32), 4, 4), TypeError, "uint8"),
    (lambda: unpack(np.zeros((1, 2), np.uint8), 4, 4), ValueError, "1-D"),
    (lambda: unpack(np.zeros(2, np.uint8), 4, -1), ValueError, "count"),
])
def test_errors(call, err, match):
    with pytest.raises(err, match=match):
        call()
