"""The exact accumulator of every mode against the Fraction oracle; packing; timing; the step API."""
from __future__ import annotations

import numpy as np
import pytest
from test_mac_oracle import FP32_NAN, fp32_bits, mul, oracle_dot, readout, values_fraction

import formats
from sim import mac
from sim.mac import arith as KN
from sim.mac import tensor_scale

NON_MX = [m for m in mac.MODES if not mac.Engine(m).block]
NARROW = [m for m in NON_MX if mac.Engine(m).element_bits <= 8]
FOUR_BIT = [m for m in NARROW if mac.Engine(m).element_bits == 4]
EIGHT_BIT = [m for m in NARROW if mac.Engine(m).element_bits == 8]


def finite_codes(fmt):
    return np.flatnonzero(np.isfinite(fmt.values()))


def neg_codes(fmt, codes):
    """Code of -value (saturating where -value is out of range, e.g. int8 -(-128))."""
    return fmt.encode(-fmt.decode(codes), rounding="rne")


def random_rows(mode, rng, n_rows, kmax=1024, specials=True):
    """Rows of mixed difficulty: uniform codes, large cancellations, extremes, subnormals."""
    fmt = mac.Engine(mode).element_format
    fin = finite_codes(fmt)
    v = fmt.values()
    mags = np.abs(v[fin])
    order = fin[np.argsort(mags, kind="stable")]
    nz = order[mags[np.argsort(mags, kind="stable")] > 0]
    small, large = nz[:8], nz[-8:]
    rows = []
    for r in range(n_rows):
        K = int(rng.integers(1, kmax + 1))
        kind = r % 4
        if kind == 0:  # uniform over the finite codes
            a, b = rng.choice(fin, K), rng.choice(fin, K)
        elif kind == 1:  # large cancellation: x*y and x*(-y) pairs, plus a small tail
            h = K // 2
            a0, b0 = rng.choice(large, h), rng.choice(fin, h)
            a = np.concatenate([a0, a0, rng.choice(small, K - 2 * h)])
            b = np.concatenate([b0, neg_codes(fmt, b0), rng.choice(fin, K - 2 * h)])
            p = rng.permutation(K)
            a, b = a[p], b[p]
        elif kind == 2:  # extremes: near maxpos/max and minpos/subnormals
            a = rng.choice(np.concatenate([small, large]), K)
            b = rng.choice(np.concatenate([small, large]), K)
        else:  # huge products cancelling down to minpos-sized terms
            h = K // 2
            a0 = rng.choice(large, h)
            a = np.concatenate([a0, a0, rng.choice(small, K - 2 * h)])
            b0 = rng.choice(large, h)
            b = np.concatenate([b0, neg_codes(fmt, b0), rng.choice(small, K - 2 * h)])
        rows.append((a.astype(fmt.code_dtype), b.astype(fmt.code_dtype)))
    if specials and not np.all(np.isfinite(v)):
        spec = np.flatnonzero(~np.isfinite(v))
        for _ in range(3):
            K = int(rng.integers(1, 64))
            a, b = rng.choice(fin, K), rng.choice(fin, K)
            a[rng.integers(K)] = rng.choice(spec)
            rows.append((a.astype(fmt.code_dtype), b.astype(fmt.code_dtype)))
    return rows


def run_rows(engine, rows):
    return np.array([int(engine.dot(a, b)) for a, b in rows])


# --- single products: every operand pair ------------------------------------------------------
def _pairs(fmt):
    c = np.arange(1 << fmt.bits, dtype=fmt.code_dtype)
    A, B = np.meshgrid(c, c, indexing="ij")
    return A.reshape(-1, 1), B.reshape(-1, 1)


def _single_product_oracle(engine, A, B):
    vals = values_fraction(engine.element_format)
    memo = {}
    out = np.empty(A.shape[0], dtype=np.int64)
    for i, (a, b) in enumerate(zip(A[:, 0], B[:, 0])):
        p = mul(vals[a], vals[b])
        key = p if not isinstance(p, str) else "nan"
        if key not in memo:
            memo[key] = readout(engine, p)
        out[i] = memo[key]
    return out


