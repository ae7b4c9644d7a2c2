"""Learned codebooks (Lloyd, deterministic) and per-group format selection."""
from __future__ import annotations

import numpy as np
import pytest

import formats


def lloyd_reference(v, entries, iters):
    """Plain-Python Lloyd with the documented start, boundary and empty-cluster rules."""
    v = sorted(float(t) for t in v)
    n = len(v)
    c = [v[min(n - 1, int(np.floor((k + 0.5) * n / entries)))] for k in range(entries)]
    for _ in range(iters):
        bounds = [0.5 * (c[k] + c[k + 1]) for k in range(entries - 1)]
        groups = [[] for _ in range(entries)]
        for t in v:
            k = sum(1 for b in bounds if t >= b)
            groups[k].append(t)
        new = []
        for k in range(entries):
            s = 0.0
            for t in groups[k]:
                s += t
            new.append(s / len(groups[k]) if groups[k] else c[k])
        if new == c:
            break
        c = new
    for k in range(1, entries):
        if c[k] <= c[k - 1]:
            c[k] = float(np.nextafter(c[k - 1], np.inf))
    return c


def test_fit_matches_the_reference_and_is_deterministic():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((6, 200)).astype(np.float32)
    a = formats.codebook.fit(w, entries=16, per="row", iters=30)
    b = formats.fit_codebook(w.copy(), entries=16, per="row", iters=30)
    np.testing.assert_array_equal(a.tables, b.tables)
    np.testing.assert_array_equal(a.codes, b.codes)
    for r in range(w.shape[0]):
        assert a.tables[r].tolist() == lloyd_reference(w[r], 16, 30)
    assert a.tables.shape == (6, 16) and a.codes.shape == w.shape and a.codes.dtype == np.uint8


def test_fit_codes_are_nearest_and_lloyd_lowers_the_error():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((8, 256)) * rng.uniform(0.5, 2, (8, 1))
    f = formats.codebook.fit(w, entries=16, per="row")
    q = f.decode()
    for r in range(w.shape[0]):  # every value sits at its nearest table entry
        d = np.abs(w[r][:, None] - f.tables[r][None, :])
        assert np.all(np.abs(w[r] - q[r]) <= d.min(axis=1) + 0)
    errs = [((formats.codebook.fit(w, 16, "row", it).decode() - w) ** 2).sum() for it in (0, 1, 2, 5, 20)]
    assert all(b <= a for a, b in zip(errs, errs[1:])) and errs[-1] < 0.6 * errs[0]
    absmax = np.abs(w).max(axis=1, keepdims=True)  # and it beats a uniform 16-level absmax grid
    int4 = np.clip(np.round(w / absmax * 7.5 - 0.5), -8, 7)
    assert ((q - w) ** 2).mean() < (((int4 + 0.5) / 7.5 * absmax - w) ** 2).mean()


def test_fit_recovers_a_discrete_distribution_and_per_tensor():
    pts = np.array([-3.0, -1.0, 0.0, 0.5, 2.0, 7.0])
    w = np.random.default_rng(2).choice(pts, size=(4, 300))
    f = formats.codebook.fit(w, entries=6, per="tensor")
    assert f.tables.shape == (1, 6)
    np.testing.assert_array_equal(f.tables[0], pts)
    np.testing.assert_array_equal(f.decode(), w)


@pytest.mark.parametrize("kw, msg", [({"entries": 1}, "entries"), ({"per": "col"}, "per must be"),
                                     ({"iters": -1}, "iters")])
def test_fit_rejects_bad_arguments(kw, msg):
    with pytest.raises(ValueError, match=msg):
        formats.codebook.fit(np.zeros((2, 8)), **kw)


def test_select_per_group_picks_the_smallest_error():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 512)).astype(np.float32)
    x[:, :128] = rng.uniform(-1, 1, (4, 128))  # uniform groups favour int4
    cands = ["fp4_e2m1", "int4", "fp4_e1m2fin"]
    g = formats.select_per_group(x, cands, group=128)
    assert g.choice.shape == (4, 4)
    q = g.decode()
    for k, f in enumerate(g.formats):
        e = ((f.quantize(x) - x) ** 2).reshape(4, 4, 128).sum(-1)
        mine = ((q - x) ** 2).reshape(4, 4, 128).sum(-1)
        assert np.all(mine <= e)
    assert len(set(g.choice.reshape(-1).tolist())) >= 2  # groups really choose differently
    with pytest.raises(ValueError, match="block 32"):
        formats.select_per_group(x, ["mxfp4"], group=128)


def _codebook_rows(x, tables):
    from formats.codebook import Codebook

    return np.stack([Codebook(tuple(float(t) for t in tables[i])).encode(x[i]) for i in range(len(x))])


@pytest.mark.parametrize("tables_dtype", [np.float64, np.float32])
def test_nearest_codes_is_codebook_encode_row_by_row(tables_dtype):
    """The one compiled pass gives Codebook's codes exactly: ties (exact midpoints, which land on the
    even index), entries themselves, values outside the table, +-0, wide and narrow dynamic ranges
    (midpoints whose float64 sum rounds), and the near-limit tables that take the fraction path."""
    from formats.learned import nearest_codes

    rng = np.random.default_rng(7)
    rows = []
    for scale in (1e-30, 1e-3, 1.0, 3e7, 1e30):
        t = np.sort(rng.standard_normal(16) * scale).astype(tables_dtype).astype(np.float64)
        t[3] = -0.0 if tables_dtype is np.float64 else t[3]
        t = np.unique(t)[:16]
        while t.size < 16:
            t = np.unique(np.append(t, t[-1] * 2 + 1))
        rows.append(t)
    # a table spanning 60 decades: a + b rounds for neighbours far apart
    rows.append(np.sort(np.concatenate([-np.logspace(-30, 30, 8), np.logspace(-29, 29, 8)])).astype(tables_dtype)
                .astype(np.float64))
    tables = np.stack(rows)
    x = np.empty((len(tables), 400))
    for i, t in enumerate(tables):
        mids = (t[:-1] + t[1:]) / 2
        x[i] = np.concatenate([t, mids, np.nextafter(mids, np.inf), np.nextafter(mids, -np.inf),
                               [t[0] * 2 - 1, t[-1] * 2 + 1, 0.0, -0.0],
                               rng.uniform(t[0], t[-1], 400 - 4 * t.size - 4 + 4)])[:400]
    want = _codebook_rows(x, tables)
    assert (nearest_codes(x, tables) == want).all()
    tiny = tables * 1e-290     # entries below 2**-1000: the exact-fraction path
    assert (nearest_codes(x * 1e-290, tiny) == _codebook_rows(x * 1e-290, tiny)).all()
