"""NF4 with double quantization (QLoRA): the exact reference, the error the scale rounding
allows, the storage cost, the dynamic 8-bit code, and bad input."""
import numpy as np
import pytest

import formats
from formats.double_quant import DYN8_VALUES, DoubleQuant, DQCodes, double_quant, scale_code
from formats.reference import double_quant as R
from formats.reference.double_quant import rn_f32


def tensors():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 64 * 200)) * rng.lognormal(0, 1.5, (3, 1))  # 600 blocks: groups 256, 256, 88
    w[0, :64] = 0.0  # an all-zero block
    w[1, 64:128] *= 1e-6  # a block far below the mean: its scale can go <= 0
    w[2, 128:192] = 0.5  # a constant block: every element on NF4's +1
    yield "normal", w.astype(np.float32)
    yield "one-block", rng.standard_normal((1, 64)).astype(np.float32)
    yield "equal-blocks", np.tile(np.linspace(-1, 1, 64, dtype=np.float32), (4, 1))  # every d = 0: s2 = 0
    yield "float64", rng.uniform(-3, 3, (2, 128))
    t = np.array(formats.get("nf4").table)
    mids = (t[:-1] + t[1:]) / 2  # float64 input exactly on every NF4 tie (absmax 1)
    yield "ties", np.concatenate([mids, -mids, [1.0, -1.0], np.zeros(32)]).reshape(1, 64) * np.array([[1.0], [0.5]])


@pytest.mark.parametrize("name", ["nf4_dq", "nf4_dq_e4m3"])
@pytest.mark.parametrize("case, x", list(tensors()), ids=[c for c, _ in tensors()])
@pytest.mark.parametrize("rounding", ["rne", "rtz", "stochastic"])
def test_against_reference(name, case, x, rounding):
    f = formats.get(name)
    c = f.encode(x, rounding=rounding, seed=4)
    values, codes, qs, s2s, offset = R.quantize(f, x, rounding, seed=4)
    assert c.elements.reshape(-1).tolist() == codes
    assert c.scales.reshape(-1).tolist() == qs
    assert [float(v) for v in s2s] == c.group_scales.tolist() and float(offset) == float(c.offset)
    got = f.decode(c).reshape(-1)
    assert [float(v) for v in values] == got.tolist()
    assert np.array_equal(f.quantize(x, rounding=rounding, seed=4), got.reshape(x.shape))


def test_elements_are_the_single_level_codes():
    """Elements quantize against the true absmax (as bitsandbytes), so they equal NF4 with fp32 absmax."""
    x = next(tensors())[1]
    f, single = formats.get("nf4_dq"), formats.get("block_nf4_fp32_g64")
    dq, one = f.encode(x), single.encode(x)
    zero_block = (formats.get("fp32").decode(one.scales) == 0)
    assert np.array_equal(dq.elements.reshape(-1, 64)[~zero_block.reshape(-1)],
                          one.elements.reshape(-1, 64)[~zero_block.reshape(-1)])
    assert np.all(dq.elements.reshape(-1, 64)[zero_block.reshape(-1)] == 7)  # NF4's 0.0


@pytest.mark.parametrize("name", ["nf4_dq", "nf4_dq_e4m3"])
def test_error_is_what_the_scale_rounding_allows(name):
    """|x_dq - x_single| = |nf4 value| * |a' - a|, and |a' - a| is the scale code's rounding of
    d / s2 (the nearest code: at most half the gap around it) times s2, plus three float32 roundings."""
    f = formats.get(name)
    x = next(tensors())[1]
    dq, single = f.encode(x), formats.get("block_nf4_fp32_g64")
    a = formats.get("fp32").decode(single.encode(x).scales).reshape(-1)
    a2 = f.scales_of(dq).reshape(-1).astype(np.float64)
    s2 = np.repeat(dq.group_scales.astype(np.float64), f.scale_block)[:a.size]
    off = float(dq.offset)
    d = (a - off).astype(np.float32).astype(np.float64)
    table = np.array(f.scale_format.table)
    ratio = np.where(s2 > 0, d / np.where(s2 > 0, s2, 1), 0.0)
    chosen = table[dq.scales.reshape(-1)]
    # the code is the nearest one to d / s2
    assert np.all(np.abs(chosen - ratio) <= np.min(np.abs(table[None, :] - ratio[:, None]), axis=1))
    gap = np.diff(table).max() / 2
    ulp = lambda v: np.spacing(np.abs(v).astype(np.float32)).astype(np.float64)  # noqa: E731
    bound = np.abs(chosen - ratio) * s2 + ulp(d) / 2 + ulp(chosen * s2) / 2 + ulp(a2) / 2
    assert np.all(np.abs(a2 - a) <= bound)
    assert np.all(np.abs(chosen - ratio) <= gap)
    ev = formats.get("nf4").decode(dq.elements.reshape(-1, 64))
    assert np.array_equal(f.decode(dq).reshape(-1, 64), ev * a2[:, None])
    blocks = a > 0
    err_dq = np.abs(f.decode(dq).reshape(-1, 64) - single.quantize(x).reshape(-1, 64))[blocks]
    assert np.all(err_dq <= (np.abs(ev) * np.abs(a2 - a)[:, None])[blocks] * (1 + 2.0**-50))
    if name == "nf4_dq":  # dyn8 keeps 7 bits near +-1: the scale moves by at most ~0.6 % of the group's spread
        assert np.max(np.abs(a2 - a) / s2) <= 0.0071


