"""TR scheduling: the update rule by hand, measured TR, K tracking a target, schedules, optimizer wrapping."""
import math

import pytest
import torch
from torch import nn

from sim.qat.quant import QuantLinear, quantize_model
from sim.qat.tr import (AdamT, AdamWT, ConstantTR, CosineTR, LinearTR, SGDT, StepTR, TransitionAdaptive,
                        changed_mask, make_tr_scheduler, talr_update, transition_rate, tr_layers)


class FakeLayer(nn.Module):
    """A 'quantized layer' whose code is round(w / 0.1): we know exactly when codes change."""

    def __init__(self, w):
        super().__init__()
        self.weight = nn.Parameter(torch.tensor(w, dtype=torch.float64))

    def weight_codes(self):
        return torch.round(self.weight.detach() / 0.1).to(torch.int64)


def test_talr_update_by_hand():
    # U_t = max(0, U_{t-1} + eta (R_t - K_t)), K_t = m K_{t-1} + (1 - m) k_t
    K, U = 0.0, 0.1
    seq = [(0.5, 0.2), (0.0, 0.2), (1.0, 0.1), (0.25, 0.0)]
    want = []
    k_, u_ = 0.0, 0.1
    for k, r in seq:
        k_ = 0.9 * k_ + 0.1 * k
        u_ = max(0.0, u_ + 0.5 * (r - k_))
        want.append((k_, u_))
    got = []
    for k, r in seq:
        K, U = talr_update(U, K, k, r, momentum=0.9, eta=0.5)
        got.append((K, U))
    assert [v for g in got for v in g] == pytest.approx([v for g in want for v in g], abs=1e-15)
    # the literal numbers, worked on paper
    assert [g[0] for g in got] == pytest.approx([0.05, 0.045, 0.1405, 0.15145])
    assert [g[1] for g in got] == pytest.approx([0.175, 0.2525, 0.23225, 0.156525])
    # clipped at zero
    assert talr_update(0.01, 0.0, 1.0, 0.0, momentum=0.0, eta=1.0) == (1.0, 0.0)


def test_wrapper_steps_by_hand():
    """SGD (no momentum) wrapped: d_t = grad; weights move by U_t d_t after measuring k_t."""
    layer = FakeLayer([0.0, 0.0, 0.0, 0.0])
    base = torch.optim.SGD([layer.weight], lr=0.2)
    opt = TransitionAdaptive(base, [("fake", layer)], target=0.5, momentum=0.5, eta=0.1)
    sched = ConstantTR(opt)
    grads = [[-0.3, 0.0, 0.1, 0.0], [0.0, -0.4, 0.0, 0.0], [0.2, 0.2, 0.2, 0.2]]
    w = [0.0] * 4
    codes = [0] * 4
    K, U = 0.0, 0.2
    for g in grads:
        # hand computation: measure k_t on the current weights, update K and U, then move
        new_codes = [round(v / 0.1) for v in w]
        k = sum(a != b for a, b in zip(codes, new_codes)) / 4
        codes = new_codes
        K = 0.5 * K + 0.5 * k
        U = max(0.0, U + 0.1 * (0.5 - K))
        w = [wi - U * gi for wi, gi in zip(w, g)]
        opt.zero_grad()
        layer.weight.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        sched.step()
        st = opt.last_stats["fake"]
        assert st["tr"] == pytest.approx(k)
        assert st["K"] == pytest.approx(K)
        assert st["U"] == pytest.approx(U)
        assert layer.weight.detach().tolist() == pytest.approx(w, abs=1e-12)


