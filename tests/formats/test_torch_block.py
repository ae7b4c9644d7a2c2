"""formats.torch against formats for block formats (MX, NVFP4): codes, scales and values bit for bit."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import formats
from formats import torch as ft
from formats.mx import MX
from formats.nvfp4 import NVFP4
from formats.double_quant import DoubleQuant

from test_torch_cases import DTYPES, MODES, assert_same, block_presets, sample

CUSTOM = {
    "mxfp4_rceil": MX(formats.get("fp4_e2m1"), scale_rule="rceil"),
    "mxint8_rceil_k8": MX(formats.get("mxint8").element, block=8, scale_rule="rceil"),
    "mxfp8_e5m2_k4": MX(formats.get("fp8_e5m2"), block=4),
    "nvfp4_k8": NVFP4(block=8),
}


@pytest.fixture(autouse=True, scope="module")
def _one_numba_thread():
    old = formats.set_threads(1)
    yield
    formats.set_threads(old)


def block_sample(f, dtype, blocks=32, seed=0, specials=True):
    """(blocks * block) values, a different magnitude per block, with zero, tiny and special blocks."""
    rng = np.random.default_rng(seed)
    x = sample(f.element, torch.float64, n=blocks * f.block, seed=seed, nan=False).numpy()
    x = rng.permutation(x[np.isfinite(x)])[: blocks * f.block].reshape(blocks, f.block)
    with np.errstate(over="ignore"):
        x = x * np.exp2(rng.integers(-70, 70, size=(blocks, 1)))
    x[0] = 0.0
    x[1] = -0.0
    x[2] *= 1e-38
    x[3, 1] = 2.0 ** -140
    if dtype == torch.float64 and not isinstance(f, DoubleQuant):  # float32 scales: float32's range
        with np.errstate(over="ignore"):
            x[4] *= 1e290
        x[5] *= 1e-300
    finite_only = isinstance(f, (NVFP4, DoubleQuant))  # no NaN scale: NaN/Inf input is an error
    if specials and not finite_only:
        x[6, 3] = np.nan
        x[7, 0] = -np.inf
    with np.errstate(over="ignore"):
        x = x.astype(np.float32 if dtype == torch.float32 else np.float64)
    if finite_only:
        x = x[np.isfinite(x).all(axis=1)]
    if isinstance(f, DoubleQuant):  # float32 scales: inputs within float32's range
        x = x[(np.abs(x) <= np.finfo(np.float32).max).all(axis=1)]
    x = x[: len(x) // 4 * 4]
    return torch.from_numpy(x.reshape(-1, 4 * f.block))


def _check(f, x, mode, seed=5, **kw):
    codes = f.encode(x.numpy(), rounding=mode, seed=seed, **kw)
    out = ft.quantize_blocks(x, f, rounding=mode, seed=seed, **kw)
    assert len(out) == (4 if isinstance(f, NVFP4) else 3)
    values, elements, scales = out[:3]
    what = f"{f.name} {x.dtype} {mode}"
    assert elements.dtype == scales.dtype == torch.int32
    assert np.array_equal(scales.numpy(), codes.scales.astype(np.int32)), what + " scales"
    bad = elements.numpy() != codes.elements.astype(np.int32)
    assert not bad.any(), f"{what}: elements differ at {np.flatnonzero(bad)[:5]}"
    assert_same(values, f.decode(codes), what)
    if isinstance(f, NVFP4):
        assert out[3].dtype == torch.float32 and float(out[3]) == float(codes.tensor_scale)
    assert_same(ft.quantize(x, f, rounding=mode, seed=seed, **kw), f.decode(codes), what)


def _formats(names):
    return [formats.get(n) if n in formats.names() else CUSTOM[n] for n in names]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", block_presets() + sorted(CUSTOM))
def test_block_matches_formats(name, dtype):
    f = _formats([name])[0]
    x = block_sample(f, dtype)
    for mode in MODES:
        _check(f, x, mode)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", block_presets() + sorted(CUSTOM))
def test_block_matches_formats_large(name, dtype, seed):
    f = _formats([name])[0]
    x = block_sample(f, dtype, blocks=600, seed=seed)
    for mode in MODES:
        _check(f, x, mode, seed=seed)


def test_shapes_offset_and_tensor_scale():
    f = formats.get("mxfp4")
    x = block_sample(f, torch.float32, specials=False).reshape(2, -1, 64)
    values, elements, scales = ft.quantize_blocks(x, f, rounding="stochastic", seed=9)
    assert values.shape == elements.shape == x.shape and scales.shape == (2, x.shape[1], 2)
    assert_same(values, f.quantize(x.numpy(), rounding="stochastic", seed=9), "3-D")
    # offset k draws like flat index + k; the trailing part of a longer tensor
    k = x[0].numel()
    tail = ft.quantize(x[1:], f, rounding="stochastic", seed=9, offset=k)
    assert_same(tail, f.quantize(x.numpy(), rounding="stochastic", seed=9)[1:], "offset")
    g = formats.get("nvfp4")
    y = block_sample(g, torch.float64)
    _check(g, y, "rne", tensor_scale=0.01)
    _check(g, y, "stochastic", tensor_scale=3.5)


def test_block_errors():
    f = formats.get("mxfp8_e4m3")
    with pytest.raises(ValueError, match="multiple"):
        ft.quantize(torch.zeros(3, 31), f)
    with pytest.raises(ValueError, match="dimension"):
        ft.quantize(torch.tensor(1.0), f)
    with pytest.raises(ValueError, match="saturate"):
        ft.quantize(torch.zeros(32), f, overflow="inf")
    with pytest.raises(ValueError, match="rounding"):
        ft.quantize(torch.zeros(32), f, rounding="up")
    with pytest.raises(ValueError, match="NaN"):
        ft.quantize(torch.full((16,), float("nan")), "nvfp4")
    with pytest.raises(TypeError):
        ft.encode(torch.zeros(32), f)
    with pytest.raises(TypeError):
        ft.quantize_blocks(torch.zeros(32), "fp8_e4m3")
    with pytest.raises(TypeError):
        ft.quantize_blocks(torch.zeros(32), f, tensor_scale=1.0)
    assert ft.quantize(torch.zeros(0, 32), f).shape == (0, 32)


@pytest.mark.parametrize("name", ["nvfp4_four_over_six", "block_int4_bf16_g32", "mxfp4_even", "mxfp8_e4m3_ceil"])
def test_generic_block_formats_through_numpy(name):
    """Formats without a torch mirror go through formats' NumPy encoder: the same codes and values."""
    f = formats.get(name)
    x = torch.from_numpy(np.random.default_rng(4).standard_normal((4, 64)).astype(np.float32))
    res = ft.quantize_blocks(x, f, rounding="stochastic", seed=3)
    c = f.encode(x.numpy(), rounding="stochastic", seed=3)
    np.testing.assert_array_equal(res[1].numpy(), c.elements)
    np.testing.assert_array_equal(res[2].numpy(), c.scales)
    np.testing.assert_array_equal(res[0].numpy(), f.decode(c).astype(np.float32))
    with pytest.raises(ValueError, match="offset"):
        ft.quantize_blocks(x, f, rounding="stochastic", seed=3, offset=5)


