"""formats.torch against formats for scalar formats: codes and values bit for bit.

Every scalar preset × rounding mode × overflow policy × float32/float64 input,
on random magnitudes, exact values, ties (neighbour midpoints), huge and tiny
inputs and specials; float32 input is checked both through the table path and
through the arithmetic path.  The rules themselves are tested in formats'
own tests; here the only oracle is formats.
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

import formats
from formats import torch as ft
from formats.block import FixedPoint
from formats.codebook import Codebook
from formats.minifloat import Minifloat
from formats.posit import Posit
from formats.torch import tables
from formats.torch.codebook import entries

from test_torch_cases import DTYPES, MODES, assert_same, sample, scalar_presets

CUSTOM = {
    "fp8_e4m3_b9": formats.get("fp8_e4m3_b9"),
    "ufp7_e4m3": Minifloat(4, 3, special="none", signed=False),
    "fp8_e4m3_nosub": Minifloat(4, 3, special="fn", subnormals=False),
    "fp6_e3m2_ieee": Minifloat(3, 2, special="ieee"),
    "fp12_e5m6": Minifloat(5, 6),
    "fp24_e8m15": Minifloat(8, 15),
    "fp9_e4m4fnuz": Minifloat(4, 4, special="fnuz"),
    "fp4_e3m0": Minifloat(3, 0, special="none"),
    "int12": formats.get("int12"),
    "uint24": formats.get("uint24"),
    "posit5_1": Posit(5, 1),
    "posit24_3": Posit(24, 3),
    "posit32_0": Posit(32, 0),
    "posit12_4": Posit(12, 4),
    "takum11": formats.get("takum11"),
    "takum24": formats.get("takum24"),
    "codebook_straddle": Codebook((-3.0, -1.25, -0.5, 0.375, 0.5, 2.0)),
    "codebook_nozero": Codebook((-2.0, -1.0, -0.25, 0.25, 1.0, 2.0, 4.0, 8.0)),
    "fixed8_f6": FixedPoint(8, 6),
    "fixed12_fm2": FixedPoint(12, -2),
}


@pytest.fixture(autouse=True, scope="module")
def _one_numba_thread():
    """The oracle's parallel launches cost more than its work on these small inputs."""
    old = formats.set_threads(1)
    yield
    formats.set_threads(old)


def _check(f, x, mode, ovf, seed=7, offset=0):
    expected = f.encode(x.numpy(), rounding=mode, overflow=ovf, seed=seed)
    if offset:
        x = x[offset:]
        expected = expected[offset:]
    got = ft.encode(x, f, rounding=mode, overflow=ovf, seed=seed, offset=offset)
    assert got.dtype == (torch.int64 if f.bits == 32 else torch.int32)
    bad = got.numpy().astype(np.int64) != expected.astype(np.int64)
    assert not bad.any(), (f"{f.name} {x.dtype} {mode} {ovf}: codes differ at {np.flatnonzero(bad)[:5]}: "
                           f"x={x.numpy()[bad][:5]} torch={got.numpy()[bad][:5]} numpy={expected[bad][:5]}")
    values = f.decode(expected)
    assert_same(ft.quantize(x, f, rounding=mode, overflow=ovf, seed=seed, offset=offset), values,
                f"{f.name} {x.dtype} {mode} {ovf}")


def _all_modes(f, dtype, n, seed=0):
    for ovf in [None] + [o.label for o in f.overflows]:
        x = sample(f, dtype, n=n, seed=seed, nan=f.nan_code >= 0 or ovf is not None)
        for mode in MODES:
            _check(f, x, mode, ovf, seed=seed + 7)


def _cases(names):
    """(name, dtype, path): float32 into <= 8-bit formats runs both the table and the arithmetic path."""
    out = []
    for name in names:
        f = formats.get(name) if name in formats.names() else CUSTOM[name]
        for dtype in DTYPES:
            paths = ["table", "arith"] if dtype == torch.float32 and f.bits <= 8 else ["arith"]
            out += [pytest.param(name, dtype, p, id=f"{name}-{str(dtype)[6:]}-{p}") for p in paths]
    return out


