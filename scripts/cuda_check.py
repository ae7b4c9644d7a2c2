"""Check the CUDA path of formats.torch and sim.qat on a machine with a GPU (CI has none).

    python scripts/cuda_check.py [--out DIR]

1. formats.torch.quantize of every preset (rne and stochastic rounding; block formats through
   quantize_blocks) on CUDA against the same call on the CPU, bit for bit (NaN where NaN), on
   float32 inputs spanning every binade a format can hold plus ties, subnormals and zeros.
2. A short QAT run (digits, MLP, int4 weights and activations) on CUDA and on the CPU from the same
   seed: accuracies side by side (not expected bit-equal: cuBLAS sums in another order).
Writes DIR/cuda_check.json and prints a table; exits 1 on any mismatch of part 1.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np


def inputs(n: int = 1 << 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mag = np.exp2(rng.uniform(-30, 30, n)) * rng.choice([-1, 1], n)
    ties = (np.arange(-512, 512) / 8.0).astype(np.float64)          # halfway points of small grids
    special = np.array([0.0, -0.0, 1e-45, -1e-45, 1.1754942e-38, 3e38, -3e38, 1.0, -1.0, 0.5, 6.0, 448.0])
    x = np.concatenate([mag, rng.standard_normal(n), ties, special]).astype(np.float32)
    return x[: len(x) - len(x) % 512]                                 # whole blocks for every block size


def same(a, b) -> int:
    """Elements that differ (NaN equals NaN, +0 differs from -0)."""
    a, b = a.double().cpu().numpy(), b.double().cpu().numpy()
    eq = (a == b) & (np.signbit(a) == np.signbit(b)) | (np.isnan(a) & np.isnan(b))
    return int((~eq).sum())


def check_formats(dev: str) -> list[dict]:
    import torch

    import formats
    from formats import torch as ft

    x = torch.from_numpy(inputs())
    rows = []
    for name in formats.names():
        f = formats.get(name)
        block = bool(getattr(f, "block", None))
        for rounding in ("rne", "stochastic"):
            row = {"format": name, "rounding": rounding}
            def run(t):
                if block:
                    return ft.quantize_blocks(t.reshape(-1, 512), name, rounding=rounding, overflow="saturate",
                                              seed=7)[0]
                return ft.quantize(t, name, rounding=rounding, overflow="saturate", seed=7)
            try:
                cpu = run(x)
            except (ValueError, KeyError, TypeError) as err:   # a rule of the format: not a CUDA question
                row["not_applicable"] = f"{type(err).__name__}: {err}"[:160]
                rows.append(row)
                continue
            t0 = time.time()
            gpu = run(x.to(dev))                              # any error here is a CUDA-path failure
            torch.cuda.synchronize()
            row.update(n=int(x.numel()), mismatches=same(cpu, gpu), gpu_s=round(time.time() - t0, 3),
                       gpu_device=str(gpu.device))
            rows.append(row)
    return rows


def check_qat(dev: str) -> list[dict]:
    from sim.qat.train import TrainConfig, train

    out = []
    for d in ("cpu", dev):
        t0 = time.time()
        res = train(TrainConfig(dataset="digits", model="mlp", weights="int4", acts="int4", epochs=5, seed=0, device=d))
        out.append({"device": d, "test_accuracy": float(res.test_accuracy), "final_loss": float(res.loss[-1]),
                    "seconds": round(time.time() - t0, 1)})
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--out", default="out/cuda_check")
    args = p.parse_args(argv)
    import torch

    env = {"python": sys.version.split()[0], "torch": torch.__version__, "cuda": torch.version.cuda,
           "available": torch.cuda.is_available(), "machine": platform.node()}
    if env["available"]:
        env["gpu"] = torch.cuda.get_device_name(0)
    print(env, flush=True)
    if not env["available"]:
        print("no CUDA device: nothing to check", file=sys.stderr)
        return 2
    fm = check_formats("cuda")
    bad = [r for r in fm if r.get("mismatches")]
    checked = [r for r in fm if "mismatches" in r]
    print(f"formats.torch: {len(checked)} format x rounding pairs on CUDA, {len(bad)} with mismatches", flush=True)
    for r in bad:
        print("  MISMATCH", r)
    for r in fm:
        if "not_applicable" in r:
            print("  n/a", r["format"], r["rounding"], r["not_applicable"])
    qat = check_qat("cuda")
    for r in qat:
        print("  qat", r)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "cuda_check.json").write_text(json.dumps({"env": env, "formats": fm, "qat": qat}, indent=1))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
