"""Test-vector exporter of the MAC engine: operand words, scales and expected outputs.

``python -m sim.vectors --mode MODE (--exhaustive | --random N --seed S) --out DIR``

Writes into DIR, for N dot products of K elements (C = ceil(K/k) words each):

=================== ==================================================================
a_words.hex/.npy    operand A words, uint16, shape (N, C); hex: one 4-digit word a line,
                    row-major (row 0 cycle 0, row 0 cycle 1, ...)
b_words.hex/.npy    operand B words, same layout
scale_a.hex/.npy    MX modes only: E8M0 codes, uint8, (N, ceil(K/32)); 2 digits a line
scale_b.hex/.npy    MX modes only
expected.hex/.npy   output codes, (N,), as many hex digits as the output format needs
meta.json           mode, accumulator, readout, N, K, k, words per row, output format,
                    latency, cycles per row, and the command that made the files
=================== ==================================================================

``--exhaustive``: every operand pair as a single product (K = 1; modes of <= 8-bit
elements; MX modes use scales 127/127 = 1.0).  ``--random N``: N dot products of
``--length`` elements with uniformly random codes (specials included) and random
scales in 117..137.  The .hex files load with Verilog ``$readmemh``.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys

import numpy as np

from sim import mac


#: 'exact', 'fp32' or 'fixed:INT_BITS:FRAC_BITS' (the command-line spelling) -> Engine's form
parse_accumulator = mac.parse_accumulator


def make_vectors(engine, exhaustive=False, n=0, seed=0, length=64):
    """(a_codes, b_codes, scale_a, scale_b) for the engine; scales are None for non-MX modes."""
    fmt = engine.element_format
    ncodes = 1 << engine.element_bits
    if exhaustive:
        if engine.element_bits > 8:
            raise ValueError(f"--exhaustive covers modes of <= 8-bit elements; {engine.mode} has "
                             f"{engine.element_bits}-bit elements (use --random)")
        c = np.arange(ncodes, dtype=fmt.code_dtype)
        A, B = (x.reshape(-1, 1) for x in np.meshgrid(c, c, indexing="ij"))
        sa = sb = None
        if engine.block:
            sa = np.full((A.shape[0], 1), int(engine.scale_format.encode(1.0)), dtype=np.uint8)
            sb = sa.copy()
        return A, B, sa, sb
    rng = np.random.default_rng(seed)
    A = rng.integers(0, ncodes, (n, length)).astype(fmt.code_dtype)
    B = rng.integers(0, ncodes, (n, length)).astype(fmt.code_dtype)
    sa = sb = None
    if engine.block:
        nb = -(-length // engine.block)
        one = int(engine.scale_format.encode(1.0))  # E8M0: 127; UE4M3: 0x38
        sa = rng.integers(one - 10, one + 11, (n, nb)).astype(np.uint8)
        sb = rng.integers(one - 10, one + 11, (n, nb)).astype(np.uint8)
    return A, B, sa, sb


def tensor_scales(engine, seed=0):
    """nvfp4's per-tensor scales of the exported vectors: 1.0 and a seeded float32 in
    [2**-10, 2**-2) for B (one tensor each); (None, None) for other modes."""
    if not engine.tensor_scale:
        return None, None
    rng = np.random.default_rng(seed + 1)
    return np.float32(1.0), np.float32(np.ldexp(1.0 + rng.random(), int(rng.integers(-10, -2))))


def write_hex(path: pathlib.Path, arr: np.ndarray, digits: int) -> None:
    flat = np.asarray(arr).reshape(-1)
    path.write_text("".join(f"{int(v):0{digits}x}\n" for v in flat))


def read_hex(path: pathlib.Path) -> np.ndarray:
    """Values of a $readmemh file written by :func:`write_hex` (flat, int64)."""
    return np.array([int(x, 16) for x in path.read_text().split()], dtype=np.int64)


def export(engine, out: pathlib.Path, A, B, sa=None, sb=None, command="") -> dict:
    out.mkdir(parents=True, exist_ok=True)
    N, K = A.shape
    wa, wb = engine.pack(A), engine.pack(B)
    ta, tb = tensor_scales(engine)
    kw = {"tensor_scale_a": ta, "tensor_scale_b": tb} if engine.tensor_scale else {}
    expected = engine.dot(A, B, sa, sb, **kw) if engine.block else engine.dot(A, B)
    out_digits = -(-engine.output_format.bits // 4)
    files = {"a_words": (wa, 4), "b_words": (wb, 4), "expected": (expected, out_digits)}
    if engine.block:
        files["scale_a"] = (sa, 2)
        files["scale_b"] = (sb, 2)
    for name, (arr, digits) in files.items():
        np.save(out / f"{name}.npy", arr)
        write_hex(out / f"{name}.hex", arr, digits)
    meta = {
        "mode": engine.mode, "accumulator": engine.accumulator, "readout": engine.readout,
        "rows": int(N), "K": int(K), "k": engine.k, "words_per_row": int(wa.shape[1]),
        "element_bits": engine.element_bits, "block": engine.block,
        "output_format": engine.output_format.name, "output_hex_digits": out_digits,
        "latency": engine.latency, "cycles_per_row": engine.cycles(int(K)),
        "command": command,
    }
    if engine.tensor_scale:  # FP32 bits; CLEAR carries the low halves, READ the high halves
        meta["tensor_scale_a"] = f"{int(np.float32(ta).view(np.uint32)):08x}"
        meta["tensor_scale_b"] = f"{int(np.float32(tb).view(np.uint32)):08x}"
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m sim.vectors", description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", required=True, help=f"engine mode: {', '.join(mac.MODES)}")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--exhaustive", action="store_true", help="every operand pair, K = 1")
    g.add_argument("--random", type=int, metavar="N", help="N random dot products")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--length", type=int, default=64, help="K of the random dot products (default 64)")
    p.add_argument("--accumulator", default="exact", help="exact, fp32 or fixed:INT_BITS:FRAC_BITS")
    p.add_argument("--readout", default="native", choices=mac.READOUTS)
    p.add_argument("--out", required=True, type=pathlib.Path, help="output directory")
    args = p.parse_args(argv)
    try:
        if args.random is not None and args.random < 1:
            raise ValueError(f"--random needs N >= 1, got {args.random}")
        if args.length < 1:
            raise ValueError(f"--length needs K >= 1, got {args.length}")
        engine = mac.Engine(args.mode, accumulator=parse_accumulator(args.accumulator),
                            readout=args.readout)
        vecs = make_vectors(engine, args.exhaustive, args.random or 0, args.seed, args.length)
    except (ValueError, TypeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    cmd = "python -m sim.vectors " + " ".join(argv if argv is not None else sys.argv[1:])
    try:
        meta = export(engine, args.out, *vecs, command=cmd)
    except OSError as err:
        print(f"error: cannot write vectors to {args.out}: {err}", file=sys.stderr)
        return 1
    print(f"wrote {meta['rows']} dot products (K={meta['K']}, {engine.mode}, "
          f"{engine.accumulator}) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
