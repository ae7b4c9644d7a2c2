"""Block formats (OCP MX, NVFP4): gfloat oracle, exact reference, every documented edge case."""
from __future__ import annotations

import math

import numpy as np
import pytest

from formats.block import BlockCodes, FixedPoint
from formats.minifloat import Minifloat
from formats.mx import E8M0, MX, MX_ELEMENTS, MX_PRESETS, mx
from formats.nvfp4 import E2M1, NVFP4, UE4M3, nvfp4, tensor_scale_for
from formats.reference import block as R

import gfloat
from gfloat import formats as gff  # noqa: E402

MODES = ("rne", "rna", "rtz", "rup", "rdn", "stochastic")
PRESETS = tuple(MX_PRESETS)
GF_BLOCK = {
    "mxfp8_e4m3": gff.format_info_mxfp8_e4m3,
    "mxfp8_e5m2": gff.format_info_mxfp8_e5m2,
    "mxfp6_e2m3": gff.format_info_mxfp6_e2m3,
    "mxfp6_e3m2": gff.format_info_mxfp6_e3m2,
    "mxfp4": gff.format_info_mxfp4_e2m1,
    "mxint8": gff.format_info_mxint8,
}
GF_MODES = {
    "rne": gfloat.RoundMode.TiesToEven,
    "rna": gfloat.RoundMode.TiesToAway,
    "rtz": gfloat.RoundMode.TowardZero,
    "rup": gfloat.RoundMode.TowardPositive,
    "rdn": gfloat.RoundMode.TowardNegative,
}
NEG_ZERO = {"mxfp8_e4m3": 0x80, "mxfp8_e5m2": 0x80, "mxfp6_e2m3": 0x20, "mxfp6_e3m2": 0x20,
            "mxfp4": 0x8, "mxint8": 0}


def random_blocks(rng, shape, block, spread=12, dtype=np.float32):
    """Normal values, each block scaled by its own random power of two."""
    x = rng.normal(size=shape)
    nb = shape[-1] // block
    exps = rng.integers(-spread, spread + 1, size=shape[:-1] + (nb,))
    return (x * np.repeat(2.0 ** exps, block, axis=-1)).astype(dtype)


def tricky_rows(fmt: MX, rng):
    """Rows of one block each: ties of the element grid, zeros, -0, subnormal inputs, NaN, Inf."""
    k = fmt.block
    grid = fmt.element.values()
    grid = np.unique(grid[np.isfinite(grid)])
    mids = (grid[:-1] + grid[1:]) / 2
    rows = []
    for s in (-3, 0, 5):
        r = rng.choice(np.concatenate([grid, mids, -mids]), size=k) * 2.0 ** s
        r[0] = fmt.element.max * 2.0 ** s  # fix the block exponent so the mids stay ties
        rows.append(r)
    z = np.zeros(k)
    z[1::2] = -0.0
    rows.append(z)
    rows.append(rng.normal(size=k) * 1e-42)  # float32 subnormals: the scale clamps at 2**-127
    n = rng.normal(size=k)
    n[3] = np.nan
    rows.append(n)
    n = rng.normal(size=k)
    n[-1] = -np.inf
    rows.append(n)
    return np.array(rows, dtype=np.float32)


# ---------------------------------------------------------------------------------------
# gfloat as an oracle
# ---------------------------------------------------------------------------------------
def test_e8m0_matches_gfloat():
    codes = np.arange(256)
    ours = E8M0.decode(codes)
    theirs = np.array([gfloat.decode_float(gff.format_info_ocp_e8m0, int(c)).fval for c in codes])
    np.testing.assert_array_equal(ours, theirs)
    assert np.isnan(ours[255]) and ours[0] == 2.0 ** -127 and ours[254] == 2.0 ** 127
    assert MX_PRESETS["mxfp4"].scale_format is E8M0