@pytest.mark.parametrize("mode", FOUR_BIT)
@pytest.mark.parametrize("readout_", ["native", "fp32"])
def test_all_pairs_4bit(mode, readout_):
    e = mac.Engine(mode, readout=readout_)
    A, B = _pairs(e.element_format)
    np.testing.assert_array_equal(e.dot(A, B), _single_product_oracle(e, A, B))


@pytest.mark.parametrize("mode", EIGHT_BIT)
def test_all_pairs_8bit(mode):
    e = mac.Engine(mode)
    A, B = _pairs(e.element_format)
    got = e.dot(A, B)
    assert got.shape == (65536,)
    np.testing.assert_array_equal(got, _single_product_oracle(e, A, B))


@pytest.mark.slow
@pytest.mark.parametrize("mode", [m for m in EIGHT_BIT if mac.Engine(m).output_format.name != "fp32"])
def test_all_pairs_8bit_fp32_readout(mode):
    e = mac.Engine(mode, readout="fp32")
    A, B = _pairs(e.element_format)
    np.testing.assert_array_equal(e.dot(A, B), _single_product_oracle(e, A, B))


# --- random dot products ------------------------------------------------------------------------
@pytest.mark.parametrize("mode", NON_MX)
def test_random_dots_exact(mode):
    rng = np.random.default_rng(sum(map(ord, mode)))
    rows = random_rows(mode, rng, 12)
    for ro in ("native", "fp32"):
        e = mac.Engine(mode, readout=ro)
        np.testing.assert_array_equal(run_rows(e, rows), oracle_dot(e, *zip(*rows)), err_msg=ro)


@pytest.mark.slow
@pytest.mark.parametrize("mode", NON_MX)
def test_random_dots_exact_long(mode):
    rng = np.random.default_rng(1000 + sum(map(ord, mode)))
    rows = random_rows(mode, rng, 80)
    for ro in ("native", "fp32"):
        e = mac.Engine(mode, readout=ro)
        np.testing.assert_array_equal(run_rows(e, rows), oracle_dot(e, *zip(*rows)), err_msg=ro)


def test_batched_equals_rowwise_and_broadcasts():
    e = mac.Engine("posit8_0")
    rng = np.random.default_rng(3)
    a = rng.integers(0, 256, (3, 4, 50)).astype(np.uint8)
    b = rng.integers(0, 256, (4, 50)).astype(np.uint8)
    out = e.dot(a, b)
    assert out.shape == (3, 4) and out.dtype == np.uint8
    for i in range(3):
        for j in range(4):
            assert out[i, j] == e.dot(a[i, j], b[j])


def test_exact_register_wraps_beyond_sized_cycles():
    # int4 register: 26 bits.  (-8)*(-8) = 64, 2**19 + 4 products = 2**25 + 256 -> wraps
    e = mac.Engine("int4")
    assert e.widths["width"] == 26
    K = 2**19 + 4
    a = np.full(K, 8, dtype=np.uint8)  # code 8 = -8
    got = int(e.dot(a, a))
    want = (2**25 + 256 - 2**26) & 0xFFFFFFFF
    assert got == want


def test_limbs_to_f64_wrap_and_round_to_odd():
    # 2**130 + 2**60 + 1 in a 140-bit register: rounded to odd at 53 bits
    limbs = np.zeros(6, dtype=np.int64)
    for t, s in ((130, 1), (60, 1), (0, 1)):
        KN.limb_add(limbs, np.int64(s), np.int64(t))
    v = KN.limbs_to_f64(limbs.copy(), 140, 0)
    assert v == 2.0**130 + 2.0**78  # 53-bit truncation is 2**130, sticky sets the last bit
    # in a 131-bit register bit 130 is the sign: the value is -2**130 + 2**60 + 1
    v = KN.limbs_to_f64(limbs.copy(), 131, 0)
    assert v == -(2.0**130 - 2.0**77)  # magnitude 2**130 - 2**60 - 1: 53 ones, then sticky
    assert KN.limbs_to_f64(np.zeros(4, dtype=np.int64), 100, 0) == 0.0


