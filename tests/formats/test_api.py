"""The public API: names, get, generic names, input checking, the rounding generator."""
import subprocess
import sys

import numpy as np
import pytest

import formats
from formats.rounding import draw32_array

SCALAR_PRESETS = ["fp4_e2m1", "fp8_e4m3", "int4", "bf16", "fp32"]


def test_names_cover_the_issue_presets():
    want = {"fp4_e2m1", "fp6_e2m3", "fp6_e3m2", "fp8_e4m3", "fp8_e5m2", "fp8_e4m3fnuz", "fp8_e5m2fnuz",
            "fp16", "bf16", "fp32", "e8m0", "ue4m3", "posit4_1", "posit8_0", "posit16_1", "posit8_2",
            "posit16_2", "posit32_2", "mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e2m3", "mxfp6_e3m2", "mxfp4",
            "mxint8", "nvfp4", "nf4", "int4", "int8", "uint4", "int32"}
    assert want <= set(formats.names())


def test_every_preset_builds():
    for name in formats.names():
        f = formats.get(name)
        assert f.name == name
        assert f.bits >= 2


def test_get_is_case_insensitive_and_parses_generic_names():
    assert formats.get("FP8_E4M3") is formats.get("fp8_e4m3")
    assert formats.get("int5").bits == 5 and formats.get("uint3").signed is False
    assert formats.get("fp7_e3m3").bits == 7
    f = formats.get("fp4_e2m1")
    assert formats.get(f) is f


def test_unknown_name_lists_close_matches():
    with pytest.raises(KeyError, match="did you mean.*fp8_e4m3"):
        formats.get("fp8_e4m4x")
    with pytest.raises(KeyError, match="unknown format 'banana'"):
        formats.get("banana")
    with pytest.raises(KeyError, match="2..32"):
        formats.get("int40")
    with pytest.raises(TypeError):
        formats.get(3)


@pytest.mark.parametrize("name", SCALAR_PRESETS)
def test_bad_inputs(name):
    f = formats.get(name)
    with pytest.raises(TypeError, match="real numbers"):
        f.encode(np.array(["a", "b"]))
    with pytest.raises(TypeError, match="real numbers"):
        f.encode(np.array([1 + 2j]))
    with pytest.raises(TypeError, match="real numbers"):
        f.encode(np.array([True]))
    with pytest.raises(ValueError, match="unknown rounding mode 'nearest'.*rne"):
        f.encode([1.0], rounding="nearest")
    with pytest.raises(ValueError, match="seed"):
        f.encode([1.0], rounding="stochastic", seed=-1)
    with pytest.raises(TypeError, match="codes must be integers"):
        f.decode(np.array([1.5]))
    with pytest.raises(ValueError, match="does not fit"):
        f.decode(np.array([1 << f.bits], dtype=np.uint64))
    with pytest.raises(ValueError, match="negative code"):
        f.decode(np.array([-1]))


@pytest.mark.parametrize("name", SCALAR_PRESETS)
def test_shapes_empty_and_non_contiguous(name):
    f = formats.get(name)
    assert f.encode(np.zeros((0, 3), np.float32)).shape == (0, 3)
    assert f.decode(np.zeros((2, 0), np.uint8)).shape == (2, 0)
    x = np.random.default_rng(0).normal(size=(6, 8)).astype(np.float32)
    sl = x[:, ::2]
    assert not sl.flags.c_contiguous
    assert np.array_equal(f.encode(sl), f.encode(np.ascontiguousarray(sl)))
    assert f.encode(x).shape == (6, 8) and f.encode(x).dtype == f.code_dtype
    assert f.encode(np.float32(1.0)).shape == ()
    assert np.array_equal(f.encode(x.astype(np.float16)), f.encode(x.astype(np.float16).astype(np.float32)))
    assert np.array_equal(f.encode([1, 2, 3]), f.encode(np.array([1.0, 2.0, 3.0])))


def fmix32(h):
    h &= 0xFFFFFFFF
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    return h ^ (h >> 16)


def test_draw32_matches_its_documented_definition():
    for seed in (0, 1, 12345, 2**32 - 1):
        got = draw32_array(seed, 50, start=2**32 - 20)
        for j, g in enumerate(got):
            i = 2**32 - 20 + j
            assert int(g) == fmix32(fmix32(fmix32(seed) ^ (i >> 32)) ^ (i & 0xFFFFFFFF))


def test_draws_are_uniform_enough():
    u = draw32_array(3, 1 << 16) / 2**32
    assert abs(u.mean() - 0.5) < 0.01
    hist, _ = np.histogram(u, bins=16, range=(0, 1))
    assert hist.min() > 0.9 * (1 << 12) and hist.max() < 1.1 * (1 << 12)


def test_import_does_not_pull_torch():
    code = "import sys, formats; formats.get('posit8_0'); assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
