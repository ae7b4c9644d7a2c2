"""``python -m sim.qat.workload_report``: FP32 / PTQ / QAT numbers of the built-in workloads, as a table.

For every workload and seed: the FP32 reference (how it was made and what it cost),
then each format under PTQ and, for the formats given with ``--qat``, under QAT
(``lr-cosine`` from the reference, the workload recipe's budget), each as the
metric and its difference from the same seed's reference.  Writes a Markdown
report that says the command, the machine, the time and the code version.

    python -m sim.qat.workload_report --out reports/workloads.md
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time

import torch

from . import finetune, ptq, reference
from . import workloads as W

BLOCK = ("mx", "nvfp4")
DEFAULT_FORMATS = "int8,fp8_e4m3,posit8_0,int4,fp4_e2m1,posit4_1,nvfp4,mxfp4"
DEFAULT_QAT = "int4,fp4_e2m1,nvfp4,mxfp4"


def _gran(fmt):
    return "per-block" if fmt.startswith(BLOCK) else "per-channel"


def _row(name, vals, refs, hib):
    d = [v - r for v, r in zip(vals, refs)]
    mean = statistics.fmean(vals)
    dm = statistics.fmean(d)
    sd = statistics.stdev(d) if len(d) > 1 else float("nan")
    return f"| {name} | {mean:.4f} | {dm:+.4f} | {sd:.4f} | {len(d)} |"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m sim.qat.workload_report", description=__doc__.splitlines()[0])
    p.add_argument("--workloads", default="digits/mlp,mnist1d/cnn,pytext/tinylm")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--formats", default=DEFAULT_FORMATS, help="PTQ formats (weights = acts)")
    p.add_argument("--qat", default=DEFAULT_QAT, help="formats also fine-tuned with QAT ('' for none)")
    p.add_argument("--qat-seeds", default=None, help="seeds of the QAT runs (default: --seeds)")
    p.add_argument("--out", default=None, help="write the Markdown report here")
    a = p.parse_args(argv)
    try:
        wls = [W.get(*n.split("/")) for n in a.workloads.split(",")]
        seeds = [int(s) for s in a.seeds.split(",")]
        qseeds = [int(s) for s in (a.qat_seeds or a.seeds).split(",")]
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    cmd = "python -m sim.qat.workload_report " + " ".join(argv if argv is not None else sys.argv[1:])
    lines = ["# Workloads: FP32 references, PTQ and QAT", "",
             f"Made by `{cmd}` on {platform.node()} ({os.cpu_count()} CPUs, torch "
             f"{torch.__version__}, 1 thread), {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
             f"reference code version {reference.code_version()}.", "",
             "Each row: the metric's mean over the seeds, and the paired difference from the same seed's FP32 "
             "reference (mean and sample std over seeds; no interval: see the sweep's report for the paired 95% CIs). Weights and activations in the same format (unsigned "
             "variants on non-negative layer inputs), per-channel weight scales (per-block for MX/NVFP4), "
             "rne, every layer quantized.", ""]
    for w in wls:
        t0 = time.perf_counter()
        refs = {s: reference.get(w, s, progress=False) for s in seeds}
        r0 = refs[seeds[0]].info
        lines += [f"## {w.name}", "",
                  f"Metric: {w.metric_name} on the {w.eval_split} split ({'higher' if w.higher_is_better else 'lower'}"
                  f" is better). Recipe: {w.recipe.to_dict()}. Architecture: {w.arch()}. Data: {w.identity()}.",
                  f"FP32 always: {w.fp32_tensors()}.", "",
                  "| seed | FP32 metric | source | train seconds (as recorded) |", "|---|---|---|---|"]
        lines += [f"| {s} | {r.metric:.4f} | {r.source} | {r.info['train_seconds']:.0f} |" for s, r in refs.items()]
        lines += ["", f"(reference code version {r0['code_version']}, torch {r0['torch']}, "
                      f"{r0['torch_threads']} thread(s))", "",
                  "| point | mean | diff to FP32 | std of diff | seeds | cost |", "|---|---|---|---|---|---|"]
        ref_m = [refs[s].metric for s in seeds]
        lines.append(_row("FP32", ref_m, ref_m, w.higher_is_better) + " |")
        for f in [f for f in a.formats.split(",") if f]:
            ts = time.perf_counter()
            vals = [ptq.ptq(w, refs[s], weights=f, acts=f, granularity=_gran(f), seed=s)["metric"] for s in seeds]
            per = (time.perf_counter() - ts) / len(seeds)
            lines.append(_row(f"PTQ {f}", vals, ref_m, w.higher_is_better) + f" {per:.1f} s/point |")
            print(lines[-1], flush=True)
        for f in [f for f in a.qat.split(",") if f]:
            ts = time.perf_counter()
            res = [finetune.qat(w, reference.get(w, s), f, f, granularity=_gran(f), seed=s) for s in qseeds]
            per = (time.perf_counter() - ts) / len(qseeds)
            qref = [reference.get(w, s).metric for s in qseeds]
            curve = " ".join(f"{c:.3f}" for c in res[0]["curve"]["calib_metric"])
            lines.append(_row(f"QAT {f} lr-cosine ({res[0]['steps']} steps)", [r["metric"] for r in res], qref,
                              w.higher_is_better) + f" {per:.1f} s/point; calib curve seed {qseeds[0]}: {curve} |")
            print(lines[-1], flush=True)
        lines += ["", f"({time.perf_counter() - t0:.0f} s for this workload)", ""]
    text = "\n".join(lines) + "\n"
    if a.out:
        with open(a.out, "w") as fh:
            fh.write(text)
        print(f"workload report written to {a.out}")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
