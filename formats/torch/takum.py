"""Linear takum(n) encoder and decoder in vectorised torch ops.

Mirrors :mod:`formats.takum` (bit-string rounding of the body ``D R C M``, saturation
to ±maxpos / ±minpos in every mode, NaN and ±Inf to NaR, stochastic ``t`` computed in
float64 from the two neighbouring values); the rules are documented there.  The
regime ``r`` comes from the bit length of the characteristic, never from a float log2.
"""
from __future__ import annotations

import torch

from ..rounding import Rounding
from .bits import bit_length, pow2, round_up_mask, split

__all__ = ["encode_takum", "decode_takum", "body_value"]


def body_value(body: torch.Tensor, n: int) -> torch.Tensor:
    """float64 value of each positive body (the n-1 bits after the sign, 1 .. 2**(n-1)-1)."""
    width = max(n - 1, 11)  # bits cut off by the end of a short code count as 0
    ext = (body & ((1 << (n - 1)) - 1)) << (width - (n - 1))
    d = (ext >> (width - 1)) & 1
    rr = (ext >> (width - 4)) & 7
    r = torch.where(d == 1, rr, 7 - rr)
    p = width - 4 - r
    cbits = (ext >> p) & ((1 << r) - 1)
    c = torch.where(d == 1, (1 << r) - 1 + cbits, cbits + 1 - (2 << r))
    m = ext & ((1 << p) - 1)
    return ((1 << p) + m).to(torch.float64) * pow2(c - p)


def decode_takum(fmt, codes, dtype):
    """Values of int64 ``codes`` (used for takums wider than 16 bits)."""
    c = codes.to(torch.int64)
    n = fmt.n
    nar = 1 << (n - 1)
    neg = c > nar
    v = body_value(torch.where(neg, (1 << n) - c, c).clamp(min=1), n)
    v = torch.where(neg, -v, v)
    v = torch.where(c == 0, torch.zeros_like(v), v)
    v = torch.where(c == nar, torch.full_like(v, float("nan")), v)
    return v.to(dtype)


def encode_takum(fmt, x, mode: Rounding, nan_code: int, draw=None):
    """Codes of ``x`` in ``fmt`` = takum(n) (see :mod:`formats.takum`)."""
    n = fmt.n
    top = (1 << (n - 1)) - 1
    s = split(x)
    c = s.ex.clamp(-255, 254)  # lanes outside are saturated below; keep their shifts sane
    pos = c >= 0
    r = torch.where(pos, bit_length(c + 1) - 1, bit_length((-c).clamp(min=1)) - 1)
    pre = torch.where(pos, ((8 | r) << r) | (c - ((1 << r) - 1)), ((7 - r) << r) | (c + (2 << r) - 1))
    plen = 4 + r
    fw = (s.ex - s.lsb).clamp(0, 52)  # fraction bits of the input
    frac = s.sig - (1 << fw)
    cut = (fw - 40).clamp(min=0)  # keep 40 fraction bits and a sticky bit (the cut is at <= 31 bits)
    frac = (frac >> cut) | ((frac & ((1 << cut) - 1)) != 0).to(torch.int64)
    fw = fw - cut
    full = (pre << fw) | frac
    shift = plen + fw - (n - 1)
    body_l = full << (-shift).clamp(0, 62)
    sr = shift.clamp(1, 62)
    body_r = full >> sr
    rem = full & ((1 << sr) - 1)
    if mode == Rounding.STOCHASTIC:
        lo = torch.where(body_r > 0, body_value(body_r.clamp(min=1), n), torch.zeros_like(x, dtype=torch.float64))
        hi = body_value((body_r + 1).clamp(max=top), n)
        t = (x.abs().to(torch.float64) - lo) / (hi - lo)
        up = (rem != 0) & (body_r < top) & (draw.to(torch.float64) * 2.0**-32 < t)
    else:
        up = round_up_mask(mode, s.neg, (body_r & 1) == 1, rem, sr)
    body = torch.where(shift <= 0, body_l, body_r + up.to(torch.int64)).clamp(1, top)
    body = torch.where(s.ex > 254, torch.full_like(body, top), body)
    body = torch.where(s.ex < -255, torch.ones_like(body), body)
    code = torch.where(s.neg, (1 << n) - body, body)
    code = torch.where(s.zero, torch.zeros_like(code), code)
    return torch.where(s.nan | s.inf, torch.full_like(code, nan_code), code)