def test_measured_tr_is_fraction_of_changed_codes():
    torch.manual_seed(0)
    layer = quantize_model(nn.Sequential(nn.Linear(32, 16)), "int4", None, weight_scale="fixed")[0]
    before = layer.weight_codes().clone()
    with torch.no_grad():
        layer.weight[:3] += 0.5 * layer.weight_quant.scale_value()[:3]  # moves some codes
        layer.weight[5, :7] -= 3.0 * layer.weight_quant.scale_value()[5]
    after = layer.weight_codes()
    # codes recomputed independently with formats.torch on w / s
    from formats import torch as ft
    s = layer.weight_quant.scale_value()
    lo, hi = layer.weight_quant.lo, layer.weight_quant.hi
    ref = ft.encode(torch.clamp(layer.weight.detach() / s, lo, hi), "int4")
    assert torch.equal(after, ref)
    want = float((before != ref).sum()) / ref.numel()
    assert 0 < want < 1
    assert transition_rate(before, after) == pytest.approx(want)


def test_block_changed_mask_counts_scale_changes():
    ec0 = torch.zeros(2, 8, dtype=torch.int32)
    sc0 = torch.zeros(2, 2, dtype=torch.int32)
    ec1, sc1 = ec0.clone(), sc0.clone()
    ec1[0, 0] = 1          # one element code
    sc1[1, 1] = 5          # one block's scale: its 4 elements change
    m = changed_mask((ec0, sc0), (ec1, sc1))
    assert int(m.sum()) == 5
    assert transition_rate((ec0, sc0, torch.tensor(1.0)), (ec1, sc1, torch.tensor(2.0))) == 5 / 16


def test_schedules():
    layer = FakeLayer([0.0])
    opt = TransitionAdaptive(torch.optim.SGD([layer.weight], lr=0.1), [("f", layer)], target=0.04)
    cos = CosineTR(opt, total_steps=10)
    vals = [cos.get_last_target()]
    for _ in range(12):
        cos.step()
        vals.append(opt.target)
    assert vals[0] == pytest.approx(0.04) and vals[5] == pytest.approx(0.02) and vals[10] == pytest.approx(0.0)
    assert vals[12] == pytest.approx(0.0)
    assert vals[3] == pytest.approx(0.02 * (1 + math.cos(math.pi * 0.3)))
    opt2 = TransitionAdaptive(torch.optim.SGD([layer.weight], lr=0.1), [("f", layer)], target=0.04)
    st = StepTR(opt2, step_size=3, gamma=0.5)
    got = [opt2.target] + [(st.step(), opt2.target)[1] for _ in range(6)]
    assert got == pytest.approx([0.04] * 3 + [0.02] * 3 + [0.01])
    opt3 = TransitionAdaptive(torch.optim.SGD([layer.weight], lr=0.1), [("f", layer)], target=0.04)
    lin = LinearTR(opt3, total_steps=4)
    got = [opt3.target] + [(lin.step(), opt3.target)[1] for _ in range(5)]
    assert got == pytest.approx([0.04, 0.03, 0.02, 0.01, 0.0, 0.0])
    sd = lin.state_dict()
    assert sd["last_epoch"] == 5
    with pytest.raises(ValueError, match="unknown TR schedule 'exp'"):
        make_tr_scheduler("exp", opt3, 10)


@pytest.mark.parametrize("kind", ["adam", "adamw"])
def test_wrapped_adam_first_step_equals_adam(kind):
    """With R = 0 and K_0 = k_1 = 0, U_1 = U_0: AdamT's first step is Adam's at lr = U_0."""
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(8, 8))
    ref = quantize_model(net, "int8", None, weight_scale="fixed")
    twin = quantize_model(net, "int8", None, weight_scale="fixed")
    x = torch.randn(16, 8)
    cls, wrap = (torch.optim.Adam, AdamT) if kind == "adam" else (torch.optim.AdamW, AdamWT)
    kw = {"weight_decay": 0.1} if kind == "adamw" else {}
    o1 = cls(ref.parameters(), lr=0.01, **kw)
    o2 = wrap(twin, lr=0.01, target=0.0, **kw)
    for m, o in ((ref, o1), (twin, o2)):
        o.zero_grad()
        m(x).square().mean().backward()
        o.step()
    assert o2.last_stats["0"]["U"] == pytest.approx(0.01)
    torch.testing.assert_close(twin[0].weight, ref[0].weight, rtol=0, atol=1e-7)
    torch.testing.assert_close(twin[0].bias, ref[0].bias, rtol=0, atol=0)


