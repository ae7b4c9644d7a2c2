"""Block kernels split over threads (formats.threads): the same bits on any thread count, NaN amax, fork."""
import multiprocessing as mp

import numpy as np
import pytest

import formats
from formats.block_kernels import amax_of
from formats.threads import run_ranges

NAMES = ["mxfp4", "mxfp8_e4m3", "mxint8", "mxfp4_rceil", "nvfp4", "nvfp4_recip", "nvfp4_four_over_six",
         "block_int4_bf16_g128", "block_fp4_e2m1_ue5m3_g16_t", "block_nf4_fp32_g64"]


def _data(seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((64, 2048)) * 2.0 ** rng.integers(-30, 30, (64, 1))).astype(np.float32)
    x[3, :256] = 0.0                                    # all-zero blocks
    x[5, :64] = np.float32(1e-41)                       # subnormal amax: the general path inside a fast range
    x[7, 100] = np.float32(3.4e38)                      # a block at the top of float32
    return x


@pytest.mark.parametrize("name", NAMES)
def test_same_bits_on_one_and_two_threads(name):
    f, x = formats.get(name), _data()
    old = formats.set_threads(1)
    try:
        one = f.encode(x, rounding="stochastic" if name == "mxfp4" else "rne", seed=3)
        d1 = f.decode(one)
        formats.set_threads(2)
        two = f.encode(x, rounding="stochastic" if name == "mxfp4" else "rne", seed=3)
        d2 = f.decode(two)
    finally:
        formats.set_threads(old)
    assert np.array_equal(one.elements, two.elements) and np.array_equal(one.scales, two.scales)
    assert np.array_equal(d1, d2, equal_nan=True)


def test_amax_of_ranges_and_nan():
    x = np.abs(np.random.default_rng(1).standard_normal(300_000))
    x[123_456] = 77.0
    assert amax_of(x) == 77.0 and amax_of(-x) == 77.0
    for where in (0, 150_000, 299_999):
        y = x.copy()
        y[where] = np.nan
        assert np.isnan(amax_of(y))
    assert amax_of(np.zeros(5)) == 0.0


def test_run_ranges_covers_every_item_once():
    seen = np.zeros(100_000, np.int64)

    def k(arr, lo, hi):
        arr[lo:hi] += 1
        return hi - lo

    old = formats.set_threads(2)
    try:
        parts = run_ranges(k, seen.size, seen, grain=1000)
    finally:
        formats.set_threads(old)
    assert (seen == 1).all() and sum(parts) == seen.size


def _child(q):
    formats.set_threads(2)
    c = formats.get("mxfp4").encode(_data())
    q.put(c.elements.tobytes())


def test_a_forked_child_gets_a_thread_pool_of_its_own():
    formats.set_threads(2)
    try:
        want = formats.get("mxfp4").encode(_data()).elements.tobytes()   # the parent's pool exists now
    finally:
        formats.set_threads(None)
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(q,))
    p.start()
    got = q.get(timeout=120)
    p.join(timeout=60)
    assert got == want and p.exitcode == 0
