"""The fused fake quantizer against the unfused autograd chain it replaced: same forward bits, same gradients."""
import pytest
import torch

import formats
from sim.qat.fakequant import FakeQuantFn, kernel
from sim.qat.quant import FakeQuantSTE, TensorQuantizer
from sim.qat.scaling import format_range

SCALAR = ["int4", "int8", "int2", "uint8", "fp4_e2m1", "fp8_e4m3", "fp8_e5m2", "posit4_1", "posit8_0",
          "int16", "fp16"]
MODES = ["rne", "rna", "rtz", "rup", "rdn"]


def _unfused(q: TensorQuantizer, x: torch.Tensor) -> torch.Tensor:
    """The chain before fusion: Scale's autograd graph, x / s, clamp, STE quantize, times s."""
    rnd, seed = q._rounding_now(), q._seed_now()
    s = q.scale(x)
    y = torch.clamp(x / s, q.lo, q.hi)
    return FakeQuantSTE.apply(y, q.fmt, rnd, seed) * s


def _data(shape, amax, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=g) * amax
    x.view(-1)[:7] = torch.tensor([0.0, -0.0, 1e-30, -1e-30, 3 * amax, -3 * amax, 0.5])
    return x


def _pair(fmt, mode, per_channel, scale_mode, rounding="rne"):
    torch.manual_seed(0)
    q = TensorQuantizer(fmt, rounding, scale_mode, per_channel=per_channel)
    x = _data((24, 40), 1.0, 1)
    q.initialize(x)
    q.train(mode)
    return q, x


def _grads(fn, q, x, g):
    x = x.clone().requires_grad_(True)
    for p in q.parameters():
        p.grad = None
    out = fn(q, x)
    out.backward(g)
    sv = q.scale.value
    return out.detach(), x.grad, (None if sv.grad is None else sv.grad.clone())


@pytest.mark.parametrize("fmt", SCALAR)
@pytest.mark.parametrize("rounding", MODES)
def test_forward_bits_equal_formats(fmt, rounding):
    f = formats.get(fmt)
    lo, hi = format_range(f)
    y = torch.cat([_data((4000,), hi / 2, 2), torch.linspace(lo, hi, 4001),
                   torch.tensor([lo, hi, 0.0, -0.0])]).clamp(lo, hi)
    k = kernel(f, rounding, torch.float32, torch.device("cpu"))
    got = k.q(y)
    want = torch.from_numpy(f.quantize(y.numpy().astype("float64"), rounding=rounding)).to(torch.float32)
    from formats import torch as ft

    want_t = ft.quantize(y, f, rounding=rounding)
    assert torch.equal(got.view(torch.int32), want_t.view(torch.int32))
    assert torch.equal(got, want)


@pytest.mark.parametrize("fmt", ["int4", "int8", "uint8", "fp4_e2m1", "fp8_e4m3", "posit4_1", "posit8_0", "int16"])
@pytest.mark.parametrize("scale_mode", ["lsq", "fixed", "max"])
@pytest.mark.parametrize("per_channel", [False, True])
def test_fused_equals_unfused(fmt, scale_mode, per_channel):
    q, x = _pair(fmt, True, per_channel, scale_mode)
    g = _data(x.shape, 1.0, 3)
    o1, gx1, gs1 = _grads(lambda q, x: q(x), q, x, g)
    o0, gx0, gs0 = _grads(_unfused, q, x, g)
    assert torch.equal(o1.view(torch.int32), o0.view(torch.int32))  # forward: the same bits
    # x: the chain rounds (g * s) / s, the fused node passes g itself
    torch.testing.assert_close(gx1, gx0, rtol=2.5e-7, atol=0)
    assert torch.equal(gx1 == 0, gx0 == 0)
    if scale_mode != "lsq":
        assert gs1 is None and gs0 is None
        return
    # s: both against the exact (float64) value of the same formula
    s = q.scale.value.detach().double().abs()
    y = x.double() / s
    inside = (y >= q.lo) & (y <= q.hi)
    qv = o0.double() / s
    r = torch.where(inside, qv - y, qv) * g.double()
    exact = (r.sum(dim=1, keepdim=True) if per_channel else r.sum()) * q.scale.grad_scale(x)
    scale_ref = (g.double().abs() * (qv.abs() + y.abs())).sum() * q.scale.grad_scale(x)
    err1 = (gs1.double() - exact).abs().max()
    err0 = (gs0.double() - exact).abs().max()
    assert err1 <= max(2 * err0, 1e-6 * float(scale_ref)), (err1, err0)


def test_eval_mode_and_negative_scale():
    """LSQ parameter outside training (no gradient scaling) and a negative learned scale (|v| is used)."""
    for train in (False, True):
        q, x = _pair("int4", train, True, "lsq")
        with torch.no_grad():
            q.scale.value[::3] *= -1
        g = _data(x.shape, 1.0, 4)
        o1, gx1, gs1 = _grads(lambda q, x: q(x), q, x, g)
        o0, gx0, gs0 = _grads(_unfused, q, x, g)
        assert torch.equal(o1, o0)
        torch.testing.assert_close(gx1, gx0, rtol=2.5e-7, atol=0)
        torch.testing.assert_close(gs1, gs0, rtol=1e-4, atol=1e-6)


