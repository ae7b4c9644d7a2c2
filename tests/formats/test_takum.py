"""Linear takums: every code against the exact reference, every rounding mode, the rules of
``formats.takum``'s docstring (NaR for NaN/±Inf, saturation, a nonzero value never becomes 0
or NaR, round-to-nearest-even on the bit string, directed modes by value, stochastic by the draw).

Exhaustive for n = 8..16: every code decodes to the reference; every value round-trips in every
mode; every gap's lower value, arithmetic midpoint, bit-string tie point and their float32 and
float64 neighbours encode as the reference says in every mode (n <= 12 in the fast suite,
n = 13..16 marked slow).  No takum package exists on PyPI; the cross-check against libtakum
(the author's C library, built by hand) is scripts/crosscheck_libtakum.py, its result in
docs/formats.md.
"""
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import formats
from formats.reference import takum as R
from formats.rounding import draw32_array
from formats.takum import Takum, takum

DIRECTED = ["rne", "rna", "rtz", "rup", "rdn"]
MODES = DIRECTED + ["stochastic"]
FAST = [Takum(n) for n in range(8, 13)]
SLOW = [Takum(n) for n in range(13, 17)]
finite = st.floats(allow_nan=False, allow_infinity=False)


def fmt_id(f):
    return f.name


def probe_points(f, limit=None, seed=0):
    """Each gap's lower value, arithmetic midpoint and bit-string tie (every gap, or ``limit`` random
    gaps), beyond-the-ends points, their negatives, and the float32 / float64 neighbours of each.
    Returns (float32 points, float64 points)."""
    top = 2 ** (f.n - 1) - 1
    if limit is not None and top - 1 > limit:  # sampled: never build every code (2**31 of them for takum32)
        b = np.unique(np.random.default_rng(seed).integers(1, top, limit))
    else:
        b = np.arange(1, top, dtype=np.int64)
    lo = np.array([float(R.positive_value(f.n, int(c))) for c in b])
    hi = np.array([float(R.positive_value(f.n, int(c) + 1)) for c in b])
    tie = np.array([float(R.positive_value(f.n + 1, 2 * int(c) + 1)) for c in b])
    pts = np.concatenate([lo, (lo + hi) / 2, tie, [f.maxpos * 1.5, f.maxpos, f.minpos, f.minpos / 3, 2.0**-255]])
    pts = np.concatenate([pts, -pts])
    with np.errstate(over="ignore", under="ignore"):
        p32 = pts.astype(np.float32)
    p32 = p32[np.isfinite(p32) & (p32 != 0)]
    p32 = np.concatenate([p32, np.nextafter(p32, np.float32(np.inf)), np.nextafter(p32, np.float32(-np.inf))])
    p64 = np.concatenate([pts, np.nextafter(pts, np.inf), np.nextafter(pts, -np.inf)])
    return p32, p64


def check_modes(f, x, modes=DIRECTED):
    for mode in modes:
        got = f.encode(x, rounding=mode)
        want = np.array([R.encode(f, float(v), mode) for v in x])
        bad = got != want
        assert not bad.any(), (mode, x[bad][:5], got[bad][:5], want[bad][:5])


# --- the description -----------------------------------------------------------------------
def test_description():
    t = takum(16)
    assert t == Takum(16) == formats.get("takum16") and t.name == "takum16" and t.family == "takum"
    assert (t.bits, t.code_dtype, t.nan_code, t.has_nan, t.has_inf) == (16, np.uint16, 0x8000, True, False)
    assert [o.label for o in t.overflows] == ["saturate"]
    assert formats.get("takum8").code_dtype == np.uint8 and formats.get("takum32").code_dtype == np.uint32
    assert formats.get("takum24") == Takum(24) and formats.get("TAKUM12").name == "takum12"
    # closed forms of the ends: (2 - 2**-(n-12)) 2**254 and (1 + 2**-(n-12)) 2**-255
    for n in (13, 16, 24, 32):
        assert Takum(n).maxpos == (2 - 2.0 ** -(n - 12)) * 2.0**254
        assert Takum(n).minpos == (1 + 2.0 ** -(n - 12)) * 2.0**-255
    assert (Takum(12).maxpos, Takum(12).minpos) == (2.0**254, 2.0**-254)
    assert (Takum(8).maxpos, Takum(8).minpos) == (2.0**239, 2.0**-239)
    assert {"takum8", "takum16", "takum32"} <= set(formats.names())
    assert Takum(9, label="mine").name == "mine"


@pytest.mark.parametrize("bad", [7, 33, 0, True, 8.0, "16"])
def test_bad_parameters(bad):
    with pytest.raises(ValueError, match="takum n must be an integer in 8..32"):
        Takum(bad)


def test_bad_names():
    with pytest.raises(KeyError, match="takum n must be an integer in 8..32"):
        formats.get("takum40")
    with pytest.raises(KeyError, match="takumN"):
        formats.get("takum_16")


