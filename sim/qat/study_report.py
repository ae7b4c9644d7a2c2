"""The TR study's report: paired-difference tables, tracking plots and the verdict (see :mod:`sim.qat.study`)."""
from __future__ import annotations

import datetime
import json
import pathlib
import platform

from dse.stats import paired
from formats import provenance

from .tr import TRACKING_GATE, TRACKING_WINDOW

__all__ = ["arm_runs", "paired_diff", "block_rows", "write_report", "TRANSITIONS", "PAPER"]

#: what one transition is, per format family (element level; see sim.qat.tr.changed_mask)
TRANSITIONS = {
    "intN": "the weight's integer level changed (codes canonical: one zero).",
    "fp4_e2m1, fp3_e2m0": "the element's level changed; -0 and +0 are one level (codes canonicalised, "
                          "sim.qat.quantizer._neg_zero_code), so a weight staying at zero is no transition.",
    "posit4_1, posit3_1": "the posit code changed (posits have one zero and no sign-magnitude duplicates).",
    "mxfp4": "the FP4 E2M1 element code changed, or the shared E8M0 scale of its 32-element block "
             "changed: a scale change counts every element of the block as changed.",
    "nvfp4": "the FP4 E2M1 element code changed, or the FP8 E4M3 scale of its 16-element block changed "
             "(every element of the block counted); the per-tensor FP32 scale is excluded (it moves with "
             "the weights' maximum at nearly every step).",
}
#: Lee et al., arXiv 2404.19248 (v3), CIFAR-10 ResNet-20 W2A2, top-1 %
PAPER = (("SGD", 90.2, "SGDT", 90.7), ("Adam", 90.2, "AdamT", 91.1))


def arm_runs(res: dict, key: str, arm: str) -> dict:
    """``{seed: run}`` of the selected configuration of ``arm`` in block ``key``."""
    cfg = res["selected"][f"{key}|{arm}"]["cfg"]
    return {r["seed"]: r for r in res["runs"]
            if r["block"] == key and r["arm"] == arm and r["cfg"] == cfg and not r.get("diverged")}


def diverged_runs(res: dict) -> list[dict]:
    """The runs whose training went to NaN/Inf (recorded, never selected or averaged)."""
    return [r for r in res["runs"] if r.get("diverged")]


def paired_diff(a: dict, b: dict, gate=None):
    """Paired test-metric differences ``a - b`` (in points) over the seeds both have; ``gate``: a
    predicate a run of ``a`` must pass to count (TR: tracked).  Returns ``(Paired or None, n_dropped)``."""
    seeds = sorted(set(a) & set(b))
    keep = [s for s in seeds if gate is None or gate(a[s])]
    if len(keep) < 1:
        return None, len(seeds)
    return paired([100 * (a[s]["test"] - b[s]["test"]) for s in keep]), len(seeds) - len(keep)


def _fmt_diff(p) -> str:
    if p is None:
        return "no tracked run"
    if p.n < 2:
        return f"{p.mean:+.2f} (n = 1)"
    if p.ci_low == p.ci_high == 0.0:
        return "0 (the same runs)"
    tag = "" if p.resolved else ", not resolved"
    return f"{p.mean:+.2f} [{p.ci_low:+.2f}, {p.ci_high:+.2f}]{tag}"


def _mean(runs: dict) -> str:
    v = [100 * r["test"] for r in runs.values()]
    if not v:
        return "-"
    m = sum(v) / len(v)
    s = (sum((x - m) ** 2 for x in v) / (len(v) - 1)) ** 0.5 if len(v) > 1 else 0.0
    return f"{m:.2f} ± {s:.2f}"


def _diverged(res: dict) -> str:
    """How many runs diverged, and where (they are recorded as failed, not dropped silently)."""
    bad = diverged_runs(res)
    if not bad:
        return "no run diverged"
    by: dict = {}
    for r in bad:
        by.setdefault(f"{r['block']} {r['arm']} {_cfg(r['cfg'])}", []).append(r["seed"])
    return f"{len(bad)} run(s) diverged: " + "; ".join(f"{k} (seeds {sorted(v)})" for k, v in sorted(by.items()))


def _cfg(cfg) -> str:
    if cfg is None:
        return "none eligible"
    return ", ".join(f"{'R0' if k == 'tr0' else ('lr' if k == 'lr' else k)} {v:g}" for k, v in cfg.items())


