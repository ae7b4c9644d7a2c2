"""cocotb test bench of the engine's protocol: back-pressure, reset in the middle of a dot
product, mode switches, disabled lanes, and the READ-to-output latency.

Expected values come from sim.mac's cycle-level Lane model (one Lane per hardware lane, stepped
on the beats that lane accepts); nothing is computed here.  Run through pytest
(tests/rtl/test_protocol.py) or any cocotb runner with the top ``mac_engine``.
"""
from __future__ import annotations

import os
import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

from rtl import modes as M
from sim import mac
from sim.mac import tensor_scale

ACC, CLEAR, READ = 0, 1, 2
#: the engine's PIPE parameter of this build (tests/rtl/test_protocol.py sets RTL_PIPE): the
#: model's timing (sim.mac.Engine(pipe=...)) follows it
PIPE = int(os.environ.get("RTL_PIPE", "0"))
#: the accumulator of the build's non-MX modes (RTL_ACC: exact, fp32, fixed:I:F); block modes: exact
ACCUM = os.environ.get("RTL_ACC", "exact")


class Bench:
    """Drives beats, models every lane with sim.mac.Lane, checks every output in order."""

    def __init__(self, dut, seed=0):
        self.dut = dut
        self.lanes = len(dut.in_lane_en)
        self.rng = random.Random(seed)
        self.cycle = 0
        self.models = [None] * self.lanes          # sim Lane per hardware lane
        self.last_y = [0] * self.lanes             # what a disabled lane keeps showing
        self.expected = []                         # (per-lane codes, mode, read cycle)
        self.got = 0
        self.engines = {}

    def engine(self, mode, readout):
        key = (mode, readout)
        if key not in self.engines:
            acc = "exact" if mac.Engine(mode).block else ACCUM
            self.engines[key] = mac.Engine(mode, lanes=self.lanes, readout=readout, pipe=PIPE, accumulator=acc)
        return self.engines[key]

    async def start(self):
        d = self.dut
        cocotb.start_soon(Clock(d.clk, 10, unit="ns").start())
        d.rst.value = 1
        d.in_valid.value = 0
        d.out_ready.value = 1
        for name in ("in_op", "in_mode", "in_fp32", "in_a", "in_b", "in_scale_a", "in_scale_b"):
            getattr(d, name).value = 0
        d.in_lane_en.value = 0
        for _ in range(3):
            await FallingEdge(d.clk)
        d.rst.value = 0

    def _apply(self, beat):
        """The model side of an accepted beat."""
        op, mode, readout, en, words_a, words_b, sa, sb = beat
        for l in range(self.lanes):
            if not (en >> l) & 1:
                continue
            if op == CLEAR:                         # nvfp4: the words carry the tensor scales
                self.models[l] = self.engine(mode, readout).lane()
                self.models[l].clear(int(words_a[l]), int(words_b[l]))
            elif op == ACC:
                e = self.models[l].engine
                kw = {"scale_a": sa[l], "scale_b": sb[l]} if e.block else {}
                self.models[l].step(int(words_a[l]), int(words_b[l]), **kw)
        if op == READ:
            ys = []
            for l in range(self.lanes):
                if (en >> l) & 1:
                    lane = self.models[l]
                    if lane.engine.readout != readout:      # same state, other readout
                        lane.engine = self.engine(lane.engine.mode, readout)
                    self.last_y[l] = int(lane.readout(int(words_a[l]), int(words_b[l])))
                ys.append(self.last_y[l])
            self.expected.append((ys, mode, self.cycle, en))

    def _check_output(self):
        d = self.dut
        y = int(d.out_y.value)
        assert self.expected, f"cycle {self.cycle}: out_valid without a READ"
        ys, mode, rc, en = self.expected.pop(0)
        got = [(y >> (32 * l)) & 0xFFFFFFFF for l in range(self.lanes)]
        if got != ys:
            raise AssertionError(
                f"mode {mode}, READ issued in cycle {rc}, lane enables {en:#x}: "
                f"rtl {[hex(v) for v in got]} != sim {[hex(v) for v in ys]}")
        self.got += 1
        return rc, mode

    async def run(self, beats, p_valid=1.0, p_ready=1.0, latency_check=False):
        """Issue the beats (in_valid with probability p_valid, out_ready with p_ready)."""
        d = self.dut
        beats = list(beats)
        i = 0
        idle = 0
        while i < len(beats) or self.expected:
            out_valid = int(d.out_valid.value)
            ready_out = self.rng.random() < p_ready
            d.out_ready.value = int(ready_out)
            if out_valid and ready_out:
                rc, mode = self._check_output()
                lat = self.engine(mode, "native").latency
                if latency_check:
                    assert self.cycle - rc == lat, (
                        f"{mode}: READ of cycle {rc} came out after {self.cycle - rc} cycles, "
                        f"sim says {lat}")
            in_ready = (not out_valid) or ready_out
            if i < len(beats) and self.rng.random() < p_valid:
                op, mode, readout, en, wa, wb, sa, sb = beats[i]
                d.in_valid.value = 1
                d.in_op.value = op
                d.in_mode.value = M.mode_id(mode)
                d.in_fp32.value = int(readout == "fp32")
                d.in_lane_en.value = en
                d.in_a.value = sum(int(w) << (16 * l) for l, w in enumerate(wa))
                d.in_b.value = sum(int(w) << (16 * l) for l, w in enumerate(wb))
                d.in_scale_a.value = sum(int(s) << (8 * l) for l, s in enumerate(sa))
                d.in_scale_b.value = sum(int(s) << (8 * l) for l, s in enumerate(sb))
                if in_ready:
                    self._apply(beats[i])
                    i += 1
            else:
                d.in_valid.value = 0
            await FallingEdge(d.clk)
            self.cycle += 1
            idle = idle + 1 if i >= len(beats) else 0
            assert idle < 100, f"outputs missing: {len(self.expected)} READs never came out"


