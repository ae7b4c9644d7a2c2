"""Posits: every code against the exact reference, SoftPosit as outside oracle, every rounding mode.

The rules under test are the table in ``formats.posit``'s docstring: NaR for
NaN/±Inf, saturation at maxpos, a nonzero value never becomes 0 (minpos in every
mode), round-to-nearest-even on the bit string, directed modes by value,
stochastic rounding by the counter-based draw.
"""
import math
from fractions import Fraction

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import formats
from formats.posit import Posit, posit
from formats.reference import posit as R
from formats.rounding import draw32_array

PRESETS = ["posit4_1", "posit8_0", "posit8_2", "posit16_1", "posit16_2"]
ODD = [Posit(2, 0), Posit(3, 1), Posit(5, 4), Posit(6, 2), Posit(7, 3), Posit(10, 4), Posit(12, 2)]
EXHAUSTIVE = [formats.get(p) for p in PRESETS] + ODD
DIRECTED = ["rne", "rna", "rtz", "rup", "rdn"]
finite = st.floats(allow_nan=False, allow_infinity=False)
MODES = DIRECTED + ["stochastic"]
# formats SoftPosit implements: posit8_0, posit16_1, posit32_2 and posit(n, 2) for n = 2..32
ORACLE = ["posit8_0", "posit16_1", "posit8_2", "posit16_2", "posit32_2", "posit3_2", "posit5_2", "posit6_2",
          "posit10_2", "posit12_2", "posit20_2", "posit24_2", "posit31_2"]


def fmt_id(f):
    return f.name


def softposit_codes(f, xs):
    """SoftPosit's round-to-nearest code of each float64 in ``xs``."""
    import softposit as sp
    n, es = f.n, f.es
    if (n, es) == (8, 0):
        conv = lambda v: sp.convertDoubleToP8(v).v  # noqa: E731
    elif (n, es) == (16, 1):
        conv = lambda v: sp.convertDoubleToP16(v).v  # noqa: E731
    elif (n, es) == (32, 2):
        conv = lambda v: sp.convertDoubleToP32(v).v  # noqa: E731
    elif es == 2:  # posit_2 family: the code sits in the top n bits of a 32-bit word
        conv = lambda v: sp.convertDoubleToPX2(v, n).v >> (32 - n)  # noqa: E731
    else:
        raise ValueError(f"SoftPosit has no {f.name}")
    return np.fromiter((conv(float(v)) for v in xs), dtype=np.int64, count=len(xs))


def positive_bodies(f, limit=None, seed=0):
    """Positive codes 1 .. 2**(n-1)-1, or a random sample of ``limit`` of them."""
    top = 2 ** (f.n - 1) - 1
    if limit is None or top <= limit:
        return np.arange(1, top + 1, dtype=np.int64)
    return np.unique(np.random.default_rng(seed).integers(1, top + 1, limit))


def probe_points(f, limit=None, seed=0):
    """Arithmetic midpoints and bit-string tie points between adjacent codes, their negatives,
    and one float32 ulp (float32 points) or float64 ulp (float64 points) either side.
    Returns (float32 points, float64 points)."""
    b = positive_bodies(f, limit, seed)
    b = b[b < 2 ** (f.n - 1) - 1]  # lower neighbour of each gap
    lo = np.array([float(R.body_value(f.n, f.es, int(c))) for c in b])
    hi = np.array([float(R.body_value(f.n, f.es, int(c) + 1)) for c in b])
    tie = np.array([float(R.body_value(f.n + 1, f.es, 2 * int(c) + 1)) for c in b])
    pts = np.concatenate([lo, (lo + hi) / 2, tie, [f.maxpos * 1.5, f.minpos / 3]])
    pts = np.concatenate([pts, -pts])
    p32 = pts[np.abs(pts) < 3e38].astype(np.float32)
    p32 = np.concatenate([p32, np.nextafter(p32, np.float32(np.inf)), np.nextafter(p32, np.float32(-np.inf))])
    p64 = np.concatenate([pts, np.nextafter(pts, np.inf), np.nextafter(pts, -np.inf)])
    return p32, p64


