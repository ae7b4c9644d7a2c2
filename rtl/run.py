"""Run anyone's vectors through the Verilog engine, outside pytest.

::

    python -m rtl.run --mode posit8_0 --a A.npy --b B.npy --out Y.npy
    python -m rtl.run --mode mxfp4 --a A.npy --b B.npy --scale-a SA.npy --scale-b SB.npy \\
        --out Y.npy --sim icarus --lanes 4
    python -m rtl.run --mode fp8_e4m3 --accumulator fixed:16:16 --a A.npy --b B.npy --out Y.npy

A and B are (rows, K) element codes (each row one dot product); MX modes also take E8M0
scales (rows, ceil(K/32)); nvfp4 UE4M3 scales (rows, ceil(K/16)) and the FP32 tensor scales
(``--tensor-scale-a/-b``: on the CLEAR beat's operand words the low halves, on the READ's the
high halves, docs/mac.md 2).  Y gets the engine's output codes per row (uint32; posit outputs
in the low bits).  Rows are spread over the lanes, one pass (CLEAR, ceil(K/k) ACC beats,
READ) per group of ``lanes`` rows, issued back to back as in ``sim.mac.Engine.cycles``.

The accumulator (``exact``, ``fp32`` or ``fixed:I:F``, as in ``sim.mac``) is a build
parameter of the engine; MX modes always use their block/FP32 scheme (sim's "exact").
The simulator binary is built once per parameter set (simulator, lanes, compiled modes,
accumulator, source hash) under ``$NUMFMT_RTL_CACHE`` or ``~/.cache/numfmt-rtl`` and reused.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sim.mac import Accumulator
from sim.mac.modes import mode_spec

from . import modes as M
from . import toolchain
from .params import acc_params, acc_token, pipe_params
from .sources import SRC_DIR, sources

__all__ = ["build", "run_beats", "run_rows", "beats_for_rows", "cache_dir", "acc_params",
           "parse_accumulator", "main"]

TB_DIR = Path(__file__).resolve().parent / "tb"
OP_ACC, OP_CLEAR, OP_READ = 0, 1, 2


def cache_dir() -> Path:
    d = os.environ.get("NUMFMT_RTL_CACHE")
    return Path(d) if d else Path.home() / ".cache" / "numfmt-rtl"


def _source_hash() -> str:
    h = hashlib.sha256()
    for p in sources() + sorted(SRC_DIR.glob("*.vh")) + [TB_DIR / "tb_stream.v"]:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def parse_accumulator(spec):
    """``exact``, ``fp32``, ``fixed:I:F`` or sim.mac's forms -> sim.mac's accumulator (one parser:
    :meth:`sim.mac.Accumulator.parse`)."""
    return Accumulator.parse(spec).engine_value


def build(sim: str = "verilator", lanes: int = 1, mask: int = M.ALL_MASK, log=None,
          accumulator="exact", pipe: int = 0) -> Path:
    """Build (or reuse) the plain stream testbench; returns the executable to run.  ``pipe``: the
    engine's ``PIPE`` (0 or 1, ``sim.mac.PIPES``)."""
    if sim not in ("verilator", "icarus"):
        raise ValueError(f"unknown simulator {sim!r}; allowed: verilator, icarus")
    ap = {**acc_params(accumulator), **pipe_params(pipe)}
    toolchain.setup()
    key = f"{sim}-l{lanes}-m{mask:03x}-{acc_token(accumulator)}{'-p%d' % pipe if pipe else ''}-{_source_hash()}"
    out = cache_dir() / key
    exe = out / ("Vtb_stream" if sim == "verilator" else "tb_stream.vvp")
    if exe.exists():
        return exe
    tmp = Path(tempfile.mkdtemp(prefix=key + ".", dir=cache_dir().mkdir(parents=True, exist_ok=True) or cache_dir()))
    srcs = [str(p) for p in sources()] + [str(TB_DIR / "tb_stream.v")]
    if sim == "verilator":
        cmd = [toolchain.require("verilator"), "--binary", "--timing", "-Wno-fatal", "-Wno-lint",
               "-Wno-style", "--top-module", "tb_stream", f"-I{SRC_DIR}", f"-GLANES={lanes}",
               f"-GMODES={mask}"] + [f"-G{k}={v}" for k, v in ap.items()] + ["--Mdir", str(tmp), "-j", "2", "-o", "Vtb_stream"] + toolchain.verilator_build_args() + srcs
    else:
        cmd = [toolchain.require("iverilog"), "-g2012", "-o", str(tmp / "tb_stream.vvp"), "-s", "tb_stream",
               f"-I{SRC_DIR}", "-P", f"tb_stream.LANES={lanes}", "-P", f"tb_stream.MODES={mask}"]
        for k, v in ap.items():
            cmd += ["-P", f"tb_stream.{k}={v}"]
        cmd += srcs
    t0 = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise RuntimeError(f"{sim} build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    if log:
        log(f"built {key} in {time.time() - t0:.0f} s")
    if out.exists():                      # a concurrent build won
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        os.replace(tmp, out)
    return exe


def run_beats(beats: list[tuple], sim: str = "verilator", lanes: int = 1, mask: int = M.ALL_MASK,
              gaps: int = 0, reads: int | None = None,
              accumulator="exact", pipe: int = 0) -> tuple[list[tuple[int, int]], int]:
    """Drive the beats (op, mode, fp32, lane_en, a, b, sa, sb as integers over all lanes).

    Returns ([(cycle, out_y)], cycles run)."""
    exe = build(sim, lanes, mask, accumulator=accumulator, pipe=pipe)
    with tempfile.TemporaryDirectory(prefix="rtl-run-") as td:
        fin, fout = Path(td) / "in.hex", Path(td) / "out.txt"
        with open(fin, "w") as f:
            for op, mode, fp32, en, a, b, sa, sb in beats:
                f.write(f"{op:x} {mode:x} {fp32:x} {en:x} {a:x} {b:x} {sa:x} {sb:x}\n")
        args = [f"+in={fin}", f"+out={fout}", f"+gaps={gaps}"]
        if reads is not None:
            args.append(f"+reads={reads}")
        if sim == "verilator":
            cmd = [str(exe)] + args
        else:
            cmd = [toolchain.require("vvp"), "-n", str(exe)] + args
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=td)
        if proc.returncode != 0 or not fout.exists():
            raise RuntimeError(f"simulation failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        outs, done = [], None
        for line in fout.read_text().splitlines():
            p = line.split()
            if p[0] == "done":
                done = int(p[1])
            else:
                outs.append((int(p[0]), int(p[1], 16)))
    return outs, done


def beats_for_rows(engine, A, B, SA=None, SB=None, lanes=1, fp32=False, mode_id=None, TA=None, TB=None):
    """The beats of rows A, B (rows, K) on ``lanes`` lanes: per pass CLEAR, ACC..., READ.

    nvfp4: ``TA``, ``TB`` are the FP32 tensor scales (a number, or one per row); their low
    halves go on the CLEAR beat's operand words, their high halves on the READ beat's."""
    A = np.asarray(A)
    B = np.asarray(B)
    R, K = A.shape
    mid = M.mode_id(engine.mode) if mode_id is None else mode_id
    WA = engine.pack(A).astype(np.int64) if K else np.zeros((R, 0), np.int64)
    WB = engine.pack(B).astype(np.int64) if K else np.zeros((R, 0), np.int64)
    nw = WA.shape[1]
    k = engine.k
    tw = None
    if engine.tensor_scale:
        from sim.mac import tensor_scale as TS

        ta = np.broadcast_to(TS.check(TA, "tensor_scale_a"), (R,))
        tb = np.broadcast_to(TS.check(TB, "tensor_scale_b"), (R,))
        tw = [TS.words(ta[r], tb[r]) for r in range(R)]
    beats = []
    for p0 in range(0, R, lanes):
        rows = list(range(p0, min(p0 + lanes, R)))
        en = (1 << len(rows)) - 1
        ca = cb = ra = rb = 0
        if tw is not None:
            for l, r in enumerate(rows):
                (wca, wcb), (wra, wrb) = tw[r]
                ca |= wca << (16 * l)
                cb |= wcb << (16 * l)
                ra |= wra << (16 * l)
                rb |= wrb << (16 * l)
        beats.append((OP_CLEAR, mid, 0, en, ca, cb, 0, 0))
        for w in range(nw):
            a = b = sa = sb = 0
            for l, r in enumerate(rows):
                a |= int(WA[r, w]) << (16 * l)
                b |= int(WB[r, w]) << (16 * l)
                if SA is not None:
                    blk = (w * k) // engine.block
                    sa |= int(SA[r, blk]) << (8 * l)
                    sb |= int(SB[r, blk]) << (8 * l)
            beats.append((OP_ACC, mid, 0, en, a, b, sa, sb))
        beats.append((OP_READ, mid, int(fp32), en, ra, rb, 0, 0))
    return beats


def check_operands(engine, A, B, SA=None, SB=None):
    """Check the operands of ``run_rows`` for ``engine`` (a :class:`sim.mac.Engine`) before any
    simulation: A and B (rows, K) element codes of one shape (a 1-D array is one row), scales
    (rows, ceil(K/block)) block scale codes (E8M0 for MX, UE4M3 for nvfp4) and none for the others.  Returns them as
    2-D arrays; ValueError/TypeError names the bad operand and what is allowed."""
    def rows(x, name, fmt):
        arr = np.atleast_2d(np.asarray(x))
        if arr.ndim != 2:
            raise ValueError(f"{name} must be (rows, K) codes, one row per dot product; got shape {arr.shape}")
        return fmt.check_codes(arr)

    A, B = rows(A, "A", engine.element_format), rows(B, "B", engine.element_format)
    if A.shape != B.shape:
        raise ValueError(f"A and B need the same shape, got {A.shape} and {B.shape}")
    if not engine.block:
        if SA is not None or SB is not None:
            mx_modes = [m for m in M.names() if mode_spec(m).mx]
            raise ValueError(f"mode {engine.mode} takes no scales; --scale-a/--scale-b are for the MX modes "
                             f"({', '.join(mx_modes)})")
        return A, B, None, None
    if SA is None or SB is None:
        raise ValueError(f"mode {engine.mode} needs --scale-a and --scale-b")
    want = (A.shape[0], -(-A.shape[1] // engine.block))
    SA, SB = rows(SA, "scale A", engine.scale_format), rows(SB, "scale B", engine.scale_format)
    for name, S in (("scale A", SA), ("scale B", SB)):
        if S.shape != want:
            raise ValueError(f"{name} must have shape {want} (rows, ceil(K/{engine.block})) for A of shape "
                             f"{A.shape}, got {S.shape}")
    return A, B, SA, SB


def output_path(out) -> Path:
    """Where ``--out`` writes: the path given, with ``.npy`` added unless it ends so (as
    ``np.save`` does).  ValueError when it is a folder or its folder is missing or not writable."""
    p = Path(out)
    if p.suffix != ".npy":
        p = p.with_name(p.name + ".npy")
    if Path(out).is_dir() or p.is_dir():
        raise ValueError(f"--out {out!r} is a folder; give a file name, e.g. {str(Path(out) / 'Y.npy')!r}")
    parent = p.parent
    if not parent.is_dir():
        raise ValueError(f"--out {out!r}: folder {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK):
        raise ValueError(f"--out {out!r}: folder {str(parent)!r} is not writable")
    return p


def run_rows(mode, A, B, SA=None, SB=None, sim="verilator", lanes=1, readout="native",
             mask=None, gaps=0, accumulator="exact", TA=None, TB=None, pipe=0):
    """Dot products of the rows of A and B on the engine: (codes uint32 (rows,), cycles).

    ``accumulator``: as sim.mac.Engine's (or the ``fixed:I:F`` spelling).  ``TA``, ``TB``:
    nvfp4's FP32 tensor scales (numbers or one per row).  ``pipe``: the engine's ``PIPE`` (the
    cycle count follows ``sim.mac.Engine(pipe=...)``)."""
    from sim import mac

    e = mac.Engine(mode=mode, lanes=lanes, readout=readout, accumulator=accumulator, pipe=pipe)
    mask = M.ALL_MASK if mask is None else mask
    if not (mask >> M.mode_id(e.mode)) & 1:
        raise ValueError(f"mode {e.mode} is not compiled into mask {mask:#x}")
    A, B, SA, SB = check_operands(e, A, B, SA, SB)
    if e.tensor_scale and (TA is None or TB is None):
        raise ValueError(f"mode {e.mode} needs the tensor scales TA and TB (--tensor-scale-a/-b)")
    if not e.tensor_scale and (TA is not None or TB is not None):
        raise ValueError(f"mode {e.mode} takes no tensor scales (only nvfp4 does)")
    beats = beats_for_rows(e, A, B, SA, SB, lanes=lanes, fp32=(readout == "fp32"), TA=TA, TB=TB)
    R = A.shape[0]
    passes = -(-R // lanes)
    outs, _ = run_beats(beats, sim=sim, lanes=lanes, mask=mask, gaps=gaps, reads=passes,
                        accumulator=accumulator, pipe=pipe)
    if len(outs) != passes:
        raise RuntimeError(f"expected {passes} results from the engine, got {len(outs)}")
    Y = np.zeros(R, dtype=np.uint32)
    obits = e.output_format.bits
    for p, (_, y) in enumerate(outs):
        for l in range(lanes):
            r = p * lanes + l
            if r < R:
                Y[r] = (y >> (32 * l)) & ((1 << obits) - 1)
    cycles = outs[-1][0] if outs else 0
    return Y, cycles


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m rtl.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--mode", required=True, help=f"engine mode: {', '.join(M.names())}")
    p.add_argument("--a", required=True, metavar="A.npy", help="(rows, K) element codes, one row per dot product")
    p.add_argument("--b", required=True, metavar="B.npy", help="(rows, K) element codes, the same shape as A")
    p.add_argument("--scale-a", default=None, metavar="SA.npy",
                   help="(rows, ceil(K/block)) block scale codes of A (MX: E8M0 per 32; nvfp4: UE4M3 per 16)")
    p.add_argument("--scale-b", default=None, metavar="SB.npy",
                   help="(rows, ceil(K/block)) block scale codes of B (MX: E8M0 per 32; nvfp4: UE4M3 per 16)")
    p.add_argument("--tensor-scale-a", type=float, default=None, metavar="S",
                   help="nvfp4: the FP32 per-tensor scale of A (positive; rounded to the nearest float32)")
    p.add_argument("--tensor-scale-b", type=float, default=None, metavar="S",
                   help="nvfp4: the FP32 per-tensor scale of B (positive; rounded to the nearest float32)")
    p.add_argument("--out", required=True, metavar="Y.npy",
                   help="where the output codes go, one per row (uint32; .npy is added if missing)")
    p.add_argument("--sim", default="verilator", choices=("verilator", "icarus"),
                   help="the simulator that runs the Verilog (default verilator: faster; icarus: a second opinion)")
    p.add_argument("--lanes", type=int, default=1, help="lanes of the built engine (default 1)")
    p.add_argument("--readout", default="native", choices=("native", "fp32"),
                   help="output format: native (posit modes give posit codes, integer modes int32, float and "
                        "MX modes FP32) or fp32 (FP32 bits for every mode); default native")
    p.add_argument("--accumulator", default="exact",
                   help="exact (default), fp32 or fixed:INT_BITS:FRAC_BITS, as in sim.mac")
    p.add_argument("--pipe", type=int, default=0, choices=(0, 1),
                   help="the engine's pipeline: 0 (default, READ latency 14) or 1 (the deep pipeline, 16)")
    p.add_argument("--check", action="store_true", help="also compare with sim.mac and report")
    args = p.parse_args(argv)
    try:
        from sim import mac

        M.mode_id(args.mode)
        acc = Accumulator.parse(args.accumulator)
        if args.lanes < 1:
            raise ValueError(f"--lanes must be >= 1, got {args.lanes}")
        e = mac.Engine(args.mode, lanes=args.lanes, readout=args.readout, accumulator=acc, pipe=args.pipe)
        out = output_path(args.out)
        A, B = np.load(args.a), np.load(args.b)
        SA = np.load(args.scale_a) if args.scale_a else None
        SB = np.load(args.scale_b) if args.scale_b else None
        A, B, SA, SB = check_operands(e, A, B, SA, SB)
        TA = TB = None
        if e.tensor_scale:
            from sim.mac import tensor_scale as TS

            if args.tensor_scale_a is None or args.tensor_scale_b is None:
                raise ValueError(f"mode {e.mode} needs --tensor-scale-a and --tensor-scale-b")
            # the command line's decimal value rounds to the nearest float32 (said in --help)
            TA = TS.check(np.float32(args.tensor_scale_a), "--tensor-scale-a")
            TB = TS.check(np.float32(args.tensor_scale_b), "--tensor-scale-b")
        elif args.tensor_scale_a is not None or args.tensor_scale_b is not None:
            raise ValueError(f"mode {e.mode} takes no tensor scales (only nvfp4 does)")
    except (ValueError, TypeError, OSError) as err:
        print(f"rtl.run: error: {err}", file=sys.stderr)
        return 2
    t0 = time.time()
    try:
        Y, cycles = run_rows(args.mode, A, B, SA, SB, sim=args.sim, lanes=args.lanes,
                             readout=args.readout, accumulator=acc, TA=TA, TB=TB,
                             **({"pipe": args.pipe} if args.pipe else {}))
        np.save(out, Y)
    except (ValueError, TypeError, RuntimeError, OSError) as err:
        print(f"rtl.run: error: {err}", file=sys.stderr)
        return 1
    dt = time.time() - t0
    msg = f"{len(Y)} dot products ({A.size} MACs) in {cycles} cycles, {dt:.1f} s; wrote {out}"
    if args.check:
        kw = {"scale_a": SA, "scale_b": SB} if e.block else {}
        if e.tensor_scale:
            kw.update(tensor_scale_a=TA, tensor_scale_b=TB)
        ref = e.dot(A, B, **kw).astype(np.uint32)
        bad = np.nonzero(ref != Y)[0]
        msg += f"; {len(bad)} mismatches against sim.mac"
        if len(bad):
            print(msg)
            return 1
    print(msg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