def dot_beats(bench, mode, K, rng, readout="native", en=None):
    """Beats of one pass: CLEAR, ceil(K/k) ACC beats of random codes, READ."""
    lanes = bench.lanes
    e = bench.engine(mode, readout)
    en = (1 << lanes) - 1 if en is None else en
    n = 1 << e.element_bits
    codes_a = rng.integers(0, n, size=(lanes, K)).astype(e.element_format.code_dtype)
    codes_b = rng.integers(0, n, size=(lanes, K)).astype(e.element_format.code_dtype)
    wa, wb = e.pack(codes_a), e.pack(codes_b)
    zero = [0] * lanes
    clear_w = read_w = (zero, zero)
    if e.tensor_scale:      # nvfp4: FP32 tensor scales, low halves on CLEAR, high halves on READ
        ws = [tensor_scale.words(*rng.uniform(1e-4, 2.0, 2).astype(np.float32)) for _ in range(lanes)]
        clear_w = ([w[0][0] for w in ws], [w[0][1] for w in ws])
        read_w = ([w[1][0] for w in ws], [w[1][1] for w in ws])
    beats = [(CLEAR, mode, readout, en, *clear_w, zero, zero)]
    one = int(e.scale_format.encode(1.0)) if e.block else 0
    for w in range(wa.shape[1]):
        sa = sb = zero
        if e.block:         # scale codes around 1.0 (E8M0 127, UE4M3 0x38)
            lo, hi = (one - 8, one + 9) if e.tensor_scale else (110, 145)
            sa = rng.integers(lo, hi, size=lanes).tolist()
            sb = rng.integers(lo, hi, size=lanes).tolist()
        beats.append((ACC, mode, readout, en, wa[:, w].tolist(), wb[:, w].tolist(), sa, sb))
    beats.append((READ, mode, readout, en, *read_w, zero, zero))
    return beats


ALL = list(M.MODE_IDS)


@cocotb.test()
async def mode_switches_and_latency(dut):
    """Back-to-back passes of every mode and both readouts; every READ comes out exactly
    sim's latency later and the whole sequence takes sim's cycle count."""
    b = Bench(dut, seed=1)
    await b.start()
    rng = np.random.default_rng(1)
    beats = []
    for mode in ALL + ALL[::-1]:
        for readout in ("native", "fp32"):
            beats += dot_beats(b, mode, int(rng.integers(1, 70)), rng, readout)
    await b.run(beats, latency_check=True)
    assert b.got == len(ALL) * 4


@cocotb.test()
async def back_pressure(dut):
    """Random gaps on in_valid and random out_ready: the results are unchanged."""
    b = Bench(dut, seed=2)
    await b.start()
    rng = np.random.default_rng(2)
    beats = []
    for mode in ALL * 2:
        beats += dot_beats(b, mode, int(rng.integers(1, 80)), rng)
    await b.run(beats, p_valid=0.7, p_ready=0.4)


