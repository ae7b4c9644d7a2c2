"""The threshold encoders of small codebooks give the binary-search kernel's codes.

A codebook of <= 16 entries encodes, under a deterministic mode, by counting its
thresholds below the value (``Codebook.thresholds``): in its scalar path and fused into the
block kernel (the CODEBOOK path of formats.block_kernels).  Both must equal the reference
binary search (``formats.codebook._encode_kernel``) code for code, on inputs made to sit on
and next to every entry, midpoint and threshold, ±0, ±Inf, NaN and subnormals.
"""
import numpy as np
import pytest

import formats
from formats.codebook import Codebook, _encode_kernel
from formats.rounding import seed_key

MODES = [0, 1, 2, 3, 4]   # rne, rna, rtz, rup, rdn
BOOKS = [formats.get("nf4"), Codebook((-1.0, 0.0, 0.5, 1.0)), Codebook((-3.0, -1.0, 0.25, 0.5, 2.0 / 3.0)),
         Codebook(tuple(np.linspace(-1, 1, 16)))]


def _reference(cb, x, mode, nan_code=0):
    table, mf, me = cb._kernel_tables
    out = np.empty(x.size, dtype=cb.code_dtype)
    _encode_kernel(x, table, mf, me, mode, seed_key(np.uint64(0)), np.int64(nan_code), out)
    return out


def _adversarial(cb, mode, rng):
    table, mf, _ = cb._kernel_tables
    pts = np.concatenate([table, mf, cb.thresholds(mode), [0.0, -0.0, 5e-324, -5e-324, 1e-310, -1e-310]])
    near = np.concatenate([pts, np.nextafter(pts, np.inf), np.nextafter(pts, -np.inf)])
    return np.concatenate([near, rng.uniform(-1.5, 1.5, 4096), rng.standard_normal(4096) * 1e-3,
                           [np.inf, -np.inf, np.nan, 1e300, -1e300]])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("book", range(len(BOOKS)))
def test_scalar_threshold_path_matches_binary_search(book, mode):
    cb = BOOKS[book]
    x = _adversarial(cb, mode, np.random.default_rng(book * 10 + mode))
    got = cb._encode_flat(x, mode, None, 3, 0)
    assert np.array_equal(got, _reference(cb, x, mode, 3))


def test_thresholds_are_cached_read_only_and_refuse_stochastic():
    cb = formats.get("nf4")
    t = cb.thresholds(0)
    assert t is cb.thresholds(0) and not t.flags.writeable and t.size == len(cb.table) - 1
    with pytest.raises(ValueError, match="stochastic"):
        cb.thresholds(5)


@pytest.mark.parametrize("name", ["block_nf4_fp32_g64", "block_nf4_bf16_g32_t", "block_nf4_e8m0_g32",
                                  "block_nf4_ue4m3_g16_recip_t"])
@pytest.mark.parametrize("mode", ["rne", "rna", "rtz", "rup", "rdn"])
def test_block_codebook_path_matches_the_element_encoder(name, mode):
    """The fused CODEBOOK block path equals encoding each element's quotient with the binary search:
    zero blocks, NaN/Inf blocks (formats without a tensor scale), subnormal and tied elements."""
    f = formats.get(name)
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((6, 256)) * np.exp2(rng.integers(-30, 30, (6, 256)))).astype(np.float32)
    x[0, :64] = 0.0
    x[0, 70] = -0.0
    x[1, :64] = np.float32(1e-42)
    t = f.element.table
    x[2, :] = np.resize(np.array(t + tuple((a + b) / 2 for a, b in zip(t, t[1:])), np.float32), 256)
    if not f.has_tensor_scale:
        x[3, 5] = np.nan
        x[4, 40] = np.inf
    for arr in (x, x.astype(np.float64)):
        if f.recipe == "reciprocal" and arr.dtype != np.float32:
            continue
        c = f.encode(arr, rounding=mode)
        # the reference: each element's quotient through the binary-search encoder (VALUES path)
        sv = f.scale_format.decode(c.scales).astype(np.float64) * (1.0 if c.tensor_scale is None
                                                                   else float(c.tensor_scale))
        d = np.repeat(sv.reshape(-1), f.block)
        flat = arr.reshape(-1).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            if f.recipe == "reciprocal":
                r32 = np.float32(1.0 / np.float32(c.tensor_scale)) / f.scale_format.decode(c.scales).astype(np.float32)
                q = (arr.reshape(-1) * np.repeat(r32.reshape(-1), f.block)).astype(np.float64)
            else:
                q = flat / d
        dead = ~np.isfinite(d) | (d == 0)
        q = np.where(dead, 0.0, q)
        want = _reference(f.element, q, int(formats.rounding.parse_rounding(mode)))
        assert np.array_equal(c.elements.reshape(-1), want), (name, mode, arr.dtype)
