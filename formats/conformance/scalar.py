"""Scalar formats against ml_dtypes, torch casts, softposit and gfloat."""
from __future__ import annotations

import numpy as np

import formats

from .core import Row, compare_scalar, same as _same, values as _values, nan_code_rule, overflow_rule, unsigned_negative_rule, via_float32_rule

# our preset -> ml_dtypes type name
ML_DTYPES = {"fp8_e4m3": "float8_e4m3fn", "fp8_e5m2": "float8_e5m2", "fp8_e4m3fnuz": "float8_e4m3fnuz",
             "fp8_e5m2fnuz": "float8_e5m2fnuz", "fp6_e2m3": "float6_e2m3fn", "fp6_e3m2": "float6_e3m2fn",
             "fp4_e2m1": "float4_e2m1fn", "bf16": "bfloat16", "e8m0": "float8_e8m0fnu"}
TORCH = {"fp8_e4m3": "float8_e4m3fn", "fp8_e5m2": "float8_e5m2", "fp8_e4m3fnuz": "float8_e4m3fnuz",
         "fp8_e5m2fnuz": "float8_e5m2fnuz", "bf16": "bfloat16", "fp16": "float16", "e8m0": "float8_e8m0fnu"}
GFLOAT = {"fp8_e4m3": "format_info_ocp_e4m3", "fp8_e5m2": "format_info_ocp_e5m2",
          "fp6_e2m3": "format_info_ocp_e2m3", "fp6_e3m2": "format_info_ocp_e3m2",
          "fp4_e2m1": "format_info_ocp_e2m1", "fp16": "format_info_binary16", "bf16": "format_info_bfloat16",
          "e8m0": "format_info_ocp_e8m0"}
SOFTPOSIT = ["posit8_0", "posit16_1", "posit32_2", "posit8_2", "posit16_2"]

_POLICY_RULES = {p: f"tool overflows to {p.upper() if p != 'nan' else 'NaN'} where the format's default "
                 f"overflow policy differs (docs: overflow policies; ours with overflow='{p}' = tool)"
                 for p in ("inf", "nan", "saturate")}
NAN_CODE = "both NaN, different NaN code"
VIA_F32 = "tool rounds float64 input through float32 first (double rounding)"


def _overflow_rules(f):
    return [(_POLICY_RULES[o.label], overflow_rule(o.label)) for o in f.overflows
            if o.label in _POLICY_RULES and o.label != f.default_overflow.label]


UNSIGNED_NEG = "negative input to an unsigned format: ours code 0 (docs: family rules), tool NaN"


def _rules(f, tool=""):
    # E8M0's tie rule first: at 1.5 * 2**127 a tie and an overflow coincide
    e8m0 = [r for r in E8M0_RULES if not r[0].startswith("torch:") or tool == "torch"] if f.name == "e8m0" else []
    return (e8m0 + [(NAN_CODE, nan_code_rule)] + _overflow_rules(f) + [(VIA_F32, via_float32_rule)]
            + ([(UNSIGNED_NEG, unsigned_negative_rule)] if not f.signed else []))


def check_ml_dtypes(name, n_random, seed=0):
    import ml_dtypes

    f = formats.get(name)
    dt = getattr(ml_dtypes, ML_DTYPES[name])
    width = np.uint16 if f.bits > 8 else np.uint8

    def dec(codes):
        return codes.astype(width).view(dt).astype(np.float64) if f.bits in (8, 16) else \
            _from_bits(codes, dt, f.bits)

    def enc(x):
        with np.errstate(over="ignore", invalid="ignore"):
            y = x.astype(dt)
        return y.view(width) if f.bits in (8, 16) else _to_bits(y, dt, f.bits)

    return compare_scalar(Row(name, "ml_dtypes"), f, dec, enc, _rules(f), n_random, seed)


def _from_bits(codes, dt, bits):
    # sub-byte ml_dtypes types store their code in the low bits of a byte
    return codes.astype(np.uint8).view(dt).astype(np.float64)


def _to_bits(y, dt, bits):
    return y.view(np.uint8) & ((1 << bits) - 1)


def check_torch(name, n_random, seed=0):
    import torch

    f = formats.get(name)
    dt = getattr(torch, TORCH[name])
    wide = f.bits == 16
    udt, ndt = (torch.int16, np.uint16) if wide else (torch.uint8, np.uint8)

    def dec(codes):
        t = torch.from_numpy(codes.astype(ndt).view(np.int16) if wide else codes.astype(np.uint8))
        return t.view(dt).to(torch.float64).numpy()

    def enc(x):
        t = torch.from_numpy(x).to(dt).view(udt).numpy()
        return t.view(np.uint16) if wide else t

    return compare_scalar(Row(name, f"torch ({dt})".replace("torch.", "")), f, dec, enc, _rules(f, "torch"), n_random, seed)


def check_gfloat(name, n_random, seed=0):
    import gfloat
    import gfloat.formats as gff

    f = formats.get(name)
    fi = getattr(gff, GFLOAT[name])
    sat = f.default_overflow.label == "saturate"

    def dec(codes):
        return np.asarray(gfloat.decode_ndarray(fi, codes.astype(np.int64)), dtype=np.float64)

    def enc(x):
        with np.errstate(all="ignore"):
            r = gfloat.round_ndarray(fi, x.astype(np.float64), gfloat.RoundMode.TiesToEven, sat)
            return np.asarray(gfloat.encode_ndarray(fi, r)).astype(np.int64)

    row = compare_scalar(Row(name, f"gfloat ({GFLOAT[name][12:]})"), f, dec, enc, _rules(f), n_random, seed)
    return row


