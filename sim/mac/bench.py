"""Benchmark of ``Engine.dot``: MAC/s per mode, single-threaded by default.

``python -m sim.mac.bench [--elements 1000000] [--length 1000] [--threads 1] [--out reports/mac_bench.md]``

Each mode's dot runs over operands of ``--elements`` codes each, shaped
(elements / length, length), i.e. that many MACs per call; finite codes only
(MX: scales 120..134).  The best of ``--repeat`` timed calls is reported after
one warm-up call (which compiles the kernels).
"""
from __future__ import annotations

import argparse
import datetime
import pathlib
import platform
import sys
import time

import numpy as np

from formats import provenance
from sim import mac


def _cpu() -> str:
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def bench_one(engine, elements, length, repeat, rng):
    fmt = engine.element_format
    fin = np.flatnonzero(np.isfinite(fmt.values())).astype(fmt.code_dtype)
    rows = max(1, elements // length)
    a = rng.choice(fin, (rows, length))
    b = rng.choice(fin, (rows, length))
    args = ()
    kw = {"tensor_scale_a": 1.0, "tensor_scale_b": 1.0} if engine.tensor_scale else {}
    if engine.block:
        nb = -(-length // engine.block)
        one = int(engine.scale_format.encode(1.0))
        args = (rng.integers(one - 7, one + 8, (rows, nb)).astype(np.uint8),
                rng.integers(one - 7, one + 8, (rows, nb)).astype(np.uint8))
    engine.dot(a, b, *args, **kw)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        engine.dot(a, b, *args, **kw)
        best = min(best, time.perf_counter() - t0)
    return rows * length / best, best


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m sim.mac.bench", description=__doc__.split("\n")[0])
    p.add_argument("--elements", type=int, default=1_000_000, help="MACs per dot call (default 10**6)")
    p.add_argument("--length", type=int, default=1000, help="K of each dot product (default 1000)")
    p.add_argument("--threads", type=int, default=1, help="Numba threads (default 1)")
    p.add_argument("--repeat", type=int, default=3, help="timed calls per case (default 3)")
    p.add_argument("--modes", nargs="*", default=list(mac.MODES), help="modes (default: all)")
    p.add_argument("--accumulators", nargs="*", default=["exact", "fp32", "fixed:24:24"],
                   help="accumulators (exact, fp32, fixed:I:F); MX modes run exact only")
    p.add_argument("--out", type=pathlib.Path, default=pathlib.Path("reports/mac_bench.md"))
    args = p.parse_args(argv)
    import numba

    from sim.vectors import parse_accumulator

    try:
        if args.elements < 1 or args.length < 1 or args.repeat < 1 or args.threads < 1:
            raise ValueError("--elements, --length, --repeat and --threads must be positive")
        numba.set_num_threads(args.threads)
        cases = []
        for m in args.modes:
            for acc in args.accumulators:
                if mac.Engine(m).block and acc != "exact":
                    continue
                cases.append(mac.Engine(m, accumulator=parse_accumulator(acc)))
    except (ValueError, TypeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    rng = np.random.default_rng(0)
    results = []
    for i, e in enumerate(cases):
        rate, t = bench_one(e, args.elements, args.length, args.repeat, rng)
        results.append((e, rate, t))
        print(f"[{i + 1}/{len(cases)}] {e.mode:10s} {str(e.accumulator):18s} {rate / 1e6:8.1f} M MAC/s",
              file=sys.stderr)
    cmd = "python -m sim.mac.bench " + " ".join(argv if argv is not None else sys.argv[1:])
    u = platform.uname()
    lines = [
        "# MAC engine model: dot throughput",
        "",
        f"Made by `{cmd.strip()}` on {datetime.date.today().isoformat()}.",
        provenance.stamp("mac_bench"),
        "",
        f"- machine: `{u.system} {u.release} {u.machine}`, CPU: {_cpu()}",
        f"- numba {numba.__version__}, numpy {np.__version__}, Python {platform.python_version()}, "
        f"threads: {args.threads}",
        f"- each call: {args.elements // args.length} dot products of K = {args.length} "
        f"({args.elements // args.length * args.length} MACs), finite random codes; best of {args.repeat}",
        "",
        "| mode | accumulator | M MAC/s | ms per call |",
        "|---|---|---:|---:|",
    ]
    for e, rate, t in results:
        acc = e.accumulator if isinstance(e.accumulator, str) else "fixed({}, {})".format(*e.accumulator[1:])
        lines.append(f"| {e.mode} | {acc} | {rate / 1e6:.1f} | {t * 1e3:.2f} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"benchmarked {len(results)} cases; report in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
