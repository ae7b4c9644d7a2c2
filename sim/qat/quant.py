"""Fake quantization for QAT: the STE function, quantized layers and model conversion.

One import for what :mod:`sim.qat.quantizer` (the straight-through estimator,
:class:`TensorQuantizer`) and :mod:`sim.qat.layers` (``QuantLinear``,
``QuantConv2d``, :func:`quantize_model`, :func:`calibrate`) define.

>>> import torch, torch.nn as nn
>>> from sim.qat.quant import quantize_model
>>> from sim.qat.export import export_model
>>> net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
>>> qnet = quantize_model(net, weight_format="int4", act_format="int4")
>>> layers = export_model(qnet)          # codes + scales per layer
"""
from __future__ import annotations

from .layers import QuantConv2d, QuantLinear, calibrate, quant_layers, quantize_model
from .quantizer import FakeQuantSTE, TensorQuantizer, fake_quantize, is_block_format

__all__ = ["FakeQuantSTE", "fake_quantize", "TensorQuantizer", "QuantLinear", "QuantConv2d",
           "quantize_model", "quant_layers", "calibrate", "is_block_format"]
