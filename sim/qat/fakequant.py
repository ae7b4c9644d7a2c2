"""The fused fake quantizer ``y = s * Q(clamp(x / s, lo, hi))`` of a scalar format, one autograd node.

Forward value: bit for bit that of ``formats.torch.quantize`` on the clamped,
scaled tensor, times ``s`` (the unfused chain of :mod:`sim.qat.quant` before).
Backward: the straight-through estimator for ``x`` (the gradient passes where
``lo <= x / s <= hi``) and the LSQ gradient for ``s``: per element
``Q(x/s) - x/s`` inside the range and ``Q(x/s)`` (``lo`` or ``hi``) outside,
summed over the elements that share the scale.  The forward saves exactly what
the backward needs (a 0/1 float mask and that per-element ``s``-gradient), so
the backward is one multiply for ``x`` and one dot product per scale for ``s``
instead of the dozen elementwise kernels of the unfused autograd chain.  The
gradients are the same real numbers as the unfused chain's; in float32 they
differ from it by roundings (``x``: the chain computed ``(g * s) / s``, here
``g`` itself; ``s``: another summation order).

An LSQ scale can be fused too: given the raw parameter ``v`` and the LSQ
gradient scale ``g``, the forward uses ``s = max(|v|, 1e-12)`` and the backward
returns ``dL/dv = g * sgn(v) * dL/ds`` (0 where ``|v| < 1e-12``), as
:class:`sim.qat.scaling.Scale` does with autograd.

``Q`` is picked once per format, rounding mode, dtype and device
(:func:`kernel`): float32 input to formats of <= 8 bits is one gather from
formats' own float32 quantize table; integer formats in the deterministic
modes rne/rtz/rup/rdn are ``torch.round``/``trunc``/``ceil``/``floor``, exact
on values already clamped into the format's range (plus ``+0``, which turns
their ``-0`` into ``+0``, the value of code 0); anything else calls
``formats.torch.quantize``.
"""
from __future__ import annotations

import math

import torch

from formats.rounding import Rounding, parse_rounding

__all__ = ["Kernel", "kernel", "FakeQuantFn", "TINY"]

TINY = 1e-12  # as sim.qat.scaling._TINY

_ROUND_OPS = {Rounding.RNE: torch.round, Rounding.RTZ: torch.trunc, Rounding.RUP: torch.ceil,
              Rounding.RDN: torch.floor}


class Kernel:
    """``Q`` of one scalar format for clamped input, ``q(y, seed)``, bit for bit formats' values.

    ``nan_check``: the format has no NaN, so NaN input must raise as
    ``formats.torch.quantize`` does (``q`` itself does not check);
    ``deterministic``: the same input always gives the same values (not
    stochastic rounding).
    """

    __slots__ = ("q", "nan_check", "deterministic", "fmt", "rounding")

    def __init__(self, q, fmt, rounding, nan_check=False, deterministic=True):
        self.q, self.fmt, self.rounding = q, fmt, rounding
        self.nan_check, self.deterministic = nan_check, deterministic

    def raise_nan(self, y):
        """Raise formats' own error for NaN in ``y`` (``formats.torch.quantize`` does the check)."""
        from formats import torch as ft

        ft.quantize(y, self.fmt, rounding=self.rounding)


def kernel(fmt, rounding: str, dtype: torch.dtype, device) -> Kernel:
    """The cheapest exact ``Q`` for values already clamped to ``fmt``'s range (see the module doc)."""
    from formats import torch as ft
    from formats.torch import tables

    mode = parse_rounding(rounding)
    if mode == Rounding.STOCHASTIC or dtype != torch.float32 or fmt.bits > 8:
        def generic(y, seed=0):
            return ft.quantize(y, fmt, rounding=rounding, seed=seed).to(y.dtype)

        return Kernel(generic, fmt, rounding, deterministic=mode != Rounding.STOCHASTIC)
    nan_code = fmt.nan_code
    nan_check = nan_code < 0
    if nan_check:
        nan_code = fmt._zero_code()
    if fmt.family == "integer" and mode in _ROUND_OPS:
        op = _ROUND_OPS[mode]
        return Kernel(lambda y, seed=0: op(y).add_(0.0), fmt, rounding, nan_check=nan_check)
    ovf = fmt._resolve_overflow(None)
    table = tables.f32_quantize_table(fmt, mode, ovf, nan_code, device, dtype)
    if table is None:
        def generic(y, seed=0):
            return ft.quantize(y, fmt, rounding=rounding, seed=seed).to(y.dtype)

        return Kernel(generic, fmt, rounding)

    def lookup(y, seed=0):
        return table.index_select(0, tables.f32_index(y)).view(y.shape)

    return Kernel(lookup, fmt, rounding, nan_check=nan_check)


def _reduce_to(t: torch.Tensor, g: torch.Tensor, shape) -> torch.Tensor:
    """``(g * t)`` summed down to ``shape`` (a scale's shape): one dot product per scale."""
    n = 1
    for d in shape:
        n *= d
    if n == 1:
        return torch.dot(g.reshape(-1), t.reshape(-1)).reshape(shape)
    if len(shape) == g.dim() and shape[0] == g.shape[0] and n == shape[0]:
        if g.dim() == 2:
            return torch.linalg.vecdot(g, t).unsqueeze(1)
        c = shape[0]
        return torch.linalg.vecdot(g.reshape(c, -1), t.reshape(c, -1)).reshape(shape)
    return (g * t).sum_to_size(shape)


class FakeQuantFn(torch.autograd.Function):
    """``s * Q(clamp(x / s, lo, hi))``, STE for ``x``, LSQ for ``s`` (see the module doc).

    ``apply(x, s, k, lo, hi, seed, lsq_g, keep)``: ``k`` a :class:`Kernel`; ``s``
    the scale (broadcast against ``x``), or with ``lsq_g`` not None the raw LSQ
    parameter ``v`` (``s = max(|v|, 1e-12)``, its gradient scaled by ``lsq_g``);
    ``keep``: None or a list that receives ``Q(clamp(x / s))`` (the values in
    the format's units, for reading codes without recomputing them).
    """

    @staticmethod
    def forward(ctx, x, s, k, lo, hi, seed, lsq_g, keep):
        v = s
        fac = None
        if lsq_g is not None:
            a = v.abs()
            s = a.clamp_min(TINY)
            if ctx.needs_input_grad[1]:
                # d s / d v = sgn(v) where |v| >= 1e-12 (clamp_min passes), else 0; times lsq_g
                fac = torch.copysign(torch.eq(s, a), v)
                if lsq_g != 1.0:
                    fac.mul_(lsq_g)
        y = x / s
        yc = y.clamp(lo, hi)
        if k.nan_check and math.isnan(yc.sum().item()):
            k.raise_nan(yc)
        q = k.q(yc, seed)
        out = q * s
        if keep is not None:
            keep.append(q)
        need_x, need_s = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        mask = r = None
        if need_x or need_s:
            mask = torch.eq(y, yc, out=torch.empty_like(y))  # 1.0 inside [lo, hi], 0.0 outside or NaN
        if need_s:
            r = torch.addcmul(q, y, mask, value=-1.0)  # Q - y inside, Q (= lo or hi) outside
        ctx.s_shape = s.shape
        ctx.save_for_backward(mask if need_x else None, r, fac)
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        mask, r, fac = ctx.saved_tensors
        gx = gs = None
        if mask is not None:
            gx = grad * mask
        if r is not None:
            gs = _reduce_to(r, grad, ctx.s_shape)
            if fac is not None:
                gs.mul_(fac)
        return gx, gs, None, None, None, None, None, None
