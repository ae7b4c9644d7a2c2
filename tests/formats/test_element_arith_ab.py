"""A/B: block encodes with element codes by formula (formats.element_arith, the vectorized float32
kernels of formats.block_fast) against the same encodes through the element's float32 table
(``formats.scaled.USE_ARITH = False``: the kernels as they were), code for code and scale for scale,
and against the general float64 kernel, on adversarial float32 inputs:

* values on every element rounding boundary of their block (midpoints of the element grid times
  the block's divisor, as float32) and 1, 2, 3 float32 ulps either side, the grid values themselves;
* zeros and -0 (in blocks and whole blocks), subnormal elements and subnormal block maxima,
  the smallest subnormal, float32 max, elements far below their block's scale;
* block maxima at scale boundaries (powers of two, one ulp either side, element max times a power
  of two, the rceil/even thresholds) for every scale rule;
* NaN/Inf blocks (formats without a tensor scale), random bit patterns, normal data.
"""
import numpy as np
import pytest

import formats
from formats import scaled
from formats.element_arith import NO_ARITH

RULES = ["floor", "ceil", "even", "rceil", "nearest"]
FMTS = ([f"mxfp4_{r}" for r in RULES] + [f"mxfp6_e2m3_{r}" for r in RULES] + [f"mxfp6_e3m2_{r}" for r in RULES]
        + [f"mxfp8_e4m3_{r}" for r in RULES] + [f"mxfp8_e5m2_{r}" for r in RULES] + [f"mxint8_{r}" for r in RULES]
        + ["mxfp4", "mx_fp4_e2m1_g16_rceil", "mx_fp8_e4m3_g16", "nvfp4", "nvfp4_recip", "nvfp4_four_over_six"]
        + [f"nvfp4_{r}" for r in RULES] + [f"nvfp4_recip_{r}" for r in RULES]
        + ["block_int4_bf16_g128", "block_int4_bf16_g128_recip", "block_int4_bf16_g128_t", "block_int8_bf16_g32",
           "block_fp4_e2m1_ue5m3_g16_t", "block_fp4_e2m1_ue4m3_g16", "block_fp4_e2m1_e8m0_g32_t",
           "block_fp4_e2m1_fp16_g32_ceil", "block_int8_fp16_g32_floor", "block_fp6_e2m3_ue5m3_g32_even",
           "block_fp6_e3m2_ue5m3_g16_t", "block_fp8_e4m3_ue4m3_g16_t_recip", "block_fp8_e5m2_bf16_g32_rceil",
           "block_int4_ue4m3_g16_t", "block_fp4_e2m1_bf16_g16_four_over_six"])


def _encode(f, x, arith, rounding="rne"):
    old = scaled.USE_ARITH
    scaled.USE_ARITH = arith
    try:
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            return f.encode(x, rounding=rounding)
    finally:
        scaled.USE_ARITH = old


def _f32(v):
    with np.errstate(over="ignore", under="ignore"):
        return np.float32(v)