def test_mixed_groups_are_refused():
    net = quantize_model(nn.Sequential(nn.Linear(4, 4)), "int4", None, weight_scale="fixed")
    with pytest.raises(ValueError, match="mixes TR-managed weights"):
        TransitionAdaptive(torch.optim.SGD(net.parameters(), lr=0.1), tr_layers(net), target=0.01)
    with pytest.raises(ValueError, match="at least one layer"):
        SGDT(nn.Sequential(nn.Linear(4, 4)), lr=0.1, target=0.01)


def test_running_tr_tracks_a_constant_target():
    """Noisy linear regression with int4 weights: K settles near the constant target R."""
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    teacher = 0.1 * torch.randn(8, 32)  # inside the fixed scale's range
    model = nn.Sequential(QuantLinear(32, 8, bias=False, weight_format="int4", weight_scale="fixed"))
    target = 0.05
    opt = SGDT(model, lr=0.05, target=target, tr_momentum=0.95, momentum=0.0)
    sched = ConstantTR(opt)
    Ks = []
    for _ in range(300):
        x = torch.randn(16, 32, generator=gen)
        y = x @ teacher.T + 0.1 * torch.randn(16, 8, generator=gen)
        opt.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        opt.step()
        sched.step()
        Ks.append(opt.last_stats["0"]["K"])
    tail = torch.tensor(Ks[-100:])
    assert abs(float(tail.mean()) - target) < 0.2 * target, float(tail.mean())


@pytest.mark.parametrize("kind", ["sgd", "adam", "adamw"])
def test_fast_step_equals_rescaled_step(kind):
    """Stepping the base optimizer at lr = U (SGD/Adam/AdamW) is w - U d: the lr = 1 + rescale path
    gives the same weights up to its extra rounding, and the same TR statistics."""
    torch.manual_seed(2)
    net = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))
    a = quantize_model(net, "int4", "int4", weight_scale="fixed")
    b = quantize_model(net, "int4", "int4", weight_scale="fixed")
    wrap, kw = {"sgd": (SGDT, {"momentum": 0.9, "weight_decay": 1e-3, "nesterov": True}),
                "adam": (AdamT, {"weight_decay": 1e-3}), "adamw": (AdamWT, {"weight_decay": 0.05})}[kind]
    lr = 0.05 if kind == "sgd" else 0.01
    oa = wrap(a, lr=lr, target=0.02, **kw)
    ob = wrap(b, lr=lr, target=0.02, **kw)
    assert oa._group_layer is not None
    ob._group_layer = None  # force the generic path
    gen = torch.Generator().manual_seed(0)
    for _ in range(8):
        x = torch.randn(32, 16, generator=gen)
        for m, o in ((a, oa), (b, ob)):
            o.zero_grad()
            m(x).square().mean().backward()
            o.step()
        for n in oa.last_stats:
            assert oa.last_stats[n]["tr"] == ob.last_stats[n]["tr"]
            assert oa.last_stats[n]["U"] == pytest.approx(ob.last_stats[n]["U"], rel=1e-12)
        for pa, pb in zip(a.parameters(), b.parameters()):
            torch.testing.assert_close(pa, pb, rtol=1e-5, atol=1e-6)
    # the LR of the TR groups is left as it was
    assert all(g["lr"] == lr for g in oa.param_groups)


def _levels(codes, fmt):
    """Codes with -0 written as +0 (one level), as TR's code keys compare them."""
    import formats

    f = formats.get(fmt)
    el = getattr(f, "element", f)
    nz, z = int(el.encode(-0.0)), int(el.encode(0.0))
    if isinstance(codes, tuple):
        return (torch.where(codes[0] == nz, torch.full_like(codes[0], z), codes[0]), *codes[1:])
    return torch.where(codes == nz, torch.full_like(codes, z), codes)