def random_float32(n, seed):
    """Half uniform random bit patterns (mostly huge or tiny), half with exponents near 1, plus specials."""
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)
    near = (bits[: n // 2] & np.uint32(0x807FFFFF)) | (rng.integers(60, 195, n // 2).astype(np.uint32) << 23)
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 1e-45, -1e-45, 1e-40, 1.2e-38,
                         3.4e38, -3.4e38, 1.0, -1.0], dtype=np.float32)
    return np.concatenate([bits[n // 2:].view(np.float32), near.view(np.float32), specials])


# --- the description ----------------------------------------------------------------------
def test_description():
    p = posit(16, 1)
    assert p == Posit(16, 1) == formats.get("posit16_1") and p.name == "posit16_1"
    assert (p.family, p.bits, p.code_dtype, p.nan_code) == ("posit", 16, np.uint16, 0x8000)
    assert p.has_nan and not p.has_inf and p.default_overflow.label == "saturate"
    assert [o.label for o in p.overflows] == ["saturate"]
    assert (p.maxpos, p.minpos, p.useed) == (2.0**28, 2.0**-28, 4.0)
    row = p.info()
    assert {k: row[k] for k in ("n", "es", "useed", "maxpos", "minpos", "max", "min_positive")} == {
        "n": 16, "es": 1, "useed": 4.0, "maxpos": 2.0**28, "minpos": 2.0**-28,
        "max": 2.0**28, "min_positive": 2.0**-28}
    assert Posit(32, 4).maxpos == 2.0**480 and Posit(32, 4).minpos == 2.0**-480
    assert Posit(6, 2, label="mine").name == "mine" and formats.get("posit6_2") == Posit(6, 2)
    assert Posit(32, 2).code_dtype == np.uint32 and Posit(9, 0).code_dtype == np.uint16


@pytest.mark.parametrize("f", EXHAUSTIVE, ids=fmt_id)
def test_closed_forms_match_the_value_table(f):
    v = f.values()
    assert f.maxpos == np.nanmax(v) == -np.nanmin(v) and f.minpos == np.min(v[v > 0])
    assert f.max == f.maxpos and f.min_positive == f.minpos


@pytest.mark.parametrize("bad", [(1, 0), (33, 2), (8, 5), (8, -1), (True, 0), (8.0, 1)])
def test_bad_parameters(bad):
    with pytest.raises(ValueError, match="posit"):
        Posit(*bad)


# --- every code ---------------------------------------------------------------------------
@pytest.mark.parametrize("f", EXHAUSTIVE, ids=fmt_id)
def test_every_code_decodes_to_reference(f):
    codes = np.arange(1 << f.bits)
    got = f.decode(codes)
    want = [R.decode(f, int(c)) for c in codes]
    assert np.isnan(got[f.nan_code]) and want[f.nan_code] is None  # NaR decodes to NaN
    bad = [int(c) for c in codes if want[c] is not None and Fraction(float(got[c])) != want[c]]
    assert not bad, bad[:10]


@pytest.mark.parametrize("f", EXHAUSTIVE, ids=fmt_id)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_encode_decode_round_trip(f, dtype):
    codes = np.arange(1 << f.bits)
    codes = codes[codes != f.nan_code]
    x = f.decode(codes)
    with np.errstate(over="ignore"):
        keep = x.astype(dtype) == x  # posit10_4 reaches 2**128: beyond float32
    x, codes = x[keep].astype(dtype), codes[keep]
    for mode in MODES:  # exact values: every mode gives the code back
        assert np.array_equal(f.encode(x, rounding=mode, seed=3), codes), mode


def test_posit32_decode_and_round_trip():
    f = formats.get("posit32_2")
    codes = np.concatenate([positive_bodies(f, 20_000, seed=4), [0, 1, 2**31 - 1, 2**31, 2**31 + 1, 2**32 - 1]])
    codes = np.concatenate([codes, (2**32 - codes) % 2**32])
    got = f.decode(codes.astype(np.uint32))
    want = [R.decode(f, int(c)) for c in codes]
    assert all((w is None and np.isnan(g)) or Fraction(float(g)) == w for g, w in zip(got, want))
    keep = ~np.isnan(got)
    assert np.array_equal(f.encode(got[keep]), codes[keep])


# --- SoftPosit ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ORACLE)
def test_softposit_midpoints_and_ties(name):
    f = formats.get(name)
    p32, p64 = probe_points(f, None if f.n <= 12 else 3000)  # for n <= 16 the points are exact in float32
    assert np.array_equal(f.encode(p32), softposit_codes(f, p32))
    assert np.array_equal(f.encode(p64), softposit_codes(f, p64))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["posit16_1", "posit16_2"])
def test_softposit_every_midpoint_and_tie(name):
    f = formats.get(name)
    p32, p64 = probe_points(f)
    assert np.array_equal(f.encode(p32), softposit_codes(f, p32))
    assert np.array_equal(f.encode(p64), softposit_codes(f, p64))


@pytest.mark.parametrize("name", ["posit8_0", "posit16_1", "posit32_2", "posit8_2", "posit16_2", "posit12_2"])
def test_softposit_random_float32(name):
    f = formats.get(name)
    x = random_float32(20_000, seed=f.n * 10 + f.es)
    assert np.array_equal(f.encode(x), softposit_codes(f, x))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["posit8_0", "posit16_1", "posit32_2", "posit8_2", "posit16_2", "posit24_2"])
def test_softposit_million_random_float32(name):
    f = formats.get(name)
    x = random_float32(1_000_000, seed=f.n * 100 + f.es)
    assert np.array_equal(f.encode(x), softposit_codes(f, x))


# --- the exact reference, every deterministic mode -------------------------------------------
@pytest.mark.parametrize("f", EXHAUSTIVE + [formats.get("posit32_2"), Posit(24, 3), Posit(20, 4)], ids=fmt_id)
@pytest.mark.parametrize("rounding", DIRECTED)
def test_modes_against_reference(f, rounding):
    # the reference bisects the value list for n <= 16 and the codes (slower) beyond
    limit, n_wide = (None, 300) if f.n <= 8 else (100, 300) if f.n <= 16 else (15, 40)
    p32, p64 = probe_points(f, limit, seed=5)
    rng = np.random.default_rng(6)  # full 53-bit significands, across and beyond the range
    wide = rng.uniform(1, 2, n_wide) * np.exp2(rng.integers(-(f.n << f.es) - 4, (f.n << f.es) + 4, n_wide))
    for x in (p32, np.concatenate([p64, wide, -wide])):
        got = f.encode(x, rounding=rounding)
        want = np.array([R.encode(f, float(v), rounding) for v in x])
        bad = got != want
        assert not bad.any(), (x[bad][:5], got[bad][:5], want[bad][:5])


@pytest.mark.slow
@pytest.mark.parametrize("f", [Posit(16, 1), Posit(16, 2), Posit(12, 4)], ids=fmt_id)
@pytest.mark.parametrize("rounding", DIRECTED)
def test_modes_against_reference_many(f, rounding):
    p32, p64 = probe_points(f, 2000, seed=15)
    for x in (p32, p64):
        got = f.encode(x, rounding=rounding)
        want = np.array([R.encode(f, float(v), rounding) for v in x])
        assert np.array_equal(got, want)


@pytest.mark.parametrize("f", [Posit(4, 1), Posit(8, 2), Posit(16, 1), Posit(18, 3), Posit(32, 2), Posit(32, 4)],
                         ids=fmt_id)
def test_table_kernel_matches_general_kernel(f):
    """The branch-free table kernel (deterministic modes) against the split-based one."""
    rng = np.random.default_rng(8)
    bits64 = rng.integers(0, 2**64 - 1, 50_000, dtype=np.uint64, endpoint=True)
    near = rng.uniform(-2, 2, 50_000) * np.exp2(rng.integers(-(f.n << f.es) - 3, (f.n << f.es) + 3, 50_000))
    with np.errstate(over="ignore"):
        near32 = near.astype(np.float32)
    for x in (random_float32(50_000, 9), bits64.view(np.float64), near, near32):
        for mode in range(5):
            assert np.array_equal(f._encode_flat(x, mode, 0, f.nan_code, 0),
                                  f._encode_general(x, mode, f.nan_code, 0)), (x.dtype, mode)


# --- specials and bad input -----------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_specials(mode, dtype):
    for f in (Posit(8, 0), Posit(16, 2), Posit(32, 2)):  # float32's extremes lie beyond their range
        tiny = np.finfo(dtype).smallest_subnormal
        x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, tiny, -tiny, np.finfo(dtype).max, -np.finfo(dtype).max],
                     dtype=dtype)
        nar, top = f.nan_code, 2 ** (f.n - 1) - 1
        want = [nar, nar, nar, 0, 0, 1, 2**f.n - 1, top, 2**f.n - top]  # NaR, zero, minpos, maxpos
        assert f.encode(x, rounding=mode, seed=1).tolist() == want, f.name
        assert np.isnan(f.decode([nar])[0])


