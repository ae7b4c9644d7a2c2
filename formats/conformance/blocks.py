"""Block formats against torchao (OCP MX with the FLOOR and RCEIL scale rules, NVFP4) and bitsandbytes (NF4).

Encode compares, per element, the pair (scale code, element code); decode takes the tool's
own encoded blocks and compares our decoder with the tool's dequantization bit for bit
(MX: also every scale code with every element code).
"""
from __future__ import annotations

from collections import Counter

import numpy as np

import formats

from .core import Row, classify, same

MX = {"mxfp8_e4m3": "float8_e4m3fn", "mxfp8_e5m2": "float8_e5m2", "mxfp6_e2m3": "fp6_e2m3",
      "mxfp6_e3m2": "fp6_e3m2", "mxfp4": "float4_e2m1fn_x2"}
RCEIL_F32 = "torchao RCEIL takes ceil(log2(amax/emax)) in float32: its scale is one lower and the block max clips"
MX_NAN = "block with NaN: both give the NaN scale; the element codes under it carry no value"
MX_INF = "block with ±Inf (no NaN): ours the NaN scale (docs: MX rules), torchao a finite scale"
MX_SCALE0 = "scale code 0 (2^-127): torchao divides the elements by 2^-126 (ours by 2^-127, exact)"
MX_FTZ = "scale code 0: torchao flushes float32-subnormal inputs (abs(x) < 2^-126) to 0"
NV_CLAMP = ("torchao clamps the block scale up to 2^-6 (smallest normal UE4M3); ours rounds amax_b/(6S) < 2^-6 "
            "to a subnormal or 0 scale")
RECIP = "NVFP4 divide recipe (ours) vs torchao's reciprocal: ours with the reciprocal recipe (nvfp4_recip) = tool"
NF4_TIE = ("NF4 near-tie: float32(x/absmax) lands on the float32 midpoint of two neighbouring entries; "
           "bitsandbytes' threshold tree (strict >) takes the smaller entry, ours decides exactly "
           "(ties to the even index, docs: codebook rne)")
BNB_DYN8 = ("bitsandbytes' CPU quantize_blockwise (the dyn8 scale code) is not always nearest near a code "
            "midpoint; ours is the nearest code to d/s2 (docs), checked exactly")
BNB_MEAN = ("bitsandbytes' float32 mean of the block absmax (the nf4_dq offset) differs by one ulp from ours "
            "(correctly rounded): scale codes on a boundary move one step")


