"""PyTorch versions of the quantizers of :mod:`formats`, bit for bit the same numbers.

Imported lazily (``formats.torch``), so ``import formats`` never imports torch.
Everything here is vectorised torch ops on the inputs' integer bits
(``Tensor.view``), device-agnostic (CPU or CUDA, no NumPy round trip once a
format's tables are built) and gradient-free: these are plain functions; the
straight-through estimator lives in ``sim.qat``.

>>> import torch
>>> from formats import torch as ft
>>> x = torch.tensor([0.3, -1.7, 500.0])
>>> ft.encode(x, "fp8_e4m3")                    # int32 codes (int64 for 32-bit formats)
tensor([ 42, 190, 126], dtype=torch.int32)
>>> ft.quantize(x, "fp8_e4m3")                  # == formats.get("fp8_e4m3").quantize(x.numpy())
tensor([ 3.1250e-01, -1.7500e+00,  4.4800e+02])
>>> ft.quantize(x, "posit8_0", rounding="stochastic", seed=3)   # same draws as formats/
tensor([ 0.2969, -1.6875, 64.0000])

The forward value of :func:`quantize` equals
``formats.get(fmt).quantize(x.numpy(), ...)`` cast to ``x.dtype`` for every
preset, rounding mode and overflow policy; stochastic rounding draws for
element ``i`` (C-order flat index plus ``offset``) exactly as
:mod:`formats.rounding` describes.  Errors are those of formats: an unknown
name raises KeyError, a bad rounding mode or overflow policy ValueError, NaN
into a format without NaN ValueError unless ``overflow`` is given (then NaN
encodes as the format's zero).

How each family is computed: integers, minifloats, the MXINT8 fixed-point
element, posits and takums by integer arithmetic on the float's bits
(:mod:`.scalar`, :mod:`.posit`, :mod:`.takum`); codebooks by comparisons against the
midpoints (:mod:`.codebook`); block formats by a per-block scale computed from
the block's largest exponent, then the element encoder (:mod:`.block`).
Formats of <= 16 bits decode through a value table, and float32 input to
formats of <= 8 bits encodes through formats' own float32 tables (one gather
for the deterministic modes; two neighbours and an exact ``t`` for stochastic
rounding with saturation: :mod:`.tables`).
"""
from __future__ import annotations

import torch

from ..base import ScalarFormat
from ..registry import get as _get_format
from ..rounding import Overflow, Rounding, check_seed, parse_rounding
from . import codebook as _codebook
from . import posit as _posit
from . import scalar as _scalar
from . import tables as _tables
from . import takum as _takum
from .bits import as_float_tensor
from .stochastic import draw32

__all__ = ["encode", "decode", "quantize", "quantize_blocks", "numpy_path", "quantize_blocks_numpy", "draw32",
           "code_dtype"]

_ENCODERS = {
    "integer": _scalar.encode_integer,
    "minifloat": _scalar.encode_minifloat,
    "fixed": _scalar.encode_fixed,
    "posit": lambda f, x, mode, ovf, nan_code, draw: _posit.encode_posit(f, x, mode, nan_code, draw),
    "codebook": _codebook.encode_codebook,
    "takum": lambda f, x, mode, ovf, nan_code, draw: _takum.encode_takum(f, x, mode, nan_code, draw),
}
_DECODERS = {
    "integer": _scalar.decode_integer,
    "minifloat": _scalar.decode_minifloat,
    "fixed": _scalar.decode_fixed,
    "posit": _posit.decode_posit,
    "takum": _takum.decode_takum,
}


def _is_block(f) -> bool:
    return not isinstance(f, ScalarFormat) and hasattr(f, "block") and hasattr(f, "element")


def _scalar_format(fmt, who):
    f = _get_format(fmt)
    if _is_block(f):
        raise TypeError(f"{who} takes scalar formats; {f.name} is a block format: use quantize or quantize_blocks")
    if f.family not in _ENCODERS:
        raise TypeError(f"formats.torch has no kernel for the {f.family!r} family of {f.name}")
    return f


def code_dtype(fmt) -> torch.dtype:
    """Dtype of the codes :func:`encode` returns: int32, or int64 for formats of 32 bits."""
    return torch.int32 if _get_format(fmt).bits <= 31 else torch.int64


def _check_offset(offset) -> int:
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValueError(f"offset must be a nonnegative integer, got {offset!r}")
    return offset