def test_bad_arguments():
    f = formats.get("posit8_0")
    with pytest.raises(ValueError, match="rne, rna, rtz, rup, rdn, stochastic"):
        f.encode([1.0], rounding="nearest")
    with pytest.raises(ValueError, match="'inf' is not available for posit8_0; allowed: saturate"):
        f.encode([1.0], overflow="inf")
    with pytest.raises(ValueError, match="not available"):
        f.encode([1.0], overflow="nan")
    assert f.encode([1e9], overflow="saturate")[0] == 0x7F
    with pytest.raises(TypeError):
        f.encode(np.array(["1.0"]))
    with pytest.raises(ValueError, match="does not fit"):
        f.decode([256])
    with pytest.raises(ValueError, match="seed"):
        f.encode([1.0], rounding="stochastic", seed=-1)


def test_documented_examples():
    f = formats.get("posit8_0")
    assert f.encode([1.0, -1.0, 0.3, 1e9, np.nan]).tolist() == [64, 192, 19, 127, 128]
    g = formats.get("posit8_2")
    # the cut falls in the exponent: between 2**20 and 2**24 the bit-string tie is 2**22
    assert g.decode(g.encode([2.0**22 * 0.99, 2.0**22, 2.0**22 * 1.01])).tolist() == [2.0**20, 2.0**20, 2.0**24]
    assert g.encode([2.0**22]).tolist() == [0x7E]  # the tie goes to the even code, 2**20
    assert g.decode(g.encode([2.0**22], rounding="rna"))[0] == 2.0**24
    assert g.decode(g.encode([5.0e6]))[0] == 2.0**24  # 2**20 is nearer, but 5e6 is above the bit-string tie
    # directed modes at the ends: never 0, never NaR, saturate
    for mode in DIRECTED:
        assert g.decode(g.encode([1e-30, -1e-30, 1e30, -1e30], rounding=mode)).tolist() == [
            2.0**-24, -(2.0**-24), 2.0**24, -(2.0**24)]


