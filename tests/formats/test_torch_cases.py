"""Inputs and comparisons shared by the formats.torch tests (helpers only; it holds no tests)."""
from __future__ import annotations

import numpy as np
import torch

import formats
from formats.base import ScalarFormat

MODES = ("rne", "rna", "rtz", "rup", "rdn", "stochastic")
DTYPES = (torch.float32, torch.float64)


def is_block(f) -> bool:
    return not isinstance(f, ScalarFormat)


def scalar_presets():
    return [n for n in formats.names() if not is_block(formats.get(n))]


def block_presets():
    return [n for n in formats.names() if is_block(formats.get(n))]


def _neighbour_midpoints(f, rng, n):
    """Midpoints (float64) of neighbouring values, a little either side, and the values themselves."""
    if isinstance(f, ScalarFormat) and f.bits <= 16:
        v = np.unique(f._value_table)
    else:
        codes = rng.integers(0, 1 << min(f.bits, 62), size=n, dtype=np.uint64)
        v = np.unique(np.concatenate([f.decode(codes), f.decode(np.minimum(codes + 1, (1 << f.bits) - 1))]))
    v = v[np.isfinite(v)]
    mids = (v[1:] + v[:-1]) / 2
    out = np.concatenate([v, mids, np.nextafter(mids, np.inf), np.nextafter(mids, -np.inf)])
    return rng.permutation(out)[: 4 * n]


def sample(f, dtype, n=1500, seed=0, nan=True):
    """A float tensor mixing random magnitudes, exact values, ties and specials for format ``f``."""
    rng = np.random.default_rng(seed)
    top = float(f.max)
    parts = [
        rng.standard_normal(n) * np.exp2(rng.integers(-30, 30, size=n)),
        rng.uniform(-1.5 * top, 1.5 * top, size=n),
        rng.standard_normal(n) * top * np.exp2(rng.integers(-40, 3, size=n)),
        _neighbour_midpoints(f, rng, n),
        np.array([0.0, -0.0, np.inf, -np.inf, 1e38, -1e38, 3e38, 1e-39, -1e-39, 1e-45, -1.4e-45,
                  2 * top, -2 * top, 4 * top, top, -top, 0.5, -0.5, 1.5, 2.5, -2.5]),
    ]
    if dtype == torch.float64:
        parts.append(np.array([1e300, -1e300, 5e-324, -5e-324, 1e-310, 2.2e-308, 1.7976931348623157e308,
                               2.0**62, -(2.0**62), 2.0**63 + 2**11, 2.0**70 + 2**30, -(2.0**80)]))
        parts.append(rng.standard_normal(n) * np.exp2(rng.integers(-1070, 1020, size=n)))
    if nan:
        parts.append(np.array([np.nan, -np.nan]))
    x = np.concatenate(parts)
    with np.errstate(over="ignore"):
        x = x.astype(np.float32 if dtype == torch.float32 else np.float64)
    return torch.from_numpy(x)


def assert_same(actual: torch.Tensor, expected: np.ndarray, what=""):
    """Bitwise equality (signed zeros included), NaNs equal to NaNs."""
    a = actual.detach().cpu().numpy()
    with np.errstate(over="ignore"):
        e = np.asarray(expected).astype(a.dtype)
    assert a.shape == e.shape, (what, a.shape, e.shape)
    na, ne = np.isnan(a), np.isnan(e)
    bad = (na != ne) | (~na & (a.view(f"u{a.itemsize}") != e.view(f"u{e.itemsize}")))
    if bad.any():
        i = np.flatnonzero(bad.reshape(-1))[:5]
        raise AssertionError(f"{what}: {bad.sum()} of {bad.size} differ, e.g. at {i.tolist()}: "
                             f"torch {a.reshape(-1)[i].tolist()} numpy {e.reshape(-1)[i].tolist()}")
