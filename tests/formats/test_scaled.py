"""The generic block-scaled format: every scale rule against the exact reference, names, presets."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import formats
from formats import reference as R_pkg  # noqa: F401  (the package must import)
from formats.reference import block as R
from formats.scaled import BlockScaled, block_scaled, scale_format
from formats.scale_rules import RULES

MODES = ("rne", "rna", "rtz", "rup", "rdn", "stochastic")

# (element, scale, block, tensor scale, recipe): one of each kind of part
KINDS = {
    "fp4_e8m0": ("fp4_e2m1", "e8m0", 8, False, "divide"),
    "fp4_ue4m3_t": ("fp4_e2m1", "ue4m3", 8, True, "divide"),
    "fp4_ue5m3_t": ("fp4_e2m1", "ue5m3", 16, True, "divide"),
    "fp4_ue4m3_recip": ("fp4_e2m1", "ue4m3", 8, True, "reciprocal"),
    "fp8_bf16": ("fp8_e4m3", "bf16", 8, False, "divide"),
    "int4_fp16": ("int4", "fp16", 8, False, "divide"),
    "fp6_fp32_t": ("fp6_e3m2", "fp32", 4, True, "divide"),
    "mxint8_ue4m3": ("mxint8", "ue4m3", 4, False, "divide"),
}


def _fmt(kind, rule):
    e, s, k, ts, recipe = KINDS[kind]
    elem = formats.get(e).element if e == "mxint8" else formats.get(e)
    return BlockScaled(elem, scale_format(s), k, rule, ts, recipe)


def _blocks(fmt, rng, rows=12):
    """Random blocks over a wide range, plus blocks whose amax sits on scale boundaries."""
    k = fmt.block
    x = rng.standard_normal((rows, k)) * np.exp2(rng.integers(-30, 30, size=(rows, 1)))
    emax = fmt.element.max
    if fmt.scale_format.bits <= 16:
        sv = fmt.scale_format.values()
        sv = sv[np.isfinite(sv) & (sv > 0)]
    else:  # fp32 scales: random float32 values
        sv = np.abs(rng.standard_normal(64).astype(np.float32)).astype(np.float64) * 2.0 ** rng.integers(-9, 9, 64)
    extra = []
    for v in rng.choice(sv[(sv > 2.0 ** -20) & (sv < 2.0 ** 20)], 6):
        for target in (emax, 2.0 ** np.floor(np.log2(emax)), 4.0):
            row = rng.uniform(-1, 1, k) * v * target
            row[0] = v * target  # amax exactly on a scale value times the target
            extra.append(row)
            row = row.copy()
            row[0] = np.nextafter(v * target, np.inf)
            extra.append(row)
    x = np.concatenate([x, np.array(extra), np.zeros((1, k)), np.full((1, k), -0.0)])
    x[1, 1] = 2.0 ** -140
    return x.astype(np.float32)


@pytest.mark.parametrize("kind, rule", [(k, r) for k in KINDS for r in RULES
                                        if r != "four_over_six" or k.startswith("fp4")])
def test_generic_matches_reference(kind, rule):
    fmt = _fmt(kind, rule)
    rng = np.random.default_rng(sum(map(ord, kind + rule)))
    x = _blocks(fmt, rng)
    modes = MODES if kind in ("fp4_ue4m3_t", "int4_fp16") else ("rne", "rup", "stochastic")
    for mode in modes:
        dtypes = (np.float32,) if fmt.recipe == "reciprocal" else (np.float32, np.float64)
        for dtype in dtypes:
            c = fmt.encode(x.astype(dtype), mode, seed=5)
            e, s, S = R.block_encode(fmt, x.astype(dtype), mode, 5)
            np.testing.assert_array_equal(c.scales, s, err_msg=f"{mode} {dtype}")
            np.testing.assert_array_equal(c.elements, e, err_msg=f"{mode} {dtype}")
            assert (c.tensor_scale is None) == (S is None) and (S is None or float(c.tensor_scale) == S)


def test_scale_round_matches_encoder_on_every_ue4m3_boundary():
    """The exact scale rounding against the kernel: every UE4M3 value, midpoint and neighbour."""
    from formats.block import element_params
    from formats.block_kernels import scale_general

    sf = scale_format("ue4m3")
    sp = tuple(int(v) for v in element_params(sf))
    v = sf.values()[:sf.max_mag + 1]
    pts = np.unique(np.concatenate([v, (v[1:] + v[:-1]) / 2]))
    pts = pts[pts > 0]
    for D in (1.0, 3.0, 6.0 * 0.1234567, 7.0 * float(np.float32(1 / 3))):
        for p in pts:
            for a in (p * D, np.nextafter(p * D, 0), np.nextafter(p * D, np.inf)):
                for dirn, name in ((4, "down"), (3, "up"), (0, "nearest")):
                    want = R.scale_round(sf, Fraction(a) / Fraction(D), name)
                    assert scale_general(a, D, dirn, sp, sf.max_mag) == want, (a, D, name)


def test_exponent_rules_written_out():
    """e8m0 without a tensor scale: the rules as exponent formulas (fp4: emax 6, P 4)."""
    def scale(rule, amax):
        x = np.zeros(32)
        x[0] = amax
        return int(formats.mx("fp4_e2m1", scale_rule=rule).encode(x).scales[0]) - 127

    for amax in (1.0, 3.0, 4.0, 5.0, 6.0, 6.5, 7.0, 7.5, 8.0, 0.3):
        e = int(np.floor(np.log2(amax)))
        assert scale("floor", amax) == e - 2
        assert scale("ceil", amax) == int(np.ceil(np.log2(amax))) - 2
        assert scale("rceil", amax) == int(np.ceil(np.log2(amax / 6)))
        sig = amax / 2.0 ** e
        assert scale("even", amax) == e - 2 + (1 if sig >= 1.75 else 0)  # rho rounds to 2 significant bits


def test_four_over_six_picks_the_smaller_error():
    f6 = formats.get("nvfp4")
    f46 = formats.get("nvfp4_four_over_six")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((256, 16)).astype(np.float32)
    e6 = ((f6.quantize(x) - x) ** 2).sum(axis=1)
    e46 = ((f46.quantize(x) - x) ** 2).sum(axis=1)
    assert np.all(e46 <= e6 * (1 + 1e-12))
    assert (e46 < e6).mean() > 0.2  # 4 wins for a good share of Gaussian blocks
    x = np.array([[4.0, 3.0, 2.0, 1.0] * 4], dtype=np.float32)  # on the grid scaled to 4: error 0
    c = f46.encode(x, tensor_scale=1.0)
    assert np.array_equal(f46.decode(c), x)


def test_presets_equal_their_generic_description():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 64)).astype(np.float32) * 3
    for preset, generic in (("mxfp4", "block_fp4_e2m1_e8m0_g32_floor"),
                            ("mxfp8_e4m3", "block_fp8_e4m3_e8m0_g32_floor"),
                            ("nvfp4", "block_fp4_e2m1_ue4m3_g16_nearest_t")):
        a, b = formats.get(preset).encode(x), formats.get(generic).encode(x)
        np.testing.assert_array_equal(a.elements, b.elements)
        np.testing.assert_array_equal(a.scales, b.scales)
        np.testing.assert_array_equal(formats.get(preset).decode(a), formats.get(generic).decode(b))


def test_names_round_trip_and_parse():
    for name in ("block_int4_bf16_g128", "block_fp4_e2m1_ue5m3_g16_t", "nvfp4_four_over_six", "nvfp4_recip",
                 "mx_fp4_e2m1_g16_even", "mxfp8_e4m3_k16_ceil", "block_nf4_fp32_g64_rceil", "mx_posit8_0",
                 "block_fp8_e4m3_e8m0_g32_floor_ax0"):
        f = formats.get(name)
        assert formats.get(f.name) == f, name
    f = formats.get("block_int4_bf16_g128")
    assert (f.element, f.scale_format.name, f.block, f.scale_rule) == (formats.get("int4"), "bf16", 128, "nearest")
    assert formats.get("mxfp4_g16_rceil") == formats.mx("fp4", block=16, scale_rule="rceil")
    assert formats.get("nvfp4_g32").block == 32
    assert block_scaled("int4", "fp16", 64, "rceil").name == "block_int4_fp16_g64_rceil"


@pytest.mark.parametrize("bad, words", [
    ("block_int4_bf17_g128", ["bf17", "e8m0", "ueXmY"]),
    ("block_int9x_bf16", ["int9x", "element"]),
    ("block_int4", ["block_<element>_<scale>"]),
    ("block_fp8_e4m3_e8m0_4o6", ["four_over_six", "fp4_e2m1"]),
    ("mxfp9", ["mxfp4", "did you mean"]),
])
def test_bad_names_are_clear(bad, words):
    with pytest.raises(KeyError) as err:
        formats.get(bad)
    for w in words:
        assert w in str(err.value), (bad, w, str(err.value))


def test_bad_parts_are_clear():
    with pytest.raises(ValueError, match="allowed: floor, ceil, even, rceil, nearest, four_over_six"):
        block_scaled("int4", "bf16", 32, "round")
    with pytest.raises(ValueError, match="allowed: divide, reciprocal"):
        block_scaled("int4", "bf16", 32, recipe="mul")
    with pytest.raises(ValueError, match="float32 input"):
        formats.get("nvfp4_recip").encode(np.zeros(16))
    with pytest.raises(TypeError, match="no tensor scale"):
        formats.get("block_int4_bf16_g32").encode(np.zeros(32), tensor_scale=1.0)
    with pytest.raises(ValueError, match="NaN or Inf"):
        formats.get("block_fp4_e2m1_ue5m3_g16_t").encode(np.array([np.nan] + [0.0] * 15))


def test_axis_blocks_run_along_the_given_axis():
    x = np.random.default_rng(1).standard_normal((64, 3)).astype(np.float32)
    f0 = formats.get("block_int4_bf16_g32_ax0")
    f1 = formats.get("block_int4_bf16_g32")
    c0 = f0.encode(x)
    assert c0.scales.shape == (2, 3) and c0.elements.shape == (64, 3)
    np.testing.assert_array_equal(f0.quantize(x), f1.quantize(x.T).T)


def test_nan_block_and_zero_scale():
    f = formats.get("block_int4_bf16_g4")
    c = f.encode(np.array([1.0, np.nan, 0, 0, 1, 2, 3, 4], dtype=np.float32))
    assert c.scales[0] == f.scale_format.nan_code and np.isnan(f.decode(c)[:4]).all()
    g = formats.get("block_fp4_e2m1_ue4m3_g4")  # no tensor scale: tiny blocks round their scale to 0
    c = g.encode(np.array([1e-30, -1e-30, 0, 0], dtype=np.float32))
    assert c.scales[0] == 0 and not c.elements.any()


def test_decode_float32_is_the_float64_value_rounded():
    f = formats.get("nvfp4")
    x = np.random.default_rng(2).standard_normal((4, 64)).astype(np.float32)
    c = f.encode(x)
    np.testing.assert_array_equal(formats.get("block_fp4_e2m1_ue4m3_g16_t").decode(
        formats.get("block_fp4_e2m1_ue4m3_g16_t").encode(x), dtype=np.float32), f.decode(c).astype(np.float32))
