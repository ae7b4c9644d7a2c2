"""Scales that bring a tensor into a format's own value range.

A format from ``formats/`` works in its own range (``int4`` holds -8..7,
``fp4_e2m1`` reaches 6, ``posit8_0`` reaches 64).  The QAT quantizer computes
``q(x) = s * Q(x / s)``; this module decides ``s``:

=============== ===============================================================
granularity     ``per-tensor``: one scale; ``per-channel``: one per output
                channel (axis 0 of a weight); block formats (MX, NVFP4) scale
                themselves per block and take no scale here
initial value   :func:`mse_scale`: the ``c * amax / fmt.max`` (c on a grid in
                (0, 1]) that minimises the squared quantization error, per
                channel; :func:`max_scale`: ``amax / fmt.max`` (nothing clips)
modes           ``lsq``: a learned parameter (Esser et al., LSQ, with the
                gradient scaled by ``1/sqrt(numel * fmt.max)``); ``fixed``: the
                initial value kept as a buffer (the weights under TR
                scheduling); ``max``: ``amax / fmt.max`` of every batch
power of two    optional: ``s -> 2**round(log2 s)`` (straight-through in LSQ)
=============== ===============================================================
"""
from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["SCALE_MODES", "GRANULARITIES", "Scale", "max_scale", "mse_scale", "reduce_amax",
           "to_pow2", "format_range"]

SCALE_MODES = ("lsq", "fixed", "max")
GRANULARITIES = ("per-tensor", "per-channel", "per-block")

_TINY = 1e-12


_F32_MAX = float(torch.finfo(torch.float32).max)
#: a tapered format (posit, takum) is scaled so that ``amax`` maps at most here: their
#: precision peaks near 1 and takum8's max is 2**239, which no float32 scale can reach
TAPERED_TOP = 2.0 ** 16


def format_range(fmt) -> tuple[float, float]:
    """(lowest, highest) finite value of a scalar format, cut to float32's range (a clamp
    bound that float32 cannot hold is an error in torch, and no float32 tensor exceeds it)."""
    hi = min(float(fmt.max), _F32_MAX)
    lo = getattr(fmt, "min", None)
    if lo is None:
        lo = -hi if getattr(fmt, "signed", True) else 0.0
    return max(float(lo), -_F32_MAX), hi


def scale_top(fmt) -> float:
    """The value ``amax`` maps to at the largest scale candidate: the format's max, or at most
    :data:`TAPERED_TOP` for a tapered format (posits, takums)."""
    tapered = getattr(fmt, "family", "") in ("posit", "takum")
    return min(float(fmt.max), TAPERED_TOP) if tapered else float(fmt.max)


def reduce_amax(x: torch.Tensor, per_channel: bool) -> torch.Tensor:
    """max |x| over the whole tensor (shape ()) or per axis-0 channel (shape (C, 1, ...))."""
    a = x.detach().abs()
    if not per_channel:
        return a.amax()
    return a.reshape(a.shape[0], -1).amax(dim=1).reshape((-1,) + (1,) * (x.dim() - 1))


def max_scale(x: torch.Tensor, fmt, per_channel: bool = False) -> torch.Tensor:
    """``amax / fmt.max``: the smallest scale at which nothing clips (:func:`scale_top` for tapered formats)."""
    return (reduce_amax(x, per_channel) / scale_top(fmt)).clamp_min(_TINY)


def to_pow2(s: torch.Tensor, mode: str = "round") -> torch.Tensor:
    """Nearest (``round``) or next-larger (``ceil``) power of two, straight-through."""
    e = torch.log2(s)
    r = torch.ceil(e) if mode == "ceil" else torch.round(e)
    return torch.exp2(e + (r - e).detach())