def test_documented_examples():
    t = formats.get("takum16")
    assert t.encode([1.0, -1.0, 3.0, 1e80, float("nan")]).tolist() == [0x4000, 0xC000, 0x4A00, 0x7FFF, 0x8000]
    # 3 = 1.5 * 2**1: S=0 D=1 R=001 (r=1) C=0 (c = 2**1 - 1 + 0 = 1) M=1000000000
    assert format(0x4A00, "016b") == "0" + "1" + "001" + "0" + "1000000000"
    t8 = formats.get("takum8")
    # takum8 keeps 3 of the 7 characteristic bits of r = 7: between 2**127 and 2**143 the bit-string
    # tie is 2**135 (code 0 1 111 000 + 1), so 2**140 goes up although 2**127 is nearer
    assert t8.decode(t8.encode([2.0**135 * 0.99, 2.0**135, 2.0**135 * 1.01, 2.0**140])).tolist() == [
        2.0**127, 2.0**127, 2.0**143, 2.0**143]
    for mode in DIRECTED:  # never 0, never NaR, saturate
        assert t8.decode(t8.encode([1e-300, -1e-300, 1e300, -1e300], rounding=mode)).tolist() == [
            2.0**-239, -(2.0**-239), 2.0**239, -(2.0**239)]


# --- every code ----------------------------------------------------------------------------
@pytest.mark.parametrize("f", FAST + SLOW, ids=fmt_id)
def test_every_code_decodes_to_reference(f):
    codes = np.arange(1 << f.bits)
    got = f.decode(codes)
    want = R.values(f)
    assert want[f.nan_code] is None and np.isnan(got[f.nan_code]) and want[0] == 0 == got[0]
    bad = [int(c) for c in codes if want[c] is not None and Fraction(float(got[c])) != want[c]]
    assert not bad, bad[:10]
    # the definition's properties: values grow with the code, negation is two's complement
    pos = got[1:f.nan_code]
    assert np.all(np.diff(pos) > 0)
    assert np.array_equal(got[f.nan_code + 1:], -pos[::-1])


@pytest.mark.parametrize("f", FAST + SLOW, ids=fmt_id)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_encode_decode_round_trip(f, dtype):
    codes = np.arange(1 << f.bits)
    codes = codes[codes != f.nan_code]
    x = f.decode(codes)
    with np.errstate(over="ignore", under="ignore"):
        keep = x.astype(dtype) == x  # float32 holds only the values within 2**±126 .. 2**128
    for mode in MODES:
        assert np.array_equal(f.encode(x[keep].astype(dtype), rounding=mode, seed=3), codes[keep]), mode


def test_takum32_decode_and_round_trip():
    f = formats.get("takum32")
    rng = np.random.default_rng(4)
    codes = np.concatenate([rng.integers(1, 2**31, 20_000), [0, 1, 2, 2**31 - 1, 2**31 - 2, 2**30, 2**31]])
    codes = np.unique(np.concatenate([codes, (2**32 - codes) % 2**32]))
    got = f.decode(codes.astype(np.uint32))
    want = [R.decode(f, int(c)) for c in codes]
    assert all((w is None and np.isnan(g)) or Fraction(float(g)) == w for g, w in zip(got, want))
    keep = ~np.isnan(got)
    for mode in MODES:
        assert np.array_equal(f.encode(got[keep], rounding=mode), codes[keep])


# --- every midpoint, tie and neighbour, every mode -------------------------------------------
@pytest.mark.parametrize("f", FAST, ids=fmt_id)
def test_every_gap_every_mode(f):
    p32, p64 = probe_points(f)
    check_modes(f, p32)
    check_modes(f, p64)


@pytest.mark.slow
@pytest.mark.parametrize("f", SLOW, ids=fmt_id)
def test_every_gap_every_mode_wide(f):
    p32, p64 = probe_points(f)
    check_modes(f, p32)
    check_modes(f, p64)


@pytest.mark.parametrize("f", SLOW + [Takum(20), Takum(24), Takum(32)], ids=fmt_id)
def test_sampled_gaps_every_mode(f):
    p32, p64 = probe_points(f, 150 if f.n <= 16 else 15, seed=f.n)
    rng = np.random.default_rng(f.n)  # full 53-bit significands across and beyond the range
    wide = rng.uniform(1, 2, 60) * np.exp2(rng.integers(-262, 262, 60))
    check_modes(f, p32)
    check_modes(f, np.concatenate([p64, wide, -wide]))


@pytest.mark.parametrize("f", [Takum(8), Takum(11), Takum(16), Takum(23), Takum(32)], ids=fmt_id)
def test_table_kernel_matches_general_kernel(f):
    rng = np.random.default_rng(8)
    bits64 = rng.integers(0, 2**64 - 1, 50_000, dtype=np.uint64, endpoint=True)
    bits32 = rng.integers(0, 2**32 - 1, 50_000, dtype=np.uint64, endpoint=True).astype(np.uint32)
    near = rng.uniform(-2, 2, 50_000) * np.exp2(rng.integers(-260, 260, 50_000))
    with np.errstate(over="ignore"):
        near32 = near.astype(np.float32)
    for x in (bits32.view(np.float32), bits64.view(np.float64), near, near32):
        for mode in range(5):
            assert np.array_equal(f._encode_flat(x, mode, 0, f.nan_code, 0),
                                  f._encode_general(x, mode, f.nan_code, 0)), (x.dtype, mode)


