"""Throughput of encode/decode against ml_dtypes, softposit and torchao, written to reports/.

``python -m formats.bench [--n 16777216] [--out reports/formats_bench.md]``

Encodes and decodes ``n`` float32 values (normal, spread over the format's
range) for fp4_e2m1, fp8_e4m3, posit8_0, takum8, posit16_1 and takum16, single-threaded and with
every core, next to ml_dtypes' ``astype`` and SoftPosit's Python conversions; then
every MX preset, NVFP4 and some generic block formats on a 4096 x (n/4096) float32
matrix next to torchao's ``to_mx``/``to_dtype`` and ``nvfp4_quantize`` (one torch
thread), all in the same run.  Single-thread rates divide by the process CPU time
(``time.process_time``), so other jobs on a shared machine do not lower them;
multi-thread rates use wall time.  Before timing, it checks that every code of each
format survives encode(decode(code)) (the self-check).
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time

import numba
import numpy as np

import formats
from formats import provenance

FORMATS = ["fp4_e2m1", "fp8_e4m3", "posit8_0", "takum8", "posit16_1", "takum16"]
#: block formats, each with torchao's element dtype name (None: no torchao counterpart)
BLOCK_FORMATS = [("mxfp4", "float4_e2m1fn_x2"), ("mxfp4_rceil", "float4_e2m1fn_x2"),
                 ("mxfp6_e2m3", "fp6_e2m3"), ("mxfp6_e3m2", "fp6_e3m2"), ("mxfp8_e4m3", "float8_e4m3fn"),
                 ("mxfp8_e5m2", "float8_e5m2"), ("mxint8", None), ("nvfp4", "nvfp4"), ("nvfp4_recip", "nvfp4"),
                 ("nvfp4_four_over_six", None), ("block_fp4_e2m1_ue5m3_g16_t", None),
                 ("block_int4_bf16_g128", None), ("block_nf4_fp32_g64", None), ("nf4_dq", None)]


def best_of(fn, repeat=3, clock=time.perf_counter):
    """Shortest time of ``repeat`` calls of ``fn`` (seconds) on ``clock``."""
    best = float("inf")
    for _ in range(repeat):
        t = clock()
        fn()
        best = min(best, clock() - t)
    return best


def self_check() -> list[str]:
    """encode(decode(c)) == c for every non-NaN code of every <= 16-bit scalar preset."""
    lines = []
    for name in formats.names():
        f = formats.get(name)
        if getattr(f, "family", "") == "block" or f.bits > 16:
            continue
        codes = np.arange(1 << f.bits, dtype=np.uint64)
        v = f.decode(codes)
        keep = ~np.isnan(v)
        back = f.encode(v[keep])
        bad = int(np.count_nonzero(back != codes[keep]))
        if bad:
            lines.append(f"{name}: {bad} codes do not round-trip")
    return lines


def _inputs(n, scale, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(n) * scale).astype(np.float32)


def _ml_dtype(name):
    import ml_dtypes

    return {"fp4_e2m1": ml_dtypes.float4_e2m1fn, "fp8_e4m3": ml_dtypes.float8_e4m3fn}.get(name)


def _softposit_rate(name, x):
    try:
        import softposit as sp
    except ImportError:
        return None
    ctor = {"posit8_0": sp.posit8, "posit16_1": sp.posit16}.get(name)
    if ctor is None:
        return None
    xs = [float(v) for v in x[: 1 << 16]]
    t = time.process_time()
    bits = [ctor(v).v.v for v in xs]
    dt = time.process_time() - t
    assert len(bits) == len(xs)
    return len(xs) / dt


def run(n: int, only=None) -> list[dict]:
    rows = []
    threads = numba.config.NUMBA_NUM_THREADS
    for name in FORMATS:
        if only is not None and name not in only:
            continue
        f = formats.get(name)
        scale = 1.0 if name != "posit16_1" else 100.0
        x = _inputs(n, scale)
        if getattr(f, "family", "") == "block":
            enc = f.encode(x)  # warm-up / compile
            f.decode(enc)
        else:
            enc = f.encode(x)
            f.decode(enc)
        row = {"format": name, "n": n}
        for label, nthreads in (("1 thread", 1), (f"{threads} threads, wall", threads)):
            formats.set_threads(nthreads)
            clock = time.process_time if nthreads == 1 else time.perf_counter
            te = best_of(lambda: f.encode(x), clock=clock)
            td = best_of(lambda: f.decode(enc), clock=clock)
            row[f"encode M/s ({label})"] = n / te / 1e6
            row[f"decode M/s ({label})"] = n / td / 1e6
        formats.set_threads(None)
        dt = _ml_dtype(name)
        if dt is not None:
            te = best_of(lambda: x.astype(dt), clock=time.process_time)
            y = x.astype(dt)
            td = best_of(lambda: y.astype(np.float32), clock=time.process_time)
            row["ml_dtypes astype encode M/s"] = n / te / 1e6
            row["ml_dtypes astype decode M/s"] = n / td / 1e6
            row["encode speed-up vs ml_dtypes (1 thread)"] = row["encode M/s (1 thread)"] / row["ml_dtypes astype encode M/s"]
            row["decode speed-up vs ml_dtypes (1 thread)"] = row["decode M/s (1 thread)"] / row["ml_dtypes astype decode M/s"]
        sp = _softposit_rate(name, x)
        if sp is not None:
            row["softposit encode M/s"] = sp / 1e6
        rows.append(row)
    return rows


def _torchao_rates(elem, xt, n, rule="floor"):
    """torchao's encode and decode rates (M/s, one torch thread, CPU time) or None if absent."""
    try:
        import torch
        from torchao.prototype.mx_formats.config import ScaleCalculationMode
        from torchao.prototype.mx_formats.mx_tensor import to_dtype, to_mx
        from torchao.prototype.mx_formats.nvfp4_tensor import nvfp4_quantize, per_tensor_amax_to_scale
    except Exception:  # torchao absent or unusable
        return None
    torch.set_num_threads(1)
    if elem == "nvfp4":
        enc = lambda: nvfp4_quantize(xt, 16, per_tensor_amax_to_scale(xt.abs().max()))  # noqa: E731
        enc()
        return {"torchao encode M/s (1 thread)": n / best_of(enc, clock=time.process_time) / 1e6}
    dt = getattr(torch, elem) if hasattr(torch, elem) else elem
    mode = ScaleCalculationMode(rule)
    enc = lambda: to_mx(xt, dt, 32, mode)  # noqa: E731
    scale, data = enc()
    dec = lambda: to_dtype(data, scale, dt, 32, torch.float32)  # noqa: E731
    dec()
    return {"torchao encode M/s (1 thread)": n / best_of(enc, clock=time.process_time) / 1e6,
            "torchao decode to float32 M/s (1 thread)": n / best_of(dec, clock=time.process_time) / 1e6}


