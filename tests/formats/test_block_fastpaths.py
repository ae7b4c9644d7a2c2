"""Fast paths of the block kernels against their exact general routes."""
import numpy as np
import pytest

import formats
from formats import scaled
from formats.block_kernels import ROUND_NEAREST, _scale_nearest, scale_general
from numba import njit


@njit(cache=False)
def _both(nums, Ds, stab, sp, cmax, out_fast, out_exact):
    for i in range(nums.size):
        out_fast[i] = _scale_nearest(nums[i], Ds[i], stab, sp, cmax)
        out_exact[i] = scale_general(nums[i], Ds[i], ROUND_NEAREST, sp, cmax)


@pytest.mark.parametrize("name", ["nvfp4", "block_fp4_e2m1_ue5m3_g16_t"])
def test_table_scale_codes_equal_the_exact_rounding(name):
    """Quotients on the scale grid, on its midpoints and one float64 ulp either side, at the ends of
    the range and beyond it, and random ones: the table path equals scale_general everywhere."""
    fmt = formats.get(name)
    p = scaled._plan(fmt, 0)
    assert p["stab"].size   # an 8-bit scale format: the table path is taken
    rng = np.random.default_rng(5)
    grid = np.array([v for v in fmt.scale_format.values() if np.isfinite(v) and v > 0])
    mids = (grid[:-1] + grid[1:]) / 2
    D = np.float32(rng.uniform(0.5, 2.0, 64)).astype(np.float64) * 6.0
    pts = []
    for q in np.concatenate([grid, mids, [grid[-1] * 1.5, grid[-1] * 4, grid[0] / 3, 1e-35, 1e35]]):
        for d in D[:8]:
            num = q * d
            pts += [(num, d), (np.nextafter(num, np.inf), d), (np.nextafter(num, -np.inf), d)]
    for _ in range(20000):
        pts.append((float(np.float32(abs(rng.standard_normal()) * 10.0 ** rng.integers(-6, 6))), float(rng.choice(D))))
    nums, Ds = np.array(pts).T.copy()
    fast, exact = np.empty(nums.size, np.int64), np.empty(nums.size, np.int64)
    _both(nums, Ds, p["stab"], p["sp"], p["cmax"], fast, exact)
    assert (fast == exact).all(), np.flatnonzero(fast != exact)[:5]
