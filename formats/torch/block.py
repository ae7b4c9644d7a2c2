"""Block formats (OCP MX, NVFP4) in vectorised torch ops.

Mirrors :mod:`formats.mx` and :mod:`formats.nvfp4` (the rules, edge cases and
the NVFP4 recipe are documented there): blocks run along the last axis, the
per-block scale comes from the block's largest magnitude (read from its bits
for MX, one float64 division for NVFP4), and each element is encoded by the
scalar element encoder of :mod:`.scalar` on the exactly scaled float64 value,
saturating, with stochastic draws indexed by the element's C-order flat index
(plus ``offset``).  Values are ``element * scale [* tensor scale]`` computed in
float64 and cast once to the input's dtype, as formats decodes them.
"""
from __future__ import annotations

import numpy as np
import torch

from ..rounding import Overflow, Rounding, check_seed, parse_rounding
from . import scalar
from .bits import as_float_tensor, split
from .stochastic import draw32
from .tables import value_table

__all__ = ["quantize_blocks"]

_MASK52 = (1 << 52) - 1
_SIGN = -(1 << 63)


def _encode_elements(elem, y, mode, draw):
    """Saturating element codes of the float64 tensor ``y`` (encode_element of formats.block)."""
    nan_code = max(elem.nan_code, 0)
    if elem.family == "fixed":
        return scalar.encode_fixed(elem, y, mode, Overflow.SATURATE, nan_code, draw)
    return scalar.encode_minifloat(elem, y, mode, Overflow.SATURATE, nan_code, draw)


def _frac52(s):
    """The 52 fraction bits of the normalised significand (``formats.block.scaled_bits``)."""
    return (s.sig << (52 - (s.ex - s.lsb)).clamp(0, 63)) & _MASK52


def _mx_codes(f, xb, mode, draw):
    s = split(xb)
    special = (s.nan | s.inf).any(dim=-1)
    amax = xb.abs().to(torch.float64).amax(dim=-1)
    a = split(amax)
    sf = f.scale_format
    sh = a.ex - f.emax_elem
    if f.scale_rule == "rceil":
        max_frac = int(np.float64(f.element.max).view(np.uint64)) & _MASK52
        sh = sh + (_frac52(a) > max_frac).to(torch.int64)
    sh = sh.clamp(sf.emin, sf.emax)
    sh = torch.where(amax != 0, sh, torch.full_like(sh, sf.emin))
    scodes = torch.where(special, torch.full_like(sh, sf.nan_code), sh + sf.bias)
    # x / 2**s exactly as float64 bits; below 2**-1022 a same-sign proxy in [2**-1022, 2**-1021)
    e2 = (s.ex - sh.unsqueeze(-1)).clamp(min=-1022)
    bits = ((e2 + 1023) << 52) | _frac52(s)
    bits = torch.where(s.zero, torch.zeros_like(bits), bits)
    bits = torch.where(s.neg, bits | _SIGN, bits)
    bits = torch.where(s.nan | s.inf, torch.zeros_like(bits), bits)
    ecodes = _encode_elements(f.element, bits.view(torch.float64), mode, draw)
    ecodes = torch.where(special.unsqueeze(-1), torch.zeros_like(ecodes), ecodes)
    return ecodes, scodes, None


def _nvfp4_codes(f, xb, mode, draw, tensor_scale):
    from ..nvfp4 import tensor_scale_for

    if not bool(torch.isfinite(xb).all()):
        flat = xb.reshape(-1)
        where = int((~torch.isfinite(flat)).nonzero()[0, 0])
        raise ValueError(f"{f.name} cannot encode NaN or Inf (input holds {float(flat[where])} at flat index {where})")
    ax = xb.abs().to(torch.float64)
    if tensor_scale is None:
        amax_t = float(ax.max()) if ax.numel() else 0.0
        S = tensor_scale_for(amax_t, f.tensor_scale_divisor)
    else:
        S = f._check_tensor_scale(tensor_scale)
    S = float(S)
    den = f.element.max * S
    sf = f.scale_format
    scodes = scalar.encode_minifloat(sf, ax.amax(dim=-1) / den, Rounding.RNE, Overflow.SATURATE,
                                     max(sf.nan_code, 0))
    d = value_table(sf, xb.device, torch.float64)[scodes] * S
    x64 = xb.to(torch.float64)
    q = x64 / d.unsqueeze(-1)
    tiny = torch.full_like(q, 5e-324)  # a nonzero quotient that underflows counts as ±2**-1074
    q = torch.where((q == 0) & (x64 != 0), torch.where(x64 < 0, -tiny, tiny), q)
    dead = (d == 0).unsqueeze(-1)
    q = torch.where(dead, torch.zeros_like(q), q)
    ecodes = _encode_elements(f.element, q, mode, draw)
    ecodes = torch.where(dead, torch.zeros_like(ecodes), ecodes)
    return ecodes, scodes, S


