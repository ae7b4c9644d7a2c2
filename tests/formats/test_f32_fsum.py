"""formats.double_quant.f32_fsum equals math.fsum (the second level's mean of the block scales)."""
import math

import numpy as np
import pytest

from formats.double_quant import f32_fsum


def _f32(v):
    with np.errstate(over="ignore", invalid="ignore"):
        v = np.abs(np.asarray(v, np.float64).astype(np.float32)).astype(np.float64)
    return v[np.isfinite(v)]


def _cases():
    rng = np.random.default_rng(17)
    yield "normal squares", _f32(rng.standard_normal(4000) ** 2)
    yield "every exponent", _f32(rng.random(6000) * np.exp2(rng.integers(-150, 128, 6000)))
    bits = rng.integers(0, 0x7F800000, 5000, dtype=np.int64).astype(np.uint32)
    yield "random bits", bits.view(np.float32).astype(np.float64)
    yield "subnormals", rng.integers(0, 1 << 23, 3000, dtype=np.int64).astype(np.uint32).view(np.float32).astype(np.float64)
    yield "float32 max", np.full(70000, float(np.finfo(np.float32).max))
    yield "zeros", np.zeros(100)
    yield "one value", np.array([2.0 ** -149])
    yield "tie to even", np.array([1.0, 2.0 ** -53])
    yield "tie broken by a tiny term", np.array([1.0, 2.0 ** -53, 2.0 ** -149])
    yield "odd tie", np.array([1.0 + 2.0 ** -23, 2.0 ** -53, 2.0 ** -53])
    yield "cancel to huge + tiny", np.array([2.0 ** 127, 2.0 ** -149] * 1000)


@pytest.mark.parametrize("name,a", list(_cases()), ids=[c[0] for c in _cases()])
def test_equals_fsum(name, a):
    assert f32_fsum(a) == math.fsum(a)


@pytest.mark.parametrize("a", [np.array([0.1]), np.array([-1.0, 2.0]), np.array([-0.0, 1.0]), np.array([np.inf]),
                               np.array([1e300, 1.0])])
def test_other_inputs_fall_back(a):
    got, want = f32_fsum(a), math.fsum(a)
    assert got == want or (math.isnan(got) and math.isnan(want))


def test_nan_falls_back():
    assert math.isnan(f32_fsum(np.array([np.nan, 1.0])))
