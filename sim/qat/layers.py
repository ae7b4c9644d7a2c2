"""Quantized layers and model conversion: ``QuantLinear``, ``QuantConv2d``,
:func:`quantize_model` (swap a model's Linear/Conv2d layers), :func:`calibrate`.

Each layer quantizes its weight and its input with a
:class:`sim.qat.quantizer.TensorQuantizer`; re-exported by :mod:`sim.qat.quant`.
"""
from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn import functional as F

import formats
from formats.rounding import parse_rounding

from .quantizer import TensorQuantizer, check_act_format, is_block_format
from .rotation import LayerRotation, layer_block, parse_rotation
from .scaling import GRANULARITIES

__all__ = ["QuantLinear", "QuantConv2d", "quantize_model", "quant_layers", "calibrate"]


class _QuantMixin:
    """Weight and input quantizers shared by QuantLinear and QuantConv2d."""

    def _setup_quant(self, weight_format, act_format, rounding, granularity, weight_scale,
                     act_scale, pow2, seed, wide, rotation, block_axis):
        if granularity not in GRANULARITIES:
            raise ValueError(f"unknown granularity {granularity!r}; allowed: {', '.join(GRANULARITIES)}")
        self.granularity = granularity
        self.weight_quant = None
        self.act_quant = None
        self.rotation = None
        if rotation is not None:
            length, groups = self.weight.shape[1], getattr(self, "groups", 1)
            b = layer_block(length, parse_rotation(rotation)) if groups == 1 else 1
            if b > 1:
                self.rotation = LayerRotation(b, seed).to(self.weight.device)
        if weight_format is not None:
            wf = formats.get(weight_format)
            if granularity == "per-block" and not is_block_format(wf):
                raise ValueError(f"granularity 'per-block' needs a block format (MX, NVFP4); "
                                 f"{wf.name} is a scalar format: use per-tensor or per-channel")
            self.weight_quant = TensorQuantizer(
                wf, rounding, weight_scale, per_channel=granularity == "per-channel", pow2=pow2,
                block_axis=block_axis, seed=seed)
            self.weight_quant.keep_codes = True
            with torch.no_grad():
                self.weight_quant.initialize(self.rotated_weight(), wide=wide)
        if act_format is not None:
            check_act_format(act_format)
            self.act_quant = TensorQuantizer(act_format, rounding, act_scale, per_channel=False,
                                             pow2=pow2, block_axis=block_axis, seed=seed + 1)

    def rotated_weight(self) -> torch.Tensor:
        """The latent weight times ``R^-T`` along the reduction axis (itself without a rotation)."""
        rot = self._modules.get("rotation")
        w = self._parameters["weight"]
        return w if rot is None else rot.invert_t(w, 1)

    def rotated_input(self, x: torch.Tensor) -> torch.Tensor:
        """The input times ``R`` along the reduction axis (itself without a rotation)."""
        rot = self._modules.get("rotation")
        return x if rot is None else rot.apply(x, -1 if isinstance(self, nn.Linear) else 1)

    def quantized_weight(self) -> torch.Tensor:
        """The weight the forward pass uses (the latent weight when weights are FP32), rotated if the layer is.

        In evaluation (module in eval mode, no autograd) the quantized weight is kept and reused
        while no tensor of the layer has changed (PTQ and validation passes quantize each weight
        once instead of once per batch); training always quantizes afresh."""
        w = self.rotated_weight()
        if self.weight_quant is None:
            return w
        if self.training or torch.is_grad_enabled():
            self._wq_cache = None
            return self.weight_quant(w)
        key = (self.weight_quant.training, *((t.data_ptr(), t._version) for t in self.parameters()),
               *((t.data_ptr(), t._version) for t in self.buffers()))
        hit = self.__dict__.get("_wq_cache")
        if hit is not None and hit[0] == key:
            return hit[1]
        q = self.weight_quant(w)
        self.__dict__["_wq_cache"] = (key, q)
        return q

    def quantized_input(self, x: torch.Tensor) -> torch.Tensor:
        x = self.rotated_input(x)
        return x if self.act_quant is None else self.act_quant(x)

    def weight_codes(self):
        """Codes of the current (rotated) weight (see :meth:`TensorQuantizer.codes`)."""
        if self.weight_quant is None:
            raise ValueError("this layer's weights are not quantized; it has no codes")
        return self.weight_quant.codes(self.rotated_weight())

    def weight_code_key(self):
        """What TR compares between steps: equal exactly where :meth:`weight_codes` is equal, but cheap
        (see :meth:`TensorQuantizer.code_key`)."""
        wq = self._modules.get("weight_quant")   # (read at every TR step: no Module.__getattr__)
        if wq is None:
            raise ValueError("this layer's weights are not quantized; it has no codes")
        return wq.code_key(self.rotated_weight())


