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