def test_zero_and_empty():
    e = mac.Engine("fp8_e4m3")
    assert int(e.dot(np.zeros(5, np.uint8), np.zeros(5, np.uint8))) == 0
    assert e.dot(np.zeros((0, 3), np.uint8), np.zeros((0, 3), np.uint8)).shape == (0,)
    assert int(e.dot(np.zeros(0, np.uint8), np.zeros(0, np.uint8))) == 0


# --- specials --------------------------------------------------------------------------------------
def test_specials_rules():
    f = formats.get("fp8_e5m2")
    e = mac.Engine("fp8_e5m2")
    inf, ninf, one, zero = (int(f.encode(x)) for x in (np.inf, -np.inf, 1.0, 0.0))
    nan = f.nan_code
    dot = lambda a, b: int(e.dot(np.array(a, np.uint8), np.array(b, np.uint8)))  # noqa: E731
    assert dot([inf, one], [one, one]) == 0x7F800000
    assert dot([ninf], [one]) == 0xFF800000
    assert dot([inf, ninf], [one, one]) == FP32_NAN            # Inf - Inf
    assert dot([inf], [zero]) == FP32_NAN                      # Inf * 0
    assert dot([nan, one], [one, one]) == FP32_NAN
    assert dot([inf, one], [ninf, one]) == 0xFF800000          # Inf * -Inf
    p = formats.get("posit16_1")
    e16 = mac.Engine("posit16_1")
    a = p.encode([1.0, 2.0, 3.0]).copy()
    a[1] = p.nan_code
    assert int(e16.dot(a, p.encode([1.0, 1.0, 1.0]))) == 0x8000
    assert int(mac.Engine("posit16_1", readout="fp32").dot(a, a)) == FP32_NAN


# --- step API (cycle level) == vectorised dot -------------------------------------------------
ACCS = ["exact", "fp32", ("fixed", 12, 10)]


