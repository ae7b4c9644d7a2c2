"""``python -m formats.conformance``: every format against every installed outside implementation.

Writes ``reports/conformance.md`` (``--out``) and prints the table; exit 0 when no difference is
UNEXPLAINED, 1 otherwise, 2 for bad arguments.
"""
from __future__ import annotations

import argparse
import datetime
import importlib
import importlib.metadata
import os
import platform
import sys
import time
import warnings
from pathlib import Path

from . import blocks, scalar
from .core import UNEXPLAINED, Row

TOOLS = {"ml_dtypes": "ml_dtypes", "torch": "torch", "softposit": "softposit", "gfloat": "gfloat",
         "torchao": "torchao", "bitsandbytes": "bitsandbytes"}
DIST = {"softposit": "softposit", "bitsandbytes": "bitsandbytes"}


def all_pairs():
    """(format label, tool, check) for every pair, scalar first."""
    return scalar.pairs() + blocks.pairs()


def _installed(tool: str) -> bool:
    try:
        importlib.import_module(TOOLS[tool])
    except Exception:  # noqa: BLE001 - any import failure means the tool is unusable here
        return False
    return True


def version(tool: str) -> str:
    try:
        return importlib.metadata.version(DIST.get(tool, tool))
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def select(formats_arg, tools_arg):
    """The pairs the filters keep; ValueError naming what is allowed for an unknown name."""
    pairs = all_pairs()
    fmts = sorted({p[0] for p in pairs})
    fmt_keys = sorted({p[0].split(" ")[0] for p in pairs})
    if tools_arg:
        bad = [t for t in tools_arg if t not in TOOLS]
        if bad:
            raise ValueError(f"unknown tool(s) {', '.join(bad)}; allowed: {', '.join(TOOLS)}")
        pairs = [p for p in pairs if p[1] in tools_arg]
    if formats_arg:
        bad = [f for f in formats_arg if f not in fmt_keys and f not in fmts]
        if bad:
            raise ValueError(f"unknown format(s) {', '.join(bad)}; allowed: {', '.join(fmt_keys)}")
        pairs = [p for p in pairs if p[0] in formats_arg or p[0].split(" ")[0] in formats_arg]
    return pairs


def run(pairs, n_random: int, n_blocks: int, seed: int = 0, log=None) -> list[Row]:
    rows = []
    for fmt, tool, check in pairs:
        if not _installed(tool):
            rows.append(Row(fmt, tool, note="not installed"))
            continue
        t0 = time.perf_counter()
        n = n_blocks if check in (blocks.check_torchao_nvfp4, blocks.check_bnb) or fmt.startswith("mx") else n_random
        row = check(fmt, n, seed)
        rows.append(row)
        if log:
            print(f"{fmt:32s} {tool:13s} {row.mismatches:8d} mismatches, {row.unexplained} unexplained "
                  f"({time.perf_counter() - t0:.1f} s)", file=log)
    return rows


def table(rows) -> str:
    out = ["| format | tool | codes checked | inputs checked | mismatches | classification |",
           "|---|---|---:|---:|---:|---|"]
    for r in rows:
        cls = r.classification().replace("|", "\\|")  # a pipe would split the Markdown cell
        out.append(f"| {r.fmt} | {r.tool} | {r.codes:,} | {r.inputs:,} | {r.mismatches:,} | {cls} |")
    return "\n".join(out)


def report(rows, argv, seconds: float) -> str:
    from formats.provenance import stamp

    tot = [sum(getattr(r, a) for r in rows) for a in ("codes", "inputs", "mismatches", "unexplained")]
    versions = ", ".join(f"{t} {version(t)}" for t in TOOLS)
    return f"""# Conformance: formats against outside implementations

{stamp("conformance")}

Made by `python -m formats.conformance{(' ' + ' '.join(argv)) if argv else ''}` on
{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.platform()} ({platform.machine()},
{os.cpu_count()} CPUs, Python {platform.python_version()}), in {seconds:.0f} s.  Tools: {versions}.

Each row compares one of our formats with one outside tool implementing the same format.
*Codes checked*: codes decoded by both sides and compared bit for bit (NaN equals NaN,
-0 differs from +0): every code of formats up to 16 bits (a random 100,000 for 32 bits);
for block formats every scale code with every element code (MX) and the tool's own
encoded blocks decoded by us against its dequantization.  *Inputs checked*: inputs
encoded by both sides (round to nearest even, each side's default overflow), compared
code for code: every value, every midpoint of neighbouring values (ties) and its float32
and float64 neighbours, subnormal edges, values beyond max, ±0, ±Inf, NaN, and random
float32 bit patterns and float64 values; for block formats (unit: elements, compared as
(scale code, element code)) random blocks over 2^±30, blocks whose max lies on a power
of two, on the element max times a power of two, on a tie between the two largest
element values and one float32 ulp either side of each, blocks of element midpoints
(every element a tie), all-zero, subnormal, NaN and Inf blocks.  NaN inputs to formats
without a NaN code are left out (ours raises by rule).

*Classification*: every differing code or input is counted under the first named rule
whose predicate holds for it (each predicate is evaluated on every differing input, see
`formats/conformance/`), or as **{UNEXPLAINED}**.  Rules: design choices of ours written in
docs/formats.md (overflow policies, unsigned negatives, E8M0 has no zero, MX NaN/Inf
blocks, codebook ties) or the outside tool's own arithmetic (float32 rounding of
quotients and logarithms, double rounding through float32, scale clamps, flushes).

Totals: {tot[0]:,} codes, {tot[1]:,} inputs, {tot[2]:,} mismatches, **{tot[3]:,} {UNEXPLAINED}**.

{table(rows)}
"""


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    p = argparse.ArgumentParser(prog="python -m formats.conformance",
                                description="Compare every format with every installed outside implementation.")
    p.add_argument("--formats", type=lambda s: [x for x in s.split(",") if x],
                   help="comma-separated formats to keep (default: all)")
    p.add_argument("--tools", type=lambda s: [x for x in s.split(",") if x],
                   help=f"comma-separated tools to keep, of: {', '.join(TOOLS)} (default: all)")
    p.add_argument("--random", type=int, default=100_000, help="random scalar inputs per dtype (default 100000)")
    p.add_argument("--blocks", type=int, default=20_000, help="random blocks per block format (default 20000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="report file (default reports/conformance.md; '-' for none)")
    args = p.parse_args(argv)
    try:
        pairs = select(args.formats, args.tools)
    except ValueError as err:
        p.error(str(err))
    if args.random < 1 or args.blocks < 1:
        p.error("--random and --blocks must be at least 1")
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rows = run(pairs, args.random, args.blocks, args.seed, log=sys.stderr)
    seconds = time.perf_counter() - t0
    print(table(rows))
    out = args.out if args.out is not None else str(Path(__file__).resolve().parents[2] / "reports" / "conformance.md")
    if out != "-":
        Path(out).write_text(report(rows, argv, seconds))
        print(f"wrote {out} ({seconds:.0f} s)", file=sys.stderr)
    bad = sum(r.unexplained for r in rows)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