def _softposit_conv(n, es):
    import softposit as sp

    if (n, es) == (8, 0):
        return (lambda v: sp.convertDoubleToP8(v).v), (sp.posit8_t, sp.convertP8ToDouble, 0)
    if (n, es) == (16, 1):
        return (lambda v: sp.convertDoubleToP16(v).v), (sp.posit16_t, sp.convertP16ToDouble, 0)
    if (n, es) == (32, 2):
        return (lambda v: sp.convertDoubleToP32(v).v), (sp.posit32_t, sp.convertP32ToDouble, 0)
    return (lambda v: sp.convertDoubleToPX2(v, n).v >> (32 - n)), (sp.posit_2_t, sp.convertPX2ToDouble, 32 - n)


def check_softposit(name, n_random, seed=0):
    f = formats.get(name)
    conv, (ctype, todouble, shift) = _softposit_conv(f.n, f.es)

    def dec(codes):
        out = np.empty(codes.size)
        t = ctype()
        for k, c in enumerate(codes.tolist()):
            t.v = c << shift
            out[k] = np.nan if c == 1 << (f.n - 1) else todouble(t)  # NaR: softposit returns a number
        return out

    def enc(x):
        return np.fromiter((conv(float(v)) for v in x.tolist()), dtype=np.int64, count=x.size)

    rules = [(VIA_F32, via_float32_rule)]
    return compare_scalar(Row(name, "softposit"), f, dec, enc, rules, n_random, seed)


def pairs():
    """(format, tool, check) for every scalar pair."""
    out = []
    for n in ML_DTYPES:
        out.append((n, "ml_dtypes", check_ml_dtypes))
    for n in TORCH:
        out.append((n, "torch", check_torch))
    for n in SOFTPOSIT:
        out.append((n, "softposit", check_softposit))
    for n in GFLOAT:
        out.append((n, "gfloat", check_gfloat))
    return out


# --- E8M0 (no zero, no sign, no mantissa): the tools' own conversions differ from RNE --------
def _e8m0_tie_up(f, x, ours, theirs, i):
    """x (or, for a tool that narrows float64 first, float32(x)) lies exactly halfway between two
    neighbouring powers of two; RNE (ours) takes the even code, the tool the larger power of two
    (ties away from zero; at 1.5 * 2**127 that overflows to NaN)."""
    hit = np.zeros(i.size, bool)
    with np.errstate(over="ignore"):
        cands = [x[i].astype(np.float64), x[i].astype(np.float32).astype(np.float64)]
    for xi in cands:
        lo = 2.0 ** np.floor(np.log2(np.where(xi > 0, xi, 1.0)))
        tie = (xi > 0) & (xi == 1.5 * lo) & (lo >= 2.0 ** -127)
        hit |= tie & (theirs[i] == f.encode(lo).astype(np.int64) + 1)
    return hit


def _e8m0_zero(f, x, ours, theirs, i):
    """±0: E8M0 has no zero; ours gives code 0 (2**-127, docs: family rules), the tool NaN."""
    theirs_v, ok = _values(f, theirs[i])
    return (x[i] == 0) & (ours[i] == 0) & ok & np.isnan(theirs_v)


def _torch_e8m0_subnormal(f, x, ours, theirs, i):
    """0 < |x| < 2**-126 (a float32 subnormal): torch gives code 1 (2**-126); ours RNE (code 0 below 1.5 * 2**-127)."""
    a = np.abs(x[i].astype(np.float64))
    return (a > 0) & (a < 2.0 ** -126) & (theirs[i] == 1) & (ours[i] == 0)


def _e8m0_abs(f, x, ours, theirs, i):
    """x < 0: the tool converts |x| (ours: code 0, docs: family rules)."""
    xi = x[i]
    theirs_v, ok = _values(f, theirs[i])
    with np.errstate(all="ignore"):
        mag = [f.decode(f.encode(np.abs(xi), overflow=p)) for p in ("saturate", "nan")]
        mag.append(f.decode(f.encode(np.abs(xi).astype(np.float32))))
    hit = np.zeros(i.size, bool)
    for m in mag:
        hit |= _same(m, theirs_v)
    return (xi < 0) & (ours[i] == 0) & ok & hit


def _e8m0_invalid(f, x, ours, theirs, i):
    """The tool returns no code (a value outside 0..255) for an input E8M0 cannot hold: negative or below 2**-127."""
    _, ok = _values(f, theirs[i])
    return ~ok & ((x[i] < 0) | (np.abs(x[i]) < 2.0 ** -127))


E8M0_RULES = [("E8M0 has no zero: ±0 gives ours code 0 (2^-127, docs), tool NaN", _e8m0_zero),
              ("torch: E8M0 of a float32-subnormal input is 2^-126 (ours RNE)", _torch_e8m0_subnormal),
              ("E8M0 tie: tool rounds to the larger power of two, ours RNE to the even code", _e8m0_tie_up),
              ("E8M0 negative input: tool converts abs(x), ours code 0 (docs: family rules)", _e8m0_abs),
              ("E8M0 input below 2^-127 or negative: tool returns no valid code", _e8m0_invalid)]
