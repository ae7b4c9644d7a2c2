"""Throughput of formats.torch against formats' Numba kernels (``python -m formats.torch.bench --help``)."""
from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

import formats
from formats.bench import best_of

from . import quantize

__all__ = ["bench"]


def _best(fn, repeat):
    fn()  # warm up: tables, Numba compilation
    return best_of(fn, repeat)


def bench(names=("fp4_e2m1", "fp8_e4m3", "posit8_0", "int4"), n=1 << 22, modes=("rne", "stochastic"),
          dtype=torch.float32, threads=1, repeat=3, seed=0) -> list[dict]:
    """Million elements per second of ``quantize`` for torch and formats, one row per format and mode."""
    old_torch = torch.get_num_threads()
    torch.set_num_threads(threads)
    old_numba = formats.set_threads(threads)
    try:
        x = torch.randn(n, generator=torch.Generator().manual_seed(seed), dtype=dtype)
        xn = x.numpy()
        rows = []
        for name in names:
            f = formats.get(name)
            for mode in modes:
                tt = _best(lambda: quantize(x, f, rounding=mode, seed=1), repeat)
                tn = _best(lambda: f.quantize(xn, rounding=mode, seed=1), repeat)
                rows.append({"format": name, "rounding": mode, "n": n, "threads": threads,
                             "torch_melem_s": n / tt / 1e6, "numba_melem_s": n / tn / 1e6})
        return rows
    finally:
        torch.set_num_threads(old_torch)
        formats.set_threads(old_numba)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m formats.torch.bench", description=__doc__)
    p.add_argument("--formats", default="fp4_e2m1,fp8_e4m3,posit8_0,int4", help="comma-separated format names")
    p.add_argument("--log2-n", type=int, default=22, help="tensor size as a power of two")
    p.add_argument("--threads", type=int, default=1, help="torch and Numba threads")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32", help="input dtype")
    args = p.parse_args(argv)
    try:
        rows = bench(args.formats.split(","), n=1 << args.log2_n, threads=args.threads,
                     dtype=getattr(torch, args.dtype))
    except (KeyError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{'format':<12}{'rounding':<12}{'torch Melem/s':>15}{'numba Melem/s':>15}")
    for r in rows:
        print(f"{r['format']:<12}{r['rounding']:<12}{r['torch_melem_s']:>15.1f}{r['numba_melem_s']:>15.1f}")
    print(f"{len(rows)} measurements of 2**{args.log2_n} {args.dtype} elements on {args.threads} thread(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