def test_code_keys_count_the_same_changes_as_codes():
    """k_t from the cheap code keys (forward-pass values) equals k_t from weight_codes() read as
    levels (-0 and +0 one level)."""
    torch.manual_seed(3)
    for fmt in ("int4", "fp8_e4m3", "posit8_0", "mxfp4"):
        gran = "per-block" if fmt == "mxfp4" else "per-channel"
        net = quantize_model(nn.Sequential(nn.Linear(32, 16)), fmt, None, weight_scale="fixed", granularity=gran)
        layer = net[0]
        x = torch.randn(8, 32)
        c0, k0 = _levels(layer.weight_codes(), fmt), layer.weight_code_key()
        for _ in range(3):
            with torch.no_grad():
                layer.weight.add_(0.05 * torch.randn_like(layer.weight))
            net(x)  # the forward pass leaves the keys behind
            c1, k1 = _levels(layer.weight_codes(), fmt), layer.weight_code_key()
            assert transition_rate(c0, c1) == transition_rate(k0, k1)
            c0, k0 = c1, k1


def test_transition_counter_counts_each_step_with_its_scratch_buffer():
    """TransitionCounter's k_t equals the fraction of changed codes at every call, buffer reused."""
    from formats import torch as ft
    from sim.qat.tr import TransitionCounter

    torch.manual_seed(4)
    net = quantize_model(nn.Sequential(nn.Linear(24, 12), nn.ReLU(), nn.Linear(12, 5)), "int4", "int4",
                         weight_scale="fixed")
    layers = tr_layers(net)
    counter = TransitionCounter(layers)

    def codes(m):
        wq = m.weight_quant
        return ft.encode(torch.clamp(m.weight.detach() / wq.scale_value(), wq.lo, wq.hi), "int4")

    prev = {n: codes(m) for n, m in layers}
    seen = []
    for step in range(4):
        with torch.no_grad():
            for _, m in layers:
                m.weight.add_((0.02 * (step + 1)) * torch.randn_like(m.weight))
        net(torch.randn(6, 24))          # leaves the forward's code keys behind, as in training
        got = counter.rates()
        for n, m in layers:
            c = codes(m)
            assert got[n] == pytest.approx(float((c != prev[n]).sum()) / c.numel(), abs=1e-12)
            prev[n] = c
        seen.append(sum(got.values()))
    assert max(seen) > 0
    assert counter._buf == {}        # CPU int code keys: counted in place, no scratch buffer


class _CodesLayer:
    """A stand-in layer whose code key is whatever tensor the test puts in ``self.key``."""

    def __init__(self, key):
        self.key = key

    def weight_code_key(self):
        return self.key


def test_transition_counter_device_path_reuses_its_scratch_buffer():
    """Codes the Numba count cannot read (floats, strided views) go through torch with one buffer."""
    from sim.qat.tr import TransitionCounter

    g = torch.Generator().manual_seed(5)
    base = torch.randint(0, 5, (40, 30), generator=g)
    layers = [("float", _CodesLayer(base.float())), ("strided", _CodesLayer(base.t()))]
    counter = TransitionCounter(layers)
    ptrs = None
    for step in range(3):
        new = base.clone()
        new.view(-1)[step::7] += 1
        want = float((new != base).sum()) / base.numel()
        layers[0][1].key, layers[1][1].key = new.float(), new.t()
        got = counter.rates()
        assert got == {"float": want, "strided": want}
        if ptrs is None:
            ptrs = {n: b.data_ptr() for n, b in counter._buf.items()}
            assert set(ptrs) == {"float", "strided"}
        assert {n: b.data_ptr() for n, b in counter._buf.items()} == ptrs
        base = new
    # the same tensor again: nothing moved
    assert counter.rates() == {"float": 0.0, "strided": 0.0}