@pytest.mark.parametrize("name", PRESETS)
def test_elements_match_gfloat(name):
    fi = GF_BLOCK[name].etype
    codes = np.arange(1 << fi.k)
    ours = MX_ELEMENTS[name].decode(codes)
    theirs = np.array([gfloat.decode_float(fi, int(c)).fval for c in codes])
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("mode", GF_MODES)
@pytest.mark.parametrize("name", PRESETS)
def test_mx_matches_gfloat(name, mode):
    """gfloat's compute_scale_amax is the floor rule (floor(log2 amax) - emax, clipped to
    2**±127, 2**-127 for a zero block) and its elements saturate: codes must agree."""
    fmt, fi = MX_PRESETS[name], GF_BLOCK[name]
    rng = np.random.default_rng(sum(map(ord, name + mode)))
    x = random_blocks(rng, (6, 32), 32).astype(np.float64)
    x[5] = 0.0
    x[4, ::3] = -x[4, ::3] * 1e-3
    codes = fmt.encode(x, mode)
    got = fmt.quantize(x, mode)
    for b in range(x.shape[0]):
        want = gfloat.quantize_block(fi, x[b], gfloat.compute_scale_amax, GF_MODES[mode])
        np.testing.assert_array_equal(got[b], want)
        scale = gfloat.compute_scale_amax(fi.etype.emax, x[b])
        enc = list(gfloat.encode_block(fi, scale, x[b] / scale, GF_MODES[mode]))
        assert codes.scales[b, 0] == enc[0]
        np.testing.assert_array_equal(codes.elements[b], enc[1:])


def test_gfloat_differs_by_design_on_log2_rounding():
    """gfloat takes floor(np.log2(amax)); just below a power of two the float log2
    rounds up to the integer.  Our exponent comes from the bits, as the spec's floor."""
    x = np.zeros(32)
    x[0] = np.nextafter(16.0, 0.0)  # 16 - 2**-49: np.log2 gives exactly 4.0
    assert math.floor(np.log2(x[0])) == 4
    assert gfloat.compute_scale_amax(2, x) == 4.0  # gfloat: 2**(4 - 2)
    c = MX_PRESETS["mxfp4"].encode(x)
    assert c.scales[0] == 127 + 1  # floor(log2 amax) = 3, s = 3 - 2 = 1
    assert MX_PRESETS["mxfp4"].quantize(x)[0] == 12.0  # 7.99.. saturates at 6 * 2**1
    want_gfloat = gfloat.quantize_block(gff.format_info_mxfp4_e2m1, x, gfloat.compute_scale_amax)
    assert want_gfloat[0] == 16.0  # 3.99.. rounds to 4 at gfloat's scale 4


def test_fixed_point_element_matches_gfloat_int8():
    fmt = FixedPoint(8, 6)
    fi = gff.format_info_ocp_int8
    assert fmt.name == "fixed8_f6" and fmt.max == 127 / 64
    np.testing.assert_array_equal(fmt.values(), [gfloat.decode_float(fi, c).fval for c in range(256)])
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.uniform(-2.5, 2.5, 300), np.arange(-260, 260) / 128, [-0.0, 1e-30, -1e-30]])
    for mode, gm in GF_MODES.items():
        want = [gfloat.round_float(fi, v, gm, True) for v in x]
        np.testing.assert_array_equal(fmt.quantize(x, mode), want)


def test_fixed_point_scalar_rules():
    fmt = FixedPoint(8, 6)
    with pytest.raises(ValueError, match="NaN"):
        fmt.encode([np.nan])
    assert fmt.encode([np.nan, -np.inf, np.inf], overflow="saturate").tolist() == [0, 0x80, 0x7F]
    assert fmt.encode([-0.0, 1 / 128, 3 / 128, -1 / 128]).tolist() == [0, 0, 2, 0]  # ties to even
    x = np.full(20000, 0.3 / 64)
    assert abs(fmt.quantize(x, "stochastic", seed=1).mean() - x[0]) < 1e-4
    with pytest.raises(ValueError):
        FixedPoint(1, 0)


# ---------------------------------------------------------------------------------------
# exact reference
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("rule", ("floor", "ceil", "even", "rceil"))
@pytest.mark.parametrize("name", PRESETS)
def test_mx_matches_reference(name, rule):
    fmt = MX(MX_ELEMENTS[name], block=16, scale_rule=rule)
    rng = np.random.default_rng(sum(map(ord, name + rule)))
    x = np.concatenate([random_blocks(rng, (4, 16), 16), tricky_rows(fmt, rng)])
    for mode in MODES:
        for dtype in (np.float32, np.float64):
            c = fmt.encode(x.astype(dtype), mode, seed=11)
            e, s = R.mx_encode(fmt, x, mode, 11)
            np.testing.assert_array_equal(c.elements, e, err_msg=f"{mode} {dtype}")
            np.testing.assert_array_equal(c.scales, s, err_msg=f"{mode} {dtype}")
        got, want = fmt.decode(c), R.mx_decode(fmt, e, s)
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


