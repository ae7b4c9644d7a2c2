"""Cross-check formats.takum against libtakum, the takum author's C99 reference library.

libtakum is not on PyPI, so CI cannot build it; this check is run by hand and its result is
recorded in docs/formats.md ("Takum").  Build it from github.com/takum-arithmetic/libtakum
(`make libtakum.so.1.0.1`) and run

    python scripts/crosscheck_libtakum.py /path/to/libtakum.so.1.0.1 [--random 1000000]

It compares, for linear takum8 and takum16, every code's value (libtakum's
takum_linearN_to_float64) and the round trip of every value (takum_linearN_from_float64),
and for takum32 the same on random codes; then encodes with both random float64 inputs
(random signs, exponents over the whole range and beyond it, random mantissas) and, for
takum8 and takum16, the midpoint of every pair of neighbouring values (every tie).
Exit status 1 on any mismatch."""
from __future__ import annotations

import argparse
import ctypes
import sys

import numpy as np

from formats.takum import Takum

_CT = {8: ctypes.c_int8, 16: ctypes.c_int16, 32: ctypes.c_int32}


def load(path: str):
    lib = ctypes.CDLL(path)
    for n, ct in _CT.items():
        dec, enc = getattr(lib, f"takum_linear{n}_to_float64"), getattr(lib, f"takum_linear{n}_from_float64")
        dec.restype, dec.argtypes = ctypes.c_double, [ct]
        enc.restype, enc.argtypes = ct, [ctypes.c_double]
    return lib


def check(lib, n: int, codes: np.ndarray, inputs: np.ndarray) -> dict:
    f = Takum(n)
    dec, enc = getattr(lib, f"takum_linear{n}_to_float64"), getattr(lib, f"takum_linear{n}_from_float64")
    signed = lambda c: int(c) - (1 << n) if c >= 1 << (n - 1) else int(c)  # noqa: E731
    theirs = np.array([dec(signed(c)) for c in codes])
    ours = f.decode(codes)
    bad_dec = int(np.count_nonzero(~((ours == theirs) | (np.isnan(ours) & np.isnan(theirs)))))
    keep = ~np.isnan(ours)
    back = np.array([enc(float(v)) % (1 << n) for v in ours[keep]], dtype=np.uint64)
    bad_round = int(np.count_nonzero(back != codes[keep]))
    theirs_enc = np.array([enc(float(v)) % (1 << n) for v in inputs], dtype=np.uint64)
    bad_enc = int(np.count_nonzero(f.encode(inputs).astype(np.uint64) != theirs_enc))
    return {"n": n, "codes": codes.size, "decode mismatches": bad_dec, "round-trip mismatches": bad_round,
            "inputs": inputs.size, "encode mismatches": bad_enc}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("lib", help="path to a built libtakum shared library")
    ap.add_argument("--random", type=int, default=200_000, help="random codes (takum32) and random inputs per n")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    lib, rng = load(a.lib), np.random.default_rng(a.seed)
    k = a.random
    inputs = rng.choice([-1.0, 1.0], k) * rng.uniform(1, 2, k) * np.exp2(rng.integers(-300, 300, k).astype(float))
    inputs = np.concatenate([inputs, [0.0, -0.0, 5e-324, -5e-324, 1.7e308, -1.7e308]])
    bad = 0
    for n in (8, 16, 32):
        codes = np.arange(1 << n, dtype=np.uint64) if n <= 16 else rng.integers(0, 1 << 32, k, dtype=np.uint64)
        x = inputs
        if n <= 16:  # every tie: the midpoint of each pair of neighbouring values (exact in float64)
            v = np.unique(Takum(n).decode(codes))
            v = v[np.isfinite(v)]
            x = np.concatenate([inputs, (v[:-1] + v[1:]) / 2])
        r = check(lib, n, codes, x)
        print(" ".join(f"{key}={val}" for key, val in r.items()))
        bad += r["decode mismatches"] + r["round-trip mismatches"] + r["encode mismatches"]
    print("libtakum cross-check:", "PASS" if bad == 0 else f"FAIL ({bad} mismatches)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