def _use_path(path, monkeypatch):
    if path == "arith":
        monkeypatch.setattr(tables, "f32_encode_table", lambda *a: None)
        monkeypatch.setattr(tables, "f32_quantize_table", lambda *a: None)
        monkeypatch.setattr(tables, "f32_stochastic_tables", lambda *a: None)


@pytest.mark.parametrize("name, dtype, path", _cases(scalar_presets()))
def test_preset_matches_formats(name, dtype, path, monkeypatch):
    _use_path(path, monkeypatch)
    _all_modes(formats.get(name), dtype, n=120)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", sorted(CUSTOM))
def test_custom_format_matches_formats(name, dtype):
    _all_modes(CUSTOM[name], dtype, n=100)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("name, dtype, path", _cases(scalar_presets() + sorted(CUSTOM)))
def test_matches_formats_large(name, dtype, path, seed, monkeypatch):
    _use_path(path, monkeypatch)
    f = formats.get(name) if name in formats.names() else CUSTOM[name]
    _all_modes(f, dtype, n=3000, seed=seed)


@pytest.mark.parametrize("name", ["fp8_e4m3", "posit8_0", "int4", "bf16", "nf4", "fp32", "posit32_2"])
def test_stochastic_offset_and_shape(name):
    f = formats.get(name)
    x = sample(f, torch.float32, n=100, nan=f.nan_code >= 0)
    _check(f, x, "stochastic", None, seed=11, offset=37)
    # a 2-D, non-contiguous input: C-order flat index of the (contiguous) tensor
    x2 = x[: 6 * 40].reshape(40, 6).t()
    got = ft.quantize(x2, f, rounding="stochastic", seed=3)
    assert got.shape == x2.shape
    assert_same(got, f.quantize(x2.numpy(), rounding="stochastic", seed=3), name)
    # same seed, same values; the draw does not depend on how the work is split
    assert torch.equal(got.nan_to_num(), ft.quantize(x2.contiguous(), f, rounding="stochastic", seed=3).nan_to_num())


def test_offset_beyond_2_32():
    f = formats.get("fp8_e4m3")
    x = torch.linspace(-3, 3, 64)
    big = (1 << 32) - 10
    draws = formats.draw32_array(5, 64, start=big)
    assert np.array_equal(ft.draw32(5, 64, big).numpy(), draws.astype(np.int64))
    assert np.array_equal(ft.draw32(5, 64, 1 << 40).numpy(),
                          formats.draw32_array(5, 64, start=1 << 40).astype(np.int64))
    # stochastic rounding at a large offset is reproducible and differs from offset 0
    a = ft.encode(x, f, rounding="stochastic", seed=5, offset=big)
    assert torch.equal(a, ft.encode(x, f, rounding="stochastic", seed=5, offset=big))


@pytest.mark.parametrize("seed", [0, 1, 2**32 - 1])
def test_draw32_matches_formats(seed):
    assert np.array_equal(ft.draw32(seed, 1000, 123).numpy(),
                          formats.draw32_array(seed, 1000, start=123).astype(np.int64))


@pytest.mark.parametrize("name", [n for n in scalar_presets()] + sorted(CUSTOM))
def test_decode_matches_formats(name):
    f = formats.get(name) if name in formats.names() else CUSTOM[name]
    if f.bits <= 16:
        codes = np.arange(1 << f.bits)
        if f.family == "codebook":
            codes = codes[: len(entries(f))]
    else:
        codes = np.random.default_rng(0).integers(0, 1 << f.bits, size=4000)
        codes[:4] = [0, 1 << (f.bits - 1), (1 << f.bits) - 1, 1]
    expected = f.decode(codes)
    for dtype in (torch.float32, torch.float64):
        got = ft.decode(torch.from_numpy(codes), f, dtype=dtype)
        assert got.dtype == dtype
        assert_same(got, expected, name)


