"""The fp32 and ("fixed", I, F) accumulators of the RTL (build parameter ACC), bit for bit
against sim.mac's accumulators of the same name (docs/mac.md 4.2 and 4.3).

Every 4-bit and 8-bit mode runs its exhaustive operand-pair set in both readouts; random long
dot products (corner cases mixed in) cover posit16_1 and the accumulation itself: thousands of
dependent fused FP32 additions, truncation toward -inf, per-product clamping and saturation.
The fixed configurations are chosen so that each mode truncates and saturates:
(16, 8) truncates posit and fp8 products below 2^-8 and saturates fp8_e5m2 products and long
int8 sums; (4, 6) saturates almost every product and sum."""
import numpy as np
import pytest
from rtl_helpers import LANES, check, exhaustive_rows, random_rows, require_sim

from rtl import modes as M
from rtl import run as R
from sim import mac

MODES48 = ["int4", "fp4_e2m1", "posit4_1", "int8", "fp8_e4m3", "fp8_e5m2", "posit8_0"]
ACCS = [pytest.param("fp32", id="fp32"), pytest.param(("fixed", 16, 8), id="fixed16.8"),
        pytest.param(("fixed", 4, 6), id="fixed4.6")]


@pytest.mark.rtl
@pytest.mark.parametrize("acc", ACCS)
def test_exhaustive_pairs_verilator(acc):
    require_sim("verilator")
    for mode in MODES48:
        A, B = exhaustive_rows(mode)
        for readout in ("native", "fp32"):
            check(mode, A, B, "verilator", readout, accumulator=acc)


@pytest.mark.rtl
@pytest.mark.parametrize("acc", ACCS)
def test_random_long_dots_verilator(acc):
    """Every non-MX mode, posit16_1 included: rows of 7, 64 and 1000 products."""
    require_sim("verilator")
    for mode in MODES48 + ["posit16_1"]:
        for K, rows, seed in ((7, 400, 3), (64, 1000, 1), (1000, 100, 2)):
            A, B, _, _ = random_rows(mode, rows, K, seed=seed)
            for readout in ("native", "fp32"):
                check(mode, A, B, "verilator", readout, accumulator=acc)


@pytest.mark.rtl
@pytest.mark.parametrize("acc", ACCS[:2])
def test_icarus_subset(acc):
    """Icarus: the 4-bit exhaustive sets and short random posit16_1 / int8 dot products, on a
    build of those five modes (the every-mode build with the fp32 accumulator ran 9 minutes on
    Icarus; Verilator runs every mode in it)."""
    require_sim("icarus")
    modes = ("int4", "fp4_e2m1", "posit4_1", "posit16_1", "int8")
    mask = M.mask_of(modes)
    for mode in modes[:3]:
        A, B = exhaustive_rows(mode)
        check(mode, A, B, "icarus", "native", accumulator=acc, mask=mask)
    for mode in modes[3:]:
        A, B, _, _ = random_rows(mode, 64, 24, seed=4)
        check(mode, A, B, "icarus", "native", accumulator=acc, mask=mask)


@pytest.mark.rtl
def test_mx_modes_keep_their_scheme_in_an_fp32_build():
    """MX modes have one accumulation scheme (block sums into FP32): a build whose other modes
    use the fp32 accumulator runs them exactly as sim.mac's MX engine."""
    require_sim("verilator")
    for mode in ("mxfp4", "mxint8"):
        A, B, SA, SB = random_rows(mode, 64, 96, seed=6)
        e = mac.Engine(mode, lanes=LANES)
        ref = e.dot(A, B, scale_a=SA, scale_b=SB)
        beats = R.beats_for_rows(e, A, B, SA, SB, lanes=LANES)
        outs, _ = R.run_beats(beats, lanes=LANES, reads=len(A) // LANES, accumulator="fp32")
        Y = np.array([(y >> (32 * l)) & 0xFFFFFFFF for _, y in outs for l in range(LANES)], np.uint32)
        np.testing.assert_array_equal(Y, ref)


@pytest.mark.rtl
@pytest.mark.slow
@pytest.mark.parametrize("acc", ACCS[:2])
def test_posit16_100k(acc):
    """100k posit16_1 products per accumulator on Verilator."""
    require_sim("verilator")
    A, B, _, _ = random_rows("posit16_1", rows=32768, K=1, seed=11, corners=False)
    check("posit16_1", A, B, "verilator", "native", accumulator=acc)
    A, B, _, _ = random_rows("posit16_1", rows=1024, K=128, seed=12)
    check("posit16_1", A, B, "verilator", "native", accumulator=acc)


def test_accumulator_spelling():
    assert R.parse_accumulator("fixed:16:8") == ("fixed", 16, 8)
    assert R.acc_params("fp32")["ACC"] == 1
    assert R.acc_params(("fixed", 3, 5)) == {"ACC": 2, "FIX_I": 3, "FIX_F": 5}
    assert R.parse_accumulator("fixed:16:8") == mac.Engine("int8", accumulator="fixed:16:8").accumulator
    for bad in ("fixed:16", "fixed:a:b"):
        with pytest.raises(ValueError, match="write fixed:INT_BITS:FRAC_BITS"):
            R.parse_accumulator(bad)
    with pytest.raises(ValueError, match="allowed: 'exact', 'fp32'"):
        R.parse_accumulator("float")
    with pytest.raises(ValueError, match="int_bits >= 2"):
        R.acc_params(("fixed", 1, 8))
