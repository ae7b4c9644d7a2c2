"""Integers: every rounding mode and both overflow policies against exact arithmetic."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import formats
from formats.reference import minifloat as ref
from formats.rounding import draw32_array

MODES = ["rne", "rna", "rtz", "rup", "rdn"]
NAMES = ["int2", "int4", "int8", "uint4", "uint8", "int16", "int32", "uint32", "int5", "uint3"]


def probes(f, seed=0):
    lo, hi = f.min, f.max
    k = np.arange(lo - 3, hi + 4) if f.bits <= 8 else np.concatenate(
        [np.arange(-40, 41), [lo - 1, lo, lo + 1, hi - 1, hi, hi + 1]]
    ).astype(np.float64)
    base = np.concatenate([k, k + 0.5, k - 0.5, k + 0.25, k + 0.75])
    rng = np.random.default_rng(seed)
    rand = rng.uniform(lo - 10, hi + 10, 3000)
    return np.concatenate([base, rand, [0.0, -0.0, 1e300, -1e300, np.inf, -np.inf, 2.0**70, -(2.0**70) - 2**18]])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("rounding", MODES)
@pytest.mark.parametrize("overflow", ["saturate", "wrap"])
def test_against_exact_reference(name, rounding, overflow):
    f = formats.get(name)
    x = probes(f)
    got = f.encode(x, rounding=rounding, overflow=overflow)
    want = np.array([ref.encode_integer(f, float(v), rounding, overflow) for v in x])
    bad = got.astype(np.int64) != want
    assert not bad.any(), (x[bad][:5], got[bad][:5], want[bad][:5])
    xf = x[np.abs(x) < 1e30].astype(np.float32)
    got32 = f.encode(xf, rounding=rounding, overflow=overflow)
    want32 = np.array([ref.encode_integer(f, float(v), rounding, overflow) for v in xf])
    assert np.array_equal(got32.astype(np.int64), want32)


@pytest.mark.parametrize("name", NAMES)
def test_decode_every_code(name):
    f = formats.get(name)
    codes = np.arange(1 << f.bits, dtype=np.uint64) if f.bits <= 16 else np.array(
        [0, 1, 2**31 - 1, 2**31, 2**32 - 1], dtype=np.uint64)
    got = f.decode(codes)
    want = np.array([ref.decode_integer(f, int(c)) for c in codes], dtype=np.float64)
    assert np.array_equal(got, want)
    assert np.array_equal(f.encode(got), codes.astype(f.code_dtype))


def test_stochastic_reference_and_mean():
    f = formats.get("int4")
    x = np.random.default_rng(1).uniform(-9, 9, 5000)
    got = f.encode(x, rounding="stochastic", seed=77)
    u = draw32_array(77, x.size) / 2**32
    want = [ref.encode_integer(f, float(v), "stochastic", "saturate", u[i]) for i, v in enumerate(x)]
    assert np.array_equal(got.astype(np.int64), want)
    q = f.quantize(np.full(100_000, 2.3), rounding="stochastic", seed=3)
    assert abs(q.mean() - 2.3) < 5 * np.sqrt(0.3 * 0.7 / q.size)


def test_examples_and_errors():
    f = formats.integer(4)
    assert f.encode([-9.0, -0.5, 2.5, 7.6]).tolist() == [8, 0, 2, 7]
    assert formats.get("int8").encode([300.0], overflow="wrap")[0] == 44
    assert formats.get("uint4").encode([-3.0, 20.0]).tolist() == [0, 15]
    with pytest.raises(ValueError, match="2..32"):
        formats.integer(33)
    with pytest.raises(ValueError, match="nan.*not available for int8"):
        formats.get("int8").encode([1.0], overflow="nan")
    with pytest.raises(ValueError, match="int8 has no NaN"):
        formats.get("int8").encode([np.nan])


@given(st.lists(st.floats(allow_nan=False, width=64), min_size=2, max_size=40), st.sampled_from(MODES))
def test_monotonic_saturating(xs, rounding):
    f = formats.get("int8")
    x = np.sort(np.array(xs))
    y = f.decode(f.encode(x, rounding=rounding))
    assert np.all(np.diff(y) >= 0)