def test_mx_float64_extremes_match_reference():
    """float64 blocks whose small elements fall far below 2**-1022 once scaled."""
    x = np.array([[2.0 ** 200, 2.0 ** -1000, -2.0 ** -1070, 5e-324, -5e-324, 1.0, -0.0, 0.0],
                  [1e308, -1.7e308, 1.0, 2.0 ** -1074, 0, 0, 0, 0],
                  [2.0 ** -1000, 2.0 ** -1070, -5e-324, 5e-324, 3e-310, 2.0 ** -140, 0.0, -0.0]])
    for name in ("mxfp8_e4m3", "mxfp4", "mxint8"):
        fmt = MX(MX_ELEMENTS[name], block=8)
        for mode in MODES:
            c = fmt.encode(x, mode, seed=2)
            e, s = R.mx_encode(fmt, x, mode, 2)
            np.testing.assert_array_equal(c.elements, e, err_msg=f"{name} {mode}")
            np.testing.assert_array_equal(c.scales, s)
    assert MX_PRESETS["mxfp4"].encode(np.resize(x[0], 32), "rup").elements[1] == 1  # tiny > 0 -> 0.5


@pytest.mark.slow
@pytest.mark.parametrize("name", PRESETS)
def test_mx_matches_reference_large(name):
    rng = np.random.default_rng(len(name))
    for rule in ("floor", "ceil", "even", "rceil"):
        fmt = MX(MX_ELEMENTS[name], scale_rule=rule)
        x = random_blocks(rng, (40, 64), 32, spread=140, dtype=np.float64)
        for mode in MODES:
            c = fmt.encode(x, mode, seed=99)
            e, s = R.mx_encode(fmt, x, mode, 99)
            np.testing.assert_array_equal(c.elements, e)
            np.testing.assert_array_equal(c.scales, s)


# ---------------------------------------------------------------------------------------
# MX edge cases, one rule each
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", PRESETS)
def test_all_zero_block(name):
    fmt = MX_PRESETS[name]
    x = np.zeros((2, 32), dtype=np.float32)
    x[0, 1::2] = -0.0
    c = fmt.encode(x)
    np.testing.assert_array_equal(c.scales, [[0], [0]])  # 2**-127, the smallest scale
    want = np.zeros((2, 32), dtype=np.int64)
    want[0, 1::2] = NEG_ZERO[name]
    np.testing.assert_array_equal(c.elements, want)
    q = fmt.decode(c)
    assert (q == 0).all()
    np.testing.assert_array_equal(np.signbit(q), np.signbit(x) & (NEG_ZERO[name] != 0))


@pytest.mark.parametrize("bad", (np.nan, np.inf, -np.inf))
@pytest.mark.parametrize("name", PRESETS)
def test_nan_or_inf_makes_the_block_nan(name, bad):
    fmt = MX_PRESETS[name]
    x = np.ones((3, 32))
    x[1, 7] = bad
    c = fmt.encode(x)
    np.testing.assert_array_equal(c.scales[:, 0], [127 - fmt.emax_elem, 255, 127 - fmt.emax_elem])
    assert (c.elements[1] == 0).all()
    q = fmt.decode(c)
    assert np.isnan(q[1]).all() and (q[[0, 2]] == 1).all()


def test_tiny_block_clamps_scale_and_rounds_elements():
    fmt = MX_PRESETS["mxfp8_e4m3"]  # emax 8; smallest element 2**-9
    x = np.full(32, 2.0 ** -140)
    x[1] = -(2.0 ** -136.5)
    c = fmt.encode(x)
    assert c.scales[0] == 0  # wanted 2**-148, clamped to 2**-127
    q = fmt.quantize(x)
    assert (q[[0, 2]] == 0).all()  # scaled to 2**-13, far below the smallest element 2**-9
    assert q[1] == -(2.0 ** -136)  # scaled to -2**-9.5: nearest is -2**-9
    assert fmt.quantize(x, "rup")[0] == 2.0 ** -9 * 2.0 ** -127
    assert fmt.quantize(x, "rdn")[1] == -(2.0 ** -136)
    rtz = fmt.quantize(x, "rtz")[1]
    assert rtz == 0 and np.signbit(rtz)