class QuantLinear(_QuantMixin, nn.Linear):
    """nn.Linear whose weight and input pass through fake quantizers.

    Quantization keywords as in :func:`quantize_model`; blocks run along the input features.
    """

    def __init__(self, in_features, out_features, bias=True, *, device=None, dtype=None, **quant):
        super().__init__(in_features, out_features, bias, device=device, dtype=dtype)
        self._setup_quant(*_args(quant), block_axis=-1)

    def forward(self, x):
        return F.linear(self.quantized_input(x), self.quantized_weight(), self.bias)

    @classmethod
    def from_float(cls, m: nn.Linear, **quant) -> "QuantLinear":
        q = cls(m.in_features, m.out_features, m.bias is not None, device=m.weight.device,
                dtype=m.weight.dtype)
        q.load_state_dict(m.state_dict())
        q._setup_quant(*_args(quant), block_axis=-1)
        return q


class QuantConv2d(_QuantMixin, nn.Conv2d):
    """nn.Conv2d whose weight and input pass through fake quantizers (blocks along channels)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", *, device=None, dtype=None, **quant):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, device=device, dtype=dtype)
        self._setup_quant(*_args(quant), block_axis=1)

    def forward(self, x):
        return self._conv_forward(self.quantized_input(x), self.quantized_weight(), self.bias)

    @classmethod
    def from_float(cls, m: nn.Conv2d, **quant) -> "QuantConv2d":
        q = cls(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, m.dilation,
                m.groups, m.bias is not None, m.padding_mode, device=m.weight.device,
                dtype=m.weight.dtype)
        q.load_state_dict(m.state_dict())
        q._setup_quant(*_args(quant), block_axis=1)
        return q


def _args(kw):
    return (kw.get("weight_format"), kw.get("act_format"), kw.get("rounding", "rne"),
            kw.get("granularity", "per-channel"), kw.get("weight_scale", "lsq"),
            kw.get("act_scale", "lsq"), kw.get("pow2", False), kw.get("seed", 0), kw.get("wide", False),
            kw.get("rotation"))


def quant_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """(name, layer) of every QuantLinear/QuantConv2d, in module order."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, (QuantLinear, QuantConv2d))]


def quantize_model(model: nn.Module, weight_format=None, act_format=None, rounding: str = "rne",
                   granularity: str = "per-channel", quantize_first_last: bool = True,
                   weight_scale: str = "lsq", act_scale: str = "lsq", pow2: bool = False,
                   seed: int = 0, inplace: bool = False, layers=None, wide_scales: bool = False,
                   rotation: str | None = None) -> nn.Module:
    """Swap every nn.Linear / nn.Conv2d of ``model`` (or the ones named in ``layers``) for its
    quantized version.

    ``weight_format`` / ``act_format``: format names or objects (None keeps FP32).
    ``granularity``: ``per-tensor``/``per-channel`` weight scales (scalar formats),
    ``per-block`` (block formats, which always scale per block).  With
    ``quantize_first_last=False`` the first and the last such layer stay FP32
    modules.  ``weight_scale``: ``lsq`` (learned), ``fixed`` (set now, frozen),
    ``max``.  Activation scales start from the first batch (see :func:`calibrate`).
    ``wide_scales``: the weight scales' MSE search also maps ``amax`` below the format's
    max (see :func:`sim.qat.scaling.mse_scale`).  ``rotation``: ``"none"``, ``"hadamard"``
    or ``"hadamard:B"``: a seeded Hadamard rotation of input and weight along the reduction
    axis before their quantizers (:mod:`sim.qat.rotation`; the unquantized product is unchanged).
    Returns the converted model (a deep copy unless ``inplace``).
    """
    for f in (weight_format, act_format):
        if f is not None:
            formats.get(f)  # KeyError for unknown names, now rather than later
    if granularity not in GRANULARITIES:
        raise ValueError(f"unknown granularity {granularity!r}; allowed: {', '.join(GRANULARITIES)}")
    rounding = parse_rounding(rounding)   # the edge: a Rounding is passed down
    parse_rotation(rotation)              # ValueError for a bad value, now
    if not inplace:
        model = copy.deepcopy(model)
    targets = [(n, m) for n, m in model.named_modules()
               if type(m) in (nn.Linear, nn.Conv2d)]
    if layers is not None:
        wanted = list(layers)
        found = {n for n, _ in targets}
        bad = [n for n in wanted if n not in found]
        if bad:
            raise ValueError(f"layers {bad} are not nn.Linear/nn.Conv2d layers of the model; "
                             f"allowed: {', '.join(sorted(found))}")
        targets = [(n, m) for n, m in targets if n in set(wanted)]
    if not quantize_first_last and targets:
        targets = targets[1:-1]
    for i, (name, m) in enumerate(targets):
        kw = dict(weight_format=weight_format, act_format=act_format, rounding=rounding,
                  granularity=granularity, weight_scale=weight_scale, act_scale=act_scale,
                  pow2=pow2, seed=(int(seed) * 7919 + 2 * i) & 0xFFFFFFFF, wide=wide_scales,
                  rotation=None if rotation in (None, "none") else rotation)
        new = (QuantLinear if isinstance(m, nn.Linear) else QuantConv2d).from_float(m, **kw)
        new.train(m.training)
        parent, _, leaf = name.rpartition(".")
        setattr(model.get_submodule(parent) if parent else model, leaf, new)
    return model


@torch.no_grad()
def calibrate(model: nn.Module, x: torch.Tensor) -> None:
    """Run one batch so every activation quantizer sets its initial scale."""
    was = model.training
    model.train()
    model(x)
    model.train(was)