# --- properties -----------------------------------------------------------------------------
SMALL = [Posit(4, 1), Posit(8, 0), Posit(8, 2), Posit(16, 1), Posit(16, 2), Posit(32, 2), Posit(7, 3)]


@given(st.lists(finite, min_size=2, max_size=40), st.sampled_from(SMALL),
       st.sampled_from(DIRECTED))
def test_encode_is_monotonic(xs, f, rounding):
    y = f.decode(f.encode(np.sort(np.array(xs)), rounding=rounding))
    assert np.all(np.diff(y) >= 0)


@given(finite, st.sampled_from(SMALL))
def test_directed_modes_bound_the_input(x, f):
    x = float(x)
    dn, up, z = (f.quantize([x], rounding=m)[0] for m in ("rdn", "rup", "rtz"))
    if not (0 < x < f.minpos or x < -f.maxpos):  # exceptions: minpos and saturation
        assert dn <= x
    if not (-f.minpos < x < 0 or x > f.maxpos):
        assert up >= x
    if f.minpos <= abs(x):
        assert abs(z) <= abs(x) and (z == 0) == (x == 0)
    if x != 0 and f.minpos <= abs(x) <= f.maxpos:
        assert up - dn >= 0 and (dn == up) == (dn == x)


@given(finite, st.sampled_from(SMALL))
def test_rne_is_nearest_on_the_bit_string(x, f):
    x = float(x)
    if not f.minpos < abs(x) < f.maxpos:
        return
    lo_code = int(f.encode([abs(x)], rounding="rtz")[0])
    tie = R.body_value(f.n + 1, f.es, 2 * lo_code + 1)  # the (n+1)-bit code between the neighbours
    mag = Fraction(abs(x))
    want = lo_code + (1 if mag > tie or (mag == tie and lo_code % 2) else 0)
    if mag == R.body_value(f.n, f.es, lo_code):
        want = lo_code
    got = int(f.encode([abs(x)])[0])
    assert got == want
    assert int(f.encode([-abs(x)])[0]) == (2**f.n - got)  # negation is two's complement


