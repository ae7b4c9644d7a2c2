"""Export of a trained quantized model: each layer as ``formats`` codes plus scales.

For a layer with a scalar weight format the stored weight is
``decode(weight_codes) * weight_scale`` (scale per tensor or per output
channel, float32, broadcastable against the weight).  For a block format the
codes are in block layout (the block axis last: ``(O, I)`` for Linear,
``(O, kh, kw, C)`` for Conv2d, zero-padded to whole blocks), with the block scale codes (and NVFP4's
per-tensor scale) beside them.  :meth:`ExportedLayer.weight` rebuilds the float
weight in torch layout through ``formats`` (NumPy), which is what sim/mac and
rtl/ run; it equals the weight the quantized torch layer computes with.

>>> layers = export_model(qmodel)
>>> layers[0].weight_codes.dtype, layers[0].weight_scale.shape
(dtype('uint8'), (128, 1))
"""
from __future__ import annotations

import dataclasses

import numpy as np
import torch

import formats

from .quant import QuantConv2d, quant_layers

__all__ = ["ExportedLayer", "export_model"]


@dataclasses.dataclass
class ExportedLayer:
    """One quantized Linear or Conv2d layer, as codes and scales."""

    name: str
    kind: str                                 # "linear" or "conv2d"
    weight_shape: tuple                       # torch layout
    weight_format: str | None                 # None: FP32 weights in ``weight_float``
    weight_codes: np.ndarray | None           # unsigned codes (block layout for block formats)
    weight_scale: np.ndarray | None           # float32, broadcastable (scalar formats)
    block_scales: np.ndarray | None = None    # scale codes per block (block formats)
    tensor_scale: float | None = None         # NVFP4's float32 per-tensor scale
    weight_float: np.ndarray | None = None    # FP32 weights of an unquantized-weight layer
    act_format: str | None = None
    act_scale: float | None = None            # the input is quantized as act_scale * Q(x / act_scale)
    bias: np.ndarray | None = None            # float32
    conv: dict | None = None                  # stride, padding, dilation, groups

    def weight(self) -> np.ndarray:
        """The layer's quantized weight as float32 in torch layout, decoded by ``formats``."""
        if self.weight_format is None:
            return self.weight_float
        fmt = formats.get(self.weight_format)
        if self.weight_scale is not None:
            w = fmt.decode(self.weight_codes) * self.weight_scale.astype(np.float64)
            return w.astype(np.float32)
        w = _decode_blocks(fmt, self.weight_codes, self.block_scales, self.tensor_scale)
        k = self.weight_shape[1] if self.kind == "conv2d" else self.weight_shape[-1]
        w = w[..., :k].astype(np.float32)  # drop the zero padding of the last block
        return np.moveaxis(w, -1, 1) if self.kind == "conv2d" else w


def _decode_blocks(fmt, codes, scales, tensor_scale):
    """The block format's own decode of (element codes, scale codes, tensor scale), float64."""
    from formats.block import BlockCodes

    return np.asarray(fmt.decode(BlockCodes(codes, scales, tensor_scale, fmt.name)), dtype=np.float64)


def _np_codes(codes: torch.Tensor, fmt) -> np.ndarray:
    return codes.detach().cpu().numpy().astype(fmt.code_dtype)


@torch.no_grad()
def export_model(model: torch.nn.Module) -> list[ExportedLayer]:
    """Every QuantLinear/QuantConv2d of ``model`` (in module order) as an :class:`ExportedLayer`."""
    out = []
    was = model.training
    model.eval()
    try:
        for name, m in quant_layers(model):
            conv = None
            if isinstance(m, QuantConv2d):
                conv = {"stride": tuple(m.stride), "padding": m.padding if isinstance(m.padding, str)
                        else tuple(m.padding), "dilation": tuple(m.dilation), "groups": m.groups}
            rec = ExportedLayer(
                name=name, kind="conv2d" if conv else "linear", weight_shape=tuple(m.weight.shape),
                weight_format=None, weight_codes=None, weight_scale=None,
                bias=None if m.bias is None else m.bias.detach().cpu().numpy().astype(np.float32),
                conv=conv)
            wq = m.weight_quant
            if wq is None:
                rec.weight_float = m.weight.detach().cpu().numpy().astype(np.float32)
            else:
                rec.weight_format = wq.fmt.name
                codes = wq.codes(m.weight)
                if wq.block:
                    rec.weight_codes = _np_codes(codes[0], wq.fmt.element)
                    rec.block_scales = _np_codes(codes[1], wq.fmt.scale_format)
                    if len(codes) > 2:
                        rec.tensor_scale = float(codes[2])
                else:
                    rec.weight_codes = _np_codes(codes, wq.fmt)
                    rec.weight_scale = wq.scale_value(m.weight).detach().cpu().numpy().astype(np.float32)
            aq = m.act_quant
            if aq is not None:
                rec.act_format = aq.fmt.name
                if aq.scale is not None and aq.scale.mode != "max" and aq.scale.is_initialized:
                    rec.act_scale = float(aq.scale_value())
            out.append(rec)
    finally:
        model.train(was)
    return out
