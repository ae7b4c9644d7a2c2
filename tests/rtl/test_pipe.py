"""The deep pipeline (``PIPE = 1``): the same results as sim.mac and sim's timing for it
(``sim.mac.Engine(pipe=1)``: READ latency 16), on both simulators.

- the cocotb protocol bench (back-to-back passes of every mode with the latency checked, block
  boundaries and READs right behind a block's close, back-pressure, reset, lane enables) on an
  every-mode build with PIPE = 1;
- every operand pair of every mode (posit16_1: random pairs) through cocotb, one word pair per
  pass, results and each READ's output cycle against sim.mac;

On Icarus, CI runs the protocol bench (exact accumulator), the fp32 accumulator's random dot
products on a three-mode build and nvfp4's random long dot products; the exhaustive cocotb sets and the other random long dot products are `slow` and
`icarus_full` (``bash scripts/test.sh`` runs them).  (Icarus was once 60x slower on PIPE = 1 than
on PIPE = 0: the prefix adders and carry-save trees were slices of one shared vector each, so
every bit woke every reader; padd, mul_tree and rmul16p now avoid that, same gates.)
- the plain stream bench: exhaustive pairs as long dot products, random long dot products of
  the wide and block modes, and the fixed and fp32 accumulators, cycle counts included.
"""
import numpy as np
import pytest
from rtl_helpers import check, exhaustive_rows, random_rows, require_sim
from test_protocol import build_and_test

from rtl import modes as M
from sim import mac

MODES4 = ["int4", "fp4_e2m1", "posit4_1", "mxfp4", "nvfp4"]
MODES8 = ["int8", "fp8_e4m3", "fp8_e5m2", "posit8_0", "mxint8"]


def test_latency_model():
    for mode in mac.MODES:
        assert mac.Engine(mode, pipe=1).latency == mac.LATENCIES[1]["mx" if mac.Engine(mode).block else "exact"] == 16
        assert mac.Engine(mode).latency == 14
    assert mac.Engine("int8", lanes=4, pipe=1).cycles(64, rows=10) == 3 * (32 + 2) + 16
    with pytest.raises(ValueError, match="pipe"):
        mac.Engine("int8", pipe=2)


ICARUS_FULL = (pytest.mark.slow, pytest.mark.icarus_full)


@pytest.mark.rtl
@pytest.mark.parametrize("sim", ["verilator", "icarus"])
def test_protocol_pipe1(sim):
    require_sim(sim)
    build_and_test(sim, pipe=1)


@pytest.mark.rtl
@pytest.mark.parametrize("sim", ["verilator", pytest.param("icarus", marks=ICARUS_FULL)])
def test_protocol_pipe1_fp32(sim):
    """The protocol bench on an every-mode build with the fp32 accumulator (PIPE = 1: two partial
    sums, one rounding per word; docs/mac.md 4.2): back-pressure, reset mid-pass, lane enables,
    back-to-back READs and CLEARs right behind words, against sim.mac's Lane."""
    require_sim(sim)
    build_and_test(sim, pipe=1, accumulator="fp32")


@pytest.mark.rtl
def test_fp32_pipe1_icarus():
    """Icarus in CI for the fp32 accumulator at PIPE = 1 (two partial sums, one rounding per
    word): random dot products of a 4-bit, an 8-bit and the 16-bit mode on a build of those three
    (the every-mode protocol bench above is icarus_full: 274 s on Icarus)."""
    require_sim("icarus")
    modes = ("fp4_e2m1", "int8", "posit16_1")
    for mode in modes:
        for K, seed in ((7, 1), (100, 2)):
            A, B, _, _ = random_rows(mode, 16, K, seed=seed)
            check(mode, A, B, "icarus", "native", accumulator="fp32", pipe=1, mask=M.mask_of(modes))


def _exhaustive_cases():
    # the every-mode build on Verilator: ~8 CPU-min, so outside CI (marker "full"); CI checks every
    # pair in every slot at PIPE = 1 through the stream bench (test_exhaustive_long_dots_pipe1)
    out = [pytest.param("all", "verilator", id="all-verilator", marks=pytest.mark.full)]
    out.append(pytest.param(",".join(MODES4 + ["posit16_1"]), "icarus", id="4bit+posit16_1-icarus",
                            marks=ICARUS_FULL))
    out.append(pytest.param(",".join(MODES8), "icarus", id="8bit-icarus", marks=ICARUS_FULL))
    return out