def run_blocks(n: int, only=None) -> list[dict]:
    rows = []
    threads = numba.config.NUMBA_NUM_THREADS
    x = _inputs(n, 1.0).reshape(4096, -1)
    try:
        import torch

        xt = torch.from_numpy(x)
    except ImportError:
        xt = None
    for name, elem in BLOCK_FORMATS:
        if only is not None and name not in only:
            continue
        f = formats.get(name)
        enc = f.encode(x)
        f.decode(enc)
        row = {"format": name, "n": n}
        formats.set_threads(1)
        row["encode M/s (1 thread)"] = n / best_of(lambda: f.encode(x), clock=time.process_time) / 1e6
        row["decode M/s (1 thread)"] = n / best_of(lambda: f.decode(enc), clock=time.process_time) / 1e6
        formats.set_threads(threads)
        row[f"encode M/s ({threads} threads, wall)"] = n / best_of(lambda: f.encode(x)) / 1e6
        row[f"decode M/s ({threads} threads, wall)"] = n / best_of(lambda: f.decode(enc)) / 1e6
        formats.set_threads(None)
        if elem is not None and xt is not None:
            tao = _torchao_rates(elem, xt, n, "rceil" if name.endswith("rceil") else "floor")
            if tao:
                row.update(tao)
                row["encode speed-up vs torchao (1 thread)"] = (row["encode M/s (1 thread)"]
                                                               / tao["torchao encode M/s (1 thread)"])
        rows.append(row)
    return rows


def to_markdown(rows, n, problems, argv) -> str:
    cols = []
    for r in rows:
        for k in r:
            if k not in cols and k not in ("format", "n"):
                cols.append(k)
    lines = [
        "# formats/ throughput",
        "",
        f"Command: `{' '.join(['python -m formats.bench', *argv])}`",
        provenance.stamp("formats_bench"),
        f"Machine: {platform.node()} — {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, numba {numba.__version__}, numpy {np.__version__}",
        f"Date: {datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}; "
        f"load average at the end: {os.getloadavg()[0]:.1f} (other jobs share these cores: "
        "compare rows of the same run, not runs)",
        "",
        f"{n} float32 inputs, normal(0, 1) (×100 for posit16_1); best of 3 runs; M/s = millions of elements per second.",
        "ml_dtypes, SoftPosit and torchao are timed in the same process; SoftPosit converts from Python floats one at a time (2^16 of them).",
        "Block formats: a 4096 x (n/4096) float32 matrix; torchao's `to_mx` (FLOOR; RCEIL on the rceil row) "
        "and `to_dtype` (to float32), and `nvfp4_quantize` with a per-tensor scale, one torch thread. "
        "Our decode returns float64.",
        "Single-thread rates (ours marked (1 thread), ml_dtypes, torchao) are elements per second of process CPU time "
        "(robust to other jobs on the machine); the multi-thread rates are wall time, so on a loaded machine they "
        "understate.",
        "",
        f"Self-check (encode(decode(c)) == c for every code of every <= 16-bit preset): "
        f"{'passed' if not problems else 'FAILED: ' + '; '.join(problems)}",
        "",
    ]
    for r in rows:
        lines.append(f"## {r['format']}")
        lines.append("")
        lines.append("| measure | value |")
        lines.append("|---|---|")
        for k in cols:
            if k in r:
                lines.append(f"| {k} | {r[k]:.1f} |" if "speed-up" not in k else f"| {k} | {r[k]:.2f}× |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(prog="python -m formats.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=1 << 24, help="number of float32 values (default 2**24)")
    p.add_argument("--out", default="reports/formats_bench.md", help="where to write the Markdown table")
    p.add_argument("--formats", default=None,
                   help="comma-separated subset of the rows to time (default: every row), e.g. posit16_1,takum16")
    args = p.parse_args(argv)
    if args.n <= 0:
        p.error("--n must be positive")
    only = None
    if args.formats:
        only = {s.strip().lower() for s in args.formats.split(",") if s.strip()}
        known = set(FORMATS) | {b for b, _ in BLOCK_FORMATS}
        if not only <= known:
            p.error(f"--formats: unknown rows {', '.join(sorted(only - known))}; rows: {', '.join(sorted(known))}")
    problems = self_check()
    print("self-check:", "passed" if not problems else "; ".join(problems))
    rows = run(args.n, only) + run_blocks(args.n, only)
    text = to_markdown(rows, args.n, problems, argv)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as fh:
        fh.write(text + "\n")
    print(text)
    print(f"wrote {args.out}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