def test_bits_per_element_and_names():
    f = formats.get("nf4_dq")
    assert f.bits_per_element() == 4 + 8 / 64 + 32 / (64 * 256) == 4.126953125
    assert f.bits_per_element(64 * 1024) == 4.126953125 + 32 / (64 * 1024)
    assert formats.get("block_nf4_fp32_g64").bits_per_element() == 4.5  # QLoRA's 0.5 bits of scale
    assert (f.name, f.block, f.scale_block, f.scale_code, f.bits) == ("nf4_dq", 64, 256, "dyn8", 4)
    assert formats.get("nf4_dq_e4m3").scale_code == "e4m3" and formats.get("nf4_dq_e4m3").code_max == 448
    assert double_quant("nf4", 32, "e4m3", 128).name == "nf4_dq_e4m3_g32_s128"
    assert double_quant("nf4") == f and isinstance(f.encode(np.zeros((1, 64))), DQCodes)


def test_dyn8_table():
    v = np.array(DYN8_VALUES)
    assert v.size == 256 and np.all(np.diff(v) > 0) and 0.0 in v and v[-1] == 1.0
    assert np.array_equal(v.astype(np.float32).astype(np.float64), v)
    assert np.count_nonzero(v > 0) == 128 and np.count_nonzero(v < 0) == 127
    torch = pytest.importorskip("torch")
    # the definition, rebuilt: for i = 0..6 the midpoints of linspace(0.1, 1, 2**i + 1) (float32)
    # times +-10**(i-6) (float32 arithmetic), plus 0 and 1, sorted
    data = [0.0, 1.0]
    for i in range(7):
        b = torch.linspace(0.1, 1, 2**i + 1, dtype=torch.float32)
        mid = (b[:-1] + b[1:]) / 2.0
        data += (10.0 ** (i - 6) * mid).tolist() + (-(10.0 ** (i - 6)) * mid).tolist()
    assert np.array_equal(np.sort(np.array(data, dtype=np.float32)).astype(np.float64), v)


def test_dyn8_against_bitsandbytes():
    bnb = pytest.importorskip("bitsandbytes.functional")
    assert np.array_equal(bnb.create_dynamic_map().numpy().astype(np.float64), np.array(DYN8_VALUES))


def _bnb_state(x):
    """bitsandbytes' own NF4 + double quantization of the float32 tensor x (CPU)."""
    from formats.conformance.blocks import bnb_nf4_state

    return bnb_nf4_state(x, True)


@pytest.mark.parametrize("shape", [(1, 64 * 5), (3, 64 * 300), (4, 64 * 1024)])
def test_against_bitsandbytes(shape):
    """bitsandbytes' quantize_4bit(compress_statistics=True) is the deployed QLoRA format.

    Decoding bitsandbytes' stored state with our decoder gives its dequantize_4bit bit for bit
    on every tensor.  Our encoder takes the mean of the block scales correctly rounded;
    bitsandbytes takes torch's float32 mean, whose rounding depends on the summation order.
    Where the two means agree (the smallest tensor here) every code agrees; where they differ
    by an ulp the few scales sitting on a code boundary may move by one step, and the element
    codes still agree."""
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * rng.uniform(0.1, 3, (shape[0], 1))).astype(np.float32)
    elements, st, y = _bnb_state(x)
    f = formats.get("nf4_dq")
    theirs = DQCodes(elements, st.absmax.numpy().reshape(shape[0], -1), st.state2.absmax.numpy(),
                     np.float32(st.offset.item()), "nf4_dq")
    assert np.array_equal(f.decode(theirs, dtype=np.float32), y)
    ours = f.encode(x)
    assert np.array_equal(ours.elements, elements)  # first level: every element code
    if np.float32(st.offset.item()) == ours.offset:
        assert np.array_equal(ours.scales, theirs.scales)
        assert np.array_equal(ours.group_scales, theirs.group_scales)
        assert np.array_equal(f.decode(ours, dtype=np.float32), y)
    else:
        assert abs(int(ours.offset.view(np.int32)) - int(theirs.offset.view(np.int32))) == 1
        moved = np.abs(ours.scales.astype(int) - theirs.scales.astype(int))
        assert moved.max() == 1 and np.count_nonzero(moved) <= 0.01 * moved.size


def test_rn_f32_reference_helper():
    from fractions import Fraction

    for v in (1 / 3, 1e-40, 3.4e38, -2.5e-45, 1.0 + 2.0**-24, 1.0 + 3 * 2.0**-24):
        assert rn_f32(Fraction(v)) == Fraction(float(np.float32(v)))


def test_bad_input():
    f = formats.get("nf4_dq")
    with pytest.raises(ValueError, match="cannot encode NaN or Inf"):
        f.encode(np.r_[np.zeros(63), np.nan].reshape(1, 64))
    with pytest.raises(ValueError, match="beyond float32's range"):
        f.encode(np.r_[np.zeros(63), 1e39].reshape(1, 64))
    with pytest.raises(ValueError, match="not a multiple of the block size 64"):
        f.encode(np.zeros((2, 100)))
    with pytest.raises(ValueError, match="unknown scale code 'fp8'; allowed: dyn8, e4m3"):
        scale_code("fp8")
    with pytest.raises(ValueError, match="scale_block must be an integer"):
        DoubleQuant(formats.get("nf4"), 64, "dyn8", 0)
    with pytest.raises(TypeError, match="takes the DQCodes"):
        f.decode(formats.get("block_nf4_fp32_g64").encode(np.zeros((1, 64))))
    c = f.encode(np.ones((1, 128)))
    with pytest.raises(ValueError, match="made by format 'nf4_dq_e4m3'"):
        f.decode(DQCodes(c.elements, c.scales, c.group_scales, c.offset, "nf4_dq_e4m3"))
    with pytest.raises(ValueError, match="group scales"):
        f.decode(DQCodes(c.elements, c.scales, np.zeros(3, np.float32), c.offset, "nf4_dq"))
    with pytest.raises(ValueError, match="overflow"):
        f.encode(np.ones((1, 64)), overflow="inf")
