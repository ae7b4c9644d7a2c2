"""Codebook formats: validation, NF4, every rounding mode with ties, the exact reference."""
from __future__ import annotations

import numpy as np
import pytest

from formats.codebook import NF4, NF4_VALUES, Codebook, codebook
from formats.minifloat import Minifloat
from formats.reference import codebook as R

MODES = ("rne", "rna", "rtz", "rup", "rdn", "stochastic")


# ---------------------------------------------------------------------------------------
# description and validation
# ---------------------------------------------------------------------------------------
def test_nf4_table():
    assert len(NF4_VALUES) == 16 and NF4_VALUES[0] == -1.0 and NF4_VALUES[7] == 0.0 and NF4_VALUES[15] == 1.0
    assert all(float(np.float32(v)) == v for v in NF4_VALUES)  # exact float32 constants
    assert NF4.name == "nf4" and NF4.bits == 4 and NF4.family == "codebook"
    np.testing.assert_array_equal(NF4.values(), NF4_VALUES)
    np.testing.assert_array_equal(NF4.decode(np.arange(16)), NF4_VALUES)
    assert NF4.table == NF4_VALUES and NF4.max == 1.0 and NF4.min_positive == NF4_VALUES[8] and NF4.info()["entries"] == 16
    assert codebook(list(NF4_VALUES)) == NF4 == Codebook(NF4_VALUES)  # the label is not part of equality


@pytest.mark.parametrize("n, bits", [(2, 1), (3, 2), (4, 2), (5, 3), (16, 4), (17, 5), (256, 8), (257, 9)])
def test_bits(n, bits):
    assert codebook(np.arange(n, dtype=float)).bits == bits


@pytest.mark.parametrize("values, match", [
    ([1.0, 0.0], "entries 0 and 1.*out of order"),
    ([0.0, 1.0, 1.0], "entries 1 and 2.*duplicate"),
    ([0.0, -0.0], "duplicate"),
    ([0.0, np.nan], "finite"),
    ([0.0, np.inf], "finite"),
    ([1.0], "at least 2"),
    ([[0.0, 1.0], [2.0, 3.0]], "1-D"),
    (["a", "b"], "real numbers"),
])
def test_bad_tables(values, match):
    with pytest.raises(ValueError, match=match):
        codebook(values)


def test_codes_are_checked():
    cb = codebook([0.0, 1.0, 2.0])  # 2 bits, code 3 unused
    with pytest.raises(ValueError, match="not an index"):
        cb.decode([3])
    with pytest.raises(ValueError, match="does not fit"):
        cb.decode([4])
    assert np.isnan(cb.values()[3])


def test_nan_policy():
    with pytest.raises(ValueError, match="NaN"):
        NF4.encode([0.5, np.nan])
    assert NF4.encode([np.nan], overflow="saturate")[0] == 7  # the entry 0.0
    assert codebook([-2.0, -1.0, 1.0, 3.0]).encode([np.nan], overflow="saturate")[0] == 2  # +1 of ±1


# ---------------------------------------------------------------------------------------
# rounding, mode by mode
# ---------------------------------------------------------------------------------------
SMALL = (-1.0, 0.0, 0.5, 1.0)
# x, and the expected index per mode (rne, rna, rtz, rup, rdn)
SMALL_CASES = [
    (-2.0, (0, 0, 0, 0, 0)),  # saturates
    (-1.0, (0, 0, 0, 0, 0)),
    (-0.5, (0, 0, 1, 1, 0)),  # tie: even index 0; rna: larger magnitude -1
    (-0.25, (1, 1, 1, 1, 0)),
    (-0.0, (1, 1, 1, 1, 1)),
    (0.25, (2, 2, 1, 2, 1)),  # tie between index 1 and 2: even index 2
    (0.3, (2, 2, 1, 2, 1)),
    (0.75, (2, 3, 2, 3, 2)),  # tie between index 2 and 3
    (0.8, (3, 3, 2, 3, 2)),
    (1.0, (3, 3, 3, 3, 3)),
    (np.inf, (3, 3, 3, 3, 3)),
    (-np.inf, (0, 0, 0, 0, 0)),
]
# a table without 0: the pair (-1, 1) straddles zero
STRADDLE = (-1.0, 1.0, 2.0)
STRADDLE_CASES = [
    (-0.5, (0, 0, 0, 1, 0)),
    (0.0, (0, 1, 1, 1, 0)),  # tie at 0: rne even index 0; rna equal magnitudes -> hi; rtz x>=0 -> hi
    (-0.0, (0, 1, 1, 1, 0)),
    (0.5, (1, 1, 1, 1, 0)),
    (1.5, (2, 2, 1, 2, 1)),  # tie: even index 2
]