def block_rows(res: dict) -> list[dict]:
    """One row per block: the arms' means, the selected configurations, tracking and the differences."""
    rows = []
    tracked = lambda r: bool(r.get("tracked"))  # noqa: E731
    for b in res["blocks"]:
        from .study import block_key

        k = block_key(b)
        lr, fr, tr = (arm_runs(res, k, a) for a in ("lr", "lr-frozen", "tr"))
        d_lr, drop = paired_diff(tr, lr, tracked)
        d_fr, _ = paired_diff(tr, fr, tracked)
        d_lf, _ = paired_diff(lr, fr)
        errs = [max(r["tracking"].values()) for r in tr.values()]
        refs = [100 * r["ref_test"] for r in lr.values()]
        rows.append({"block": b, "key": k, "lr": lr, "fr": fr, "tr": tr, "d_lr": d_lr, "d_fr": d_fr,
                     "d_lf": d_lf, "dropped": drop, "n_tracked": sum(map(tracked, tr.values())),
                     "max_err": max(errs) if errs else float("nan"),
                     "ref": sum(refs) / len(refs) if refs else float("nan"),
                     "cfgs": [res["selected"][f"{k}|{a}"]["cfg"] for a in ("lr", "lr-frozen", "tr")]})
    return rows


def _plot(res: dict, out: pathlib.Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups: dict = {}
    for row in block_rows(res):
        b = row["block"]
        groups.setdefault((b["workload"], b["optimizer"]), []).append(row)
    names = []
    for (wl, opt), rows in groups.items():
        fig, axes = plt.subplots(1, len(rows), figsize=(3.6 * len(rows), 3.0), squeeze=False)
        for ax, row in zip(axes[0], rows):
            h = next((r.get("history") for r in row["tr"].values() if r.get("history")), None)
            b = row["block"]
            ax.set_title(f"{b['format']}, edges {'quantized' if b['qfl'] else 'FP32'}", fontsize=9)
            if h is None:
                continue
            x = [i * 5 for i in range(len(h["R"]))]
            ax.plot(x, h["R"], "k--", lw=1, label="target R")
            for n, k in h["K"].items():
                ax.plot(x[:len(k)], k, lw=1, label=f"K {n}")
            ax.set_xlabel("step")
            ax.legend(fontsize=6)
        axes[0][0].set_ylabel("transition rate")
        fig.suptitle(f"{wl} {opt.upper()}T: running TR K per quantized layer vs target R (seed 0)", fontsize=9)
        fig.tight_layout()
        name = f"{out.stem}_tracking_{wl.replace('/', '_')}_{opt}.png"
        fig.savefig(out.parent / name, dpi=80)
        plt.close(fig)
        names.append(name)
    return names


def write_report(res: dict, out: pathlib.Path) -> None:
    """Write the markdown report ``out``, its tracking PNGs and the raw results (``out`` with ``.json``)."""
    out = pathlib.Path(out)
    rows = block_rows(res)
    pngs = _plot(res, out)
    tab = ["| workload | opt | format | edges | FP32 | LR | LR frozen scales | TR | tracked | max err "
           "| **TR − LR** | TR − LR frozen | LR − LR frozen |", "|" + "---|" * 13]
    for row in rows:
        b = row["block"]
        c = row["cfgs"]
        tab.append(f"| {b['workload']} | {b['optimizer']} | {b['format']} | {'quant' if b['qfl'] else 'FP32'} "
                   f"| {row['ref']:.2f} | {_mean(row['lr'])} ({_cfg(c[0])}) | {_mean(row['fr'])} ({_cfg(c[1])}) "
                   f"| {_mean(row['tr'])} ({_cfg(c[2])}) | {row['n_tracked']}/{len(row['tr'])} "
                   f"| {row['max_err']:.2f} | **{_fmt_diff(row['d_lr'])}** | {_fmt_diff(row['d_fr'])} "
                   f"| {_fmt_diff(row['d_lf'])} |")
    pos = [r for r in rows if r["d_lr"] is not None and r["d_lr"].resolved and r["d_lr"].mean > 0]
    neg = [r for r in rows if r["d_lr"] is not None and r["d_lr"].resolved and r["d_lr"].mean < 0]
    name = lambda r: f"{r['block']['workload']} {r['block']['optimizer']} {r['block']['format']}" + (  # noqa: E731
        " (edges quantized)" if r["block"]["qfl"] else "")
    verdict = (f"Of {len(rows)} tuned, paired TR − LR comparisons, TR is ahead with a 95 % interval "
               f"excluding 0 in {len(pos)} ({', '.join(map(name, pos)) or 'none'}), behind in {len(neg)} "
               f"({', '.join(map(name, neg)) or 'none'}), and not resolved in the other "
               f"{len(rows) - len(pos) - len(neg)}.")
    top = {o: max(r for r, _ in g["tr"]) for o, g in res["grids"].items()}
    at_edge = sum(1 for r in rows if r["cfgs"][2] and r["cfgs"][2]["tr0"] == top[r["block"]["optimizer"]])
    edge = (f"The selected R0 sits at the top of its grid in {at_edge} of {len(rows)} blocks, so a wider grid "
            f"might move the TR arm.")
    def _mid(row):
        h = next((r.get("history") for r in row["tr"].values() if r.get("history")), None)
        if not h or not h["R"]:
            return "-"
        i = len(h["R"]) // 2
        ks = [k[i] for k in h["K"].values() if len(k) > i]
        return f"{sum(ks) / len(ks) / h['R'][i]:.2f}" if ks and h["R"][i] > 0 else "-"
    mid = "; ".join(f"{name(r)} {_mid(r)}" for r in rows)
    untracked = sum(len(r["tr"]) - r["n_tracked"] for r in rows)
    trans = "\n".join(f"* `{k}`: {v}" for k, v in TRANSITIONS.items())
    grids = "\n".join(f"* {o.upper()}: LR / LR-frozen lr ∈ {{{', '.join(f'{x:g}' for x in g['lr'])}}}; "
                      f"{o.upper()}T (R0, U0) ∈ {{{', '.join(f'({r:g}, {u:g})' for r, u in g['tr'])}}}"
                      for o, g in res["grids"].items())
    ncfg = len(next(iter(res["grids"].values()))["lr"])
    support = ("What is supported: at these budgets and equal tuning, TR scheduling " +
               ("did not beat a tuned LR schedule on any block." if not pos else
                f"beat a tuned LR schedule on {len(pos)} block(s) and lost on {len(neg)}.") +
               " Every difference counts only the seeds whose TR run tracked its target.")
    paper = "\n".join(f"| {a} {x:.1f} | {b} {y:.1f} | {y - x:+.1f} |" for a, x, b, y in PAPER)
    runs_s = sum(r["seconds"] for r in res["runs"])
    steps = "/".join(str(x) for x in sorted({b["steps"] for b in res["blocks"]}))
    blocks = "\n".join(f"* {wl}, {opt.upper()}, {', '.join(f)}, edges {'quantized' if q else 'FP32'}, {n} steps"
                        for wl, opt, f, q, n in res["spec"])
    text = f"""# QAT study: transition-rate (TR) scheduling against tuned LR scheduling

Command: `{res['command']}`  
{provenance.stamp('qat_study')}  
Machine: {platform.machine()}, 2 cores shared with other jobs, {res['workers']} worker process(es) of 1
torch thread.  Date: {datetime.date.today()}.  Wall time: {res['wall_s'] / 60:.1f} min for {res['n_runs']}
QAT runs ({runs_s / 60:.1f} min of run time summed).  Raw results: `{out.with_suffix('.json').name}`.

## Setup

Method: Lee et al., arXiv 2404.19248 ("Scheduling Weight Transitions for Quantization-Aware
Training"), as implemented in `sim/qat/tr.py`: per layer the transition rate k_t (fraction of
quantized weights whose level changed), running K_t = m K_(t-1) + (1 − m) k_t with m = 0.99,
U_t = max(0, U_(t-1) + η (R_t − K_t)), η = {res['tr_gain']:.3g} U_0 / R_0 (`sim.qat.study.TR_GAIN`, a relative
gain: U moves by a third of U_0 per step when K misses R by R_0), weights moved by U_t times the
optimizer's direction;
the target R_t decays from R_0 by a cosine.

* Every run starts from the converged FP32 reference of its seed (`sim.qat.reference`), for both arms.
* Weights and activations in the same format; per-channel MSE weight scales (blocks: the format's own
  scales), per-tensor calibrated activation scales learned by LSQ in every arm; activations after a ReLU
  use the unsigned variant of the format (`uint2` = 4 levels, `ufp4_e2m2`; posits, MX and NVFP4 have none).
* A learnable per-channel post-scale (initialised to 1) after each quantized layer, standing in for
  the paper's BatchNorm: it absorbs the frozen weight scale.
* Edges: "FP32" keeps the first and last layer in FP32 as the paper does (digits/mlp then quantizes
  its one hidden 128×128 layer, mnist1d/cnn its two inner convolutions); "quant" quantizes all.
* Arms: **LR** (cosine LR, weight scales learned by LSQ), **LR frozen** (weight scales frozen, the
  control: TR freezes them), **TR** (SGDT/AdamT, cosine target, weight scales frozen, the other
  parameters on a cosine LR at U_0). No weight decay.
* Equal tuning, {ncfg} configurations per arm, selected on the **validation** split (the workload's
  calibration split, held out from training) by the mean over the tuning seeds {res['tune_seeds']}; a TR
  configuration whose tuning runs did not all track is not eligible, nor is any configuration with a
  tuning run whose training diverged to NaN/Inf ({_diverged(res)}). Grids:
{grids}
* Evaluation: the selected configuration of each arm on seeds {res['seeds']} (paired: same reference,
  same data order), metric on the **test** split (digits: 450 images, one image = 0.22 points;
  MNIST-1D: 1000). Differences in points with the paired 95 % Student-t interval (`dse.stats.paired`);
  "not resolved" when it includes 0.
* Tracking: per layer, the mean of |K_t − R̃_t| / R̃_t over steps {int(TRACKING_WINDOW[0] * 100)}–{int(TRACKING_WINDOW[1] * 100)} % of the run, where
  R̃ is the target passed through K's own running average (what K reads when the layer's rate equals
  the target at every step, so the estimator's lag is not counted against the controller); a TR run
  tracks when every layer's error is ≤ {TRACKING_GATE} (`sim.qat.tr.TRACKING_GATE`). Untracked TR runs are left out of
  the differences (column "tracked"; {untracked} untracked run(s) in all).

Transitions per format (element level; `sim.qat.tr.changed_mask`):

{trans}

## Results (test accuracy %, mean ± std over seeds; selected configuration in brackets)

{chr(10).join(tab)}

Paper (CIFAR-10 ResNet-20 W2A2, first/last layers FP, from a pretrained FP model, one run each):

| LR | TR | TR − LR |
|---|---|---|
{paper}

## Tracking

Running TR K per quantized layer against the target R, seed 0, the selected TR configuration:
{', '.join(f'`{p}`' for p in pngs)}. The "max err" column is the largest tracking error of any layer in
any evaluation run of the block.

K / R at mid-run (seed 0, the selected configuration, mean over layers), per block: {mid}.
The first version of this study gated on |K − R| / R_0 over the second half with η = U_0; that gate
passed runs whose K had reached only 0.07–0.82 of R at mid-run (the error is small wherever a cosine
R is small). The gate above divides by the (smoothed) target itself over most of the run, and the
relative gain lets U grow fast enough for K to meet R within the first tenth of the run.

## Verdict

{verdict} These are {len(rows)} intervals at 95 % each with no correction for multiple comparisons
(about {0.05 * len(rows):.1f} would exclude 0 by chance alone). {edge} {support} The paper's gains (+0.5 SGD, +0.9 Adam points at W2A2) are single runs on a far larger
task; the intervals here are what this study can claim.

## What this study is not

Small models and data sets, {steps} steps per run (the paper trains ~80 K iterations; the
tracked runs meet their target within the first tenth here), {ncfg}-configuration grids, 2 and 4 bits for the integers,
3 and 4 for the minifloats and posits, 4 for the block formats. Blocks run (workload, optimizer, formats, edges, steps):

{blocks}

For MX and NVFP4 the weight scales are the format's own block scales, so "LR" and "LR frozen" are
the same run there (their difference is exactly 0).
"""
    out.write_text(text)
    out.with_suffix(".json").write_text(json.dumps(res, indent=None, separators=(",", ":")))