@pytest.mark.parametrize("dtype", [torch.int8, torch.uint8, torch.int16, torch.int32, torch.int64])
def test_count_changed_numba_and_torch_paths_agree(dtype):
    """The one-pass Numba count (CPU ints) equals torch's count, at the dtype's extreme values too."""
    from sim.qat.tr import count_changed

    info = torch.iinfo(dtype)
    g = torch.Generator().manual_seed(6)
    a = torch.randint(info.min, info.max, (33, 47), generator=g, dtype=torch.int64).to(dtype)
    a.view(-1)[:4] = torch.tensor([info.min, info.max, 0, -1 if info.min < 0 else 1], dtype=dtype)
    b = a.clone()
    flip = torch.rand(a.shape, generator=g) < 0.3
    b[flip] = torch.where(a[flip] == info.max, a[flip] - 1, a[flip] + 1)
    b.view(-1)[0] = info.max                     # min -> max: a change at the extremes
    want = int((a != b).sum())
    assert want > 0
    assert count_changed(a, b) == want                        # Numba
    assert count_changed(a.t(), b.t()) == want                # strided: torch's path
    if info.bits <= 32:   # float64 holds these ints exactly: floats go through torch, wrong-shape buffer unused
        assert count_changed(a.double(), b.double(), out=torch.empty(3)) == want
    assert count_changed(a, a.clone()) == 0
    assert count_changed(a[:0], b[:0]) == 0
    with pytest.raises(ValueError, match="changed shape"):
        count_changed(a, b[:5])


def test_transition_rate_out_buffer_gives_the_same_rate():
    a = torch.randint(0, 7, (1000,), dtype=torch.int32)
    b = a.clone()
    b[::9] += 1
    buf = torch.full((1000,), 7.0)
    assert transition_rate(a, b, out=buf) == transition_rate(a, b) == 112 / 1000
    # a buffer of the wrong shape is not used
    assert transition_rate(a, b, out=torch.empty(3)) == 112 / 1000


def test_tr_groups_skip_foreach_unless_asked():
    torch.manual_seed(5)
    net = quantize_model(nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3)), "int4", "int4",
                         weight_scale="fixed")
    opt = SGDT(net, lr=0.1, target=0.01, momentum=0.9)
    assert [g.get("foreach") for g in opt.param_groups] == [False, False, None]
    opt2 = SGDT(net, lr=0.1, target=0.01, momentum=0.9, foreach=True)
    assert all(g["foreach"] is True for g in opt2.param_groups)


@pytest.mark.parametrize("fmt", ["fp4_e2m1", "fp6_e2m3", "fp6_e3m2", "fp8_e4m3", "fp8_e5m2", "mxfp4", "mxfp6_e2m3",
                                 "mxfp8_e4m3", "mxfp8_e5m2", "nvfp4", "int4"])
def test_a_weight_that_stays_at_zero_is_no_transition(fmt):
    """-0 and +0 are one level: weights that quantize to zero and only flip sign do not count;
    a weight that really moves does (issue 16: minifloats have two zero codes).  (Posits round no
    nonzero value to zero: a tiny weight that flips sign moves between -minpos and +minpos.)"""
    import torch
    from torch import nn

    from sim.qat.tr import TransitionCounter

    torch.manual_seed(0)
    net = quantize_model(nn.Sequential(nn.Linear(32, 4, bias=False)), weight_format=fmt, act_format=None,
                         weight_scale="fixed")
    layer = net[0]
    with torch.no_grad():
        w = torch.full((4, 32), 1e-30)
        w[:, 0] = 1.0                               # every row (and block) has a large element
        w[:, 1::2] *= -1                            # half the tiny ones negative: they quantize to -0
        layer.weight.copy_(w)
    net(torch.zeros(1, 32))
    counter = TransitionCounter([("l", layer)])
    with torch.no_grad():
        layer.weight[:, 1:] *= -1                   # every tiny weight flips its sign: still zero
    net(torch.zeros(1, 32))
    assert counter.rates()["l"] == 0.0
    with torch.no_grad():
        layer.weight[0, 0] = -1.0                   # one weight really moves
    net(torch.zeros(1, 32))
    assert counter.rates()["l"] == pytest.approx(1 / layer.weight.numel())
