"""formats.block_kernels.scale_nearest_bits (round-to-nearest block scales from the quotient's bits)
gives scale_general's code for every scale format: on random quotients, exact midpoints and their
float64 neighbours, grid values, the subnormal range, below the smallest and beyond the largest value."""
import numpy as np
import pytest

from formats.block import element_params
from formats.block_kernels import scale_general, scale_nearest_bits
from formats.scale_rules import ROUND_NEAREST
from formats.scaled import scale_format


@pytest.mark.parametrize("name", ["fp32", "bf16", "fp16", "ue5m3", "ue4m3", "ue3m2", "e8m0", "ue8m7"])
def test_scale_nearest_bits_equals_scale_general(name):
    sf = scale_format(name)
    sp = tuple(int(v) for v in element_params(sf))
    cmax = int(sf.max_mag)
    rng = np.random.default_rng(1)
    c = np.concatenate([rng.integers(0, cmax, 3000), [0, 1, 2, cmax - 1]]).astype(np.uint64)
    lo = sf.decode(c).astype(np.float64)
    hi = sf.decode(c + np.uint64(1)).astype(np.float64)
    v = np.concatenate([lo, hi])
    v = v[np.isfinite(v) & (v > 0)]
    nxt = np.nextafter(v, np.inf)
    mids = np.concatenate([(lo + hi) / 2, v])
    r = np.concatenate([mids, np.nextafter(mids, np.inf), np.nextafter(mids, -np.inf), nxt,
                        np.exp2(rng.uniform(-150, 140, 3000)), [v.min() / 2, v.min() / 3, v.max() * 1.5, v.max() * 2, 1e300]])
    for D in (1.0, 3.0, 0.75, 6.0 * 1.2345678e-3):
        for x in r:
            num = x * D
            if not np.isfinite(num) or num <= 0:
                continue
            assert scale_nearest_bits(num, D, sp, cmax) == scale_general(num, D, ROUND_NEAREST, sp, cmax), (name, num, D)
