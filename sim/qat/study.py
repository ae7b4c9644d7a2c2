"""The transition-rate (TR) study: LR against TR scheduling of QAT, tuned equally, paired over seeds.

    python -m sim.qat.study [--quick] [--workers 2] [--seeds 8] [--tune-seeds 2] [--out reports/qat_study.md]

Every run fine-tunes the converged FP32 reference of its seed (:func:`sim.qat.reference.get`)
with :func:`sim.qat.finetune.qat`: per-channel MSE weight scales, calibrated per-tensor
activation scales (unsigned formats after a ReLU), a learnable per-channel post-scale after
each quantized layer (the stand-in for the paper's BatchNorm), weights and activations in
the same format.  Three arms, each with the same number of configurations (:data:`GRIDS`):

* ``lr``: cosine LR, weight scales learned (LSQ); configurations = learning rates;
* ``lr-frozen``: the same with the weight scales frozen at their MSE value (the control:
  TR freezes them too); configurations = the same learning rates;
* ``tr``: the optimizer's T version (SGDT / AdamT) with a cosine target TR;
  configurations = ``(R_0, U_0)`` pairs (``eta = TR_GAIN U_0 / R_0``, m = 0.99).

Selection: each arm's configuration with the best mean metric on the **validation** split
(the workload's calibration split, held out from training) over the tuning seeds; a TR
configuration qualifies only if every tuning run tracked its target
(:data:`sim.qat.tr.TRACKING_GATE`).  Evaluation: the selected configuration of each arm on
every seed (the tuning seeds' runs reused), metric on the **test** split; each TR - LR
difference over the seeds where the TR run tracked, with its paired 95 % t interval
(:func:`dse.stats.paired`).  The report is rendered by :mod:`sim.qat.study_report`.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

from formats import get as get_format
from formats import provenance

from .quantizer import is_block_format
from .tr import RELATIVE_GAIN

ARMS = ("lr", "lr-frozen", "tr")
#: the controller gain, relative: eta = TR_GAIN * U_0 / R_0 (sim.qat.tr.RELATIVE_GAIN)
TR_GAIN = RELATIVE_GAIN
#: per optimizer: the learning rates of the two LR arms and the (R_0, U_0) pairs of the TR arm
GRIDS = {"sgd": {"lr": (0.01, 0.03, 0.1, 0.3), "tr": ((3e-4, 0.03), (1e-3, 0.03), (3e-3, 0.03), (1e-2, 0.03))},
         "adam": {"lr": (1e-4, 3e-4, 1e-3, 3e-3), "tr": ((3e-4, 3e-4), (1e-3, 3e-4), (3e-3, 3e-4), (1e-2, 3e-4))}}
NONUNIFORM = ("fp4_e2m1", "posit4_1", "mxfp4", "nvfp4")
#: 3-bit non-uniform formats: levels {0, 1, 2, 4} (minifloat) and {0, 1/4, 1, 4} (posit), x sign
NONUNIFORM3 = ("fp3_e2m0", "posit3_1")
#: (workload, optimizer, formats, quantize_first_last, steps): the full study's blocks, about
#: 25 min on 2 workers of a 2-core machine.  With the edges (first and last layer) in FP32 the
#: MLP has one quantized layer, so three blocks repeat with the edges quantized too.
FULL = (("digits/mlp", "sgd", ("int2", "int4") + NONUNIFORM3 + NONUNIFORM, False, 2000),
        ("digits/mlp", "sgd", ("int2", "fp4_e2m1"), True, 2000),
        ("digits/mlp", "adam", ("int2",), False, 2000),
        ("mnist1d/cnn", "adam", ("int2", "fp4_e2m1"), False, 1500),
        ("mnist1d/cnn", "adam", ("int2",), True, 1500),
        ("mnist1d/cnn", "sgd", ("int2",), False, 1500))
QUICK = (("digits/mlp", "sgd", ("int2", "mxfp4"), False, 60),
         ("mnist1d/cnn", "adam", ("int2",), False, 30))
HISTORY_EVERY = 5  # the K / R traces kept for the plots: every 5th step


def configs(arm: str, optimizer: str) -> list[dict]:
    """The configurations an arm is tuned over (the same count for every arm)."""
    g = GRIDS[optimizer]
    if arm == "tr":
        return [{"tr0": r0, "lr": u0, "eta": TR_GAIN * u0 / r0} for r0, u0 in g["tr"]]
    return [{"lr": lr} for lr in g["lr"]]


def blocks(spec) -> list[dict]:
    """The study's blocks: one per (workload, optimizer, format, first/last quantized)."""
    out = []
    for wl, opt, fmts, qfl, steps in spec:
        for f in fmts:
            out.append({"workload": wl, "optimizer": opt, "format": f, "qfl": qfl, "steps": steps})
    return out


def block_key(b: dict) -> str:
    return f"{b['workload']}|{b['optimizer']}|{b['format']}|{'edges-q' if b['qfl'] else 'edges-fp32'}"


