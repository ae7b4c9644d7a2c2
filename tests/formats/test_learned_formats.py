"""lutB_row / lutB_tensor (fitted tables as a format) and pick_..._gG (per-group choice as a format)."""
import numpy as np
import pytest

import formats
from formats.learned import LearnedFormat, PickFormat, fit, select_per_group


def test_lut_row_tables_are_float32_and_codes_nearest():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((6, 4, 3, 3)) * rng.lognormal(0, 1, (6, 1, 1, 1))
    f = formats.get("lut4_row")
    assert isinstance(f, LearnedFormat) and f.name == "lut4_row" and f.entries == 16
    c = f.encode(w)
    assert c.tables.shape == (6, 16) and c.codes.shape == w.shape
    assert np.array_equal(c.tables.astype(np.float32).astype(np.float64), c.tables)  # stored as float32
    assert np.all(np.diff(c.tables, axis=1) > 0)
    rows = w.reshape(6, -1)
    q = f.decode(c).reshape(6, -1)
    for i in range(6):
        d = np.abs(rows[i][:, None] - c.tables[i][None, :])
        assert np.array_equal(np.abs(rows[i] - q[i]), d.min(axis=1))  # the nearest entry of its own row's table
    # the float32 tables are the float64 fit of the same rows, rounded (up to the strictness nudge)
    t64 = fit(rows, 16, "row").tables
    assert np.max(np.abs(c.tables - t64) / np.abs(t64).max(axis=1, keepdims=True)) < 1e-6
    assert f.storage_bits(w.shape) == w.size * 4 + 6 * 16 * 32
    assert np.array_equal(f.quantize(w), f.decode(f.encode(w)))  # deterministic


def test_lut_tensor_and_fewer_bits():
    w = np.random.default_rng(1).standard_normal((5, 40))
    t = formats.get("lut3_tensor")
    c = t.encode(w)
    assert c.tables.shape == (1, 8) and len(np.unique(t.decode(c))) <= 8
    assert t.storage_bits(w.shape) == 200 * 3 + 8 * 32
    err = {n: np.mean((formats.get(n).quantize(w) - w) ** 2) for n in ("lut2_row", "lut3_row", "lut4_row")}
    assert err["lut4_row"] < err["lut3_row"] < err["lut2_row"]


def test_pick_is_select_per_group():
    x = np.random.default_rng(2).standard_normal((3, 128)) * np.array([[1.0], [30.0], [1e-3]])
    p = formats.get("pick_fp4_e2m1+fp4_e1m2+fp4_e3m0_g32")
    assert isinstance(p, PickFormat) and p.bits == 4
    want = select_per_group(x, ["fp4_e2m1", "fp4_e1m2", "fp4_e3m0"], 32).decode()
    assert np.array_equal(p.quantize(x), want)
    assert p.storage_bits(x.shape) == 384 * 4 + 12 * (32 + 2)


@pytest.mark.parametrize("name, needle", [
    ("lut9_row", "1..8 bits"), ("lut4_col", "unknown format"), ("pick_int4_g16", "unknown format"),
    ("pick_mxfp4+int4_g32", "candidates are scalar formats"),
])
def test_bad_names(name, needle):
    with pytest.raises(KeyError, match=needle):
        formats.get(name)


def test_decode_takes_its_own_codes():
    with pytest.raises(TypeError, match="FittedCodebook"):
        formats.get("lut4_row").decode(np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match="non-empty"):
        formats.get("lut4_row").encode(np.zeros((0,)))
