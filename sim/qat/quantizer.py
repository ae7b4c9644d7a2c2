"""The quantizer of QAT: the straight-through estimator and :class:`TensorQuantizer`.

The forward value of every quantizer is ``formats.torch.quantize`` (bit-exact
with ``formats``) applied to the scaled tensor, ``q(x) = s * Q(clamp(x / s))``;
the backward pass is the straight-through estimator: the rounding passes the
gradient unchanged, the clamp passes it inside the format's range (the LSQ
rule), so gradients reach both the latent weights and the layer inputs.  Block
formats (MX, NVFP4) take no outer scale: ``Q`` is applied along the input
features (the last axis of a Linear, the channels of a Conv2d) and scales
itself per block.  The quantized layers that use it: :mod:`sim.qat.layers`;
both are re-exported by :mod:`sim.qat.quant`.
"""
from __future__ import annotations

import zlib

import torch
from torch import nn
from torch.nn import functional as F

import formats
from formats.block import BlockFormat
from formats.rounding import Rounding, parse_rounding

from .fakequant import TINY, FakeQuantFn, kernel
from .scaling import Scale, format_range

__all__ = ["FakeQuantSTE", "fake_quantize", "TensorQuantizer", "is_block_format", "is_fitted_format"]


def _ft():
    from formats import torch as ft

    return ft


def is_block_format(fmt) -> bool:
    """Whether ``fmt`` scales itself per block (MX, NVFP4): a :class:`formats.block.BlockFormat`."""
    return isinstance(fmt, BlockFormat)


#: formats fitted to the tensor they store (formats.learned: ``lutB_row|tensor``, ``pick_..._gG``)
FITTED_FAMILIES = ("learned", "pick")


def is_fitted_format(fmt) -> bool:
    """Whether ``fmt`` (a name or object) is fitted to each tensor: a weight-only format."""
    return getattr(formats.get(fmt), "family", "") in FITTED_FAMILIES


def check_act_format(fmt) -> None:
    """ValueError for a format that cannot quantize activations (a fitted, weight-only one)."""
    if fmt is not None and is_fitted_format(fmt):
        raise ValueError(f"{formats.get(fmt).name} is fitted to each weight tensor (a weight-only format); "
                         "quantize activations with another format (acts = a format name, or fp32)")