def _prepare(f, x, rounding, overflow, seed, offset):
    """Checks shared by encode and quantize; returns (x, mode, ovf, nan_code, seed)."""
    x = as_float_tensor(x, f.name)
    mode = parse_rounding(rounding)
    ovf = f._resolve_overflow(overflow)
    seed = check_seed(seed)
    _check_offset(offset)
    nan_code = f.nan_code
    if nan_code < 0:
        if overflow is None and x.numel() and bool(torch.isnan(x).any()):
            where = int(torch.isnan(x.reshape(-1)).nonzero()[0, 0])
            raise ValueError(
                f"{f.name} has no NaN encoding and the input holds NaN (first at flat index {where}); "
                f"pass an explicit overflow policy (e.g. overflow='saturate') to encode NaN as +0"
            )
        nan_code = f._zero_code()
    return x, mode, ovf, nan_code, seed


def _encode_raw(f, x, mode, ovf, nan_code, seed, offset):
    """int64 codes of a checked contiguous float32/float64 tensor."""
    if x.dtype == torch.float32 and mode != Rounding.STOCHASTIC and f.bits <= 8:
        table = _tables.f32_encode_table(f, mode, ovf, nan_code, x.device)
        if table is not None:
            return _tables.gather(table, _tables.f32_index(x), x.shape)
    draw = None
    if mode == Rounding.STOCHASTIC:
        draw = draw32(seed, x.numel(), offset, x.device).reshape(x.shape)
        if (x.dtype == torch.float32 and f.bits <= 8 and ovf == Overflow.SATURATE
                and f.family in ("integer", "minifloat", "posit", "fixed")):
            srt = _tables.f32_stochastic_tables(f, ovf, nan_code, x.device)
            if srt is not None:
                toward, away, lo, hi = srt
                idx = _tables.f32_index(x)
                lo = _tables.gather(lo, idx, x.shape)
                t = (x.abs().to(torch.float64) - lo) / (_tables.gather(hi, idx, x.shape) - lo)
                return torch.where(draw.to(torch.float64) * 2.0**-32 < t,
                                   _tables.gather(away, idx, x.shape), _tables.gather(toward, idx, x.shape))
    return _ENCODERS[f.family](f, x, mode, ovf, nan_code, draw)


def _decode_raw(f, codes, dtype):
    if f.bits <= 16:
        return _tables.gather(_tables.value_table(f, codes.device, dtype), codes, codes.shape)
    return _DECODERS[f.family](f, codes, dtype)


def encode(x, fmt, rounding="rne", overflow=None, seed=0, offset=0) -> torch.Tensor:
    """Codes of ``x`` in the scalar format ``fmt`` (a format object or name), same shape as ``x``.

    Returns int32 codes (int64 for 32-bit formats) equal to ``formats.get(fmt).encode``.
    ``rounding``: rne, rna, rtz, rup, rdn or stochastic; ``overflow``: None (the
    format's default) or a policy the format allows; ``seed``, ``offset``: element
    ``i`` of the C-order flattening draws ``draw32(seed, i + offset)``.
    """
    f = _scalar_format(fmt, "formats.torch.encode")
    x, mode, ovf, nan_code, seed = _prepare(f, x, rounding, overflow, seed, offset)
    return _encode_raw(f, x, mode, ovf, nan_code, seed, offset).to(code_dtype(f))


def decode(codes, fmt, dtype=torch.float32) -> torch.Tensor:
    """Values of the integer tensor ``codes`` of the scalar format ``fmt``, as ``dtype``.

    The exact float64 value (as ``formats`` decodes it) cast to ``dtype``; NaN for
    NaN/NaR codes.  Codes must be integers in ``[0, 2**bits)`` (TypeError/ValueError).
    """
    f = _scalar_format(fmt, "formats.torch.decode")
    if not isinstance(codes, torch.Tensor):
        raise TypeError(f"{f.name}: codes must be a torch.Tensor, got {type(codes).__name__}")
    if codes.dtype.is_floating_point or codes.dtype.is_complex or codes.dtype == torch.bool:
        raise TypeError(f"{f.name}: codes must be integers, got dtype {codes.dtype}")
    c = codes.to(torch.int64)
    if c.numel():
        lo, hi = int(c.min()), int(c.max())
        if lo < 0:
            raise ValueError(f"{f.name}: negative code {lo}")
        if hi >> f.bits:
            raise ValueError(f"{f.name}: code {hi:#x} does not fit in {f.bits} bits")
        if f.family == "codebook" and hi >= len(_codebook.entries(f)):
            raise ValueError(f"{f.name}: code {hi} is not an index of the {len(_codebook.entries(f))}-entry table")
    return _decode_raw(f, c, dtype)