@torch.no_grad()
def mse_scale(x: torch.Tensor, quantize, fmt, per_channel: bool = False, grid: int = 24,
              pow2: bool = False, wide: bool = False) -> torch.Tensor:
    """The scale ``c * amax / fmt.max``, c in ``linspace(1/grid, 1, grid)``, of least error.

    ``wide``: c also takes the values ``2**(k/4)``, k = 1..max(24, 4 log2 top), which map
    ``amax`` below the format's max down to 1 (``top`` = :func:`scale_top`): tapered
    formats need them (a posit's precision peaks near 1, far below its max of 64 for
    posit8_0), while the linear grid only trades clipping for resolution.  The PTQ path
    uses it.

    ``quantize(y)`` is the format's quantizer on values already in its range.
    Per channel, each channel picks its own c.  Clipping is part of the error,
    so heavy-tailed tensors get a smaller scale than :func:`max_scale`.
    """
    base = max_scale(x, fmt, per_channel)
    lo, hi = format_range(fmt)
    best_err = None
    best = base.clone()
    cs = torch.linspace(1.0 / grid, 1.0, grid, dtype=torch.float64)
    if wide:
        kmax = max(24, round(4 * math.log2(max(scale_top(fmt), 1.0))))
        cs = torch.cat([cs, torch.exp2(torch.arange(1, kmax + 1, dtype=torch.float64) / 4)])
    for c in cs.to(dtype=x.dtype, device=x.device):
        s = base * c
        if pow2:
            s = to_pow2(s)
        err = (quantize((x / s).clamp(lo, hi)) * s - x).square()
        err = err.reshape(err.shape[0], -1).sum(dim=1).reshape(base.shape) if per_channel else err.sum()
        if best_err is None:
            best_err = err
            best = s.expand_as(base).clone()
        else:
            better = err < best_err
            best_err = torch.where(better, err, best_err)
            best = torch.where(better, s, best)
    return best.clamp_min(_TINY)


class Scale(nn.Module):
    """The scale ``s`` of one quantizer: learned (``lsq``), ``fixed`` or per-batch ``max``.

    The scale is created lazily from the first tensor it sees (weights at
    conversion time, activations on the first training batch) by
    :func:`mse_scale`.  ``forward(x)`` returns ``s`` shaped to broadcast
    against ``x``.
    """

    def __init__(self, fmt, mode: str = "lsq", per_channel: bool = False, pow2: bool = False):
        super().__init__()
        if mode not in SCALE_MODES:
            raise ValueError(f"unknown scale mode {mode!r}; allowed: {', '.join(SCALE_MODES)}")
        self.fmt = fmt
        self.mode = mode
        self.per_channel = per_channel
        self.pow2 = pow2
        self.value = nn.Parameter(torch.empty(0), requires_grad=mode == "lsq")
        self.register_buffer("initialized", torch.tensor(False))

    @property
    def is_initialized(self) -> bool:
        t = self.initialized
        memo = self.__dict__.get("_init_memo")  # (buffer, its version, value): skips a tensor read per call
        if memo is None or memo[0] is not t or memo[1] != t._version:
            memo = (t, t._version, bool(t))
            self.__dict__["_init_memo"] = memo
        return memo[2]

    @torch.no_grad()
    def initialize(self, x: torch.Tensor, quantize, wide: bool = False) -> None:
        """Set the scale from ``x`` (see :func:`mse_scale`)."""
        s = mse_scale(x.detach(), quantize, self.fmt, self.per_channel, pow2=self.pow2, wide=wide)
        self.value = nn.Parameter(s.to(x.dtype), requires_grad=self.mode == "lsq")
        self.initialized.fill_(True)

    def freeze(self) -> None:
        """Stop learning: the current value stays fixed from now on."""
        self.mode = "fixed"
        self.value.requires_grad_(False)

    def grad_scale(self, x: torch.Tensor) -> float:
        """The LSQ gradient scale ``g = 1/sqrt(N * Qp)``, ``N`` = elements of ``x`` per scale."""
        key = (x.numel(), self.value.numel())
        memo = self.__dict__.setdefault("_g_memo", {})
        g = memo.get(key)
        if g is None:
            n = key[0] / max(1, key[1])
            g = memo[key] = 1.0 / math.sqrt(max(1.0, n * float(self.fmt.max)))
        return g

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "max":
            s = max_scale(x, self.fmt, self.per_channel)
            return to_pow2(s, "ceil") if self.pow2 else s
        s = self.value
        if self.mode == "lsq" and self.training and s.requires_grad:
            g = self.grad_scale(x)
            sg = s * g
            s = s.detach() + (sg - sg.detach())  # value exactly s, gradient scaled by g
        s = s.abs().clamp_min(_TINY)
        return to_pow2(s) if self.pow2 else s

    def extra_repr(self) -> str:
        gran = "per-channel" if self.per_channel else "per-tensor"
        return f"mode={self.mode}, {gran}, pow2={self.pow2}"