def _drive(engine, a, b, sa=None, sb=None, ta=None, tb=None):
    wa, wb = engine.pack(a), engine.pack(b)
    lane = engine.lane()
    (ca, cb), (ra, rb) = tensor_scale.words(ta, tb) if engine.tensor_scale else ((0, 0), (0, 0))
    lane.clear(ca, cb)
    per = engine.block // engine.k if engine.block else 0
    for c in range(wa.size):
        if per:
            lane.step(int(wa[c]), int(wb[c]), int(sa[c // per]), int(sb[c // per]))
        else:
            lane.step(int(wa[c]), int(wb[c]))
    return lane.readout(ra, rb)


@pytest.mark.parametrize("mode", list(mac.MODES))
def test_lane_steps_equal_dot(mode):
    rng = np.random.default_rng(7)
    accs = ["exact"] if mac.Engine(mode).block else ACCS
    for acc in accs:
        e = mac.Engine(mode, accumulator=acc)
        fmt = e.element_format
        for K in (1, 3, 33, 70):
            a = rng.integers(0, 1 << fmt.bits, K).astype(fmt.code_dtype)
            b = rng.integers(0, 1 << fmt.bits, K).astype(fmt.code_dtype)
            if e.block:
                nb = -(-K // e.block)
                one = int(e.scale_format.encode(1.0))
                sa = rng.integers(one - 25, one + 24, nb).astype(np.uint8)
                sb = rng.integers(one - 25, one + 24, nb).astype(np.uint8)
                kw = {"tensor_scale_a": np.float32(0.75), "tensor_scale_b": np.float32(3e-3)} if e.tensor_scale else {}
                got = _drive(e, a, b, sa, sb, kw.get("tensor_scale_a"), kw.get("tensor_scale_b"))
                assert got == int(e.dot(a, b, sa, sb, **kw)), (acc, K)
            else:
                assert _drive(e, a, b) == int(e.dot(a, b)), (acc, K)


def test_lane_readout_keeps_state_and_clear_resets():
    e = mac.Engine("int8")
    lane = e.lane()
    lane.clear()
    lane.step(0x0302, 0x0505)
    assert lane.readout() == 25 and lane.readout() == 25
    lane.step(0x00FF, 0x0001)  # -1 * 1
    assert lane.readout() == 24
    lane.clear()
    assert lane.readout() == 0
    with pytest.raises(ValueError):
        lane.step(0x10000, 0)


# --- packing and timing ---------------------------------------------------------------------------
@pytest.mark.parametrize("mode", list(mac.MODES))
def test_pack_unpack_round_trip(mode):
    e = mac.Engine(mode)
    rng = np.random.default_rng(1)
    for K in (1, e.k, 2 * e.k + 1, 37):
        c = rng.integers(0, 1 << e.element_bits, (2, 3, K)).astype(e.element_format.code_dtype)
        w = e.pack(c)
        assert w.dtype == np.uint16 and w.shape == (2, 3, -(-K // e.k))
        np.testing.assert_array_equal(e.unpack(w, K), c)
        full = e.unpack(w)
        assert full.shape[-1] == w.shape[-1] * e.k and not full[..., K:].any()  # zero padding


def test_pack_bit_order():
    assert mac.Engine("int4").pack(np.array([1, 2, 3, 4, 5], np.uint8)).tolist() == [0x4321, 0x0005]
    assert mac.Engine("posit8_0").pack(np.array([0x12, 0x34], np.uint8)).tolist() == [0x3412]
    assert mac.Engine("posit16_1").pack(np.array([0xBEEF], np.uint16)).tolist() == [0xBEEF]


def test_cycles_model():
    e = mac.Engine("int8", lanes=4)
    # the pipelined engine: READ -> result 14 cycles in every mode and accumulator (docs/mac.md 3)
    assert e.k == 2 and e.latency == 14
    assert all(mac.Engine(m, accumulator=a).latency == 14 for m in mac.MODES
               for a in (("exact",) if mac.Engine(m).block else ("exact", "fp32", "fixed:16:16")))
    assert e.cycles(64) == 1 * (32 + 2) + 14
    assert e.cycles(64, rows=10) == 3 * (32 + 2) + 14
    assert e.cycles(65, rows=4) == 1 * (33 + 2) + 14
    assert mac.Engine("posit16_1").cycles(10, rows=3) == 3 * (10 + 2) + 14
    assert mac.Engine("mxfp4", lanes=2).cycles(64, rows=2) == 1 * (16 + 2) + 14
    assert e.cycles(0) == 2 + 14 and e.cycles(5, rows=0) == 0
    with pytest.raises(ValueError):
        e.cycles(-1)


# --- API checks --------------------------------------------------------------------------------------
def test_output_formats_and_widths():
    assert mac.Engine("posit8_0").output_format.name == "posit8_0"
    assert mac.Engine("posit8_0", readout="fp32").output_format.name == "fp32"
    assert mac.Engine("int4").output_format.name == "int32"
    assert mac.Engine("fp8_e5m2").output_format.name == "fp32"
    assert mac.Engine("mxint8").output_format.name == "fp32"
    assert mac.Engine("posit16_1").widths == {"width": 130, "int_bits": 74, "frac_bits": 56}
    assert mac.Engine("int8", accumulator=("fixed", 20, 4)).widths["width"] == 24


def test_bad_arguments():
    with pytest.raises(ValueError, match="allowed"):
        mac.Engine("fp16")
    with pytest.raises(ValueError):
        mac.Engine("int8", accumulator="kahan")
    with pytest.raises(ValueError):
        mac.Engine("int8", accumulator=("fixed", 40, 30))
    with pytest.raises(ValueError):
        mac.Engine("mxfp4", accumulator="fp32")
    with pytest.raises(ValueError):
        mac.Engine("int8", readout="int32")
    with pytest.raises(ValueError):
        mac.Engine("int8", lanes=0)
    e = mac.Engine("int4")
    with pytest.raises(ValueError, match="does not fit"):
        e.dot(np.array([16]), np.array([1]))
    with pytest.raises(ValueError, match="same K"):
        e.dot(np.zeros(3, np.uint8), np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match="no scales"):
        e.dot(np.zeros(3, np.uint8), np.zeros(3, np.uint8), scale_a=np.zeros(1, np.uint8))
    with pytest.raises(ValueError, match="scale"):
        mac.Engine("mxfp4").dot(np.zeros(3, np.uint8), np.zeros(3, np.uint8))


def test_fp32_oracle_helper_agrees_with_engine_on_a_value():
    assert fp32_bits(values_fraction(formats.get("fp8_e4m3"))[0x38]) == 0x3F800000
