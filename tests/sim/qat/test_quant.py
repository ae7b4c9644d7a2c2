"""Fake quantization: bit-exact forward, straight-through gradients, model conversion, export."""
import numpy as np
import pytest
import torch
from torch import nn

import formats
from sim.qat.export import export_model
from sim.qat.quant import QuantConv2d, QuantLinear, fake_quantize, quantize_model


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.Flatten(),
                         nn.Linear(4 * 4 * 4, 16), nn.ReLU(), nn.Linear(16, 3))


@pytest.mark.parametrize("fmt", ["int4", "fp4_e2m1", "posit4_1", "int2"])
def test_forward_equals_formats(fmt):
    q = quantize_model(nn.Sequential(nn.Linear(12, 6)), fmt, None)[0]
    s = q.weight_quant.scale_value().detach()
    lo, hi = q.weight_quant.lo, q.weight_quant.hi
    y = torch.clamp(q.weight.detach() / s, lo, hi).numpy()
    want = formats.get(fmt).quantize(y).astype(np.float32) * s.numpy()
    assert np.array_equal(q.quantized_weight().detach().numpy(), want)


def test_gradients_reach_weights_and_inputs():
    y = torch.tensor([0.26, -1.4, 3.3], requires_grad=True)
    fake_quantize(y, "int4").backward(torch.tensor([1.0, 2.0, 3.0]))
    assert y.grad.tolist() == [1.0, 2.0, 3.0]  # straight through
    net = quantize_model(_net(), "int4", "int4")
    x = torch.randn(5, 2, 4, 4, requires_grad=True)
    net(x).square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    for m in net.modules():
        if isinstance(m, (QuantLinear, QuantConv2d)):
            assert m.weight.grad.abs().sum() > 0
            assert m.weight_quant.scale.value.grad is not None  # LSQ scales learn
            assert m.act_quant.scale.value.grad is not None


def test_fixed_scale_does_not_learn():
    net = quantize_model(nn.Sequential(nn.Linear(4, 4)), "int4", "int4", weight_scale="fixed")
    net(torch.randn(3, 4)).sum().backward()
    assert not net[0].weight_quant.scale.value.requires_grad
    assert net[0].weight.grad is not None


def test_quantize_model_swaps_layers():
    base = _net()
    q = quantize_model(base, "int4", "fp4_e2m1", granularity="per-tensor")
    assert type(q[0]) is QuantConv2d and type(q[3]) is QuantLinear and type(q[5]) is QuantLinear
    assert type(base[0]) is nn.Conv2d  # not in place
    q2 = quantize_model(base, "int4", "int4", quantize_first_last=False)
    assert type(q2[0]) is nn.Conv2d and type(q2[5]) is nn.Linear and type(q2[3]) is QuantLinear
    x = torch.randn(2, 2, 4, 4)
    assert q(x).shape == base(x).shape
    with pytest.raises(KeyError, match="int99x"):
        quantize_model(base, "int99x")
    with pytest.raises(ValueError, match="granularity 'per-row'"):
        quantize_model(base, "int4", granularity="per-row")
    with pytest.raises(ValueError, match="per-block"):
        quantize_model(base, "int4", granularity="per-block")


@pytest.mark.parametrize("fmt,gran", [("int4", "per-channel"), ("posit4_1", "per-tensor"),
                                      ("fp4_e2m1", "per-channel")])
def test_export_decodes_to_the_quantized_weights(fmt, gran):
    net = quantize_model(_net(), fmt, "int8", granularity=gran)
    net(torch.randn(4, 2, 4, 4))  # sets activation scales
    layers = export_model(net)
    assert [l.kind for l in layers] == ["conv2d", "linear", "linear"]
    mods = [m for m in net.modules() if isinstance(m, (QuantLinear, QuantConv2d))]
    for rec, m in zip(layers, mods):
        assert rec.weight_codes.dtype == np.uint8 and rec.weight_format == fmt
        assert np.array_equal(rec.weight(), m.quantized_weight().detach().numpy())
        assert rec.act_format == "int8" and rec.act_scale > 0


@pytest.mark.parametrize("fmt", ["mxfp4", "nvfp4"])
def test_export_block_format(fmt):
    net = quantize_model(_net(), fmt, None, granularity="per-block")
    mods = [m for m in net.modules() if isinstance(m, (QuantLinear, QuantConv2d))]
    for rec, m in zip(export_model(net), mods):
        assert rec.block_scales is not None
        assert np.array_equal(rec.weight(), m.quantized_weight().detach().numpy())


@pytest.mark.parametrize("fmt", ["mxfp4", "mxfp6_e2m3", "mxfp8_e4m3", "mxfp8_e5m2", "mxint8", "nvfp4",
                                 "block_int4_bf16_g32", "mx_fp4_e2m1_b16", "nvfp4_four_over_six"])
def test_block_fake_quant_numpy_path_equals_the_torch_path(fmt):
    """The CPU forward of a block fake quantizer (formats' compiled kernels) gives the values of
    formats.torch.quantize_blocks bit for bit, float32 and float64, every deterministic rounding."""
    from formats import torch as ft
    from formats.rounding import Rounding
    from formats.torch import numpy_path
    from sim.qat.quantizer import _BlockSTE

    f = formats.get(fmt)
    g = torch.Generator().manual_seed(3)
    x = torch.randn(6, 8, 64, generator=g) * torch.logspace(-30, 30, 6).reshape(6, 1, 1)
    x[0, 0, :32] = 0.0                                      # an all-zero block
    x[1, 1, 5] = -0.0
    x[2, 2, 7] = 3.0e38                                     # near the float32 maximum
    x[3, 3, 9] = 1e-45                                      # a float32 subnormal
    for dt in (torch.float32, torch.float64):
        y = x.to(dt)
        for r in (Rounding.RNE, Rounding.RNA, Rounding.RTZ, Rounding.RUP, Rounding.RDN):
            assert numpy_path(y, f, r)
            got = _BlockSTE.apply(y, f, r, 0, None)
            want = ft.quantize_blocks(y, f, rounding=r)[0].to(dt)
            assert got.dtype == dt and torch.equal(got.view(torch.int64 if dt == torch.float64 else torch.int32),
                                                   want.view(torch.int64 if dt == torch.float64 else torch.int32)), (dt, r)
    assert not numpy_path(x, f, Rounding.STOCHASTIC)


def test_eval_reuses_the_quantized_weight_until_a_tensor_of_the_layer_changes():
    q = quantize_model(nn.Sequential(nn.Linear(64, 8)), "nvfp4", None, granularity="per-block")[0]
    q.eval()
    with torch.no_grad():
        a = q.quantized_weight()
        assert q.quantized_weight() is a                   # reused: no tensor changed
        q.weight[0, 0] += 1.0                              # an in-place change (as an optimizer step makes)
        b = q.quantized_weight()
    assert b is not a and not torch.equal(a, b)
    fresh = quantize_model(nn.Sequential(nn.Linear(64, 8)), "nvfp4", None, granularity="per-block")[0]
    fresh.load_state_dict(q.state_dict())
    assert torch.equal(b, fresh.quantized_weight().detach())   # the kept weight is the one training computes
    q.train()
    assert q.quantized_weight() is not b and q.__dict__["_wq_cache"] is None