def job(b: dict, arm: str, cfg: dict, seed: int, history: bool = False) -> dict:
    return {"block": block_key(b), **b, "arm": arm, "cfg": cfg, "seed": seed, "history": history}


def run_job(j: dict) -> dict:
    """One QAT run (one torch thread); returns the numbers the study keeps."""
    import torch

    torch.set_num_threads(1)
    from . import reference, workloads
    from .finetune import qat

    w = workloads.get(*j["workload"].split("/"))
    ref = reference.get(w, j["seed"])
    tr = j["arm"] == "tr"
    opt = j["optimizer"]
    out = {k: j[k] for k in ("block", "arm", "cfg", "seed")}
    try:
        res = qat(w, ref, j["format"], j["format"], schedule="tr-cosine" if tr else "lr-cosine",
                  tr0=j["cfg"].get("tr0", 0.01), lr=j["cfg"]["lr"], seed=j["seed"], steps=j["steps"],
                  optimizer=opt, quantize_first_last=j["qfl"], unsigned_acts="auto",
                  weight_scale="fixed" if j["arm"] != "lr" else "lsq", post_scale=True, tr_eta=j["cfg"].get("eta"))
    except (FloatingPointError, ValueError) as e:
        # a configuration that sends training to NaN/Inf (a non-finite loss, or a weight the
        # quantizer refuses as NaN) is a result: a failed run, never selected, never averaged
        if isinstance(e, ValueError) and "nan" not in str(e).lower():
            raise
        out.update(diverged=str(e), val=float("-inf"), test=float("nan"), ref_test=ref.metric, seconds=0.0,
                   steps=j["steps"])
        if tr:
            out.update(tracking={}, tracked=False)
        return out
    out.update(test=res["metric"], val=res["curve"]["calib_metric"][-1], ref_test=ref.metric,
               seconds=res["seconds"], steps=res["steps"], act_formats=res["record"]["act_formats"],
               weight_layers=res["record"]["weight_layers"])
    if tr:
        out.update(tracking=res["tr_tracking"], tracked=res["tr_tracked"])
        if j["history"]:
            h = res["tr_history"]
            out["history"] = {"R": h["R"][::HISTORY_EVERY], "K": {n: k[::HISTORY_EVERY] for n, k in h["K"].items()}}
    return out


def _cfg_id(cfg: dict) -> str:
    return json.dumps(cfg, sort_keys=True)


def select(runs: list[dict], arm: str) -> tuple[dict | None, dict]:
    """The configuration of ``arm`` with the best mean **validation** metric over its runs.

    ``runs``: the tuning runs of one block and arm (``cfg``, ``val``; TR runs ``tracked``).
    A configuration with a diverged tuning run (``diverged``: training went to NaN/Inf) is not
    eligible, nor is a TR configuration whose tuning runs did not all track.  Returns
    ``(cfg or None, {cfg id: mean validation metric or None if ineligible})``; ties go to
    the first configuration listed."""
    by: dict = {}
    for r in runs:
        by.setdefault(_cfg_id(r["cfg"]), []).append(r)
    score, best, best_v = {}, None, None
    for cid, rs in by.items():
        ok = not any(r.get("diverged") for r in rs) and (arm != "tr" or all(r.get("tracked") for r in rs))
        v = sum(r["val"] for r in rs) / len(rs) if ok else None
        score[cid] = v
        if v is not None and (best_v is None or v > best_v):
            best, best_v = rs[0]["cfg"], v
    return best, score


def _job_id(j: dict) -> str:
    """A run's identity in the journal: its keys and the code version (a journal written by
    other code is never reused)."""
    global _VERSION
    if _VERSION is None:
        _VERSION = provenance.stamp("qat_study")
    return json.dumps([_VERSION, j["block"], j["arm"], j["cfg"], j["seed"], j["steps"]], sort_keys=True)


_VERSION = None


def _pool_map(fn, jobs, workers, desc, journal: pathlib.Path | None = None):
    """``fn`` over ``jobs`` (a spawn pool when ``workers > 1``).  ``journal``: a JSON-lines
    file every finished run is appended to (flushed per run), and from which runs already
    finished by an interrupted study are taken instead of run again."""
    from tqdm import tqdm

    have = {}
    if journal is not None and journal.exists():
        for line in journal.read_text().splitlines():
            try:
                r = json.loads(line)
                have[r["job_id"]] = r
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by the interruption: that run is simply run again
    out = [have[_job_id(j)] for j in jobs if _job_id(j) in have]
    todo = [j for j in jobs if _job_id(j) not in have]
    if out:
        print(f"{desc}: {len(out)} run(s) read from {journal}, {len(todo)} to run", flush=True)
    fh = journal.open("a") if journal is not None else None

    def keep(j, r):
        r["job_id"] = _job_id(j)
        if fh is not None:
            fh.write(json.dumps(r) + "\n")
            fh.flush()
        out.append(r)

    try:
        if workers > 1 and todo:
            import multiprocessing as mp

            with mp.get_context("spawn").Pool(workers) as pool:
                for j, r in tqdm(zip(todo, pool.imap(fn, todo)), total=len(todo), desc=desc):
                    keep(j, r)
        else:
            for j in tqdm(todo, desc=desc):
                keep(j, fn(j))
    finally:
        if fh is not None:
            fh.close()
    return out


