"""A learnable per-channel post-scale after each quantized layer (the BatchNorm stand-in of the TR study).

Lee et al. (arXiv 2404.19248) put BatchNorm after every quantized layer, which
absorbs a frozen weight scale: under TR scheduling the weight quantizers' scales
are fixed, and the BN's per-channel gain is what still rescales a layer's output.
The MLP and CNN here have no BN, so :func:`add_post_scales` gives each quantized
layer a learnable per-output-channel gain ``g`` (``y <- g * y``, ``g`` initialised
to 1: the reference's function is unchanged at the start).  It is an ordinary
parameter of the layer (``layer.post_scale``), trained by the LR / the "other"
parameter group of TR like biases and activation scales.
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["add_post_scales", "post_scaled_layers"]


def _apply(module, inputs, out):
    g = module.post_scale
    if isinstance(module, nn.Linear):      # channels last
        return out * g
    return out * g.view((-1,) + (1,) * (out.dim() - 2))   # convolutions: channels on axis 1


def add_post_scales(layers) -> list[str]:
    """Give each ``(name, layer)`` (Linear / Conv2d outputs: channel axis 1 or last) a gain ``post_scale``
    of ones; returns the names.  A layer that already has one is an error."""
    names = []
    for name, m in layers:
        if hasattr(m, "post_scale"):
            raise ValueError(f"layer {name!r} already has a post_scale")
        n_out = m.weight.shape[0]
        m.post_scale = nn.Parameter(torch.ones(n_out, device=m.weight.device, dtype=m.weight.dtype))
        m.register_forward_hook(_apply)
        names.append(name)
    return names


def post_scaled_layers(model: nn.Module) -> list[str]:
    """Names of the modules of ``model`` that carry a post-scale."""
    return [n for n, m in model.named_modules() if isinstance(getattr(m, "post_scale", None), nn.Parameter)]