def test_huge_block_clamps_scale_and_saturates():
    fmt = MX_PRESETS["mxfp4"]
    x = np.full(32, 2.0 ** 200)
    x[1] = -(2.0 ** 120)
    c = fmt.encode(x)
    assert c.scales[0] == 254
    assert fmt.quantize(x)[0] == 6 * 2.0 ** 127
    q1 = fmt.quantize(x)[1]  # -2**-7 after scaling: rounds to -0
    assert q1 == 0 and np.signbit(q1)


def test_floor_clips_and_rceil_does_not():
    x = np.zeros(32)
    x[0], x[1] = 7.0, 1.0
    floor_q = mx("fp4_e2m1").quantize(x)
    ceil_q = mx("fp4_e2m1", scale_rule="rceil").quantize(x)
    assert floor_q[0] == 6.0 and floor_q[1] == 1.0  # scale 1: 7 saturates to 6
    assert ceil_q[0] == 8.0 and ceil_q[1] == 1.0  # scale 2: 3.5 ties to 4
    x[0] = 6.0  # fits: both rules agree
    assert mx("mxfp4").encode(x).scales[0] == mx("mxfp4", scale_rule="rceil").encode(x).scales[0] == 127
    x[0] = 5.0  # ceil (torchao CEIL) rounds log2(5) up: scale 2 although 5 fits at scale 1
    assert mx("mxfp4", scale_rule="ceil").encode(x).scales[0] == 128


@pytest.mark.parametrize("name", PRESETS)
def test_rceil_rule_never_clips(name):
    fmt = MX(MX_ELEMENTS[name], scale_rule="rceil")
    rng = np.random.default_rng(5)
    x = random_blocks(rng, (50, 32), 32, spread=30, dtype=np.float64)
    c = fmt.encode(x, "rtz")
    scale = 2.0 ** (c.scales.astype(np.int64) - 127)
    amax = np.abs(x).max(axis=-1, keepdims=True)
    assert (amax <= scale * fmt.element.max).all()
    assert (amax > scale / 2 * fmt.element.max).all()  # and it is the smallest such scale


