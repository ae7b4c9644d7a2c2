"""Codebooks of over 16 entries encode (deterministic modes) by bisecting the thresholds
(formats.codebook._encode_bisect_range); the codes equal the element-by-element kernel's
(formats.codebook._encode_kernel) on values, midpoints, thresholds and their float64 neighbours."""
import numpy as np
import pytest

import formats
from formats.codebook import Codebook, _encode_kernel
from formats.rounding import seed_key


def _books():
    rng = np.random.default_rng(7)
    yield "dyn8", formats.get("nf4_dq").scale_format
    yield "uniform 17", Codebook(tuple(np.linspace(-1.0, 1.0, 17)))
    yield "random 100", Codebook(tuple(np.unique(rng.standard_normal(100))))
    yield "positive 256", Codebook(tuple(np.unique(np.abs(rng.standard_normal(300)))[:256]))


def _probes(book, mode):
    t = np.asarray(book.table, np.float64)
    mids = (t[:-1] + t[1:]) / 2
    base = np.concatenate([t, mids, book.thresholds(mode), [0.0, -0.0, 1e300, -1e300, np.inf, -np.inf, 5e-324, -5e-324]])
    near = np.concatenate([base, np.nextafter(base, np.inf), np.nextafter(base, -np.inf)])
    rng = np.random.default_rng(3)
    rand = rng.uniform(t[0] - 1, t[-1] + 1, 20000)
    return np.concatenate([near, rand])


@pytest.mark.parametrize("mode", ["rne", "rna", "rtz", "rup", "rdn"])
@pytest.mark.parametrize("name,book", list(_books()), ids=[b[0] for b in _books()])
def test_bisect_equals_kernel(name, book, mode):
    from formats.rounding import Rounding, parse_rounding

    m = int(parse_rounding(mode))
    assert isinstance(Rounding(m), Rounding)
    x = _probes(book, m)
    got = book.encode(x, rounding=mode)
    table, mid_floor, mid_exact = book._kernel_tables
    nan_code = 0   # no NaN among the probes (a codebook without a NaN code rejects it)
    want = np.empty(x.size, dtype=book.code_dtype)
    _encode_kernel(x, table, mid_floor, mid_exact, m, seed_key(np.uint64(0)), np.int64(nan_code), want)
    assert np.array_equal(got, want)


def test_nf4_dq_second_level_codes_unchanged_on_ties():
    """The dyn8 second level through the bisect path: a ratio exactly on each midpoint."""
    book = formats.get("nf4_dq").scale_format
    t = np.asarray(book.table, np.float64)
    x = (t[:-1] + t[1:]) / 2
    table, mid_floor, mid_exact = book._kernel_tables
    want = np.empty(x.size, dtype=book.code_dtype)
    _encode_kernel(x, table, mid_floor, mid_exact, 0, seed_key(np.uint64(0)), np.int64(0), want)
    assert np.array_equal(book.encode(x, rounding="rne"), want)