# --- specials -------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_specials(mode, dtype):
    for f in (Takum(8), Takum(16), Takum(32)):
        tiny, big = np.finfo(dtype).smallest_subnormal, np.finfo(dtype).max
        x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, tiny, -tiny, big, -big], dtype=dtype)
        got = f.encode(x, rounding=mode, seed=1)
        nar, top = f.nan_code, 2 ** (f.n - 1) - 1
        assert got[:5].tolist() == [nar, nar, nar, 0, 0]
        if dtype == np.float64:  # 2**-1074 lies below minpos, 1.8e308 above maxpos
            assert got[5:].tolist() == [1, 2**f.n - 1, top, 2**f.n - top]
        elif mode != "stochastic":  # float32's whole range lies inside takum's: subnormals are values
            assert got[5:].tolist() == [R.encode(f, float(v), mode) for v in x[5:]]
        else:
            dn, up = (f.encode(x[5:], rounding=m) for m in ("rdn", "rup"))  # the two neighbours
            assert np.all((got[5:] == dn) | (got[5:] == up))


def test_float32_subnormals_are_values():
    f = formats.get("takum16")
    x = np.array([1e-45, 3e-42, 1.1e-38, -7e-40], dtype=np.float32)
    for mode in DIRECTED:
        assert f.encode(x, rounding=mode).tolist() == [R.encode(f, float(v), mode) for v in x]


def test_bad_arguments():
    f = formats.get("takum8")
    with pytest.raises(ValueError, match="rne, rna, rtz, rup, rdn, stochastic"):
        f.encode([1.0], rounding="nearest")
    with pytest.raises(ValueError, match="'inf' is not available for takum8; allowed: saturate"):
        f.encode([1.0], overflow="inf")
    with pytest.raises(ValueError, match="does not fit"):
        f.decode([256])


# --- properties -----------------------------------------------------------------------------
SMALL = [Takum(8), Takum(10), Takum(16), Takum(21), Takum(32)]


@given(st.lists(finite, min_size=2, max_size=40), st.sampled_from(SMALL), st.sampled_from(DIRECTED))
def test_encode_is_monotonic(xs, f, rounding):
    y = f.decode(f.encode(np.sort(np.array(xs)), rounding=rounding))
    assert np.all(np.diff(y) >= 0)


@given(finite.filter(lambda v: v != 0), st.sampled_from(SMALL), st.sampled_from(MODES), st.integers(0, 2**32 - 1))
def test_nonzero_never_becomes_zero_or_nar(x, f, rounding, seed):
    c = int(f.encode([x], rounding=rounding, seed=seed)[0])
    assert c not in (0, f.nan_code) and (c > f.nan_code) == (x < 0)


@given(finite, st.sampled_from(SMALL))
def test_directed_modes_bound_the_input(x, f):
    dn, up = (f.quantize([x], rounding=m)[0] for m in ("rdn", "rup"))
    if f.minpos <= abs(x) <= f.maxpos:
        assert dn <= x <= up and (dn == up) == (dn == x)


# --- stochastic rounding ----------------------------------------------------------------------
@pytest.mark.parametrize("f", [Takum(8), Takum(12), Takum(16), Takum(32)], ids=fmt_id)
def test_stochastic_follows_the_draw_rule(f):
    p32, p64 = probe_points(f, 300 if f.n <= 16 else 20, seed=11)
    rng = np.random.default_rng(12)
    k = 1000 if f.n <= 16 else 150
    x = np.concatenate([p64, rng.uniform(-1, 1, k) * np.exp2(rng.integers(-258, 258, k))])
    got = f.encode(x, rounding="stochastic", seed=77)
    u = draw32_array(77, x.size).astype(np.float64) * 2.0**-32
    want = np.array([R.encode(f, float(v), "stochastic", u=u[i]) for i, v in enumerate(x)])
    assert np.array_equal(got, want)


@pytest.mark.parametrize("f, x", [(Takum(8), 1.3), (Takum(16), -0.7001), (Takum(8), 3.0e7)],
                         ids=["t8", "t16", "t8-characteristic-cut"])
def test_stochastic_is_unbiased(f, x):
    lo, hi, t = R.stochastic_bracket(f, x)
    lo, hi = float(lo), float(hi)
    q = np.abs(f.quantize(np.full(200_000, x), rounding="stochastic", seed=5))
    assert set(np.unique(q)) <= {lo, hi} and 0 < t < 1
    assert abs(q.mean() - abs(x)) < 5 * (hi - lo) * math.sqrt(t * (1 - t) / q.size)
