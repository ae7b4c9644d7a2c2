"""Helpers of the RTL tests: simulator discovery, the shared engine configuration, the vector
sets (codes only) and the comparison with sim.mac (expected values always come from sim.mac)."""
from __future__ import annotations

import numpy as np
import pytest

from rtl import run as R
from rtl import toolchain
from sim import mac

toolchain.setup()

#: the engine configuration the plain-runner tests build (every mode, 4 lanes)
LANES = 4
#: the cocotb protocol bench uses 2 lanes (half the Verilator C++ build time, still several lanes)
COCOTB_LANES = 2

SIMS = [pytest.param("verilator", id="verilator"), pytest.param("icarus", id="icarus")]


def require_sim(sim: str) -> None:
    tool = {"verilator": "verilator", "icarus": "iverilog"}[sim]
    if not toolchain.have(tool):
        pytest.fail(f"{tool} is not installed: run bash scripts/install.sh (it installs the simulators)")


#: nvfp4's tensor scales when a test gives none: not powers of two, so the readout rounds
TENSOR_SCALES = (0.37, 1.3e-3)


def check(mode, A, B, sim, readout, SA=None, SB=None, accumulator="exact", TA=None, TB=None, pipe=0, mask=None):
    """A and B (and block/tensor scales) through the engine against sim.mac, results and cycle
    count; ``mask``: the build's modes (default every mode)."""
    e = mac.Engine(mode, lanes=LANES, readout=readout, accumulator=accumulator, pipe=pipe)
    kw = {"scale_a": SA, "scale_b": SB} if e.block else {}
    if e.tensor_scale:
        TA = np.float32(TENSOR_SCALES[0]) if TA is None else TA
        TB = np.float32(TENSOR_SCALES[1]) if TB is None else TB
        kw.update(tensor_scale_a=TA, tensor_scale_b=TB)
    ref = e.dot(A, B, **kw)
    Y, cycles = R.run_rows(mode, A, B, SA, SB, sim=sim, lanes=LANES, readout=readout,
                           accumulator=accumulator, TA=TA, TB=TB, pipe=pipe, mask=mask)
    bad = np.nonzero(Y != ref)[0]
    if bad.size:
        lines = [f"{mode} ({readout}, {e.accumulator} accumulator, pipe {pipe}, {sim}): {bad.size} of {len(ref)} "
                 f"dot products differ"]
        for r in bad[:10]:
            sc = f" sa={SA[r].tolist()} sb={SB[r].tolist()}" if SA is not None else ""
            lines.append(f"  a={[hex(int(x)) for x in A[r][:8]]} b={[hex(int(x)) for x in B[r][:8]]}"
                         f"{sc} rtl={int(Y[r]):#x} sim={int(ref[r]):#x}")
        pytest.fail("\n".join(lines))
    assert cycles == e.cycles(A.shape[1], rows=A.shape[0]), "cycle count differs from sim's model"


def exhaustive_rows(mode: str, shift: int = 12345):
    """Every operand pair of a 4- or 8-bit mode, k pairs per dot product (one word pair per row).

    Row r holds pair r in sub-word 0 and pairs r + shift*j in sub-word j, so every pair is
    checked once in every sub-word slot of the reconfigurable multiplier."""
    e = mac.Engine(mode)
    n = 1 << e.element_bits
    dt = e.element_format.code_dtype
    pairs = np.arange(n * n)
    a_all, b_all = (pairs // n).astype(dt), (pairs % n).astype(dt)
    idx = (pairs[:, None] + shift * np.arange(e.k)[None, :]) % (n * n)
    return a_all[idx], b_all[idx]


def random_rows(mode: str, rows: int, K: int, seed: int = 0, corners: bool = True):
    """Random (rows, K) codes (plus MX scales) with corner cases mixed in: zeros, the
    largest and smallest magnitudes, NaN/NaR, alternating signs for cancellation."""
    e = mac.Engine(mode)
    rng = np.random.default_rng(seed)
    n = 1 << e.element_bits
    dt = e.element_format.code_dtype
    A = rng.integers(0, n, size=(rows, K)).astype(dt)
    B = rng.integers(0, n, size=(rows, K)).astype(dt)
    if corners and rows >= 8:
        fmt = e.element_format
        vals = fmt.values()
        fin = np.isfinite(vals)
        mags = np.where(fin, np.abs(vals), -1.0)
        big = int(np.argmax(mags))
        small = int(np.argmin(np.where(fin & (vals > 0), vals, np.inf)))
        A[0] = big; B[0] = big                     # largest products
        A[1] = small; B[1] = small                 # smallest products
        A[2, ::2] = big; A[2, 1::2] = int(np.argmin(np.where(fin, vals, np.inf)))
        B[2] = big                                 # + and - cancel
        A[3] = 0                                   # zero row
        nans = np.nonzero(np.isnan(vals))[0]
        if nans.size:
            A[4, K // 2] = nans[0]                 # one NaN/NaR
        A[5, :] = rng.integers(0, n, size=K); B[5] = A[5]
        A[6:8, : K // 2] = big
    if not e.block:
        return A, B, None, None
    nb = -(-K // e.block)
    if e.tensor_scale:                             # nvfp4: UE4M3 codes, 1.0 = 0x38, NaN = 0x7F
        SA = rng.integers(0x38 - 20, 0x38 + 20, size=(rows, nb)).astype(np.uint8)
        SB = rng.integers(0x38 - 20, 0x38 + 20, size=(rows, nb)).astype(np.uint8)
        if corners and rows >= 16:
            SA[8] = 0x7E; SB[8] = 0x7E             # largest scales (448)
            SA[9] = 0x01; SB[9] = 0x01             # smallest subnormal scales
            SA[10, 0] = 0x7F                       # NaN scale
            SA[11] = 0; SB[11] = 0x7E              # zero scale
            SA[12] = rng.integers(0, 0x7F, nb); SB[12] = rng.integers(0, 0x7F, nb)
            SA[13, ::2] = 0x7E; SA[13, 1::2] = 0x01  # huge and tiny blocks mixed
        return A, B, SA, SB
    SA = rng.integers(127 - 20, 127 + 20, size=(rows, nb)).astype(np.uint8)
    SB = rng.integers(127 - 20, 127 + 20, size=(rows, nb)).astype(np.uint8)
    if corners and rows >= 16:
        SA[8] = 254; SB[8] = 254                   # overflow to Inf
        SA[9] = 0; SB[9] = 0                       # underflow, subnormals
        SA[10, 0] = 255                            # NaN scale
        SA[11] = 127 + 100; SB[11] = 127 + 27      # near the top of FP32
        SA[12] = 0; SB[12] = 127 - 40              # near the subnormal range
        SA[13, ::2] = 254; SA[13, 1::2] = 0        # huge and tiny blocks mixed
    return A, B, SA, SB