def test_inputs_of_other_dtypes():
    f = formats.get("fp8_e4m3")
    x16 = torch.tensor([0.3, -2.5, 1000.0], dtype=torch.float16)
    assert_same(ft.quantize(x16, f), f.quantize(x16.numpy()), "float16")
    assert ft.quantize(x16, f).dtype == torch.float16
    xi = torch.tensor([-7, 3, 100])
    assert_same(ft.quantize(xi, "int4"), formats.get("int4").quantize(xi.numpy()), "int64")
    assert ft.quantize(xi, "int4").dtype == torch.float64
    assert ft.quantize(torch.tensor(2.7), "int4").shape == ()
    assert ft.quantize(torch.empty(0, 3), "posit8_0").shape == (0, 3)
    assert ft.encode(torch.empty(0), "fp32").dtype == torch.int64


def test_no_gradient_is_tracked():
    x = torch.randn(8, requires_grad=True)
    y = ft.quantize(x, "fp4_e2m1")
    assert not y.requires_grad


def test_errors_mirror_formats():
    x = torch.tensor([1.0, float("nan")])
    with pytest.raises(KeyError):
        ft.quantize(x, "fp7_e9m9x")
    with pytest.raises(ValueError, match="rounding"):
        ft.quantize(x[:1], "int8", rounding="nearest")
    with pytest.raises(ValueError, match="NaN"):
        ft.encode(x, "int8")
    with pytest.raises(ValueError, match="NaN"):
        ft.quantize(x, "fp4_e2m1")
    assert ft.encode(x, "int8", overflow="saturate").tolist() == [1, 0]
    with pytest.raises(ValueError, match="overflow"):
        ft.quantize(x, "fp8_e4m3", overflow="inf")
    with pytest.raises(ValueError):
        ft.quantize(x, "fp8_e4m3", seed=-1)
    with pytest.raises(ValueError):
        ft.quantize(x, "fp8_e4m3", offset=-1)
    with pytest.raises(TypeError):
        ft.quantize(x.numpy(), "fp8_e4m3")
    with pytest.raises(TypeError):
        ft.quantize(torch.tensor([True]), "fp8_e4m3")
    with pytest.raises(ValueError, match="fit"):
        ft.decode(torch.tensor([16]), "int4")
    with pytest.raises(ValueError, match="negative"):
        ft.decode(torch.tensor([-1]), "int4")
    with pytest.raises(TypeError):
        ft.decode(torch.tensor([1.0]), "int4")
    with pytest.raises(ValueError, match="index"):
        ft.decode(torch.tensor([7]), CUSTOM["codebook_straddle"])


def test_import_formats_does_not_import_torch():
    code = "import sys, formats; formats.get('posit8_0'); assert 'torch' not in sys.modules; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "ok", out.stderr


def test_f32_index_on_every_top_half():
    """The table index is (top 16 bits) * 2 + (low 16 bits != 0) for every sign/exponent/top-mantissa pattern."""
    top = np.arange(1 << 16, dtype=np.uint32)
    low = np.array([0, 1, 0x7FFF, 0x8000, 0xFFFF], dtype=np.uint32)
    bits = ((top[:, None] << np.uint32(16)) | low[None, :]).reshape(-1)
    want = (bits >> np.uint32(16)).astype(np.int64) * 2 + ((bits & np.uint32(0xFFFF)) != 0)
    x = torch.from_numpy(bits.view(np.int32).copy()).view(torch.float32).reshape(-1, 5)
    got = tables.f32_index(x)
    assert got.dtype == torch.int32
    assert np.array_equal(got.numpy().astype(np.int64), want)


def test_f32_index_of_a_strided_tensor():
    x = torch.randn(64, 48).t()  # not contiguous
    assert torch.equal(tables.f32_index(x), tables.f32_index(x.contiguous()))