def _via_numpy(f, x, out_dtype, rounding, overflow, seed, offset, tensor_scale):
    """Formats without a torch mirror (generic :class:`~formats.scaled.BlockScaled`, MX rules other
    than floor/rceil): the NumPy encoder on a CPU copy (same codes by definition)."""
    if offset:
        raise ValueError(f"{f.name}: a nonzero stochastic offset needs a torch-mirrored block format "
                         f"(MX floor/rceil, nvfp4); got offset={offset}")
    xc = x.detach().to("cpu")
    arr = xc.numpy() if xc.dtype in (torch.float32, torch.float64) else xc.to(torch.float32).numpy()
    kw = {} if tensor_scale is None else {"tensor_scale": tensor_scale}
    codes = f.encode(arr, rounding=rounding, overflow=overflow, seed=seed, **kw)
    values = torch.from_numpy(f.decode(codes)).to(device=x.device, dtype=out_dtype)
    out = (values, torch.from_numpy(codes.elements.astype(np.int32)).to(x.device),
           torch.from_numpy(codes.scales.astype(np.int32)).to(x.device))
    if codes.tensor_scale is not None:
        out = out + (torch.tensor(float(codes.tensor_scale), dtype=torch.float32, device=x.device),)
    return out


def quantize_blocks(f, x, rounding="rne", overflow=None, seed=0, offset=0, tensor_scale=None):
    """``(values, element_codes, scales[, tensor_scale])`` of ``x`` in the block format ``f``."""
    from ..mx import MX
    from ..nvfp4 import NVFP4

    if not (isinstance(f, NVFP4) or (isinstance(f, MX) and f.scale_rule in ("floor", "rceil"))):
        out_dtype = x.dtype if isinstance(x, torch.Tensor) and x.dtype.is_floating_point else torch.float64
        return _via_numpy(f, as_float_tensor(x, f.name), out_dtype, rounding, overflow, seed, offset, tensor_scale)
    out_dtype = x.dtype if isinstance(x, torch.Tensor) and x.dtype.is_floating_point else torch.float64
    x = as_float_tensor(x, f.name)
    if x.dim() == 0:
        raise ValueError(f"{f.name}: input must have at least one dimension (blocks run along the last axis)")
    k = x.shape[-1]
    if k % f.block:
        raise ValueError(
            f"{f.name}: last axis has length {k}, which is not a multiple of the block size "
            f"{f.block}; pad it with zeros to a multiple of {f.block}"
        )
    mode = parse_rounding(rounding)
    f.check_overflow(overflow)
    seed = check_seed(seed)
    nvfp4 = f.family == "nvfp4" or hasattr(f, "tensor_scale_divisor")
    if tensor_scale is not None and not nvfp4:
        raise TypeError(f"{f.name} has no tensor scale; tensor_scale applies to nvfp4 only")
    xb = x.reshape(-1, f.block)
    draw = None
    if mode == Rounding.STOCHASTIC:
        draw = draw32(seed, x.numel(), offset, x.device).reshape(xb.shape)
    if nvfp4:
        ecodes, scodes, S = _nvfp4_codes(f, xb, mode, draw, tensor_scale)
    else:
        ecodes, scodes, S = _mx_codes(f, xb, mode, draw)
    ev = value_table(f.element, x.device, torch.float64)[ecodes]
    sv = value_table(f.scale_format, x.device, torch.float64)[scodes]
    values = ev * sv.unsqueeze(-1) * (1.0 if S is None else S)
    scale_shape = x.shape[:-1] + (k // f.block,)
    out = (values.reshape(x.shape).to(out_dtype), ecodes.reshape(x.shape).to(torch.int32),
           scodes.reshape(scale_shape).to(torch.int32))
    if nvfp4:
        out = out + (torch.tensor(S, dtype=torch.float32, device=x.device),)
    return out