def test_stochastic_and_pow2_give_the_same_values():
    x = _data((16, 32), 1.0, 5)
    for rounding, pow2 in (("stochastic", False), ("rne", True), ("stochastic", True)):
        a, b = (TensorQuantizer("int4", rounding, "lsq", per_channel=True, pow2=pow2, seed=7) for _ in "ab")
        a.initialize(x)
        b.initialize(x)
        for _ in range(2):
            o1 = a(x)
            o0 = _unfused(b, x)  # b's call counter moves in step with a's
            assert torch.equal(o1, o0)


def test_nan_input_raises_as_formats_does():
    q, x = _pair("int4", True, False, "lsq")
    x[0, 0] = float("nan")
    with pytest.raises(ValueError, match="no NaN encoding"):
        q(x)
    q8, x8 = _pair("fp8_e4m3", True, False, "lsq")
    x8[0, 0] = float("nan")
    assert torch.isnan(q8(x8)[0, 0])  # a format with NaN encodes it


def test_gradcheck_float64():
    """float64 goes through formats.torch.quantize: the STE/LSQ backward is the derivative of
    ``s * (Q(clamp(x/s)) frozen) + ...`` -- checked against the analytic formula, not finite
    differences (Q is piecewise constant)."""
    f = formats.get("int4")
    k = kernel(f, "rne", torch.float64, torch.device("cpu"))
    x = torch.tensor([[0.3, -2.0, 9.0], [0.05, 0.2, -0.4]], dtype=torch.float64, requires_grad=True)
    s = torch.tensor([[0.5], [0.1]], dtype=torch.float64, requires_grad=True)
    out = FakeQuantFn.apply(x, s, k, -8.0, 7.0, 0, None, None)
    y = x.detach() / s.detach()
    qv = torch.round(y.clamp(-8, 7))
    assert torch.equal(out.detach(), qv * s.detach())
    g = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=torch.float64)
    out.backward(g)
    inside = ((y >= -8) & (y <= 7)).double()
    assert torch.equal(x.grad, g * inside)
    want = (g * (qv - y * inside)).sum(1, keepdim=True)
    torch.testing.assert_close(s.grad, want, rtol=1e-15, atol=1e-15)


def test_code_key_follows_the_weights():
    from torch import nn

    from sim.qat.quant import quantize_model

    for fmt in ("int4", "fp8_e4m3", "mxfp4"):
        net = quantize_model(nn.Sequential(nn.Linear(32, 16)), fmt, None,
                             granularity="per-block" if fmt == "mxfp4" else "per-channel")
        layer = net[0]
        net(torch.randn(3, 32))
        k0 = layer.weight_code_key()                 # from the forward pass
        layer.weight_quant._codes_cache = None
        k0b = layer.weight_code_key()                # recomputed
        if isinstance(k0, tuple):
            assert all(torch.equal(a, b) for a, b in zip(k0, k0b))
        else:
            assert torch.equal(k0, k0b)
        codes0 = layer.weight_codes()
        with torch.no_grad():
            layer.weight[:3] *= 1.7                   # an in-place change: the cache must not be used
        k1 = layer.weight_code_key()
        codes1 = layer.weight_codes()
        if isinstance(k1, tuple):
            continue
        assert torch.equal(k0 != k1, codes0 != codes1)


def test_frozen_scale_follows_the_parameter():
    """The remembered |s| of a fixed scale is refreshed when the parameter changes (in place or by .data)."""
    q = TensorQuantizer("int4", "rne", "fixed", per_channel=True)
    x = _data((8, 16), 1.0, 6)
    q.initialize(x)
    a = q(x)
    with torch.no_grad():
        q.scale.value.mul_(2.0)
    b = q(x)
    assert torch.equal(b, _unfused(q, x)) and not torch.equal(a, b)
    q.scale.value.data = q.scale.value.data * 0.5
    assert torch.equal(q(x), _unfused(q, x))
    q.double()
    xd = x.double()
    assert q(xd).dtype == torch.float64 and torch.equal(q(xd), _unfused(q, xd))


# --- the fused CPU pass against the torch ops ------------------------------------------------------
FUSED = ["int2", "int4", "int8", "uint8", "fp4_e2m1", "fp8_e4m3", "fp8_e5m2", "posit4_1", "posit8_0"]


def _every_table_class(f):
    """float32 values that hit every class of the 2**17-entry float32 table (each top-16-bit
    pattern exactly, just above it and at the top of its range), NaN only where ``f`` has NaN."""
    top = torch.arange(1 << 16, dtype=torch.int64) << 16
    bits = torch.cat([top, top + 1, top + 0xFFFF, top + 0x8000])
    x = bits.to(torch.int32).view(torch.float32)          # (int64 -> int32 wraps to the same bits)
    if f.nan_code < 0:
        x = x[~torch.isnan(x)]
    return x


