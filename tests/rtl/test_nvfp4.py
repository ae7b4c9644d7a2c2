"""nvfp4 on the Verilog engine against sim.mac (docs/mac.md 4.5), like the MX modes' tests:
every element pair in every slot under a spread of UE4M3 scale codes and tensor scales,
random blocks with corner cases, and nvfp4 passes interleaved back to back with other modes
(the tensor scales ride on the CLEAR/READ words, several READs in flight)."""
import numpy as np
import pytest
from rtl_helpers import LANES, SIMS, check, exhaustive_rows, random_rows, require_sim

from rtl import modes as M
from rtl import run as R
from sim import mac

#: UE4M3 codes: zero, subnormals, the smallest normal, 1.0, odd significands, 448, NaN
SCALES = [0x00, 0x01, 0x03, 0x07, 0x08, 0x2F, 0x38, 0x3B, 0x4D, 0x6F, 0x7E, 0x7F]
#: tensor scales: ordinary, a subnormal S_A (results underflow), large ones (results overflow)
TENSOR = [(0.37, 1.3e-3), (2.0**-140, 0.75), (3e38, 2.0**20)]


def _scaled_pairs(codes):
    """Every element pair in every slot (one word per row), each under every code of ``codes``
    for A and a code of SCALES for B that cycles with the row."""
    A, B = exhaustive_rows("nvfp4")
    n = A.shape[0]
    rows_a, rows_b, sa, sb = [], [], [], []
    for i, c in enumerate(codes):
        rows_a.append(A)
        rows_b.append(B)
        sa.append(np.full(n, c))
        sb.append(np.array([SCALES[(r + 5 * i) % len(SCALES)] for r in range(n)]))
    to = lambda x: np.concatenate(x).astype(np.uint8)[:, None]  # noqa: E731
    return np.concatenate(rows_a), np.concatenate(rows_b), to(sa), to(sb)


@pytest.mark.rtl
@pytest.mark.parametrize("sim", SIMS)
def test_exhaustive_pairs_scales(sim):
    require_sim(sim)
    codes = SCALES if sim == "verilator" else [0x00, 0x38, 0x7F]
    A, B, SA, SB = _scaled_pairs(codes)
    tensor = TENSOR if sim == "verilator" else TENSOR[:1]
    for ta, tb in tensor:
        check("nvfp4", A, B, sim, "native", SA, SB, TA=np.float32(ta), TB=np.float32(tb))


@pytest.mark.rtl
@pytest.mark.parametrize("sim", SIMS)
def test_random_blocks(sim):
    require_sim(sim)
    n = 1 if sim == "verilator" else 0.25
    A, B, SA, SB = random_rows("nvfp4", rows=int(1024 * n), K=1, seed=1, corners=False)
    check("nvfp4", A, B, sim, "native", SA, SB)
    A, B, SA, SB = random_rows("nvfp4", rows=int(64 * n), K=96, seed=2)
    for readout in ("native", "fp32"):
        check("nvfp4", A, B, sim, readout, SA, SB, TA=np.float32(0.0123), TB=np.float32(2.5))
    A, B, SA, SB = random_rows("nvfp4", rows=int(32 * n), K=37, seed=3)   # a partial last block
    check("nvfp4", A, B, sim, "native", SA, SB, TA=np.float32(1.0), TB=np.float32(1.0))


@pytest.mark.rtl
@pytest.mark.parametrize("sim", SIMS)
def test_interleaved_with_other_modes(sim):
    """Passes of nvfp4, mxfp4 and int8 back to back (K = 0, 1, 4, 5, 17, 64: READs closer than
    the pipeline depth, blocks closing right before a READ, open blocks), partial lane sets."""
    require_sim(sim)
    rng = np.random.default_rng(9)
    beats, expect = [], []
    for i, K in enumerate([0, 1, 4, 5, 17, 64, 3, 16, 2, 33]):
        for mode in ("nvfp4", "mxfp4", "int8") if i % 2 == 0 else ("int8", "nvfp4", "nvfp4"):
            rows = 1 + (i + len(beats)) % LANES
            e = mac.Engine(mode, lanes=LANES)
            A, B, SA, SB = random_rows(mode, rows=rows, K=K, seed=100 + i, corners=False)
            kw = {"scale_a": SA, "scale_b": SB} if e.block else {}
            TA = TB = None
            if e.tensor_scale:
                TA = rng.uniform(1e-4, 1.0, rows).astype(np.float32)
                TB = rng.uniform(1e-4, 1.0, rows).astype(np.float32)
                kw.update(tensor_scale_a=TA, tensor_scale_b=TB)
            expect.append((e, e.dot(A, B, **kw)))
            beats += R.beats_for_rows(e, A, B, SA, SB, lanes=LANES, TA=TA, TB=TB)
    outs, _ = R.run_beats(beats, sim=sim, lanes=LANES, mask=M.ALL_MASK, reads=len(expect))
    assert len(outs) == len(expect)
    reads = [i for i, b in enumerate(beats) if b[0] == R.OP_READ]
    for (cycle, y), (e, want), t in zip(outs, expect, reads):
        got = [(y >> (32 * lane)) & 0xFFFFFFFF for lane in range(want.size)]
        assert got == [int(w) for w in want], e.mode
        assert cycle == t + 1 + e.latency, e.mode   # beat t issues in cycle t + 1


@pytest.mark.rtl
def test_nvfp4_only_build():
    """nvfp4 alone (MODES = 1 << 10: mxfp4's datapath without mxfp4's accumulator)."""
    require_sim("verilator")
    A, B, SA, SB = random_rows("nvfp4", rows=64, K=48, seed=4)
    e = mac.Engine("nvfp4", lanes=2)
    ta, tb = np.float32(0.25), np.float32(3.0e-3)
    want = e.dot(A, B, SA, SB, ta, tb)
    Y, cycles = R.run_rows("nvfp4", A, B, SA, SB, lanes=2, mask=M.mask_of(["nvfp4"]), TA=ta, TB=tb)
    assert Y.tolist() == want.tolist() and cycles == e.cycles(48, rows=64)
