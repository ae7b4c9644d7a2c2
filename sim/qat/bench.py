"""Benchmark: time per training step of the quantized model against FP32, and TR bookkeeping.

    python -m sim.qat.bench [--steps 20] [--repeats 10] [--batch-size 256] [--out reports/qat_bench.md]

For each weight/activation format the same MLP (digits, 64-256-256-10) takes
``steps`` SGD steps in five set-ups: FP32; ``lr`` (LSQ-learned scales);
``lr-watch`` (``lr`` plus reading every layer's codes and counting changes
at each step, before the update, as training's TR traces do); ``lr-fixed`` (fixed weight
scales, as under TR); ``tr`` (SGDT with fixed weight scales).  Each set-up is
built and warmed up once (table building excluded); then ``repeats`` rounds
each time every set-up once, interleaved, so that FP32 and the quantized runs
of one format share the same stretch of machine time.  A step time is the
best round's (timeit's convention: on a machine shared with other jobs the
fastest round is the one least disturbed; a median is reported too in the
console output).  "TR overhead" is the TR step over the ``lr-fixed`` step
minus one: the same model and scales, plus TR's bookkeeping; it is the median
over rounds of that ratio within a round (the two runs are back to back, so a
slow stretch of the machine slows both), and the ratio of the best rounds is
reported beside it.  The time spent inside TR's ``measure()`` is also timed
within each TR step.
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

from formats import provenance

FORMATS = ("int4", "int8", "fp4_e2m1", "fp8_e4m3", "posit4_1", "posit8_0", "mxfp4", "nvfp4")
SETUPS = ("fp32", "lr", "lr-watch", "lr-fixed", "tr")


def _runner(fmt, setup, steps, batch_size):
    """A function that runs ``steps`` steps of ``setup`` and returns the time per step (warmed up)."""
    from . import data, models
    from .quant import quantize_model
    from .tr import ConstantTR, SGDT, TransitionCounter, tr_layers

    ds = data.load("digits")
    torch.manual_seed(0)
    net = models.MLP(ds.input_shape, ds.n_classes, hidden=256)
    if setup != "fp32":
        fixed = setup in ("tr", "lr-fixed")
        net = quantize_model(net, fmt, fmt, weight_scale="fixed" if fixed else "lsq")
    x, y = ds.x_train[:batch_size], ds.y_train[:batch_size]
    net(x)
    if setup == "tr":
        opt = SGDT(net, lr=0.05, target=0.01, momentum=0.9)
        sched = ConstantTR(opt)
    else:
        opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        sched = None
    watch = TransitionCounter(tr_layers(net)) if setup == "lr-watch" else None
    spent = [0.0]
    if setup == "tr":  # time TR's measurement (codes read, k/K/U updated) inside each step
        inner = opt.measure

        def measure():
            t = time.perf_counter()
            stats = inner()
            spent[0] += time.perf_counter() - t
            return stats

        opt.measure = measure

    def run():
        """(seconds per step, seconds per step inside TR's measure())"""
        spent[0] = 0.0
        t0 = time.perf_counter()
        for _ in range(steps):
            opt.zero_grad()
            F.cross_entropy(net(x), y).backward()
            if watch is not None:   # where training reads them: before the update
                watch.rates()
            opt.step()
            if sched is not None:
                sched.step()
        return (time.perf_counter() - t0) / steps, spent[0] / steps

    run()
    return run


def _times(fmt, steps, batch_size, repeats):
    """Best-round step time of each set-up, plus two TR figures: the median over rounds of the
    TR step over the fixed-scale LR step of the same round (run back to back), and the median
    time per step spent in TR's measure()."""
    runs = {s: _runner(fmt, s, steps, batch_size) for s in SETUPS}
    got = {s: [] for s in SETUPS}
    inside = []
    for _ in range(repeats):
        for s in SETUPS:
            t, m = runs[s]()
            got[s].append(t)
            if s == "tr":
                inside.append(m)
    print(f"{fmt}: median of rounds, ms: " + ", ".join(f"{s} {statistics.median(v) * 1e3:.2f}"
                                                     for s, v in got.items()), file=sys.stderr)
    best = {s: min(v) for s, v in got.items()}
    best["tr/fixed"] = statistics.median(a / b for a, b in zip(got["tr"], got["lr-fixed"]))
    best["measure"] = statistics.median(inside)
    return best


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m sim.qat.bench", description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    p.add_argument("--formats", default=",".join(FORMATS), help="comma-separated format names")
    p.add_argument("--out", default="reports/qat_bench.md")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    rows, fps = [], []
    for f in a.formats.split(","):
        try:
            t = _times(f, a.steps, a.batch_size, a.repeats)
        except Exception as err:  # noqa: BLE001 - a format not available yet is reported, not fatal
            rows.append(f"| {f} | n/a ({type(err).__name__}: {str(err)[:60]}) | | | | | | | | |")
            continue
        fp, lr, watch, fixed, tr = (t[s] for s in SETUPS)
        fps.append(fp)
        rows.append(f"| {f} | {fp * 1e3:.2f} | {lr * 1e3:.2f} | **{lr / fp:.2f}x** | {fixed * 1e3:.2f} "
                    f"| {tr * 1e3:.2f} | **{(t['tr/fixed'] - 1) * 100:+.1f}%** | {(tr / fixed - 1) * 100:+.1f}% "
                    f"| {t['measure'] * 1e6:.0f} µs ({t['measure'] / tr * 100:.1f}%) "
                    f"| {(tr / lr - 1) * 100:+.1f}% | {(watch / lr - 1) * 100:+.1f}% |")
        print(rows[-1], file=sys.stderr)
    cmd = "python -m sim.qat.bench " + " ".join(argv if argv is not None else sys.argv[1:])
    fp_txt = f"{min(fps) * 1e3:.2f} ms (best over the formats' windows)" if fps else "n/a"
    text = f"""# QAT step time: quantized vs FP32, and TR bookkeeping

Command: `{cmd.strip()}`  
{provenance.stamp("qat_bench")}  
Machine: {platform.machine()}, {platform.processor() or platform.platform()}, torch {torch.__version__},
{a.threads} torch thread(s), a 2-core machine shared with other jobs (timings are noisy: each
format's set-ups are timed interleaved, {a.repeats} rounds of {a.steps} steps after a warm-up, and each
set-up's time is its best round, so each ratio compares runs from the same stretch of time at their
least disturbed).  Date: {datetime.date.today()}.

Model: MLP 64-256-256-10 on digits, batch {a.batch_size}, SGD momentum 0.9; weights and activations
in the same format (W=A), per-channel weight scales.  FP32 step: {fp_txt}.

| format | FP32 step (ms) | LR step (ms) | vs FP32 | LR step, fixed scales (ms) | TR step (ms) | TR overhead | TR overhead, best rounds | TR's measure() per step | TR vs LR step | TR measurement alone |
|---|---|---|---|---|---|---|---|---|---|---|
""" + "\n".join(rows) + """

*FP32 step*: the unquantized model, timed in the same rounds as the format's runs. *LR step*: SGD
with learned (LSQ) scales. *LR step, fixed scales*: SGD with the weight scales fixed, as under TR.
*TR step*: SGDT (codes read, K/U updated, the base step at lr = U) with fixed weight scales.
*TR overhead*: TR step vs LR step with fixed scales (the same model; the difference is TR's
bookkeeping), the median over rounds of the ratio of the two runs of one round (they run back to
back); *best rounds*: the same ratio from the two best-round times (more exposed to noise: the
two minima come from different rounds). *TR's measure() per step*: time spent inside TR's
measurement (codes read and compared, k/K/U updated) per TR step, timed within the step, and its
share of the TR step (the rest of TR's cost is setting each group's LR to U). *TR vs LR step*: TR step vs the LSQ LR step (the comparison of earlier reports).
*TR measurement alone*: an LR step plus reading every layer's codes and counting changes before the
update (training's TR traces under LR scheduling), against the plain LR step.  Targets from issue 6:
quantized step <= 2x FP32 for integer, minifloat and posit; TR bookkeeping <= 5%.
"""
    import pathlib

    pathlib.Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(a.out).write_text(text)
    print(f"report written to {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