def _same(a, b):
    """Equal bits, except that NaN equals NaN (payloads of NaN residuals are not compared)."""
    na, nb = torch.isnan(a), torch.isnan(b)
    return torch.equal(na, nb) and torch.equal(a[~na].view(torch.int32), b[~nb].view(torch.int32))


@pytest.mark.parametrize("fmt", FUSED)
@pytest.mark.parametrize("rounding", MODES)
def test_fused_cpu_equals_torch_ops_on_every_table_class(fmt, rounding):
    """Every float32 table class, scale 1 (y = x exactly) and per-channel scales: out, Q, mask
    and LSQ residual of the fused pass have the bits of the torch ops, for every want level."""
    from sim.qat.fakequant import fake_quant_ops, fused_cpu

    f = formats.get(fmt)
    lo, hi = format_range(f)
    k = kernel(f, rounding, torch.float32, "cpu")
    x = _every_table_class(f)
    if k.table is None and k.round_op < 0:   # formats has no float32 table here: formats.torch runs
        assert fmt == "uint8" and rounding == "rna"
        assert fused_cpu(x, torch.ones(1), k, lo, hi, 2) is None
        return
    x = x[: x.numel() // 64 * 64].reshape(64, -1).contiguous()
    g = torch.Generator().manual_seed(7)
    for s in (torch.ones(1), torch.rand(64, 1, generator=g) * 4 + 0.01, torch.tensor(0.37)):
        for want in (0, 1, 2):
            got = fused_cpu(x, s, k, lo, hi, want)
            ref = fake_quant_ops(x, s, k, lo, hi, want)
            assert got is not None
            for a, b, name in zip(got, ref, ("out", "q", "mask", "r")):
                if b is None:
                    assert a is None, name
                else:
                    assert a.shape == b.shape and a.dtype == b.dtype, name
                    assert _same(a, b), (name, want)


def test_fused_cpu_raises_on_nan_as_formats_does():
    from sim.qat.fakequant import fused_cpu

    for fmt, rounding in (("int4", "rne"), ("fp4_e2m1", "rne"), ("int8", "rna")):
        f = formats.get(fmt)
        lo, hi = format_range(f)
        x = torch.zeros(3, 5)
        x[1, 2] = float("nan")
        with pytest.raises(ValueError, match="no NaN encoding"):
            fused_cpu(x, torch.ones(1), kernel(f, rounding, torch.float32, "cpu"), lo, hi, 2)


def test_fused_cpu_falls_back_where_it_does_not_apply():
    """Other dtypes, strided input, scales not along axis 0, kernels without table/op: torch ops."""
    from sim.qat.fakequant import fused_cpu

    f = formats.get("int4")
    k = kernel(f, "rne", torch.float32, "cpu")
    x = torch.randn(6, 8)
    assert fused_cpu(x, torch.ones(6, 1), k, -8, 7, 2) is not None
    assert fused_cpu(x.double(), torch.ones(6, 1, dtype=torch.float64), k, -8, 7, 2) is None
    assert fused_cpu(x.t(), torch.ones(8, 1), k, -8, 7, 2) is None          # not contiguous
    assert fused_cpu(x, torch.ones(1, 8), k, -8, 7, 2) is None              # one scale per column
    assert fused_cpu(x, torch.ones(6), k, -8, 7, 2) is None                 # would broadcast along the last axis
    assert fused_cpu(x[:0], torch.ones(1), k, -8, 7, 2) is None             # empty
    k16 = kernel(formats.get("int16"), "rne", torch.float32, "cpu")         # > 8 bits: formats.torch
    assert k16.table is None and k16.round_op < 0
    assert fused_cpu(x, torch.ones(1), k16, -32768, 32767, 2) is None


@pytest.mark.parametrize("fmt", ["int4", "fp4_e2m1", "posit8_0", "fp8_e4m3"])
@pytest.mark.parametrize("scale_mode", ["lsq", "fixed", "max"])
def test_quantizer_fused_and_torch_ops_give_the_same_bits_and_gradients(fmt, scale_mode, monkeypatch):
    """TensorQuantizer through FakeQuantFn with the fused CPU pass and with FUSED_CPU off."""
    from sim.qat import fakequant

    g = _data((24, 40), 1.0, 8)
    runs = []
    real = fakequant.fused_cpu
    for fused in (True, False):
        monkeypatch.setattr(fakequant, "FUSED_CPU", fused)
        got = []
        monkeypatch.setattr(fakequant, "fused_cpu", lambda *a: got.append(real(*a)) or got[-1])
        q, x = _pair(fmt, True, True, scale_mode)
        runs.append(_grads(lambda q, x: q(x), q, x, g))
        assert got and all((r is not None) == fused for r in got)   # fused, or the torch ops
    (o1, gx1, gs1), (o0, gx0, gs0) = runs
    assert torch.equal(o1.view(torch.int32), o0.view(torch.int32))
    assert torch.equal(gx1.view(torch.int32), gx0.view(torch.int32))
    if gs0 is None:
        assert gs1 is None
    else:
        assert torch.equal(gs1.view(torch.int32), gs0.view(torch.int32))