@pytest.mark.parametrize("table, cases", [(SMALL, SMALL_CASES), (STRADDLE, STRADDLE_CASES)])
def test_deterministic_modes(table, cases):
    cb = codebook(table)
    xs = np.array([c[0] for c in cases])
    for k, mode in enumerate(MODES[:5]):
        want = [c[1][k] for c in cases]
        assert cb.encode(xs, mode).tolist() == want, mode
        assert cb.encode(xs.astype(np.float32), mode).tolist() == want, mode  # table path
        assert R.encode(table, xs, mode) == want, mode


def test_ties_are_exact():
    # the midpoint 1.5 * 2**-1074 is no float64: the floats around it are no ties
    cb = codebook([0.0, 3 * 5e-324])
    assert cb.encode([5e-324, 1e-323]).tolist() == [0, 1]
    # the midpoint 1 + 2**-52 is a float64: a real tie
    cb = codebook([1.0, 1.0 + 2.0 ** -51])
    assert cb.encode([1.0 + 2.0 ** -52], "rne")[0] == 0 and cb.encode([1.0 + 2.0 ** -52], "rna")[0] == 1


def test_stochastic_probabilities():
    cb = codebook(SMALL)
    n = 20000
    for x, lo, hi in ((0.1, 0.0, 0.5), (-0.8, -1.0, 0.0), (0.6, 0.5, 1.0)):
        q = cb.quantize(np.full(n, x), "stochastic", seed=3)
        assert set(np.unique(q)) == {lo, hi}
        assert abs(q.mean() - x) < 0.01
    a = cb.encode(np.full(100, 0.1), "stochastic", seed=3)
    np.testing.assert_array_equal(a, cb.encode(np.full(100, 0.1), "stochastic", seed=3))
    assert not np.array_equal(a, cb.encode(np.full(100, 0.1), "stochastic", seed=4))


@pytest.mark.parametrize("mode", MODES)
def test_matches_minifloat_e2m1(mode):
    """A codebook of FP4 E2M1's values rounds exactly like E2M1 (stochastic draws included),
    except at rne ties: even index for the codebook, even code for the minifloat."""
    fp4 = Minifloat(2, 1, special="none")
    vals = np.unique(fp4.values())
    cb = codebook(vals)
    rng = np.random.default_rng(0)
    mids = (vals[:-1] + vals[1:]) / 2
    x = np.concatenate([rng.uniform(-7, 7, 2000), vals] + ([] if mode == "rne" else [mids]))
    np.testing.assert_array_equal(cb.quantize(x, mode, seed=9), fp4.quantize(x, mode, seed=9))
    if mode == "rne":
        idx = cb.encode(mids)
        assert (idx % 2 == 0).all() and (fp4.encode(mids) % 2 == 0).all()


@pytest.mark.parametrize("mode", MODES)
def test_matches_reference(mode):
    rng = np.random.default_rng(len(mode))
    tables = [NF4_VALUES, tuple(np.sort(rng.choice(np.arange(-40, 40) / 8, 11, replace=False))),
              (-3.0, -1.0, 0.5, 2.0, 10.0)]
    for table in tables:
        t = np.array(table)
        x = np.concatenate([rng.uniform(t[0] - 1, t[-1] + 1, 300), (t[:-1] + t[1:]) / 2, t, [0.0, -0.0]])
        for dtype in (np.float64, np.float32):
            xx = x.astype(dtype)
            assert codebook(table).encode(xx, mode, seed=5).tolist() == R.encode(table, xx, mode, 5)


@pytest.mark.slow
def test_matches_reference_large():
    rng = np.random.default_rng(77)
    for trial in range(20):
        n = int(rng.integers(2, 300))
        table = np.unique(rng.normal(size=n) * 10.0 ** rng.integers(-5, 5))
        if table.size < 2:
            continue
        x = np.concatenate([rng.normal(size=500) * np.abs(table).max(), (table[:-1] + table[1:]) / 2])
        for mode in MODES:
            assert codebook(table).encode(x, mode, seed=trial).tolist() == R.encode(table, x, mode, trial)


def test_shapes_and_decode():
    x = np.linspace(-1.5, 1.5, 24).reshape(2, 3, 4)
    c = NF4.encode(x)
    assert c.shape == x.shape and c.dtype == np.uint8
    q = NF4.decode(c)
    np.testing.assert_array_equal(q, np.array(NF4_VALUES)[c])
    assert np.abs(q - np.clip(x, -1, 1)).max() <= np.diff(NF4_VALUES).max() / 2