@given(finite.filter(lambda v: v != 0), st.sampled_from(SMALL), st.sampled_from(MODES), st.integers(0, 2**32 - 1))
def test_nonzero_never_becomes_zero_or_nar(x, f, rounding, seed):
    c = int(f.encode([x], rounding=rounding, seed=seed)[0])
    assert c not in (0, f.nan_code)
    assert (c > f.nan_code) == (x < 0)


# --- stochastic rounding ----------------------------------------------------------------------
@pytest.mark.parametrize("f", [Posit(4, 1), Posit(8, 0), Posit(8, 2), Posit(16, 2), Posit(6, 4), Posit(32, 2)],
                         ids=fmt_id)
def test_stochastic_follows_the_draw_rule(f):
    limit, n_rand = (300, 2000) if f.n <= 16 else (20, 100)
    p32, p64 = probe_points(f, limit, seed=11)
    rng = np.random.default_rng(12)
    x = np.concatenate([p64, rng.uniform(-1, 1, n_rand) * np.exp2(rng.integers(-(f.n << f.es), f.n << f.es, n_rand))])
    seed = 77
    got = f.encode(x, rounding="stochastic", seed=seed)
    u = draw32_array(seed, x.size).astype(np.float64) * 2.0**-32
    want = np.array([R.encode(f, float(v), "stochastic", u=u[i]) for i, v in enumerate(x)])
    assert np.array_equal(got, want)
    assert np.array_equal(f.encode(p32, rounding="stochastic", seed=seed),
                          np.array([R.encode(f, float(v), "stochastic", u=w) for v, w in
                                    zip(p32, draw32_array(seed, p32.size) * 2.0**-32)]))


def test_stochastic_reproducible_across_threads():
    f = formats.get("posit16_1")
    x = np.random.default_rng(0).normal(size=200_000).astype(np.float32)
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = f.encode(x, rounding="stochastic", seed=9)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = f.encode(x, rounding="stochastic", seed=9)
    finally:
        numba.set_num_threads(old)
    assert np.array_equal(one, two)
    assert np.array_equal(f.encode(x.reshape(400, 500), rounding="stochastic", seed=9).reshape(-1), one)
    assert not np.array_equal(f.encode(x, rounding="stochastic", seed=10), one)


@pytest.mark.parametrize("f, x", [(Posit(8, 0), 1.3), (Posit(16, 1), -0.7001), (Posit(8, 2), 3.0e6),
                                  (Posit(16, 2), 2.0**-50 * 1.7)], ids=["p8_0", "p16_1", "p8_2-exponent-cut",
                                                                       "p16_2-regime"])
def test_stochastic_is_unbiased(f, x):
    lo, hi, t = R.stochastic_bracket(f, x)
    lo, hi = float(lo), float(hi)
    q = np.abs(f.quantize(np.full(200_000, x), rounding="stochastic", seed=5))
    assert set(np.unique(q)) <= {lo, hi} and 0 < t < 1
    sigma = (hi - lo) * math.sqrt(t * (1 - t) / q.size)  # mean error shrinks like 1/sqrt(n)
    assert abs(q.mean() - abs(x)) < 5 * sigma
