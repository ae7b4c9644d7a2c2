"""posit(n, es) encoder and decoder in vectorised torch ops.

Mirrors :mod:`formats.posit` (bit-string rounding of the body, saturation to
±maxpos / ±minpos in every mode, NaN and ±Inf to NaR, stochastic ``t``
computed in float64 from the two neighbouring values); the rules are
documented there.  The regime's run length is read with a leading-zero count
taken from float64's exponent field, never from a float log2.
"""
from __future__ import annotations

import torch

from ..rounding import Rounding
from .bits import bit_length, pow2, round_up_mask, split

__all__ = ["encode_posit", "decode_posit", "body_value"]


def body_value(body: torch.Tensor, n: int, es: int) -> torch.Tensor:
    """float64 value of each positive body (the n-1 bits after the sign, 1 .. 2**(n-1)-1)."""
    nb = n - 1
    full = (1 << nb) - 1
    body = body & full
    first = ((body >> (nb - 1)) & 1) == 1
    y = torch.where(first, ~body & full, body)
    run = (nb - bit_length(y)).clamp(1, nb)
    k = torch.where(first, run - 1, -run)
    rest = (nb - run - 1).clamp(min=0)
    low = body & ((1 << rest) - 1)
    if es:
        fw = (rest - es).clamp(min=0)
        e = torch.where(rest >= es, low >> fw, low << (es - rest).clamp(min=0))
        frac = torch.where(rest >= es, low & ((1 << fw) - 1), torch.zeros_like(low))
    else:
        fw, e, frac = rest, torch.zeros_like(low), low
    return ((1 << fw) + frac).to(torch.float64) * pow2(k * (1 << es) + e - fw)


def decode_posit(fmt, codes, dtype):
    """Values of int64 ``codes`` (used for posits wider than 16 bits)."""
    c = codes.to(torch.int64)
    n = fmt.n
    nar = 1 << (n - 1)
    neg = c > nar
    v = body_value(torch.where(neg, (1 << n) - c, c), n, fmt.es)
    v = torch.where(neg, -v, v)
    v = torch.where(c == 0, torch.zeros_like(v), v)
    v = torch.where(c == nar, torch.full_like(v, float("nan")), v)
    return v.to(dtype)


def encode_posit(fmt, x, mode: Rounding, nan_code: int, draw=None):
    """Codes of ``x`` in ``fmt`` = posit(n, es) (see :mod:`formats.posit`)."""
    n, es = fmt.n, fmt.es
    s = split(x)
    top = (n - 2) << es
    ex = s.ex.clamp(-top, top)  # lanes outside are saturated below; keep their shifts sane
    k = ex >> es
    e = ex - k * (1 << es)
    pos = k >= 0
    rl = torch.where(pos, k + 2, 1 - k)
    reg = torch.where(pos, ((1 << (k + 1).clamp(0, 62)) - 1) << 1, torch.ones_like(k))
    avail = (n - 1 - rl).clamp(min=0)
    fw = (s.ex - s.lsb).clamp(0, 52)  # fraction bits of the input (23 or 52 for normals)
    tail = (e << fw) | (s.sig - (1 << fw))
    shift = es + fw - avail
    head = reg << avail
    body_l = head | (tail << (-shift).clamp(0, 62))
    sr = shift.clamp(1, 62)
    body_r = head | (tail >> sr)
    rem = tail & ((1 << sr) - 1)
    if mode == Rounding.STOCHASTIC:
        # t = (|x| - lo) / (hi - lo) in float64, compared with u = draw / 2**32, exactly as formats does
        lo = body_value(body_r, n, es)
        hi = body_value(body_r + 1, n, es)
        ax = x.abs().to(torch.float64)
        t = (ax - lo) / (hi - lo)
        up = (rem != 0) & (draw.to(torch.float64) * 2.0**-32 < t)
    else:
        up = round_up_mask(mode, s.neg, (body_r & 1) == 1, rem, sr)
    body = torch.where(shift <= 0, body_l, body_r + up.to(torch.int64))
    body = torch.where(s.ex >= top, torch.full_like(body, (1 << (n - 1)) - 1), body)
    body = torch.where(s.ex < -top, torch.ones_like(body), body)
    code = torch.where(s.neg, (1 << n) - body, body)
    code = torch.where(s.zero, torch.zeros_like(code), code)
    return torch.where(s.nan | s.inf, torch.full_like(code, nan_code), code)