def _boundary_inputs(f, rng, rows=16):
    """Blocks whose first element fixes the scale (a random magnitude) and whose others sit on the
    element's rounding boundaries (and grid values) times the block's divisor, and 1..3 ulps off."""
    block = f.block
    e = f.element
    grid = np.unique(np.abs(e.values()[np.isfinite(e.values())]))
    bounds = np.concatenate([grid, (grid[:-1] + grid[1:]) / 2])
    n = block * max(8, 2048 // block)
    x = (rng.standard_normal((rows, n)) * np.exp2(rng.integers(-20, 20, (rows, 1)))).astype(np.float32)
    c = _encode(f, x, False)
    S = float(c.tensor_scale) if c.tensor_scale is not None else 1.0
    d = f.scale_format.decode(c.scales.reshape(-1)).reshape(rows, -1) * S
    out = x.copy()
    for r in range(rows):
        for b in range(n // block):
            if not np.isfinite(d[r, b]) or d[r, b] == 0:
                continue
            amax_pos = np.argmax(np.abs(x[r, b * block:(b + 1) * block])) + b * block
            for j in range(b * block, (b + 1) * block):
                if j == amax_pos:
                    continue
                v = _f32(rng.choice(bounds) * d[r, b] * rng.choice([-1.0, 1.0]))
                if abs(v) >= abs(out[r, amax_pos]):   # keep the block's amax (and so its scale)
                    continue
                k = int(rng.integers(-3, 4))
                for _ in range(abs(k)):
                    v = np.nextafter(v, np.float32(np.inf) if k > 0 else np.float32(-np.inf), dtype=np.float32)
                if abs(v) < abs(out[r, amax_pos]):
                    out[r, j] = v
    return out


def _edge_inputs(f, rng):
    block = f.block
    n = block * max(8, 1024 // block)
    xs = []
    emax = float(f.element.max)
    # block maxima at scale boundaries: powers of two, element max times powers of two, one ulp off
    ams = []
    for k in rng.integers(-140, 127, 24):
        for base in (1.0, emax, emax * 2.0 / 3.0, 1.5, 1.75, 1.875, 1.9375, 1.96875):
            v = _f32(base * 2.0 ** int(k))
            if np.isfinite(v) and v > 0:
                ams += [v, np.nextafter(v, np.float32(np.inf), dtype=np.float32),
                        np.nextafter(v, np.float32(0), dtype=np.float32)]
    ams = np.array(ams, np.float32)
    w = (rng.standard_normal((ams.size, block)) * 0.3).astype(np.float32) * ams[:, None]
    w[:, 0] = ams * rng.choice(np.float32([-1, 1]), ams.size)
    pad = (-w.size) % n
    xs.append(np.concatenate([w.reshape(-1), np.zeros(pad, np.float32)]).reshape(-1, n))
    # zeros, -0, subnormals, tiny and huge values, elements far below the scale
    with np.errstate(over="ignore"):
        z = (rng.standard_normal((8, n)) * np.exp2(rng.integers(-150, 128, (8, n)))).astype(np.float32)
    z = np.where(np.isfinite(z), z, np.float32(-3.4028235e38))
    z[:, ::5] = 0.0
    z[:, 2::7] = -0.0
    z[0, :block] = 0.0
    z[1, :block] = -0.0
    z[2, :3 * block] = np.float32(1e-45) * rng.integers(-5, 6, 3 * block).astype(np.float32)
    z[3, :block] = np.float32(3.4028235e38) * rng.choice(np.float32([-1, 1]), block)
    z[4, ::block] = np.float32(3e4)
    z[5, :] = (rng.standard_normal(n) * 1e-39).astype(np.float32)
    xs.append(z)
    bits = rng.integers(0, 2 ** 32, (8, n), dtype=np.uint64).astype(np.uint32).view(np.float32)
    xs.append(np.where(np.isfinite(bits), bits, np.float32(1.0)))
    xs.append(rng.standard_normal((8, n)).astype(np.float32))
    if not f.has_tensor_scale:
        s = rng.standard_normal((8, n)).astype(np.float32)
        s[0, 3], s[1, block + 1], s[2, 2 * block] = np.nan, np.inf, -np.inf
        xs.append(s)
    return xs


@pytest.mark.parametrize("name", FMTS)
def test_formula_codes_equal_table_codes(name):
    f = formats.get(name)
    rng = np.random.default_rng(sum(map(ord, name)))
    p = scaled._plan(f, 0)
    assert p["ar"][0] != 0, "the formula fits this element (so the A/B compares two paths)"
    xs = _edge_inputs(f, rng) + [_boundary_inputs(f, rng)]
    for i, x in enumerate(xs):
        a, b = _encode(f, x, True), _encode(f, x, False)
        np.testing.assert_array_equal(a.scales, b.scales, err_msg=f"{name} input {i} scales")
        np.testing.assert_array_equal(a.elements, b.elements, err_msg=f"{name} input {i} elements")
        assert a.tensor_scale == b.tensor_scale
        if getattr(f, "recipe", "divide") != "reciprocal":   # float32 input only
            g = _encode(f, x.astype(np.float64), True)   # the general kernel (float64 input)
            np.testing.assert_array_equal(a.scales, g.scales, err_msg=f"{name} input {i} scales vs float64")
            np.testing.assert_array_equal(a.elements, g.elements, err_msg=f"{name} input {i} elements vs float64")
    # other rounding modes keep the tables (no formula): unchanged codes
    x = xs[-1]
    for mode in ("rtz", "rna", "rup"):
        a, b = _encode(f, x, True, mode), _encode(f, x, False, mode)
        np.testing.assert_array_equal(a.elements, b.elements)


def test_fit_refuses_what_the_formula_cannot_code():
    """Non-RNE tables and codebooks get no formula (kind 0), so they keep the table."""
    f = formats.get("mxfp4")
    assert scaled._plan(f, 1)["ar"][0] == 0
    assert scaled._plan(formats.get("block_nf4_fp32_g64"), 0)["ar"][0] == NO_ARITH[0]


@pytest.mark.parametrize("name", ["nvfp4_recip", "block_fp4_e2m1_ue5m3_g16_t", "block_int4_bf16_g128",
                                  "block_fp4_e2m1_e8m0_g32", "block_int8_fp16_g32_floor", "nvfp4_four_over_six",
                                  "block_fp8_e4m3_ue4m3_g16_t_recip", "block_nf4_fp32_g64"])
def test_decode_scale_table_equals_decoded_scales(name):
    """BlockScaled decode with the scale's value table in the kernel (``DECODE_SCALE_TABLE``, scales
    of <= 16 bits) gives the values of decoding the scale codes first, bit for bit (NaN blocks too)."""
    f = formats.get(name)
    rng = np.random.default_rng(sum(map(ord, name)) + 1)
    for x in _edge_inputs(f, rng):
        c = _encode(f, x, True)
        for dt in (np.float64, np.float32):
            old = scaled.DECODE_SCALE_TABLE
            try:
                scaled.DECODE_SCALE_TABLE = False
                a = f.decode(c, dtype=dt)
                scaled.DECODE_SCALE_TABLE = True
                b = f.decode(c, dtype=dt)
            finally:
                scaled.DECODE_SCALE_TABLE = old
            assert np.array_equal(np.isnan(a), np.isnan(b))
            keep = ~np.isnan(a)
            np.testing.assert_array_equal(a[keep], b[keep])
            assert np.array_equal(np.signbit(a[keep]), np.signbit(b[keep]))   # -0.0 too
