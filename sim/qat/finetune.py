"""QAT from a converged reference: fine-tune the PTQ model with an LR or TR schedule.

:func:`qat` starts from :func:`sim.qat.ptq.prepare` (same calibrated scales,
unsigned activation variants and FP32 edge layers), then trains for
``budget x recipe.steps`` steps (the workload's :class:`~sim.qat.workloads.Recipe`:
its optimizer at ``finetune_lr``, no weight decay) on the training split:

* ``lr-cosine`` / ``lr-constant``: weight and activation scales learned (LSQ);
* ``tr-*``: the optimizer wrapped in :class:`sim.qat.tr.TransitionAdaptive`, the target TR
  scheduled from ``tr0`` (weight scales fixed at their MSE value, activation scales learned,
  the other parameters on a cosine LR), as in :func:`sim.qat.train.train`.

The learning curve is recorded: the mean training loss over each twentieth of the
run and the metric on the calibration split (held out from training, so it is a
validation curve) at the start, at quarters and at the end; ``converged`` compares
the last two quarters.
"""
from __future__ import annotations

import math
import time

import torch

from .ptq import prepare
from .reference import Reference, make_optimizer
from .tr import RELATIVE_GAIN, TransitionAdaptive, TransitionCounter, make_tr_scheduler, tr_layers, tr_param_groups

__all__ = ["qat", "SCHEDULES", "DEFAULT_BUDGET"]

SCHEDULES = ("lr-cosine", "lr-constant", "tr-cosine", "tr-step", "tr-linear", "tr-constant")
DEFAULT_BUDGET = None  # None: the workload recipe's finetune_fraction


