"""The float32 fast block kernels (formats.block_fast) give the general kernel's codes.

float64 input always takes the general kernel (``_encode_chunk``); float32 input with a
table element and a deterministic mode takes the fast one.  The two must agree code for
code (formats.block: "the float32 and float64 paths give identical codes"), on inputs
made to hit every fallback: zeros and -0 in a block, subnormal elements and amaxes,
NaN/Inf blocks, elements far below the block scale, amax at the top of the scale range,
values on element rounding ties, random bit patterns.
"""
import numpy as np
import pytest

import formats

FMTS = ["mxfp4", "mxfp4_rceil", "mxfp4_ceil", "mxfp4_even", "mxfp4_nearest", "mxfp6_e2m3", "mxfp8_e4m3",
        "mxfp8_e5m2", "mxint8", "mx_fp4_e2m1_g16_rceil", "nvfp4", "nvfp4_four_over_six",
        "block_fp4_e2m1_ue5m3_g16_t", "block_int4_bf16_g128", "block_fp4_e2m1_bf16_g16_four_over_six",
        "block_fp4_e2m1_e8m0_g32_t", "block_int8_fp16_g32_floor", "block_fp6_e2m3_ue5m3_g32_even",
        "block_fp4_e2m1_ue4m3_g16"]
MODES = ["rne", "rna", "rtz", "rup", "rdn"]


def _inputs(rng, tensor_scale):
    n = 512
    w = (rng.standard_normal((8, n)) * np.exp2(rng.integers(-160, 126, (8, n)))).astype(np.float32)
    w[:, ::7] = 0.0
    w[:, 3::11] = -0.0
    w[1, :40] = np.float32(1e-40)          # subnormal elements, a subnormal-amax block
    w[2, :] = 0.0                          # all-zero blocks
    w[3, :128] = np.float32(3.4e38)        # amax at the top of the scale range
    tiny = (rng.standard_normal((8, n)) * 1e-30).astype(np.float32)
    tiny[:, ::16] = rng.standard_normal((8, n // 16)).astype(np.float32) * 1e3   # elements far below the scale
    tiny[2:4, :] = (rng.standard_normal((2, n)) * 1e-42).astype(np.float32)
    ties = np.array([0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5, 6, 7, 0.125], np.float32)
    t = (rng.choice(ties, (8, n)) * rng.choice([-1, 1], (8, n))).astype(np.float32) * np.float32(2.0 ** -3)
    t[:, ::32] = 6.0
    bits = rng.integers(0, 2 ** 32, (8, n), dtype=np.uint64).astype(np.uint32).view(np.float32)
    bits = np.where(np.isfinite(bits), bits, np.float32(1.0))
    xs = [w, tiny, t, bits, rng.standard_normal((8, n)).astype(np.float32)]
    if not tensor_scale:   # NaN/Inf blocks (a tensor scale rejects them)
        s = rng.standard_normal((8, n)).astype(np.float32)
        s[0, 10], s[1, 20], s[2, 33] = np.nan, np.inf, -np.inf
        xs.append(s)
    return xs


@pytest.mark.parametrize("name", FMTS)
def test_fast_float32_matches_general_float64(name):
    f = formats.get(name)
    rng = np.random.default_rng(sum(map(ord, name)))
    for i, x in enumerate(_inputs(rng, f.has_tensor_scale)):
        for mode in MODES:
            with np.errstate(over="ignore"):
                a, b = f.encode(x, rounding=mode), f.encode(x.astype(np.float64), rounding=mode)
            np.testing.assert_array_equal(a.scales, b.scales, err_msg=f"{name} input {i} {mode} scales")
            np.testing.assert_array_equal(a.elements, b.elements, err_msg=f"{name} input {i} {mode} elements")
            assert a.tensor_scale == b.tensor_scale
