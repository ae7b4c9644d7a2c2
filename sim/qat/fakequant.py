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

On the CPU those two kinds of ``Q`` also run fused (:func:`fused_cpu`): for a
contiguous float32 tensor the whole forward (divide, clamp, NaN check, ``Q``,
rescale, mask, LSQ residual) is two Numba passes over the tensor's own memory
instead of about fifteen torch kernels, with the same float32 operations in the
same order, so the same bits.  CUDA tensors, other dtypes and scale layouts run
the torch ops; ``FUSED_CPU = False`` forces them everywhere.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from numba import njit

from formats.base import f32_table_index
from formats.rounding import Rounding, parse_rounding

__all__ = ["Kernel", "kernel", "FakeQuantFn", "fake_quant_ops", "fused_cpu", "TINY", "FUSED_CPU"]

TINY = 1e-12  # as sim.qat.scaling._TINY

_ROUND_OPS = {Rounding.RNE: torch.round, Rounding.RTZ: torch.trunc, Rounding.RUP: torch.ceil,
              Rounding.RDN: torch.floor}
_ROUND_CODES = {Rounding.RNE: 0, Rounding.RTZ: 1, Rounding.RUP: 2, Rounding.RDN: 3}  # of _round_rescale


class Kernel:
    """``Q`` of one scalar format for clamped input, ``q(y, seed)``, bit for bit formats' values.

    ``nan_check``: the format has no NaN, so NaN input must raise as
    ``formats.torch.quantize`` does (``q`` itself does not check);
    ``deterministic``: the same input always gives the same values (not
    stochastic rounding).  ``table`` (float32 lookups) or ``round_op`` (integer
    formats) let :class:`FakeQuantFn` run the whole fake quantizer as one fused
    CPU pass (see :func:`fused_cpu`); both None: torch ops only.
    """

    __slots__ = ("q", "nan_check", "deterministic", "fmt", "rounding", "table", "round_op")

    def __init__(self, q, fmt, rounding, nan_check=False, deterministic=True, table=None, round_op=-1):
        self.q, self.fmt, self.rounding = q, fmt, rounding
        self.nan_check, self.deterministic = nan_check, deterministic
        self.table, self.round_op = table, round_op

    def raise_nan(self, y):
        """Raise formats' own error for NaN in ``y`` (``formats.torch.quantize`` does the check)."""
        from formats import torch as ft

        ft.quantize(y, self.fmt, rounding=self.rounding)


def kernel(fmt, rounding, dtype: torch.dtype, device) -> Kernel:
    """The cheapest exact ``Q`` for values already clamped to ``fmt``'s range (see the module doc).

    ``rounding``: a :class:`formats.rounding.Rounding` (a name is accepted and parsed here)."""
    import formats
    from formats import torch as ft
    from formats.torch import tables

    mode = rounding = parse_rounding(rounding)
    device = torch.device(device)
    if mode == Rounding.STOCHASTIC or dtype != torch.float32 or fmt.bits > 8:
        def generic(y, seed=0):
            return ft.quantize(y, fmt, rounding=rounding, seed=seed).to(y.dtype)

        return Kernel(generic, fmt, rounding, deterministic=mode != Rounding.STOCHASTIC)
    nan_code = fmt.nan_code
    nan_check = nan_code < 0
    if nan_check:
        nan_code = fmt.zero_code
    if isinstance(fmt, formats.Integer) and mode in _ROUND_OPS:
        op = _ROUND_OPS[mode]
        return Kernel(lambda y, seed=0: op(y).add_(0.0), fmt, rounding, nan_check=nan_check,
                      round_op=_ROUND_CODES[mode] if device.type == "cpu" else -1)
    ovf = fmt.default_overflow
    table = tables.f32_quantize_table(fmt, mode, ovf, nan_code, device, dtype)
    if table is None:
        def generic(y, seed=0):
            return ft.quantize(y, fmt, rounding=rounding, seed=seed).to(y.dtype)

        return Kernel(generic, fmt, rounding)

    def lookup(y, seed=0):
        return table.index_select(0, tables.f32_index(y)).view(y.shape)

    host = table.numpy() if table.device.type == "cpu" else None   # the same memory, for fused_cpu
    return Kernel(lookup, fmt, rounding, nan_check=nan_check, table=host)


def fake_quant_ops(x: torch.Tensor, s: torch.Tensor, k: Kernel, lo: float, hi: float, want: int, seed: int = 0):
    """The forward as torch ops (any device and dtype): ``(out, q, mask, r)`` as :func:`fused_cpu`
    returns them (``mask`` with ``want >= 1``, ``r`` with ``want == 2``, else None)."""
    y = x / s
    yc = y.clamp(lo, hi)
    if k.nan_check and math.isnan(yc.sum().item()):
        k.raise_nan(yc)
    q = k.q(yc, seed)
    out = q * s
    mask = r = None
    if want >= 1:
        mask = torch.eq(y, yc, out=torch.empty_like(y))  # 1.0 inside [lo, hi], 0.0 outside or NaN
    if want == 2:
        r = torch.addcmul(q, y, mask, value=-1.0)  # Q - y inside, Q (= lo or hi) outside
    return out, q, mask, r


# --- the fused CPU pass -------------------------------------------------------------------------
FUSED_CPU = True  # run float32 CPU fake quantizers as one Numba pass where they can (see fused_cpu)

_ONE, _ZERO = np.float32(1.0), np.float32(0.0)


