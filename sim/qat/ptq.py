"""Post-training quantization of a converged FP32 reference, and the quantized model both methods start from.

:func:`prepare` turns a reference (:mod:`sim.qat.reference`) into a fake-quantized
model the way an inference engine would run it:

* **weights**: every layer of :meth:`Workload.quantizable` (minus its
  :meth:`~Workload.edge_layers` when ``quantize_first_last`` is false) gets the
  weight format, with MSE-optimal scales per tensor or per output channel
  (:func:`sim.qat.scaling.mse_scale`; for posits its wide search), or the format's own
  block scales;
* **activations**: each such layer's input gets the activation format with one
  per-tensor scale, MSE-optimal over that layer's inputs on the workload's
  calibration split (held out from training), captured from the FP32 reference
  (the search reads at most 65536 of them, evenly strided);
* **unsigned activations** (``unsigned_acts="auto"``): a layer whose calibration
  inputs are all >= 0 (after a ReLU, or image pixels) takes the unsigned variant
  of the activation format from :func:`unsigned_variant` (``int4 -> uint4``,
  ``fp4_e2m1 -> ufp4_e2m2``: the sign bit becomes a mantissa bit, same exponent
  range), so a 4-bit activation really has 16 levels.  Formats without an unsigned
  variant (posits, codebooks; MX and NVFP4, whose specifications define signed
  elements) stay signed.  ``"off"`` keeps every layer signed.  The choice is
  recorded per layer.
* **rotation** (``rotation="hadamard"`` or ``"hadamard:B"``): each quantized layer's
  input and weight are rotated along the reduction axis before their quantizers
  (:mod:`sim.qat.rotation`); calibration and the unsigned check see the rotated input
  (a rotated ReLU output is signed).  The rotated layers and their blocks are recorded.

:func:`ptq` then measures the metric of that model: no training, deterministic
(``rne`` is deterministic; ``stochastic`` rounding draws the weights' rounding once
from the seed, and activations round to nearest at inference).
"""
from __future__ import annotations

import dataclasses
import time

import torch
from torch import nn

import formats

from .quant import TensorQuantizer, is_block_format, quant_layers, quantize_model
from .quantizer import check_act_format
from .reference import Reference

__all__ = ["unsigned_variant", "prepare", "ptq", "capture_inputs", "layer_costs", "UNSIGNED_ACTS"]

UNSIGNED_ACTS = ("auto", "off")


def unsigned_variant(fmt):
    """The unsigned counterpart of a signed scalar format with the same bit width, or None.

    ``intN -> uintN``; an ExMy minifloat (``ieee``, ``fn``, ``none`` conventions) ->
    the unsigned Ex(M+1) with the same bias and convention.  None for posits,
    codebooks, block formats, ``fnuz`` minifloats and formats already unsigned.
    """
    fmt = formats.get(fmt)
    if is_block_format(fmt) or not getattr(fmt, "signed", False):
        return None
    if isinstance(fmt, formats.Integer):
        return formats.get(f"uint{fmt.bits}")
    if isinstance(fmt, formats.Minifloat) and fmt.special != "fnuz" and fmt.mbits < 23:
        return formats.Minifloat(fmt.ebits, fmt.mbits + 1, bias=fmt.bias, special=fmt.special,
                                 subnormals=fmt.subnormals, signed=False, zero=fmt.zero)
    return None


@torch.no_grad()
def capture_inputs(net: nn.Module, names, batches) -> dict:
    """The inputs each layer of ``names`` sees over ``batches`` (eval mode), concatenated on axis 0."""
    seen = {n: [] for n in names}
    mods = dict(net.named_modules())
    handles = [mods[n].register_forward_hook(lambda m, i, o, n=n: seen[n].append(i[0].detach()))
               for n in names]
    was = net.training
    net.eval()
    try:
        for x, _ in batches:
            net(x)
    finally:
        for h in handles:
            h.remove()
        net.train(was)
    return {n: torch.cat(v) for n, v in seen.items()}


@dataclasses.dataclass
class Prepared:
    """A quantized model and what was chosen for it."""

    model: nn.Module
    record: dict


