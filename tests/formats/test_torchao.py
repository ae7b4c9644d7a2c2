"""Scale rules and recipes against torchao (an outside implementation), where it has the same rule.

torchao's MX cast (``to_mx``) has FLOOR, CEIL, EVEN and RCEIL; its NVFP4 cast
(``nvfp4_quantize``) is the reciprocal recipe with a two-level scale.  On ordinary
data they must agree with ours bit for bit; the one known class of difference (RCEIL's
float32 ``log2``) is shown on a constructed input and explained.
"""
from __future__ import annotations

import numpy as np
import pytest

import formats

torch = pytest.importorskip("torch")
pytest.importorskip("torchao")
from torchao.prototype.mx_formats.config import ScaleCalculationMode  # noqa: E402
from torchao.prototype.mx_formats.mx_tensor import to_dtype, to_mx  # noqa: E402

ELEMS = {"mxfp8_e4m3": torch.float8_e4m3fn, "mxfp8_e5m2": torch.float8_e5m2,
         "mxfp6_e2m3": "fp6_e2m3", "mxfp6_e3m2": "fp6_e3m2", "mxfp4": torch.float4_e2m1fn_x2}
RULES = {"floor": ScaleCalculationMode.FLOOR, "ceil": ScaleCalculationMode.CEIL,
         "even": ScaleCalculationMode.EVEN, "rceil": ScaleCalculationMode.RCEIL}


def _data(seed, rows=256, k=32):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, k)) * np.exp2(rng.integers(-20, 20, size=(rows, 1)))
    # blocks whose amax sits on or next to the thresholds of each rule
    for r, a in enumerate((6.0, 7.0, 7.5, 8.0, 448.0, 480.0, 57344.0, 28.0, 3.5, 1.75, 5.0, 6.5)):
        x[r, 0] = a
        x[r + 12, 0] = np.nextafter(np.float32(a), np.float32(0))
        x[r + 24, 0] = np.nextafter(np.float32(a), np.float32(np.inf))
    return x.astype(np.float32)


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("name", ELEMS)
def test_mx_rules_equal_torchao(name, rule):
    x = _data(len(name) + len(rule))
    f = formats.mx(formats.get(name).element, block=32, scale_rule=rule)
    ours = f.encode(x)
    scale, data = to_mx(torch.from_numpy(x), ELEMS[name], 32, RULES[rule])
    sc = scale.view(torch.uint8).numpy().reshape(ours.scales.shape)
    same = (ours.scales == sc)[:, 0]
    if rule == "rceil":  # every difference must be torchao's float32 quotient/log2 (see the next test)
        emax = np.float32(f.element.max)
        for r in np.flatnonzero(~same):
            amax = np.abs(x[r]).max()
            descale = np.float32(amax / emax)
            assert int(ours.scales[r, 0]) == int(sc[r, 0]) + 1
            assert np.float64(amax) / 2.0 ** (int(sc[r, 0]) - 127) > emax  # torchao's scale clips the block
            assert np.ceil(np.float32(np.log2(descale))) == int(sc[r, 0]) - 127  # ... because of float32
        assert same.mean() > 0.98
    else:
        assert same.all()
    theirs = to_dtype(data, scale, ELEMS[name], 32, torch.float32).numpy().reshape(x.shape)
    np.testing.assert_array_equal(f.decode(ours).astype(np.float32)[same], theirs[same])


def test_rceil_differs_only_by_torchao_float32_log2():
    """torchao's eager RCEIL takes ceil(log2(descale)) in float32: for descale = 2**k * (1 + 2**-23)
    with |k| >= 4 the float32 log2 rounds to k, so it picks 2**k and the block's amax clips
    (exact rceil: 2**(k + 1), nothing clips).  This is torchao's rounding, not a rule difference."""
    k = 6
    amax = np.float32(448 * 2.0 ** k * (1 + 2.0 ** -22))  # float32(amax / 448) = 2**6 * (1 + 2**-23) or 2**-22
    x = np.zeros((1, 32), np.float32)
    x[0, 0] = amax
    ours = formats.mx("fp8_e4m3", scale_rule="rceil").encode(x).scales[0, 0]
    scale, _ = to_mx(torch.from_numpy(x), torch.float8_e4m3fn, 32, ScaleCalculationMode.RCEIL)
    theirs = int(scale.view(torch.uint8)[0, 0])
    descale = np.float32(amax / np.float32(448))
    assert descale > np.float32(2.0 ** k) and np.ceil(np.log2(np.float64(descale))) == k + 1
    assert ours == 127 + k + 1  # exact: amax / 2**(k+1) <= 448
    assert theirs in (127 + k, 127 + k + 1)
    if theirs == 127 + k:
        assert np.float32(np.log2(descale)) == k  # the float32 log2 is the whole story


def test_nvfp4_reciprocal_recipe_equals_torchao():
    from torchao.prototype.mx_formats.nvfp4_tensor import nvfp4_quantize, per_tensor_amax_to_scale

    rng = np.random.default_rng(7)
    x = (rng.standard_normal((128, 64)) * np.exp2(rng.integers(-6, 6, size=(128, 1)))).astype(np.float32)
    f = formats.get("nvfp4_recip")
    ours = f.encode(x)
    xt = torch.from_numpy(x)
    S = per_tensor_amax_to_scale(xt.abs().max())
    assert float(S) == float(ours.tensor_scale)
    scales, packed = nvfp4_quantize(xt, 16, S)
    np.testing.assert_array_equal(ours.scales, scales.view(torch.uint8).numpy().reshape(ours.scales.shape))
    p = packed.numpy().reshape(-1)
    codes = np.stack([p & 0xF, p >> 4], axis=1).reshape(x.shape)
    np.testing.assert_array_equal(ours.elements, codes)


def test_nvfp4_divide_recipe_is_close_to_torchao():
    """The divide recipe (the default) and torchao's reciprocal differ only at rounding ties."""
    from torchao.prototype.mx_formats.nvfp4_tensor import nvfp4_quantize, per_tensor_amax_to_scale

    rng = np.random.default_rng(8)
    x = rng.standard_normal((256, 64)).astype(np.float32)
    ours = formats.get("nvfp4").encode(x)
    xt = torch.from_numpy(x)
    scales, packed = nvfp4_quantize(xt, 16, per_tensor_amax_to_scale(xt.abs().max()))
    np.testing.assert_array_equal(ours.scales, scales.view(torch.uint8).numpy().reshape(ours.scales.shape))
    p = packed.numpy().reshape(-1)
    codes = np.stack([p & 0xF, p >> 4], axis=1).reshape(x.shape)
    assert np.mean(ours.elements != codes) < 1e-3