@cocotb.test()
async def reset_mid_dot_product(dut):
    """Reset in the middle of a dot product (and with a READ in flight): nothing comes out
    of the aborted pass, and the next pass is exact."""
    b = Bench(dut, seed=3)
    await b.start()
    rng = np.random.default_rng(3)
    first = dot_beats(b, "posit16_1", 40, rng)
    half = first[: len(first) // 2]
    d = dut
    for op, mode, readout, en, wa, wb, sa, sb in half:     # issue half a pass, then a READ
        d.in_valid.value = 1
        d.in_op.value = op
        d.in_mode.value = M.mode_id(mode)
        d.in_lane_en.value = en
        d.in_a.value = sum(int(w) << (16 * l) for l, w in enumerate(wa))
        d.in_b.value = sum(int(w) << (16 * l) for l, w in enumerate(wb))
        await FallingEdge(d.clk)
    d.in_op.value = READ
    await FallingEdge(d.clk)
    d.in_valid.value = 0
    d.rst.value = 1
    await FallingEdge(d.clk)
    d.rst.value = 0
    for _ in range(8):
        assert int(d.out_valid.value) == 0, "an output came out of a pass that reset aborted"
        await FallingEdge(d.clk)
    beats = []
    for mode in ("posit16_1", "int8", "mxfp4"):
        beats += dot_beats(b, mode, 50, rng)
    await b.run(beats, p_valid=0.9, p_ready=0.8)


@cocotb.test()
async def lanes_disabled(dut):
    """Per-lane enables: a lane that is off for a beat ignores it and holds still (its output
    keeps the last value it read out)."""
    b = Bench(dut, seed=4)
    await b.start()
    rng = np.random.default_rng(4)
    full = (1 << b.lanes) - 1
    beats = dot_beats(b, "fp8_e4m3", 30, rng)               # every lane holds a result
    for mode in ("fp8_e4m3", "posit8_0", "mxint8"):
        pb = dot_beats(b, mode, 64, rng)
        out = [pb[0]]
        for beat in pb[1:]:
            op, m, ro, en, wa, wb, sa, sb = beat
            if op == ACC:
                en = int(rng.integers(0, full + 1))          # random lanes sit out ACC beats
            elif op == READ:
                en = full & ~1                               # lane 0 keeps its old output
            out.append((op, m, ro, en, wa, wb, sa, sb))
        beats += out
    await b.run(beats, p_valid=0.9, p_ready=0.9)



@cocotb.test()
async def reads_and_clears_in_flight(dut):
    """Short passes (1 to 6 words) with a second READ right behind the first, or no READ at all
    (the next CLEAR right behind the last word), random lane enables on the ACC beats, gaps and
    back-pressure: READs and CLEARs meet words still in the accumulator's pipeline (the fp32
    accumulator's partial sums at PIPE = 1; every build runs it)."""
    b = Bench(dut, seed=6)
    await b.start()
    rng = np.random.default_rng(6)
    full = (1 << b.lanes) - 1
    beats = []
    for mode in ("posit16_1", "fp8_e5m2", "int4", "posit8_0", "fp4_e2m1") * 3:
        for readout in ("native", "fp32"):
            pb = dot_beats(b, mode, int(rng.integers(1, 7)) * b.engine(mode, readout).k, rng, readout)
            if rng.random() < 0.4:
                pb = [(op, m, ro, int(rng.integers(0, full + 1)) if op == ACC else en, wa, wb, sa, sb)
                      for op, m, ro, en, wa, wb, sa, sb in pb]
            r = rng.random()
            if r < 0.35:
                pb = pb + [pb[-1]]              # a second READ of the same sums
            elif r < 0.55:
                pb = pb[:-1]                    # abandoned: the next CLEAR follows the last word
            beats += pb
    await b.run(beats, p_valid=0.85, p_ready=0.75)


@cocotb.test(skip=os.environ.get("RTL_BENCH") is None)
async def throughput_posit8_exhaustive(dut):
    """Benchmark (RTL_BENCH=1): every posit8_0 operand pair, two pairs per dot product, streamed
    through cocotb; reports MAC/s and checks every result against sim.mac."""
    import time

    b = Bench(dut, seed=5)
    await b.start()
    lanes = b.lanes
    e = mac.Engine("posit8_0", lanes=lanes, pipe=PIPE)
    pairs = np.arange(1 << 16)
    a = (pairs >> 8).astype(np.uint8).reshape(-1, 2)
    bb = (pairs & 0xFF).astype(np.uint8).reshape(-1, 2)
    ref = e.dot(a, bb)
    wa, wb = e.pack(a)[:, 0].astype(np.int64), e.pack(bb)[:, 0].astype(np.int64)
    rows = a.shape[0]
    passes = -(-rows // lanes)
    d = dut
    d.in_mode.value = M.mode_id("posit8_0")
    d.in_fp32.value = 0
    d.in_lane_en.value = (1 << lanes) - 1
    d.out_ready.value = 1
    got = []
    t0 = time.time()
    for p in range(passes):
        for op in (CLEAR, ACC, READ):
            d.in_valid.value = 1
            d.in_op.value = op
            if op == ACC:
                r = slice(p * lanes, min(p * lanes + lanes, rows))
                d.in_a.value = sum(int(w) << (16 * l) for l, w in enumerate(wa[r]))
                d.in_b.value = sum(int(w) << (16 * l) for l, w in enumerate(wb[r]))
            await FallingEdge(d.clk)
            if int(d.out_valid.value):
                got.append(int(d.out_y.value))
    # drain: the last READs come out mac.LATENCY cycles later (a few spare cycles on top)
    d.in_valid.value = 0
    for _ in range(max(mac.LATENCIES[PIPE].values()) + 4):
        if len(got) == passes:
            break
        await FallingEdge(d.clk)
        if int(d.out_valid.value):
            got.append(int(d.out_y.value))
    assert len(got) == passes, f"posit8_0: {len(got)} results for {passes} READs"
    dt = time.time() - t0
    y = np.array([(v >> (32 * l)) & 0xFF for v in got for l in range(lanes)][:rows])
    bad = np.nonzero(y != ref)[0]
    assert bad.size == 0, f"posit8_0: {bad.size} dot products differ, first row {bad[0]}"
    dut._log.info(f"cocotb throughput, posit8_0 exhaustive: {a.size} MACs in {dt:.1f} s = "
                  f"{a.size / dt:,.0f} MAC/s ({lanes} lanes)")


@cocotb.test()
async def block_boundaries_back_to_back(dut):
    """Block modes: passes that end exactly on a block boundary, one word before and after it,
    and READs right behind a block's close, back to back with no gap and then under
    back-pressure: every READ comes out sim's latency later (without back-pressure)."""
    b = Bench(dut, seed=6)
    await b.start()
    rng = np.random.default_rng(6)
    beats = []
    for mode in ("mxfp4", "mxint8", "nvfp4", "int8", "mxfp4"):
        e = b.engine(mode, "native")
        blk = e.block or 8 * e.k
        for K in (e.k, blk - e.k, blk, blk + e.k, 2 * blk, 3 * blk - e.k, 4 * blk):
            beats += dot_beats(b, mode, K, rng)
    await b.run(beats, latency_check=True)
    beats = []
    for mode in ("nvfp4", "mxint8", "posit16_1", "mxfp4", "fp8_e5m2"):
        e = b.engine(mode, "native")
        blk = e.block or 8 * e.k
        for K in (blk, blk + e.k, 2 * blk):
            beats += dot_beats(b, mode, K, rng)
    await b.run(beats, p_valid=0.8, p_ready=0.5)


def _pair_rows(e, rng):
    """(A, B) with one word pair per row: every operand pair of a mode of <= 8-bit elements (k
    pairs a row), 4096 random pairs of posit16_1."""
    dt = e.element_format.code_dtype
    if e.element_bits > 8:
        n = 1 << e.element_bits
        return (rng.integers(0, n, size=(4096, 1)).astype(dt), rng.integers(0, n, size=(4096, 1)).astype(dt))
    n = 1 << e.element_bits
    pairs = np.arange(n * n)
    return (pairs // n).astype(dt).reshape(-1, e.k), (pairs % n).astype(dt).reshape(-1, e.k)


@cocotb.test(skip=os.environ.get("RTL_EXHAUSTIVE") is None)
async def exhaustive_pairs(dut):
    """RTL_EXHAUSTIVE=MODE,MODE,... (or "all"): every operand pair of each mode (posit16_1: 4096
    random pairs), one word pair per pass streamed back to back (CLEAR, ACC, READ on every
    lane), in both readouts; each result checked against sim.mac.Engine.dot and each READ's
    output cycle against sim's latency.  MX modes: random block scales; nvfp4: random UE4M3
    block scales and FP32 tensor scales."""
    sel = os.environ["RTL_EXHAUSTIVE"]
    modes = ALL if sel == "all" else sel.split(",")
    b = Bench(dut, seed=7)
    await b.start()
    rng = np.random.default_rng(7)
    lanes = b.lanes
    d = dut
    d.out_ready.value = 1
    d.in_lane_en.value = (1 << lanes) - 1
    for mode in modes:
        for readout in ("native", "fp32"):
            e = b.engine(mode, readout)
            A, B = _pair_rows(e, rng)
            rows = A.shape[0]
            kw, SA, SB, TW = {}, None, None, None
            if e.block:
                one = int(e.scale_format.encode(1.0))
                lo, hi = (one - 12, one + 12) if e.tensor_scale else (100, 150)
                SA = rng.integers(lo, hi, size=(rows, 1)).astype(np.uint8)
                SB = rng.integers(lo, hi, size=(rows, 1)).astype(np.uint8)
                kw = {"scale_a": SA, "scale_b": SB}
            if e.tensor_scale:
                TA = rng.uniform(1e-3, 4.0, rows).astype(np.float32)
                TB = rng.uniform(1e-3, 4.0, rows).astype(np.float32)
                kw.update(tensor_scale_a=TA, tensor_scale_b=TB)
                TW = [tensor_scale.words(TA[r], TB[r]) for r in range(rows)]
            ref = e.dot(A, B, **kw).astype(np.int64)
            wa, wb = e.pack(A)[:, 0].astype(np.int64), e.pack(B)[:, 0].astype(np.int64)
            passes = -(-rows // lanes)
            d.in_mode.value = M.mode_id(mode)
            d.in_fp32.value = int(readout == "fp32")
            got, reads, cycle = [], [], 0

            def lanes_of(vals, r0, bits):
                return sum(int(v) << (bits * l) for l, v in enumerate(vals[r0:r0 + lanes]))

            for p in range(passes):
                r0 = p * lanes
                for op in (CLEAR, ACC, READ):
                    d.in_valid.value = 1
                    d.in_op.value = op
                    d.in_a.value = d.in_b.value = 0
                    d.in_scale_a.value = d.in_scale_b.value = 0
                    if op == ACC:
                        d.in_a.value = lanes_of(wa, r0, 16)
                        d.in_b.value = lanes_of(wb, r0, 16)
                        if SA is not None:
                            d.in_scale_a.value = lanes_of(SA[:, 0], r0, 8)
                            d.in_scale_b.value = lanes_of(SB[:, 0], r0, 8)
                    elif TW is not None:
                        h = 0 if op == CLEAR else 1
                        d.in_a.value = lanes_of([w[h][0] for w in TW], r0, 16)
                        d.in_b.value = lanes_of([w[h][1] for w in TW], r0, 16)
                    if op == READ:
                        reads.append(cycle)
                    await FallingEdge(d.clk)
                    cycle += 1
                    if int(d.out_valid.value):
                        got.append((cycle, int(d.out_y.value)))
            d.in_valid.value = 0
            for _ in range(e.latency + 4):
                if len(got) == passes:
                    break
                await FallingEdge(d.clk)
                cycle += 1
                if int(d.out_valid.value):
                    got.append((cycle, int(d.out_y.value)))
            assert len(got) == passes, f"{mode}: {len(got)} results for {passes} READs"
            late = [(c - rc) for (c, _), rc in zip(got, reads) if c - rc != e.latency]
            assert not late, f"{mode}: READ -> output took {late[0]} cycles, sim says {e.latency}"
            obits = e.output_format.bits
            y = np.array([(v >> (32 * l)) & ((1 << obits) - 1) for _, v in got for l in range(lanes)][:rows])
            bad = np.nonzero(y != ref)[0]
            assert bad.size == 0, (f"{mode} ({readout}): {bad.size} of {rows} results differ; first row "
                                   f"{bad[0]}: a={A[bad[0]].tolist()} b={B[bad[0]].tolist()} "
                                   f"rtl={int(y[bad[0]]):#x} sim={int(ref[bad[0]]):#x}")
            dut._log.info(f"{mode} ({readout}): {A.size} operand pairs match sim.mac (pipe {PIPE})")