def qat(w, ref: Reference, weights, acts=None, rounding="rne", granularity="per-channel",
        quantize_first_last=True, unsigned_acts="auto", schedule="lr-cosine", tr0=0.01, budget=None,
        lr=None, seed=0, tr_momentum=0.99, progress=False, rotation="none", optimizer=None, steps=None,
        weight_scale=None, post_scale=False, tr_eta=None) -> dict:
    """Fine-tune ``ref`` quantized with ``weights``/``acts``; returns metric, curve and record.

    Study options (defaults: the recipe's): ``optimizer`` (``sgd``/``adam``/``adamw``) and
    ``steps`` (instead of ``budget x recipe.steps``) override the recipe; ``weight_scale``
    (``lsq``/``fixed``; default ``fixed`` under TR, ``lsq`` under LR) lets an LR run freeze
    its weight scales as TR does; ``post_scale`` adds a learnable per-channel gain after each
    quantized layer (:mod:`sim.qat.postscale`, initialised to 1).  Under TR, ``lr`` is ``U_0``;
    ``tr_eta`` the controller gain (default :data:`sim.qat.tr.RELATIVE_GAIN` ``* U_0 / R_0``); ``tr_history`` holds the target and each layer's running TR per step."""
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule {schedule!r} is not allowed; allowed: {', '.join(SCHEDULES)}")
    r = w.recipe
    budget = r.finetune_fraction if budget is None else float(budget)
    if not 0 < budget <= 1:
        raise ValueError(f"budget = {budget!r} must be a fraction of the reference's steps in (0, 1]")
    lr = r.finetune_lr if lr is None else float(lr)
    total = max(1, round(budget * r.steps)) if steps is None else int(steps)
    if total < 1:
        raise ValueError(f"steps = {steps!r} must be a positive number of optimizer steps")
    opt_name = r.optimizer if optimizer is None else optimizer
    tr_mode = schedule.startswith("tr-")
    if weight_scale is None:
        weight_scale = "fixed" if tr_mode else "lsq"
    if weight_scale not in ("lsq", "fixed"):
        raise ValueError(f"weight_scale = {weight_scale!r} is not allowed; allowed: lsq, fixed")
    t0 = time.perf_counter()
    p = prepare(w, ref, weights, acts, rounding=rounding, granularity=granularity,
                quantize_first_last=quantize_first_last, unsigned_acts=unsigned_acts,
                weight_scale=weight_scale, act_scale="lsq", seed=seed, rotation=rotation)
    net = p.model
    layers = tr_layers(net)
    if post_scale:
        from .postscale import add_post_scales

        p.record["post_scaled_layers"] = add_post_scales(layers)
    if tr_mode and not layers:
        raise ValueError(f"schedule {schedule!r} needs quantized weights, but no layer has any "
                         f"(weights={weights!r}, quantize_first_last={quantize_first_last})")
    cosine = lambda t: 0.5 * (1 + math.cos(math.pi * min(t, total) / total))  # noqa: E731
    if tr_mode:
        groups = tr_param_groups(net, lr, layers)
        base = make_optimizer(opt_name, groups, lr, 0.0, r.momentum)
        eta = tr_eta if tr_eta is not None else RELATIVE_GAIN * lr / tr0 if tr0 > 0 else None
        opt = TransitionAdaptive(base, layers, tr0, momentum=tr_momentum, eta=eta)
        lr_sched = torch.optim.lr_scheduler.LambdaLR(
            base, [(lambda t: 1.0) if g["tr"] else cosine for g in base.param_groups])
        tr_sched = make_tr_scheduler(schedule[3:], opt, total)
        counter = None
    else:
        opt = base = make_optimizer(opt_name, [q for q in net.parameters() if q.requires_grad], lr, 0.0,
                                    r.momentum)
        lr_sched = torch.optim.lr_scheduler.LambdaLR(base, cosine if schedule == "lr-cosine" else (lambda t: 1.0))
        tr_sched = None
        fitted = any(m.weight_quant.fitted for _, m in layers)  # refitted tables: no fixed grid to count on
        counter = TransitionCounter(layers) if layers and not fitted else None
    gen = torch.Generator().manual_seed(int(seed) + 1000)
    batches = w.train_batches(gen, r.batch_size)
    chunk = max(1, total // 20)
    evals = sorted({0, total // 4, total // 2, (3 * total) // 4, total})
    curve = {"step": [], "train_loss": [], "eval_step": [], "calib_metric": [], "tr_mean": []}
    window, trs = [], []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, desc=f"{w.name} QAT {weights}/{acts} {schedule}", unit="step", leave=False)
    net.train()
    for step in range(total + 1):
        if step in evals:
            curve["eval_step"].append(step)
            curve["calib_metric"].append(w.evaluate(net, "calib"))
        if step == total:
            break
        x, y = next(batches)
        loss = w.loss(net(x), y)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"training diverged at step {step} of {total}: loss = {float(loss.detach())}")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if r.grad_clip:
            torch.nn.utils.clip_grad_norm_(net.parameters(), r.grad_clip)
        if not tr_mode and counter is not None:  # before the update: the codes this forward used
            rates = counter.rates()
            trs.append(sum(rates.values()) / max(1, len(rates)))
        opt.step()
        if tr_mode:
            stats = opt.last_stats
            trs.append(sum(s["tr"] for s in stats.values()) / max(1, len(stats)))
            tr_sched.step()
        lr_sched.step()
        window.append(float(loss.detach()))
        if len(window) == chunk or step + 1 == total:
            curve["step"].append(step + 1)
            curve["train_loss"].append(sum(window) / len(window))
            curve["tr_mean"].append(sum(trs) / max(1, len(trs)))
            window, trs = [], []
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    net.eval()
    metric = w.evaluate(net)
    cm = curve["calib_metric"]
    tracking = {"tr_tracking": opt.tracking(), "tr_tracked": opt.tracked(),
                "tr_history": {"R": list(opt.history["R"]), "K": {n: list(k) for n, k in opt.history["K"].items()}}
                } if tr_mode else {}
    return {"metric": metric, "model": net, "record": p.record, "curve": curve, "steps": total, **tracking,
            "finetune_lr": lr, "finetune_optimizer": opt_name,
            "weight_scale": weight_scale, "post_scale": bool(post_scale), "budget": budget,
            "last_quarter_change": (cm[-1] - cm[-2]) if len(cm) >= 2 else float("nan"),
            "seconds": time.perf_counter() - t0}