def blocks(block: int, emax: float, elem_values: np.ndarray, n_random: int, seed: int = 0,
           specials: bool = True) -> np.ndarray:
    """float32 blocks, shape (rows, block): random magnitudes, then blocks whose max sits on a power of
    two, on the element max times a power of two, on a tie between the two largest element values, and
    one float32 ulp either side of each; blocks of element-value midpoints (every element a tie); all-zero
    blocks; subnormal blocks; with ``specials`` one block holding NaN and one holding Inf."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_random, block)) * np.exp2(rng.integers(-30, 30, size=(n_random, 1)))
    v = np.unique(np.abs(elem_values[np.isfinite(elem_values)]))
    top_tie = (v[-1] + v[-2]) / 2
    rows = []
    for k in range(-20, 21, 3):
        for a in (2.0 ** k, emax * 2.0 ** k, top_tie * 2.0 ** k, (emax + (v[-1] - v[-2]) / 2) * 2.0 ** k):
            a32 = np.float32(a)
            for m in (a32, np.nextafter(a32, np.float32(0)), np.nextafter(a32, np.float32(np.inf))):
                r = rng.standard_normal(block) * float(m) / 4
                r = np.clip(r, -float(m), float(m))
                r[rng.integers(block)] = m * rng.choice([-1, 1])
                rows.append(r)
        mids = (v[:-1] + v[1:]) / 2
        tie_row = np.resize(np.concatenate([[v[-1]], mids, -mids]), block) * 2.0 ** k
        rows.append(tie_row)
    rows += [np.zeros(block), -np.zeros(block), np.full(block, 1e-40), rng.standard_normal(block) * 1e-39]
    if specials:
        rows += [np.where(np.arange(block) == 3, np.nan, 1.0), np.where(np.arange(block) == 5, np.inf, 1.0)]
    return np.concatenate([x, np.array(rows)]).astype(np.float32)


def _count(row: Row, diff_mask_elems: np.ndarray, rules) -> None:
    idx = np.flatnonzero(diff_mask_elems.reshape(-1))
    row.add(idx.size, classify(idx, rules))


# --- torchao MX -------------------------------------------------------------------------------
def _torchao_mx(x, name, rule):
    import torch
    from torchao.prototype.mx_formats.config import ScaleCalculationMode
    from torchao.prototype.mx_formats.mx_tensor import to_dtype, to_mx

    el = MX[name]
    el = getattr(torch, el) if el.startswith("float") else el
    mode = {"floor": ScaleCalculationMode.FLOOR, "rceil": ScaleCalculationMode.RCEIL}[rule]
    scale, data = to_mx(torch.from_numpy(x), el, 32, mode)
    deq = to_dtype(data, scale, el, 32, torch.float32).numpy().reshape(x.shape)
    d = data.view(torch.uint8).numpy().reshape(x.shape[0], -1)
    if name == "mxfp4":  # two codes a byte, element 2i in the low nibble
        d = np.stack([d & 15, d >> 4], axis=-1).reshape(x.shape)
    return scale.view(torch.uint8).numpy().reshape(-1, 1), d, deq


def check_torchao_mx(name, rule, n_random, seed=0):
    import torch
    from torchao.prototype.mx_formats.mx_tensor import to_dtype

    f = formats.mx(formats.get(name).element, block=32, scale_rule=rule)
    label = name if rule == "floor" else f"{name} (scale_rule=rceil)"
    row = Row(label, f"torchao to_mx {rule.upper()}")
    e = f.element
    # decode: every scale code with every element code (the tool's dequantization of those codes)
    n_el = 1 << e.bits
    elems = np.tile(np.resize(np.arange(n_el, dtype=np.uint8), max(n_el, 32)), (256, 1))
    scales = np.repeat(np.arange(256, dtype=np.uint8), elems.shape[1] // 32).reshape(-1, 1)
    elems = elems.reshape(-1, 32)
    el = MX[name]
    el = getattr(torch, el) if el.startswith("float") else el
    data = torch.from_numpy(elems[:, 0::2] | (elems[:, 1::2] << 4) if name == "mxfp4" else elems)
    data = data.view(el) if isinstance(el, torch.dtype) and name != "mxfp4" else data  # fp4: packed uint8
    theirs = to_dtype(data, torch.from_numpy(scales).view(torch.float8_e8m0fnu), el, 32, torch.float32).numpy()
    ours = f.decode(formats.BlockCodes(elems, scales, None, f.name)).astype(np.float32)  # the tool's dtype
    row.codes += elems.size
    _count(row, ~same(ours.reshape(-1), theirs.reshape(-1)), [])
    # encode
    x = blocks(32, float(e.max), e.values(), n_random, seed)
    sc, d, deq = _torchao_mx(x, name, rule)
    o = f.encode(x)
    diff = (o.scales != sc) | (o.elements != d)
    row.inputs += x.size
    amax = np.abs(x).max(axis=1)
    emax = np.float32(e.max)

    def rceil_pred(i):
        b = i // 32
        s_o, s_t = o.scales[b, 0].astype(int), sc[b, 0].astype(int)
        with np.errstate(all="ignore"):
            descale = (amax[b] / emax).astype(np.float32)
            f32 = np.ceil(np.log2(descale)).astype(np.float64)
        return (rule == "rceil") & (s_o == s_t + 1) & (amax[b].astype(np.float64) / 2.0 ** (s_t - 127) > emax) \
            & (f32 == s_t - 127)

    has_inf = np.isinf(x).any(axis=1)

    def nan_scale(i):
        b = i // 32
        return (o.scales[b, 0] == 255) & (sc[b, 0] == 255)

    def inf_block(i):
        b = i // 32
        return has_inf[b] & ~np.isnan(x[b]).any(axis=1) & (o.scales[b, 0] == 255) & (sc[b, 0] != 255)

    def scale0(i):
        b, j = i // 32, i % 32
        with np.errstate(all="ignore"):
            want = e.encode((x[b, j].astype(np.float64) * 2.0 ** 126).astype(np.float32))
        return (o.scales[b, 0] == 0) & (sc[b, 0] == 0) & (want == d[b, j])

    def ftz(i):
        b, j = i // 32, i % 32
        return (o.scales[b, 0] == 0) & (sc[b, 0] == 0) & (np.abs(x[b, j]) < 2.0 ** -126) \
            & (e.decode(d[b, j].astype(np.uint64)) == 0)

    _count(row, diff, [(RCEIL_F32, rceil_pred), (MX_NAN, nan_scale), (MX_INF, inf_block), (MX_SCALE0, scale0),
                       (MX_FTZ, ftz)])
    # decode of the tool's own codes against its dequantization
    theirs_codes = formats.BlockCodes(d.astype(np.uint8), sc.astype(np.uint8), None, f.name)
    row.codes += x.size
    _count(row, ~same(f.decode(theirs_codes).astype(np.float32).reshape(-1), deq.reshape(-1)), [])
    return row


# --- torchao NVFP4 ----------------------------------------------------------------------------
def check_torchao_nvfp4(name, n_random, seed=0):
    import torch
    from torchao.prototype.mx_formats.nvfp4_tensor import nvfp4_quantize, per_tensor_amax_to_scale

    f = formats.get(name)
    recip = formats.get("nvfp4_recip")
    row = Row(name, "torchao nvfp4_quantize")
    x = blocks(16, float(f.element.max) * float(f.scale_format.max), f.element.values(), n_random, seed,
               specials=False)
    x = x[np.argsort(np.abs(x).max(axis=1), kind="stable")]  # one tensor scale a call: neighbours in magnitude
    x = x[: x.shape[0] - x.shape[0] % 4].reshape(-1, 64)  # rows of 4 blocks
    sc_all, el_all, ours_s, ours_e, rec_s, rec_e, need = [], [], [], [], [], [], []
    for part in np.array_split(x, max(1, x.shape[0] // 4)):
        xt = torch.from_numpy(np.ascontiguousarray(part))
        S = per_tensor_amax_to_scale(xt.abs().max())
        if not float(S) > 0:
            continue
        scales, packed = nvfp4_quantize(xt, 16, S)
        p = packed.numpy().reshape(-1)
        sc_all.append(scales.view(torch.uint8).numpy().reshape(-1))
        el_all.append(np.stack([p & 15, p >> 4], axis=1).reshape(-1))
        o, r = f.encode(part), recip.encode(part)
        need.append((np.abs(part).reshape(-1, 16).max(axis=1) / (6.0 * float(S))))  # the exact block scale
        assert float(o.tensor_scale) == float(S), (float(o.tensor_scale), float(S))
        ours_s.append(o.scales.reshape(-1)), ours_e.append(o.elements.reshape(-1))
        rec_s.append(r.scales.reshape(-1)), rec_e.append(r.elements.reshape(-1))
    sc, el, os_, oe, rs, re_, need = (np.concatenate(a) for a in (sc_all, el_all, ours_s, ours_e, rec_s, rec_e,
                                                                  need))
    need = np.repeat(need, 16)
    bs, es = np.repeat(sc, 16), np.repeat(os_, 16)
    diff = (bs != es) | (oe != el)
    row.inputs += el.size
    recip_ok = (np.repeat(rs, 16) == bs) & (re_ == el)
    clamp = (bs == 8) & (es < 8) & (need < 2.0 ** -6)
    rules = [(NV_CLAMP, lambda i: clamp[i])] + ([] if name == "nvfp4_recip" else [(RECIP, lambda i: recip_ok[i])])
    _count(row, diff, rules)
    row.note = "decode: not compared (torchao has no NVFP4 dequantization of raw codes on CPU here)"
    return row


# --- bitsandbytes NF4 -------------------------------------------------------------------------
def bnb_nf4_state(x, dq):
    """bitsandbytes' own NF4 of the float32 array ``x`` (CPU, blocks of 64; ``dq``: double
    quantization, compress_statistics): (element codes in x's shape, its quant state, its
    dequantize_4bit as numpy)."""
    import torch
    import bitsandbytes.functional as bnb

    packed, st = bnb.quantize_4bit(torch.from_numpy(x.reshape(-1)), blocksize=64, compress_statistics=dq,
                                   quant_type="nf4")
    y = bnb.dequantize_4bit(packed, st).numpy().reshape(x.shape)
    p = packed.numpy().reshape(-1)
    el = np.empty(p.size * 2, np.uint8)
    el[0::2], el[1::2] = p >> 4, p & 15  # bitsandbytes packs the first element high
    return el.reshape(x.shape), st, y


def check_bnb(name, n_random, seed=0):
    from formats.double_quant import DQCodes, scale_code

    f = formats.get(name)
    dq = name.startswith("nf4_dq")
    row = Row(name, "bitsandbytes quantize_4bit nf4" + (" compress_statistics" if dq else ""))
    x = blocks(64, 1.0, formats.get("nf4").values(), n_random, seed, specials=False)
    rows = x.shape[0] - x.shape[0] % 4
    x = x[:rows].reshape(rows // 4, 256)  # 4 blocks a row; with dq the groups of 256 blocks span rows
    if dq:
        x = x[: (x.shape[0] // 64) * 64]
    el, st, y = bnb_nf4_state(x, dq)
    o = f.encode(x)
    row.inputs += x.size
    nb = x.shape[1] // 64
    table = formats.get("nf4").values()
    absmax = np.repeat(np.abs(x).reshape(-1, 64).max(axis=1), 64)  # both quantize elements against the true absmax
    with np.errstate(all="ignore"):
        xn = (x.reshape(-1) / absmax).astype(np.float32)
    eo, et = o.elements.reshape(-1).astype(int), el.reshape(-1).astype(int)

    def tie(i):
        a, b = table[eo[i]], table[et[i]]
        mid = ((a + b) / 2).astype(np.float32)
        return (np.abs(eo[i] - et[i]) == 1) & (np.abs(xn[i] - mid) <= np.spacing(mid)) & (b < a)

    if dq:
        theirs = DQCodes(el, st.absmax.numpy().reshape(x.shape[0], nb), st.state2.absmax.numpy(),
                         np.float32(st.offset.item()), f.name)
        s_t, s_o = np.repeat(theirs.scales.reshape(-1), 64), np.repeat(o.scales.reshape(-1), 64)
        diff = (s_t != s_o) | (o.elements.reshape(-1) != el.reshape(-1))
        off_ulps = abs(int(np.float32(o.offset).view(np.int32)) - int(theirs.offset.view(np.int32)))

        def mean_pred(i):
            return (off_ulps == 1) & (np.abs(s_t[i].astype(int) - s_o[i].astype(int)) == 1) \
                & (o.elements.reshape(-1)[i] == el.reshape(-1)[i])

        code = scale_code("dyn8").values()
        a = np.abs(x).reshape(-1, 64).max(axis=1).astype(np.float32)
        dd = np.repeat((a - np.float32(o.offset)).astype(np.float32).astype(np.float64), 64)
        s2 = np.repeat(np.repeat(np.asarray(o.group_scales, np.float64), 256)[: a.size], 64)
        with np.errstate(all="ignore"):
            q = dd / s2

        def not_nearest(i):
            return (off_ulps == 0) & (np.abs(s_t[i].astype(int) - s_o[i].astype(int)) == 1) \
                & (np.abs(code[s_o[i]] - q[i]) < np.abs(code[s_t[i]] - q[i])) \
                & (o.elements.reshape(-1)[i] == el.reshape(-1)[i])

        _count(row, diff, [(BNB_MEAN, mean_pred), (NF4_TIE, tie), (BNB_DYN8, not_nearest)])
    else:
        absmax = st.absmax.numpy().reshape(x.shape[0], nb)
        theirs = formats.BlockCodes(el, absmax.view(np.uint32), None, f.name)
        diff = (np.repeat(o.scales.reshape(-1), 64) != np.repeat(theirs.scales.reshape(-1), 64)) \
            | (o.elements.reshape(-1) != el.reshape(-1))
        _count(row, diff, [(NF4_TIE, tie)])
    row.codes += x.size
    _count(row, ~same(f.decode(theirs, dtype=np.float32).reshape(-1), y.reshape(-1)), [])
    return row


def pairs():
    out = [(n, "torchao", (lambda n: lambda name, k, seed=0: check_torchao_mx(n, "floor", k, seed))(n)) for n in MX]
    out += [(f"{n} (scale_rule=rceil)", "torchao", (lambda n: lambda name, k, seed=0: check_torchao_mx(n, "rceil", k, seed))(n))
            for n in MX]
    out += [(n, "torchao", check_torchao_nvfp4) for n in ("nvfp4", "nvfp4_recip")]
    out += [(n, "bitsandbytes", check_bnb) for n in ("block_nf4_fp32_g64", "nf4_dq")]
    return out