# ---------------------------------------------------------------------------------------
# shapes, dtypes, arguments
# ---------------------------------------------------------------------------------------
def test_shapes_with_leading_dims():
    fmt = MX_PRESETS["mxfp6_e3m2"]
    rng = np.random.default_rng(8)
    x = random_blocks(rng, (2, 3, 4, 64), 32)
    c = fmt.encode(x, "stochastic", seed=4)
    assert c.elements.shape == x.shape and c.scales.shape == (2, 3, 4, 2) and c.tensor_scale is None
    assert c.elements.dtype == np.uint8 and c.scales.dtype == np.uint8 and c.format == "mxfp6_e3m2"
    flat = fmt.encode(x.reshape(-1), "stochastic", seed=4)  # same flat indices, same draws
    np.testing.assert_array_equal(flat.elements, c.elements.reshape(-1))
    np.testing.assert_array_equal(flat.scales, c.scales.reshape(-1))
    assert fmt.quantize(x, "stochastic", seed=4).shape == x.shape
    for shape in ((0, 32), (3, 0), (0,)):
        c = fmt.encode(np.zeros(shape, dtype=np.float32))
        assert c.elements.shape == shape and c.scales.shape == shape[:-1] + (shape[-1] // 32,)
        assert fmt.decode(c).shape == shape


def test_input_dtypes_agree():
    fmt = MX_PRESETS["mxfp8_e5m2"]
    x = np.linspace(-3, 3, 64).astype(np.float16)
    want = fmt.encode(x.astype(np.float64)).elements
    for xx in (x, x.astype(np.float32), list(x.astype(np.float64))):
        np.testing.assert_array_equal(fmt.encode(xx).elements, want)
    np.testing.assert_array_equal(fmt.encode(np.arange(-16, 16)).elements,
                                  fmt.encode(np.arange(-16, 16.0)).elements)


def test_bad_inputs():
    fmt = MX_PRESETS["mxfp4"]
    with pytest.raises(ValueError, match="length 33.*block size 32"):
        fmt.encode(np.zeros((2, 33)))
    with pytest.raises(ValueError, match="at least one dimension"):
        fmt.encode(np.float32(1.0))
    with pytest.raises(TypeError):
        fmt.encode(np.zeros(32, dtype=complex))
    with pytest.raises(ValueError, match="unknown rounding"):
        fmt.encode(np.zeros(32), "nearest")
    with pytest.raises(ValueError, match="saturate"):
        fmt.encode(np.zeros(32), overflow="inf")
    with pytest.raises(ValueError):
        fmt.encode(np.zeros(32), seed=-1)
    fmt.encode(np.zeros(32), overflow="saturate")
    with pytest.raises(ValueError, match="unknown mx element"):
        mx("fp3")
    with pytest.raises(ValueError, match="scale rule"):
        mx("fp4", scale_rule="round")
    with pytest.raises(ValueError, match="block size"):
        mx("fp4", block=0)
    with pytest.raises(ValueError, match="at most 16"):
        MX(Minifloat(8, 23))
    with pytest.raises(TypeError):
        MX("e2m1")


def test_decode_checks_codes():
    fmt = MX_PRESETS["mxfp4"]
    c = fmt.encode(np.ones((2, 32)))
    with pytest.raises(ValueError, match="mxfp4"):
        MX_PRESETS["mxfp6_e2m3"].decode(c)
    with pytest.raises(ValueError, match="shape"):
        fmt.decode(BlockCodes(c.elements, c.scales[:1], None, "mxfp4"))
    with pytest.raises(ValueError, match="does not fit"):
        fmt.decode(BlockCodes(c.elements + 16, c.scales, None, "mxfp4"))
    with pytest.raises(TypeError):
        fmt.decode(c.elements)
    with pytest.raises(ValueError):
        c.elements[0, 0] = 1  # read-only


def test_decode_honours_element_nan_and_inf_codes():
    fmt = MX_PRESETS["mxfp8_e5m2"]
    e = np.zeros(32, dtype=np.uint8)
    e[:3] = [0x7C, 0xFC, 0x7E]  # +Inf, -Inf, NaN of E5M2
    q = fmt.decode(BlockCodes(e, np.array([130], dtype=np.uint8), None, "mxfp8_e5m2"))
    assert q[0] == np.inf and q[1] == -np.inf and np.isnan(q[2]) and (q[3:] == 0).all()


def test_names_bits_and_overhead():
    assert {n: f.name for n, f in MX_PRESETS.items()} == {n: n for n in MX_PRESETS}
    assert [MX_PRESETS[n].bits for n in PRESETS] == [8, 8, 6, 6, 4, 8]
    assert MX_PRESETS["mxfp4"].bits_per_element() == 4.25
    assert MX_PRESETS["mxint8"].bits_per_element(4096) == 8.25
    assert mx("e4m3", block=16, scale_rule="ceil").name == "mxfp8_e4m3_k16_ceil"
    assert mx("fp8_e4m3") == MX_PRESETS["mxfp8_e4m3"] and mx("int8").element == FixedPoint(8, 6)
    assert mx(Minifloat(3, 3, special="none")).name == "mx_fp7_e3m3"
    info = MX_PRESETS["mxfp6_e2m3"].info()
    assert info["family"] == "block" and info["block"] == 32 and info["scale"] == "e8m0"
    assert [MX_PRESETS[n].emax_elem for n in PRESETS] == [8, 15, 2, 4, 2, 0]


def test_stochastic_is_reproducible_and_unbiased():
    fmt = MX_PRESETS["mxfp4"]
    x = np.full((2000, 32), 0.3)
    x[:, 0] = 4.0  # scale 1: 0.3 lies between 0 and 0.5
    a = fmt.encode(x, "stochastic", seed=1)
    np.testing.assert_array_equal(a.elements, fmt.encode(x, "stochastic", seed=1).elements)
    assert not np.array_equal(a.elements, fmt.encode(x, "stochastic", seed=2).elements)
    q = fmt.decode(a)[:, 1:]
    assert set(np.unique(q)) == {0.0, 0.5}
    assert abs(q.mean() - 0.3) < 0.01


# ---------------------------------------------------------------------------------------
# NVFP4
# ---------------------------------------------------------------------------------------
def test_nvfp4_description():
    f = nvfp4()
    assert (f.name, f.bits, f.block, f.family) == ("nvfp4", 4, 16, "block")
    assert f.element == E2M1 and f.scale_format == UE4M3 and UE4M3.bits == 7 and UE4M3.max == 448
    assert f.bits_per_element() == 4.5 and f.bits_per_element(1024) == 4.5 + 32 / 1024
    assert f.tensor_scale_divisor == 2688 and NVFP4(block=32).name == "nvfp4_k32"


def test_nvfp4_matches_reference():
    f = nvfp4()
    rng = np.random.default_rng(21)
    x = random_blocks(rng, (3, 64), 16, spread=6, dtype=np.float64)
    x[0, :16] = 0.0
    x[0, 3] = -0.0
    x[1, :16] *= 2.0 ** -30  # block scale rounds to 0: its elements are 0
    x[2, 16:32] = np.resize([6.0, 3.5, -2.5, 0.25, 0.75, -5.0], 16) * 2.0 ** -3
    for mode in MODES:
        for dtype in (np.float64, np.float32):
            xx = x.astype(dtype)
            c = f.encode(xx, mode, seed=3)
            e, s, S = R.nvfp4_encode(f, xx, mode, 3)
            assert float(c.tensor_scale) == S
            np.testing.assert_array_equal(c.scales, s, err_msg=mode)
            np.testing.assert_array_equal(c.elements, e, err_msg=mode)
        np.testing.assert_array_equal(f.decode(c), R.nvfp4_decode(f, e, s, S))
    c = f.encode(x)
    assert (c.scales[1, 0] == 0) and (c.elements[1, :16] == 0).all()


@pytest.mark.slow
def test_nvfp4_matches_reference_large():
    f = nvfp4()
    rng = np.random.default_rng(22)
    for trial in range(6):
        x = random_blocks(rng, (8, 128), 16, spread=20, dtype=np.float64)
        ts = None if trial % 2 else float(np.float32(rng.uniform(1e-4, 1.0)))
        for mode in MODES:
            c = f.encode(x, mode, seed=trial, tensor_scale=ts)
            e, s, S = R.nvfp4_encode(f, x, mode, trial, tensor_scale=ts)
            assert float(c.tensor_scale) == S
            np.testing.assert_array_equal(c.scales, s)
            np.testing.assert_array_equal(c.elements, e)


def test_nvfp4_tensor_scale_is_the_exact_float32_rounding():
    rng = np.random.default_rng(9)
    amaxes = np.concatenate([rng.uniform(1, 2, 300) * 2.0 ** rng.integers(-160, 140, 300),
                             [1e-300, 2688 * 2.0 ** -150, 1e300, 2688.0, 1.0]])
    for a in amaxes:
        assert float(tensor_scale_for(float(a))) == R.nvfp4_tensor_scale(nvfp4(), np.array([a]))
    assert tensor_scale_for(0.0) == 1.0


def test_nvfp4_edge_cases():
    f = nvfp4()
    c = f.encode(np.zeros((2, 16), dtype=np.float32))
    assert c.tensor_scale == 1.0 and (c.scales == 0).all() and (c.elements == 0).all()
    x = np.linspace(-1, 1, 32)
    c = f.encode(x)
    assert c.tensor_scale == np.float32(1 / 2688) and c.scales[0] == 126 and c.elements[0] == 0xF
    for bad in (np.nan, np.inf, -np.inf):
        y = x.copy()
        y[5] = bad
        with pytest.raises(ValueError, match="nvfp4 cannot encode NaN or Inf"):
            f.encode(y)
    with pytest.raises(ValueError, match="length 24.*block size 16"):
        f.encode(np.zeros(24))
    for bad in (0.0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="tensor_scale"):
            f.encode(x, tensor_scale=bad)
    with pytest.raises(ValueError, match="tensor_scale"):
        f.decode(BlockCodes(c.elements, c.scales, None, "nvfp4"))
    c = f.encode(x, tensor_scale=1.0)  # explicit S: block scale UE4M3(1/6) = 0.171875
    assert c.tensor_scale == 1.0 and f.scale_format.decode(c.scales[0]) == 0.171875
    assert f.decode(c)[0] == -6 * 0.171875


def test_nvfp4_shapes_and_stochastic():
    f = nvfp4()
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 3, 32))
    a = f.encode(x, "stochastic", seed=5)
    assert a.elements.shape == x.shape and a.scales.shape == (2, 3, 2)
    np.testing.assert_array_equal(a.elements, f.encode(x, "stochastic", seed=5).elements)
    assert not np.array_equal(a.elements, f.encode(x, "stochastic", seed=6).elements)
    assert f.quantize(x).shape == x.shape
