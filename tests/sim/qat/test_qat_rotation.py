"""Hadamard rotations in the QAT/PTQ path: the same transform as formats.hadamard, the
unquantized product unchanged, gradients through it, the per-layer block rule, bad values,
and the tapered formats' scale search (takum8's max is 2**239)."""
import numpy as np
import pytest
import torch
from torch import nn

import formats
from sim.qat.layers import QuantConv2d, QuantLinear, quantize_model
from sim.qat.rotation import LayerRotation, layer_block, parse_rotation
from sim.qat.scaling import format_range, mse_scale, scale_top


@pytest.mark.parametrize("block", [2, 8, 64])
def test_same_transform_as_formats(block):
    rng = np.random.default_rng(block)
    x = rng.integers(-100, 100, (7, 4 * block)).astype(np.float64)  # exact in every order of summation
    r, h = LayerRotation(block, seed=11), formats.hadamard(block, seed=11)
    assert np.array_equal(r.apply(torch.from_numpy(x), -1).numpy(), h.apply(x))
    assert np.array_equal(r.invert_t(torch.from_numpy(x), -1).numpy(), h.invert_t(x))
    # along another axis, as a convolution's channels
    xc = x.reshape(7, 4 * block, 1, 1)
    assert np.array_equal(r.apply(torch.from_numpy(xc), 1).numpy()[..., 0, 0], h.apply(x))


def _exact_ints(*shape, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).integers(-8, 8, shape).astype(np.float64))


def test_linear_product_unchanged():
    lin = nn.Linear(32, 5).double()
    with torch.no_grad():
        lin.weight.copy_(_exact_ints(5, 32, seed=1))
    q = quantize_model(nn.Sequential(lin), None, None, rotation="hadamard:16")[0]
    assert q.rotation is not None and q.rotation.block == 16
    x = _exact_ints(3, 32, seed=2)
    assert torch.equal(q(x), lin(x))
    rotated = q.quantized_input(x) @ q.quantized_weight().T
    assert not torch.equal(q.quantized_input(x), x) and torch.equal(rotated, x @ lin.weight.T)


def test_conv_product_unchanged_and_first_layer_unrotated():
    net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 4, 3, padding=1)).double()
    with torch.no_grad():
        for m in (net[0], net[2]):
            m.weight.copy_(_exact_ints(*m.weight.shape, seed=m.out_channels))
    q = quantize_model(net, None, None, rotation="hadamard")
    assert q[0].rotation is None            # one input channel: block 1, not rotated
    assert q[2].rotation.block == 8         # the largest power of two <= 64 dividing 8
    x = _exact_ints(2, 1, 6, 6, seed=3)
    assert torch.equal(q(x), net(x))


def test_float32_close_and_gradients_flow():
    torch.manual_seed(0)
    lin = nn.Linear(64, 10)
    q = QuantLinear.from_float(lin, weight_format="int4", act_format="int4", rotation="hadamard")
    x = torch.randn(16, 64)
    ref = QuantLinear.from_float(lin, rotation="hadamard")
    assert torch.allclose(ref(x), lin(x), atol=1e-5)
    out = q(x)
    out.square().sum().backward()
    assert lin.weight.grad is None and q.weight.grad is not None and q.weight.grad.abs().sum() > 0
    # the codes TR counts are those of the rotated weight
    assert torch.equal(q.weight_code_key(), q.weight_quant.code_key(q.rotated_weight()))


def test_rotation_changes_what_the_quantizer_sees():
    """An outlier channel: rotation spreads it over the block, per-tensor int4 error drops."""
    torch.manual_seed(1)
    lin = nn.Linear(64, 32)
    with torch.no_grad():
        lin.weight[:, 5] *= 40.0
    x = torch.randn(256, 64)
    errs = {}
    for rot in ("none", "hadamard"):
        q = quantize_model(nn.Sequential(lin), "int4", None, granularity="per-tensor", weight_scale="fixed",
                           rotation=rot)
        errs[rot] = (q(x) - lin(x)).square().mean().item()
    assert errs["hadamard"] < 0.5 * errs["none"]


def test_layer_block_and_bad_values():
    assert [layer_block(n, 64) for n in (1, 3, 8, 12, 96, 128, 1024)] == [1, 1, 8, 4, 32, 64, 64]
    assert parse_rotation("none") is None and parse_rotation("hadamard") == 64 and parse_rotation("Hadamard:8") == 8
    for bad in ("hadamard:12", "hadamard:1", "givens", "hadamard:-4"):
        with pytest.raises(ValueError, match="rotation|power of two"):
            parse_rotation(bad)
    with pytest.raises(ValueError, match="allowed: none, hadamard"):
        quantize_model(nn.Sequential(nn.Linear(8, 2)), "int4", rotation="random")


@pytest.mark.parametrize("name", ["takum8", "takum16", "posit16_1", "posit8_0"])
def test_tapered_scale_search(name):
    """takum8's max (2**239) exceeds float32: the clamp bounds and the scale stay finite, and the
    wide search maps amax near 1 where a tapered format is most precise."""
    f = formats.get(name)
    lo, hi = format_range(f)
    assert np.isfinite(lo) and np.isfinite(hi) and hi <= float(torch.finfo(torch.float32).max)
    assert scale_top(f) == min(float(f.max), 2.0**16)
    x = torch.randn(4096) * 3
    q = lambda y: torch.from_numpy(f.quantize(y.double().numpy())).to(y.dtype)  # noqa: E731
    s = mse_scale(x, q, f, wide=True)
    assert torch.isfinite(s) and s > 0
    err = ((q((x / s).clamp(lo, hi)) * s - x).square().mean() / x.square().mean()).item()
    assert err < {"takum8": 0.01, "posit8_0": 0.01}.get(name, 1e-5)