def _copied(b: dict, arm: str) -> bool:
    """Whether ``arm``'s runs of block ``b`` are copies of the LR arm's: block formats (MX,
    NVFP4) carry their own scales, so freezing the weight scales changes nothing and the
    LR-frozen run is the LR run, bit for bit (it was checked so in the first study)."""
    return arm == "lr-frozen" and is_block_format(get_format(b["format"]))


def _with_copies(runs: list[dict], bl: list[dict]) -> list[dict]:
    """``runs`` plus, for every block whose LR-frozen arm is a copy, the LR runs relabelled."""
    copy = {block_key(b) for b in bl if _copied(b, "lr-frozen")}
    return runs + [{**r, "arm": "lr-frozen", "copied_from": "lr"} for r in runs
                   if r["arm"] == "lr" and r["block"] in copy]


def run_study(spec, seeds: list[int], tune_seeds: list[int], workers: int = 1,
              journal: pathlib.Path | None = None) -> dict:
    """Tune (every arm x configuration on ``tune_seeds``), select on validation, then evaluate the
    selected configuration of each arm on every seed of ``seeds``.  Returns the raw results."""
    bl = blocks(spec)
    t0 = time.perf_counter()
    first = seeds[0]
    tune = [job(b, arm, cfg, s, history=(arm == "tr" and s == first)) for b in bl for arm in ARMS
            for cfg in configs(arm, b["optimizer"]) for s in tune_seeds if not _copied(b, arm)]
    done = _with_copies(_pool_map(run_job, tune, workers, "tune", journal), bl)
    selected = {}
    for b in bl:
        k = block_key(b)
        for arm in ARMS:
            cfg, score = select([r for r in done if r["block"] == k and r["arm"] == arm], arm)
            selected[f"{k}|{arm}"] = {"cfg": cfg, "val_scores": score}
    rest = []
    for b in bl:
        k = block_key(b)
        for arm in ARMS:
            cfg = selected[f"{k}|{arm}"]["cfg"]
            if cfg is None or _copied(b, arm):
                continue
            rest += [job(b, arm, cfg, s, history=(arm == "tr" and s == first)) for s in seeds if s not in tune_seeds]
    done += _with_copies(_pool_map(run_job, rest, workers, "evaluate", journal), bl)
    return {"spec": [list(map(lambda x: list(x) if isinstance(x, tuple) else x, s)) for s in spec],
            "blocks": bl, "seeds": seeds, "tune_seeds": tune_seeds, "grids": GRIDS, "tr_gain": TR_GAIN, "selected": selected,
            "runs": done, "wall_s": time.perf_counter() - t0, "workers": workers,
            "n_runs": len(tune) + len(rest)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m sim.qat.study", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="CI-sized: 2 small blocks, tens of steps, 3 seeds")
    p.add_argument("--seeds", type=int, default=None, help="paired seeds (default 8; --quick: 3)")
    p.add_argument("--tune-seeds", type=int, default=None, help="seeds the grid is tuned on (default 2; quick: 1)")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--out", default="reports/qat_study.md")
    p.add_argument("--render", metavar="JSON", help="only re-render the report from a study's raw results")
    a = p.parse_args(argv)
    out = pathlib.Path(a.out)
    if a.render:
        from .study_report import write_report

        write_report(json.loads(pathlib.Path(a.render).read_text()), out)
        print(f"report re-rendered from {a.render} to {out}")
        return 0
    n = a.seeds or (3 if a.quick else 8)
    nt = a.tune_seeds or (1 if a.quick else 2)
    if n < 2 or not 1 <= nt <= n:
        raise SystemExit(f"--seeds {n} must be >= 2 and --tune-seeds {nt} in [1, seeds]")
    seeds = list(range(n))
    spec = QUICK if a.quick else FULL
    from . import data

    for wl in dict.fromkeys(s[0] for s in spec):
        data.load(wl.split("/")[0])  # generate / cache once, before the workers start
    journal = out.with_suffix(".runs.jsonl")   # every finished run; an interrupted study resumes from it
    res = run_study(spec, seeds, seeds[:nt], a.workers, journal)
    cmd = "python -m sim.qat.study " + " ".join(argv if argv is not None else sys.argv[1:])
    res["command"] = cmd.strip()
    out.parent.mkdir(parents=True, exist_ok=True)
    from .study_report import write_report

    write_report(res, out)
    journal.unlink(missing_ok=True)
    print(f"{res['n_runs']} runs in {res['wall_s'] / 60:.1f} min; report written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