@pytest.mark.rtl
@pytest.mark.parametrize("modes,sim", _exhaustive_cases())
def test_exhaustive_pairs_cocotb_pipe1(modes, sim):
    require_sim(sim)
    build_and_test(sim, testcase="exhaustive_pairs", pipe=1, env={"RTL_EXHAUSTIVE": modes})


@pytest.mark.rtl
@pytest.mark.parametrize("mode", ["int4", "fp4_e2m1", "posit4_1", "int8", "fp8_e4m3", "fp8_e5m2", "posit8_0"])
def test_exhaustive_long_dots_pipe1(mode):
    """Every pair in every sub-word slot of the every-mode engine, the words shuffled into dot
    products of 64 (4-bit modes: 16) products (Verilator)."""
    A, B = exhaustive_rows(mode)              # one word pair per row: every pair once in each slot
    perm = np.random.default_rng(5).permutation(A.shape[0])
    K = 16 if mac.Engine(mode).k == 4 else 64  # a multiple of the slots per word: words keep their slots
    check(mode, A[perm].reshape(-1, K), B[perm].reshape(-1, K), "verilator", "native", pipe=1)


def _random_long_cases():
    out = []
    for mode in ["posit16_1", "mxfp4", "mxint8", "nvfp4", "fp8_e5m2"]:
        out.append(pytest.param(mode, "verilator", id=f"{mode}-verilator"))
        out.append(pytest.param(mode, "icarus", id=f"{mode}-icarus",
                                marks=() if mode == "nvfp4" else ICARUS_FULL))
    return out


@pytest.mark.rtl
@pytest.mark.parametrize("mode,sim", _random_long_cases())
def test_random_long_pipe1(mode, sim):
    require_sim(sim)
    rows = 64 if sim == "verilator" else 16
    for K in (7, 100):
        A, B, SA, SB = random_rows(mode, rows, K, seed=K)
        for readout in ("native", "fp32"):
            check(mode, A, B, sim, readout, SA, SB, pipe=1)


@pytest.mark.rtl
def test_nvfp4_scales_pipe1():
    """nvfp4's readout product and rounding at PIPE = 1 (nv_deep: the exponent values formed for
    both normalisation places, the zero test from s11, the subnormal shift): every element pair in
    every slot under the UE4M3 codes and tensor scales of test_nvfp4 (results that underflow to
    subnormals or zero and that overflow), and two tensor scales at the subnormal boundary."""
    from test_nvfp4 import SCALES, TENSOR, _scaled_pairs

    A, B, SA, SB = _scaled_pairs(SCALES)
    for ta, tb in TENSOR + [(2.0**-118, 2.0**-8), (1.17e-38, 1.0)]:
        check("nvfp4", A, B, "verilator", "native", SA, SB, TA=np.float32(ta), TB=np.float32(tb), pipe=1)


@pytest.mark.rtl
@pytest.mark.parametrize("acc", ["fp32", "fixed:16:8", "fixed:4:6"])
@pytest.mark.parametrize("mode", ["int4", "posit8_0", "posit16_1", "fp8_e5m2", "fp4_e2m1"])
def test_accumulators_pipe1(mode, acc):
    A, B, _, _ = random_rows(mode, 64, 64, seed=11)
    check(mode, A, B, "verilator", "native", accumulator=acc, pipe=1)


@pytest.mark.rtl
def test_run_cli_pipe1(tmp_path, capsys):
    """``python -m rtl.run --pipe 1 --check``: the deep pipeline's build, checked against sim.mac,
    in sim's cycle count for pipe 1."""
    from rtl import run as R

    A, B, _, _ = random_rows("posit8_0", 8, 10, seed=2)
    np.save(tmp_path / "a.npy", A)
    np.save(tmp_path / "b.npy", B)
    argv = ["--mode", "posit8_0", "--a", str(tmp_path / "a.npy"), "--b", str(tmp_path / "b.npy"),
            "--out", str(tmp_path / "y.npy"), "--pipe", "1", "--check"]
    assert R.main(argv) == 0
    out = capsys.readouterr().out
    assert "0 mismatches" in out and f"in {mac.Engine('posit8_0', pipe=1).cycles(10, rows=8)} cycles" in out