class _FittedSTE(torch.autograd.Function):
    """A fitted format's ``quantize`` (tables refitted on this tensor) forward, identity backward."""

    @staticmethod
    def forward(ctx, y, fmt, keep):
        arr = y.detach().to("cpu", torch.float64).numpy()
        codes = fmt.encode(arr)
        if keep is not None:
            keep.append(codes)
        return torch.from_numpy(fmt.decode(codes)).to(device=y.device, dtype=y.dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad, None, None


class FakeQuantSTE(torch.autograd.Function):
    """``y -> Q(y)`` forward (``formats.torch.quantize``), identity backward."""

    @staticmethod
    def forward(ctx, y, fmt, rounding, seed):
        return _ft().quantize(y, fmt, rounding=rounding, seed=seed).to(y.dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad, None, None, None


class _BlockSTE(torch.autograd.Function):
    """``FakeQuantSTE`` of a block format that also hands out the codes (``keep``: None or a list)."""

    @staticmethod
    def forward(ctx, y, fmt, rounding, seed, keep):
        if keep is None and _ft().numpy_path(y, fmt, rounding):
            # formats' compiled CPU kernels: the same values bit for bit as formats.torch's
            # torch-op path (tests/sim/qat/test_quant.py), several times faster on CPU
            return _ft().quantize_blocks_numpy(y, fmt, rounding)
        res = _ft().quantize_blocks(y, fmt, rounding=rounding, seed=seed)
        if keep is not None:
            keep.append(tuple(res[1:]))
        return res[0].to(y.dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad, None, None, None, None


def _bits(q: torch.Tensor) -> torch.Tensor:
    """The raw bits of a float tensor as a same-width int tensor (codes <-> bits is one to one)."""
    return q.view({8: torch.int64, 4: torch.int32, 2: torch.int16}[q.element_size()])


_NEG_ZERO: dict = {}


def _neg_zero_code(fmt) -> int | None:
    """A block format's element code of -0, where it differs from the code of +0 (else None)."""
    if fmt.name not in _NEG_ZERO:
        el = fmt.element
        c, z = int(el.encode(-0.0)), int(el.encode(0.0))
        _NEG_ZERO[fmt.name] = c if c != z else None
    return _NEG_ZERO[fmt.name]


def fake_quantize(y: torch.Tensor, fmt, rounding: str = "rne", seed: int = 0) -> torch.Tensor:
    """``Q(y)`` with a straight-through gradient (``y`` already in the format's range)."""
    return FakeQuantSTE.apply(y, fmt, rounding, seed)


class TensorQuantizer(nn.Module):
    """``q(x) = s * Q(clamp(x / s, lo, hi))`` with a straight-through gradient.

    ``fmt``: a format name or object; ``scale_mode``: ``lsq``/``fixed``/``max``
    (see :mod:`sim.qat.scaling`); ``per_channel``: one scale per axis-0 slice;
    ``block_axis``: the axis that block formats group along (moved last for
    ``Q``).  Stochastic rounding draws a fresh seed at every training call
    (from ``seed`` and a call counter) and falls back to ``rne`` in eval mode.

    Scalar formats run as one fused autograd node (:mod:`sim.qat.fakequant`).
    With ``keep_codes`` (set for weight quantizers) the forward keeps what ``Q``
    gave, so :meth:`code_key` reads the codes of unchanged weights for free.
    """

    keep_codes = False

    def __init__(self, fmt, rounding: str = "rne", scale_mode: str = "lsq",
                 per_channel: bool = False, pow2: bool = False, block_axis: int = -1,
                 seed: int = 0):
        super().__init__()
        self.fmt = formats.get(fmt)
        self.rounding = parse_rounding(rounding)   # parsed once here; a Rounding from now on
        self.block = is_block_format(self.fmt)
        self.fitted = getattr(self.fmt, "family", "") in FITTED_FAMILIES
        if self.fitted and self.rounding != Rounding.RNE:
            raise ValueError(f"{self.fmt.name} is fitted to the tensor and rounds to nearest only; "
                             f"rounding {self.rounding.label!r} is not allowed for it (use rne)")
        self.block_axis = block_axis
        self.seed = int(seed) & 0xFFFFFFFF
        self.calls = 0
        self._kernels = {}
        self._codes_cache = None
        if self.block or self.fitted:
            self.scale = None
            self.lo = self.hi = None
        else:
            self.scale = Scale(self.fmt, scale_mode, per_channel, pow2)
            self.lo, self.hi = format_range(self.fmt)

    # -- helpers --------------------------------------------------------------------
    def __getstate__(self):
        state = dict(self.__dict__)
        state["_kernels"], state["_codes_cache"] = {}, None  # rebuilt on use (closures, tables)
        state.pop("_fixed_s", None)
        return state

    def _kernel_for(self, dtype, device, rnd):
        key = (rnd, dtype, device)
        k = self._kernels.get(key)
        if k is None:
            k = self._kernels[key] = kernel(self.fmt, rnd, dtype, device)
        return k

    def _stamp(self, x, rnd):
        """What the codes of ``x`` depend on: its storage and version, the scale's, the rounding."""
        sc = self._modules["scale"] if "scale" in self._modules else None
        if sc is None:
            return (rnd, x.data_ptr(), x._version, x.shape, None)
        v = sc.value
        return (rnd, x.data_ptr(), x._version, x.shape, v.data_ptr(), v._version)

    def _remember(self, x, rnd, val):
        """Keep the code key of ``val`` (what ``Q`` gave ``x``) until ``x`` or the scale changes.

        The key names levels, not bit patterns: -0 and +0 are one level (a minifloat weight that
        stays at zero while its sign flips has not moved), so scalar values pass ``+ 0.0`` (which
        turns -0 into +0) before their bits are taken, and block formats' element codes of -0
        become the code of +0."""
        if self.block:
            key = val
            nz = _neg_zero_code(self.fmt)
            if nz is not None:
                e = val[0]
                key = (torch.where(e == nz, torch.zeros_like(e), e), *val[1:])
        else:
            key = _bits(val + 0.0)
        self._codes_cache = (self._stamp(x, rnd), key)

    def _rounding_now(self) -> Rounding:
        if self.rounding == Rounding.STOCHASTIC and not self.training:
            return Rounding.RNE
        return self.rounding

    def _seed_now(self) -> int:
        if self.rounding != Rounding.STOCHASTIC or not self.training:
            return self.seed
        self.calls += 1
        return zlib.crc32(f"{self.seed}:{self.calls}".encode())

    def _to_block_layout(self, x):
        """``x`` with the block axis moved last and zero-padded to a whole number of blocks.

        Zeros never change a block's scale, so padding leaves every real element as it is.
        """
        ax = self.block_axis % x.dim()
        y = x if ax == x.dim() - 1 else x.movedim(ax, -1)
        pad = -y.shape[-1] % int(getattr(self.fmt, "block", None) or self.fmt.group)
        return F.pad(y, (0, pad)) if pad else y

    def _from_block_layout(self, y, like):
        ax = self.block_axis % like.dim()
        y = y[..., :like.shape[ax]]
        return y if ax == like.dim() - 1 else y.movedim(-1, ax)

    @torch.no_grad()
    def initialize(self, x: torch.Tensor, wide: bool = False) -> None:
        """Set the scale from a sample tensor (no-op for block formats); ``wide``: see
        :func:`sim.qat.scaling.mse_scale`."""
        if self.scale is not None and self.scale.mode != "max":
            self.scale.initialize(x, lambda y: _ft().quantize(y, self.fmt, rounding="rne").to(y.dtype), wide=wide)

    @property
    def needs_init(self) -> bool:
        return self.scale is not None and self.scale.mode != "max" and not self.scale.is_initialized

    def scale_value(self, x: torch.Tensor | None = None) -> torch.Tensor | None:
        """The scale now in use (None for block formats)."""
        if self.scale is None:
            return None
        return self.scale(x if x is not None else self.scale.value)

    # -- forward --------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rnd, seed = self._rounding_now(), self._seed_now()
        # the codes of a training forward are kept for TR (code_key); an evaluation pass needs none
        keep = [] if self.keep_codes and rnd != Rounding.STOCHASTIC and torch.is_grad_enabled() else None
        if self.fitted:
            return self._fitted_forward(x, keep)
        if self.block:
            y = self._to_block_layout(x)
            q = _BlockSTE.apply(y, self.fmt, rnd, seed, keep)
            if keep:
                self._remember(x, rnd, keep[0])
            return self._from_block_layout(q, x)
        if self.needs_init:
            self.initialize(x)
        sc = self.scale
        if sc.mode == "max" or sc.pow2:  # scales computed by Scale's own autograd graph
            s, lsq_g = sc(x), None
        else:  # lsq / fixed: the parameter goes straight into the fused node
            s = sc.value
            lsq_g = None
            if s.requires_grad:
                lsq_g = sc.grad_scale(x) if (sc.mode == "lsq" and sc.training) else 1.0
            else:  # a frozen scale: |v| clamped, remembered while v is unchanged
                memo = self.__dict__.get("_fixed_s")
                key = (s._version, s.data_ptr(), s.dtype)
                if memo is None or memo[0] is not s or memo[1] != key:
                    memo = self.__dict__["_fixed_s"] = (s, key, s.abs().clamp_min(TINY))
                s = memo[2]
        k = self._kernel_for(torch.promote_types(x.dtype, s.dtype), x.device, rnd)
        out = FakeQuantFn.apply(x, s, k, self.lo, self.hi, seed, lsq_g, keep)
        if keep:
            self._remember(x, rnd, keep[0])
        return out

    def _fitted_forward(self, x, keep):
        """lut formats fit per slice along axis 0 (as laid out); pick formats choose per group
        along the block axis (moved last, zero-padded to whole groups)."""
        if self.fmt.family == "pick":
            y = self._to_block_layout(x)
            return self._from_block_layout(_FittedSTE.apply(y, self.fmt, keep), x)
        return _FittedSTE.apply(x, self.fmt, keep)

    def code_key(self, x: torch.Tensor):
        """A cheap stand-in for :meth:`codes`: equal keys exactly where the levels are equal
        (the codes of -0 and +0 share one key: see :meth:`_remember`).

        Scalar formats: the bits of ``Q(clamp(x / s)) + 0.0`` (one to one with the
        levels); block formats: the tuple :meth:`codes` returns, -0 elements as +0.  Taken from the
        last forward pass when ``x`` and the scale have not changed since (and
        the rounding was not stochastic), else computed and remembered.  (Called
        at every TR step: the hit path is kept free of grad-mode switches.)
        """
        if self.fitted:
            raise ValueError(f"{self.fmt.name} refits its tables to the weights at every step, so its codes "
                             "are no fixed grid whose transitions TR could count; use an lr-* schedule")
        rnd = Rounding.RNE if self.rounding == Rounding.STOCHASTIC else self.rounding
        c = self._codes_cache
        if c is not None and c[0] == self._stamp(x, rnd):
            return c[1]
        with torch.no_grad():
            if self.block:
                val = _ft().quantize_blocks(self._to_block_layout(x), self.fmt, rounding=rnd)[1:]
            else:
                s = self.scale(x)
                y = torch.clamp(x / s, self.lo, self.hi)
                k = self._kernel_for(y.dtype, y.device, rnd)
                if k.nan_check and torch.isnan(y.sum()):
                    k.raise_nan(y)
                val = k.q(y)
        self._remember(x, rnd, val)
        return self._codes_cache[1]

    @torch.no_grad()
    def codes(self, x: torch.Tensor, rounding: str | None = None):
        """The codes ``Q`` gives ``x`` (in block layout for block formats).

        Scalar formats: an int tensor of codes of ``x / s``.  Block formats: the
        tuple ``(element_codes, scales[, tensor_scale])`` of ``quantize_blocks``
        on the block layout (block axis last, zero-padded to whole blocks).
        Stochastic rounding is replaced by ``rne`` (a code should not flicker).
        """
        ft = _ft()
        if self.fitted:
            arr = (self._to_block_layout(x) if self.fmt.family == "pick" else x).to("cpu", torch.float64).numpy()
            return self.fmt.encode(arr)
        if rounding is not None:
            rnd = parse_rounding(rounding)
        else:
            rnd = Rounding.RNE if self.rounding == Rounding.STOCHASTIC else self.rounding
        if self.block:
            return ft.quantize_blocks(self._to_block_layout(x), self.fmt, rounding=rnd)[1:]
        s = self.scale(x)
        return ft.encode(torch.clamp(x / s, self.lo, self.hi), self.fmt, rounding=rnd)

    def extra_repr(self) -> str:
        return f"{self.fmt.name}, rounding={self.rounding.label}"