def quantize(x, fmt, rounding="rne", overflow=None, seed=0, offset=0, tensor_scale=None) -> torch.Tensor:
    """``decode(encode(x))`` in ``x``'s dtype; block formats quantize blocks along the last axis.

    Equal bit for bit to ``formats.get(fmt).quantize(x.numpy(), ...)`` cast to
    ``x.dtype`` (float64 for integer inputs).  ``tensor_scale``: NVFP4 only (see
    :func:`quantize_blocks`).
    """
    f = _get_format(fmt)
    if _is_block(f):
        return quantize_blocks(x, f, rounding=rounding, overflow=overflow, seed=seed, offset=offset,
                               tensor_scale=tensor_scale)[0]
    if tensor_scale is not None:
        raise TypeError(f"{f.name} has no tensor scale; tensor_scale applies to nvfp4 only")
    f = _scalar_format(f, "formats.torch.quantize")
    out_dtype = x.dtype if isinstance(x, torch.Tensor) and x.dtype.is_floating_point else torch.float64
    x, mode, ovf, nan_code, seed = _prepare(f, x, rounding, overflow, seed, offset)
    if x.dtype == torch.float32 and mode != Rounding.STOCHASTIC and f.bits <= 8:
        table = _tables.f32_quantize_table(f, mode, ovf, nan_code, x.device, out_dtype)
        if table is not None:
            return _tables.gather(table, _tables.f32_index(x), x.shape)
    codes = _encode_raw(f, x, mode, ovf, nan_code, seed, offset)
    return _decode_raw(f, codes, out_dtype)


def quantize_blocks(x, fmt, rounding="rne", overflow=None, seed=0, offset=0, tensor_scale=None):
    """Block-quantize ``x`` along its last axis: ``(values, element_codes, scales[, tensor_scale])``.

    ``values`` has ``x``'s dtype; ``element_codes`` are int32 of ``x``'s shape;
    ``scales`` int32 scale codes of shape ``(..., K // block)``; NVFP4 adds its
    float32 per-tensor scale as a 0-d tensor (``tensor_scale``: a given positive
    float32 scale instead of ``amax / 2688``, as ``NVFP4.encode`` takes it).
    Equal to ``fmt.encode``/``fmt.quantize`` of formats bit for bit.
    """
    from . import block

    f = _get_format(fmt)
    if not _is_block(f):
        raise TypeError(f"formats.torch.quantize_blocks takes block formats; {f.name} is a scalar format")
    return block.quantize_blocks(f, x, rounding, overflow, seed, _check_offset(offset), tensor_scale)


def numpy_path(x, fmt, rounding="rne") -> bool:
    """Whether :func:`quantize_blocks_numpy` may quantize ``x`` in the block format ``fmt``: a CPU
    float32/float64 tensor of at least one dimension, blocks along its last axis and a
    deterministic rounding (stochastic draws with an offset, and the codes, stay on the torch path)."""
    f = _get_format(fmt)
    return (isinstance(x, torch.Tensor) and _is_block(f) and x.device.type == "cpu"
            and x.dtype in (torch.float32, torch.float64) and x.dim() >= 1
            and getattr(f, "axis", -1) in (-1, x.dim() - 1) and parse_rounding(rounding) != Rounding.STOCHASTIC)


def quantize_blocks_numpy(x, fmt, rounding="rne") -> torch.Tensor:
    """The values of :func:`quantize_blocks` (``[0]``) through formats' compiled CPU kernels, for an
    ``x`` that :func:`numpy_path` accepts: the same numbers bit for bit, several times faster on CPU
    (no codes are returned)."""
    f = _get_format(fmt)
    if not numpy_path(x, f, rounding):
        raise ValueError(f"formats.torch.quantize_blocks_numpy: {f.name} on a {x.device.type} "
                         f"{x.dtype} tensor with rounding {rounding!r} needs the torch path (see numpy_path)")
    return torch.from_numpy(f.quantize(x.detach().contiguous().numpy(), rounding=rounding)).to(x.dtype)
