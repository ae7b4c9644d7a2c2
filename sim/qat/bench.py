"""Benchmark: time per training step of the quantized model against FP32, and TR bookkeeping.

    python -m sim.qat.bench [--steps 40] [--repeats 3] [--batch-size 256] [--out reports/qat_bench.md]

For each weight/activation format the same MLP (digits, 64-256-256-10) takes
``steps`` SGD steps under ``lr-constant`` and under ``tr-constant``; the time
per step is the median over ``repeats`` timed runs (after a warm-up run, so
table building and compilation are excluded).  "TR overhead" is the TR run's
step time over the LR run's minus one (the LR run already measures TR for its
traces, so a third run without any TR measurement is the reference for that).
"""
from __future__ import annotations

import argparse
import datetime
import platform
import statistics
import sys
import time

import torch
from torch.nn import functional as F

FORMATS = ("int4", "int8", "fp4_e2m1", "fp8_e4m3", "posit4_1", "posit8_0", "mxfp4", "nvfp4")


def _step_time(weights, acts, mode, steps, batch_size, repeats):
    from . import data, models
    from .quant import quantize_model
    from .tr import ConstantTR, SGDT, read_codes, tr_layers, transition_rate

    ds = data.load("digits")
    torch.manual_seed(0)
    net = models.MLP(ds.input_shape, ds.n_classes, hidden=256)
    if weights is not None:
        net = quantize_model(net, weights, acts, weight_scale="fixed" if mode == "tr" else "lsq")
    x, y = ds.x_train[:batch_size], ds.y_train[:batch_size]
    net(x)
    if mode == "tr":
        opt = SGDT(net, lr=0.05, target=0.01, momentum=0.9)
        sched = ConstantTR(opt)
    else:
        opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        sched = None
    layers = tr_layers(net) if mode == "lr-watch" else []
    prev = {n: read_codes(m) for n, m in layers}

    def run():
        t0 = time.perf_counter()
        for _ in range(steps):
            opt.zero_grad()
            F.cross_entropy(net(x), y).backward()
            opt.step()
            if sched is not None:
                sched.step()
            for n, m in layers:
                c = read_codes(m)
                transition_rate(prev[n], c)
                prev[n] = c
        return (time.perf_counter() - t0) / steps

    run()
    return statistics.median(run() for _ in range(repeats))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m sim.qat.bench", description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    p.add_argument("--formats", default=",".join(FORMATS), help="comma-separated format names")
    p.add_argument("--out", default="reports/qat_bench.md")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    fp = _step_time(None, None, "lr", a.steps, a.batch_size, a.repeats)
    rows = []
    for f in a.formats.split(","):
        try:
            lr = _step_time(f, f, "lr", a.steps, a.batch_size, a.repeats)
            watch = _step_time(f, f, "lr-watch", a.steps, a.batch_size, a.repeats)
            tr = _step_time(f, f, "tr", a.steps, a.batch_size, a.repeats)
        except Exception as err:  # noqa: BLE001 - a format not available yet is reported, not fatal
            rows.append(f"| {f} | n/a ({type(err).__name__}: {str(err)[:60]}) | | | | |")
            continue
        rows.append(f"| {f} | {lr * 1e3:.2f} | {lr / fp:.2f}x | {tr * 1e3:.2f} | {(tr / lr - 1) * 100:+.1f}% "
                    f"| {(watch / lr - 1) * 100:+.1f}% |")
        print(rows[-1], file=sys.stderr)
    cmd = "python -m sim.qat.bench " + " ".join(argv if argv is not None else sys.argv[1:])
    text = f"""# QAT step time: quantized vs FP32, and TR bookkeeping

Command: `{cmd.strip()}`  
Machine: {platform.machine()}, {platform.processor() or platform.platform()}, torch {torch.__version__},
{a.threads} torch thread(s), a 2-core machine shared with other jobs (timings are noisy: median of
{a.repeats} runs of {a.steps} steps after a warm-up).  Date: {datetime.date.today()}.

Model: MLP 64-256-256-10 on digits, batch {a.batch_size}, SGD momentum 0.9; weights and activations
in the same format (W=A), per-channel weight scales.  FP32 step: **{fp * 1e3:.2f} ms**.

| format | LR step (ms) | vs FP32 | TR step (ms) | TR vs LR step | TR measurement alone |
|---|---|---|---|---|---|
""" + "\n".join(rows) + """

*LR step*: SGD with learned (LSQ) scales. *TR step*: SGDT (codes read, K/U updated, the base step
at lr = 1 and the rescale) with fixed weight scales. *TR measurement alone*: an LR step plus
reading every layer's codes and counting changes, against the plain LR step. Targets from
issue 6: quantized step <= 2x FP32 for integer, minifloat and posit; TR bookkeeping <= 5%.
"""
    import pathlib

    pathlib.Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(a.out).write_text(text)
    print(f"FP32 step {fp * 1e3:.2f} ms; report written to {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