@pytest.mark.parametrize("fmt", ["mxfp4", "mxint8", "nvfp4", "block_int4_bf16_g32", "nvfp4_four_over_six",
                                 "block_nf4_fp32_g64"])
def test_numpy_path_equals_quantize_blocks(fmt):
    """formats.torch.quantize_blocks_numpy (formats' compiled CPU kernels) gives quantize_blocks'
    values bit for bit, float32 and float64, every deterministic rounding; numpy_path says where it applies."""
    from formats.rounding import Rounding

    f = formats.get(fmt)
    g = torch.Generator().manual_seed(3)
    x = torch.randn(6, 8, 64, generator=g) * torch.logspace(-30, 30, 6).reshape(6, 1, 1)
    x[0, 0, :32] = 0.0
    x[1, 1, 5] = -0.0
    x[2, 2, 7] = 3.0e38
    x[3, 3, 9] = 1e-45
    for dt in (torch.float32, torch.float64):
        y = x.to(dt)
        ibits = torch.int64 if dt == torch.float64 else torch.int32
        for r in (Rounding.RNE, Rounding.RNA, Rounding.RTZ, Rounding.RUP, Rounding.RDN):
            assert ft.numpy_path(y, f, r)
            got = ft.quantize_blocks_numpy(y, f, r)
            want = ft.quantize_blocks(y, f, rounding=r)[0].to(dt)
            assert got.dtype == dt and torch.equal(got.view(ibits), want.view(ibits)), (dt, r)
    assert not ft.numpy_path(x, f, Rounding.STOCHASTIC)
    assert not ft.numpy_path(x.to(torch.float16), f, "rne")
    assert not ft.numpy_path(x, "fp8_e4m3", "rne")
    with pytest.raises(ValueError, match="torch path"):
        ft.quantize_blocks_numpy(x, f, "stochastic")