@njit(cache=True, nogil=True)
def _scale_clamp(x, s, lo, hi, yc, mask, r, want):
    """Pass 1 over ``x`` (flat 1-D arrays throughout; row ``c`` of ``s.size`` equal rows divides by ``s[c]``):
    ``yc = clamp(x / s, lo, hi)`` (NaN stays NaN), and with ``want >= 1`` the mask
    ``x / s == yc`` as 1.0/0.0, with ``want == 2`` also ``(x / s) * mask`` in ``r``.
    Returns how many ``yc`` are NaN.  (Each row is its own slice: the loops vectorise.)"""
    rows = s.size
    n = x.size // rows
    nan = 0
    for c in range(rows):
        sv = s[c]
        a, b = c * n, (c + 1) * n
        xs, ys = x[a:b], yc[a:b]
        ms, rs = mask[a:b], r[a:b]       # (empty when not wanted)
        for j in range(n):
            y = xs[j] / sv
            v = lo if y < lo else (hi if y > hi else y)
            nan += v != v
            ys[j] = v
            if want >= 1:
                m = _ONE if y == v else _ZERO
                ms[j] = m
                if want == 2:
                    rs[j] = y * m
    return nan


@njit(cache=True, nogil=True)
def _lookup_rescale(q, qbits, s, table, out, r, want_r):
    """Pass 2, lookup formats: ``q = table[f32 index of q]`` in place (``qbits``: ``q``'s bits;
    the index is formats' :func:`formats.base.f32_table_index`), ``out = q * s``, and with
    ``want_r`` ``r = q - r`` (``r`` held ``y * mask``)."""
    rows = s.size
    n = q.size // rows
    for c in range(rows):
        sv = s[c]
        a, b = c * n, (c + 1) * n
        qs, bs, os_, rs = q[a:b], qbits[a:b], out[a:b], r[a:b]
        for j in range(n):
            v = table[f32_table_index(bs[j])]
            qs[j] = v
            os_[j] = v * sv
            if want_r:
                rs[j] = v - rs[j]


@njit(cache=True, nogil=True)
def _round_rescale(q, s, op, out, r, want_r):
    """Pass 2, integer formats: ``q = op(q) + 0`` in place (op 0..3: rint (ties to even), trunc,
    ceil, floor; ``+ 0`` turns -0 into +0), ``out = q * s``, and with ``want_r`` ``r = q - r``."""
    rows = s.size
    n = q.size // rows
    for c in range(rows):
        sv = s[c]
        a, b = c * n, (c + 1) * n
        qs, os_ = q[a:b], out[a:b]
        if op == 0:
            for j in range(n):
                qs[j] = np.rint(qs[j]) + _ZERO
        elif op == 1:
            for j in range(n):
                qs[j] = np.trunc(qs[j]) + _ZERO
        elif op == 2:
            for j in range(n):
                qs[j] = np.ceil(qs[j]) + _ZERO
        else:
            for j in range(n):
                qs[j] = np.floor(qs[j]) + _ZERO
        for j in range(n):
            os_[j] = qs[j] * sv
        if want_r:
            rs = r[a:b]
            for j in range(n):
                rs[j] = qs[j] - rs[j]


_EMPTY = np.empty(0, np.float32)
_F32 = torch.float32


def fused_cpu(x: torch.Tensor, s: torch.Tensor, k: Kernel, lo: float, hi: float, want: int):
    """``s * Q(clamp(x / s, lo, hi))`` as two Numba passes over float32 CPU memory (no torch op
    per step of the chain), or None where it does not apply (then the torch ops run).

    Applies to contiguous float32 CPU tensors whose scale ``s`` is one value or one per slice
    along axis 0 (shape ``(C, 1, ...)``, as :class:`sim.qat.scaling.Scale` gives) and to the
    kernels with a table or an integer rounding op.  Returns ``(out, q, mask, r)``: ``q`` =
    ``Q(clamp(x / s))``; ``mask`` (``want >= 1``) the 1.0/0.0 in-range mask; ``r`` (``want ==
    2``) ``Q - y`` in range and ``Q`` outside.  Bit for bit what the torch ops compute: the same
    float32 division, clamp, table or rounding op and products (tested against them).  Runs on
    the caller's thread.
    """
    if not FUSED_CPU or (k.table is None and k.round_op < 0) or x.dtype is not _F32 or s.dtype is not _F32 \
            or not x.is_cpu or not s.is_cpu or not x.is_contiguous() or not s.is_contiguous():
        return None
    xv, sv = x.detach().numpy(), s.detach().numpy()
    c = sv.size
    if not xv.size or (c != 1 and not (sv.ndim == xv.ndim >= 2 and sv.shape[0] == c == xv.shape[0])):
        return None
    shape, n = xv.shape, xv.size
    xv, sv = xv.reshape(n), sv.reshape(c)   # the kernels see 1-D arrays only (one compiled version)
    q = np.empty(n, np.float32)
    mask = np.empty(n, np.float32) if want >= 1 else _EMPTY
    r = np.empty(n, np.float32) if want == 2 else _EMPTY
    if _scale_clamp(xv, sv, np.float32(lo), np.float32(hi), q, mask, r, want) and k.nan_check:
        k.raise_nan(torch.from_numpy(q.reshape(shape)))
    out = np.empty(n, np.float32)
    if k.table is not None:
        _lookup_rescale(q, q.view(np.uint32), sv, k.table, out, r, want == 2)
    else:
        _round_rescale(q, sv, k.round_op, out, r, want == 2)
    return (torch.from_numpy(out.reshape(shape)), torch.from_numpy(q.reshape(shape)),
            torch.from_numpy(mask.reshape(shape)) if want >= 1 else None,
            torch.from_numpy(r.reshape(shape)) if want == 2 else None)


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
        need_x, need_s = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        want = 2 if need_s else int(need_x)
        got = fused_cpu(x, s, k, lo, hi, want) if k.deterministic else None
        out, q, mask, r = got if got is not None else fake_quant_ops(x, s, k, lo, hi, want, seed)
        if keep is not None:
            keep.append(q)
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