def prepare(w, ref: Reference, weights=None, acts=None, rounding: str = "rne", granularity: str = "per-channel",
            quantize_first_last: bool = True, unsigned_acts: str = "auto", weight_scale: str = "fixed",
            act_scale: str = "fixed", seed: int = 0, rotation: str = "none") -> Prepared:
    """The reference's model with quantized weights and calibrated quantized activations (see module doc)."""
    if unsigned_acts not in UNSIGNED_ACTS:
        raise ValueError(f"unsigned_acts = {unsigned_acts!r} is not allowed; allowed: {', '.join(UNSIGNED_ACTS)}")
    check_act_format(acts)
    net = ref.model(w)
    names = w.quantizable(net)
    kept = [] if quantize_first_last else [n for n in w.edge_layers(net) if n in names]
    names = [n for n in names if n not in kept]
    captured = capture_inputs(net, names, w.calibration_batches()) if acts is not None else {}
    if weights is not None or acts is not None:
        net = quantize_model(net, weights, None, rounding=rounding, granularity=granularity,
                             weight_scale=weight_scale, seed=seed, inplace=True, layers=names,
                             wide_scales=_tapered(weights), rotation=rotation)
    act_formats = {}
    if acts is not None:
        afmt = formats.get(acts)
        ufmt = unsigned_variant(afmt) if unsigned_acts == "auto" else None
        mods = dict(net.named_modules())
        for i, n in enumerate(names):
            layer = mods[n]
            x = layer.rotated_input(captured[n])
            fmt = ufmt if (ufmt is not None and bool((x >= 0).all())) else afmt
            tq = TensorQuantizer(fmt, rounding, act_scale, per_channel=False,
                                 block_axis=-1 if isinstance(layer, nn.Linear) else 1,
                                 seed=(int(seed) * 7919 + 2 * i + 1) & 0xFFFFFFFF)
            tq.initialize(_sample(x), wide=_tapered(fmt))
            layer.act_quant = tq
            act_formats[n] = fmt.name
    if formats.parse_rounding(rounding) == formats.Rounding.STOCHASTIC and weights is not None:
        _bake_weights(net)
    net.eval()
    record = {"weight_layers": names if weights is not None else [], "fp32_layers": kept,
              "act_formats": act_formats, "fp32_tensors": w.fp32_tensors(),
              "rotated_layers": {n: m.rotation.block for n, m in quant_layers(net) if m.rotation is not None},
              "acts_unsigned": sorted({f for f in act_formats.values() if f != (acts and formats.get(acts).name)}),
              "calibration": f"{w.name} calib split, per-tensor MSE scale per layer input"}
    return Prepared(net, record)


CALIB_SAMPLE = 1 << 16


def _tapered(fmt) -> bool:
    """Posits and takums: their precision peaks near 1, far below their max, so the scale search also
    maps ``amax`` below the max (``wide``); other formats gain nothing from that."""
    return fmt is not None and isinstance(formats.get(fmt), (formats.Posit, formats.Takum))


def _sample(x: torch.Tensor) -> torch.Tensor:
    """The scale search's input: ``x`` itself when it has at most :data:`CALIB_SAMPLE`
    elements, else a fixed-seed uniform sample of ``CALIB_SAMPLE - 1`` of them plus the one
    of largest magnitude (so the search's grid reaches the true ``amax``).  A strided sample
    is not used: its stride aliases with the tensor's layout (tinylm's 16 x 128 x 160 inputs
    at stride 5 saw only every 5th of the 160 channels and missed the outlier channels,
    which cost int8 activations 0.22 bits per byte)."""
    flat = x.reshape(-1)
    if flat.numel() <= CALIB_SAMPLE:
        return flat
    g = torch.Generator().manual_seed(0x5EED)
    idx = torch.randint(flat.numel(), (CALIB_SAMPLE - 1,), generator=g)
    return torch.cat([flat[idx], flat[flat.abs().argmax()].reshape(1)])


@torch.no_grad()
def _bake_weights(net):
    """Draw the stochastic rounding of every weight once (seeded): the deployed weights."""
    for _, m in quant_layers(net):
        if m.weight_quant is not None:
            m.weight_quant.train()
            m.weight.copy_(m.weight_quant(m.weight))


@torch.no_grad()
def layer_costs(w, net: nn.Module | None = None) -> tuple[int, list[int]]:
    """(MACs of one inference, input elements of every quantizable layer in forward order).

    Counted on ``w.example()`` (batch of 1) through the layers of :meth:`Workload.quantizable`;
    for ``tinylm`` one inference is one window of ``ctx`` bytes, and the attention score
    products (activation x activation, FP32) are not counted.
    """
    net = net if net is not None else w.build()
    names = w.quantizable(net)
    mods = dict(net.named_modules())
    macs, sizes = [0], []

    def hook(m, inp, out):
        sizes.append(int(inp[0].numel()))
        if isinstance(m, nn.Linear):
            macs[0] += m.in_features * m.out_features * (out.numel() // out.shape[-1])
        else:
            kh, kw = m.kernel_size
            macs[0] += out.numel() * (m.in_channels // m.groups) * kh * kw

    handles = [mods[n].register_forward_hook(hook) for n in names]
    was = net.training
    net.eval()
    try:
        net(w.example())
    finally:
        for h in handles:
            h.remove()
        net.train(was)
    return int(macs[0]), sizes


def ptq(w, ref: Reference, **kw) -> dict:
    """Quantize ``ref`` (keywords of :func:`prepare`) and measure the workload's metric; no training."""
    t0 = time.perf_counter()
    p = prepare(w, ref, **kw)
    metric = w.evaluate(p.model)
    return {"metric": metric, "model": p.model, "record": p.record, "seconds": time.perf_counter() - t0}
