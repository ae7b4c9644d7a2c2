"""Train a small network with quantization-aware training; the stable API of the QAT path.

>>> from sim.qat.train import TrainConfig, train
>>> res = train(TrainConfig(dataset="digits", weights="int4", acts="int4", schedule="tr-cosine"))
>>> res.test_accuracy, len(res.loss), res.traces["U"].keys()

From the command line (``--help`` lists every flag)::

    python -m sim.qat.train --weights posit4_1 --acts fp4_e2m1 --schedule tr-cosine --dataset mnist1d --seed 0

Schedules: ``lr-cosine`` / ``lr-constant`` step the base optimizer's LR (weight
and activation scales learned by LSQ); ``tr-cosine`` / ``tr-step`` /
``tr-linear`` / ``tr-constant`` wrap the optimizer in
:class:`sim.qat.tr.TransitionAdaptive` and schedule the target TR from ``tr0``
(weight scales fixed at their initial MSE-optimal value, activation scales
learned; the remaining parameters - biases, activation scales, FP32 first/last
layers - follow a cosine LR).  TR is measured under every schedule with
quantized weights, so LR runs have TR traces too: at every step, before the
update, on the codes that step's forward pass used (as TR scheduling itself
measures), so ``k_t`` compares the codes of the weights of steps ``t`` and
``t - 1`` under either schedule.
"""
from __future__ import annotations

import dataclasses
import math
import time

import torch
from torch import nn
from torch.nn import functional as F

from . import data as qdata
from . import models as qmodels
from .quant import quant_layers, quantize_model
from .scaling import GRANULARITIES
from .tr import TransitionAdaptive, TransitionCounter, make_tr_scheduler, talr_update, tr_layers, \
    tr_param_groups

from .trainconfig import OPTIMIZERS, ROUNDINGS, SCHEDULES, TrainConfig, TrainResult

__all__ = ["TrainConfig", "TrainResult", "train", "SCHEDULES", "OPTIMIZERS", "weight_bits"]


def weight_bits(model: nn.Module) -> int:
    """Bits to store ``model``'s parameters: codes + FP32 scales (+ block scales), FP32 rest.

    Per quantized layer: ``numel * bits`` of the weight format plus 32 bits per
    per-tensor/per-channel scale, or for block formats ``scale bits`` per block
    (and 32 for NVFP4's tensor scale).  Biases and unquantized layers: 32 bits a
    value.  Activation scales are not counted (they are not weights).
    """
    total = 0
    counted = set()
    for _, m in quant_layers(model):
        wq = m.weight_quant
        if wq is None:
            continue
        counted.add(id(m.weight))
        n = m.weight.numel()
        if wq.fitted:  # codes and the fitted tables / group scales and choices
            w = m.weight.detach()
            total += wq.fmt.storage_bits(tuple(wq._to_block_layout(w).shape) if wq.fmt.family == "pick" else w.shape)
        elif wq.block:
            f = wq.fmt
            nblocks = wq._to_block_layout(m.weight.detach()).numel() // int(f.block)
            total += n * f.element.bits + nblocks * f.scale_format.bits
            total += 32 if "nvfp4" in f.name else 0
            if hasattr(f, "scale_block"):  # double quantization: fp32 per group of scales, fp32 offset
                total += 32 * (-(-nblocks // int(f.scale_block))) + 32
        else:
            total += n * wq.fmt.bits + 32 * max(1, wq.scale.value.numel())
    for p in model.parameters():
        if id(p) in counted or _is_scale_param(model, p):
            continue
        total += 32 * p.numel()
    return int(total)


def _is_scale_param(model, p) -> bool:
    for _, m in quant_layers(model):
        for q in (m.weight_quant, m.act_quant):
            if q is not None and q.scale is not None and q.scale.value is p:
                return True
    return False


def _batches(n, batch_size, gen):
    perm = torch.randperm(n, generator=gen)
    for i in range(0, n, batch_size):
        yield perm[i:i + batch_size]


def _base_optimizer(cfg, groups):
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)


class _TRWatcher:
    """Measures TR and the running K of every quantized layer under LR scheduling."""

    def __init__(self, layers, momentum):
        self.counter, self.m = TransitionCounter(layers), momentum
        self.K = {n: 0.0 for n, _ in layers}

    def measure(self, lr):
        stats = {}
        for n, k in self.counter.rates().items():
            self.K[n], _ = talr_update(0.0, self.K[n], k, 0.0, self.m, 0.0)
            stats[n] = {"tr": k, "K": self.K[n], "U": lr}
        return stats


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1024) -> float:
    """Accuracy of ``model`` on ``(x, y)`` in eval mode."""
    was = model.training
    model.eval()
    correct = 0
    for i in range(0, len(x), batch_size):
        correct += int((model(x[i:i + batch_size]).argmax(1) == y[i:i + batch_size]).sum())
    model.train(was)
    return correct / max(1, len(x))


def train(cfg: TrainConfig, progress: bool = False) -> TrainResult:
    """Run ``cfg``; returns a :class:`TrainResult`.  Same config, same result (on one device)."""
    if not isinstance(cfg, TrainConfig):
        raise TypeError(f"train() takes a TrainConfig, got {type(cfg).__name__}")
    t0 = time.perf_counter()
    dev = torch.device(cfg.device)
    ds = qdata.load(cfg.dataset)
    xtr, ytr = ds.x_train.to(dev), ds.y_train.to(dev)
    xte, yte = ds.x_test.to(dev), ds.y_test.to(dev)
    torch.manual_seed(cfg.seed)
    net = qmodels.build(cfg.model, ds.input_shape, ds.n_classes).to(dev)
    n_params = sum(p.numel() for p in net.parameters())
    macs = qmodels.count_macs(net, ds.input_shape)
    tr_mode = cfg.schedule.startswith("tr-")
    if cfg.weights is not None or cfg.acts is not None:
        net = quantize_model(net, cfg.weights, cfg.acts, rounding=cfg.rounding,
                             granularity=cfg.granularity,
                             quantize_first_last=cfg.quantize_first_last,
                             weight_scale="fixed" if tr_mode else "lsq", pow2=cfg.pow2_scales,
                             seed=cfg.seed, inplace=True)
    gen = torch.Generator().manual_seed(cfg.seed)
    steps_per_epoch = math.ceil(len(xtr) / cfg.batch_size)
    total = cfg.epochs * steps_per_epoch
    if cfg.max_steps is not None:
        total = min(total, cfg.max_steps)
    # activation scales start from the first batch, before the optimizer sees the parameters
    first = torch.randperm(len(xtr), generator=torch.Generator().manual_seed(cfg.seed + 1))[:cfg.batch_size]
    with torch.no_grad():
        net.train()
        net(xtr[first.to(dev)])

    layers = tr_layers(net)
    if tr_mode and not layers:
        raise ValueError(f"schedule {cfg.schedule!r} needs quantized weights, but no layer has any "
                         f"(weights={cfg.weights!r}, quantize_first_last={cfg.quantize_first_last})")
    cosine = lambda t: 0.5 * (1 + math.cos(math.pi * min(t, total) / total))  # noqa: E731
    if tr_mode:
        base = _base_optimizer(cfg, tr_param_groups(net, cfg.lr, layers))
        opt = TransitionAdaptive(base, layers, cfg.tr0, momentum=cfg.tr_momentum, eta=cfg.eta)
        lambdas = [(lambda t: 1.0) if g["tr"] else cosine for g in base.param_groups]
        lr_sched = torch.optim.lr_scheduler.LambdaLR(base, lambdas)
        tr_sched = make_tr_scheduler(cfg.schedule[3:], opt, total)
        watcher = None
    else:
        opt = base = _base_optimizer(cfg, [p for p in net.parameters() if p.requires_grad])
        lr_sched = torch.optim.lr_scheduler.LambdaLR(
            base, cosine if cfg.schedule == "lr-cosine" else (lambda t: 1.0))
        tr_sched = None
        watcher = _TRWatcher(layers, cfg.tr_momentum) if layers else None

    names = [n for n, _ in layers]
    traces = {"lr": [], "target": [], "tr": {n: [] for n in names}, "K": {n: [] for n in names},
              "U": {n: [] for n in names}}
    losses = []
    step = 0
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, desc=f"{cfg.weights or 'fp32'}/{cfg.acts or 'fp32'} {cfg.schedule}",
                   unit="step", leave=False)
    net.train()
    while step < total:
        for idx in _batches(len(xtr), cfg.batch_size, gen):
            if step >= total:
                break
            idx = idx.to(dev)
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(net(xtr[idx]), ytr[idx])
            loss.backward()
            lr_now = base.param_groups[-1]["lr"]
            if not tr_mode:  # before the update, as TR's own step measures: the codes this forward used
                stats = watcher.measure(lr_now) if watcher is not None else {}
            opt.step()
            if tr_mode:
                stats = opt.last_stats
                traces["target"].append(opt.target)
                tr_sched.step()
            lr_sched.step()
            traces["lr"].append(float(lr_now))
            for n, s in stats.items():
                for key in ("tr", "K", "U"):
                    traces[key][n].append(float(s[key]))
            losses.append(float(loss.detach()))
            step += 1
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    acc = evaluate(net, xte, yte)
    res = TrainResult(cfg, acc, losses, traces, int(n_params), int(macs), weight_bits(net),
                      time.perf_counter() - t0, step)
    res.model = net  # the trained model (not part of the stable fields)
    return res


def _format_arg(v: str):
    return None if v.strip().lower() in ("none", "fp32", "float32") else v


def build_parser():
    import argparse

    d = TrainConfig()
    p = argparse.ArgumentParser(
        prog="python -m sim.qat.train",
        description="Quantization-aware training of a small network on a project number format, "
                    "with LR or transition-rate (TR) scheduling.")
    p.add_argument("--dataset", default=d.dataset, choices=qdata.DATASETS)
    p.add_argument("--model", default=d.model, choices=qmodels.MODELS)
    p.add_argument("--weights", default=None, type=_format_arg,
                   help="weight format name from formats (e.g. int4, fp4_e2m1, posit4_1, mxfp4); fp32 or none = FP32")
    p.add_argument("--acts", default=None, type=_format_arg, help="activation format name; fp32 or none = FP32")
    p.add_argument("--rounding", default=d.rounding, choices=ROUNDINGS)
    p.add_argument("--granularity", default=d.granularity, choices=GRANULARITIES)
    p.add_argument("--schedule", default=d.schedule, choices=SCHEDULES)
    p.add_argument("--optimizer", default=d.optimizer, choices=OPTIMIZERS)
    p.add_argument("--lr", default=d.lr, type=float, help="base learning rate (U_0 under TR scheduling)")
    p.add_argument("--tr0", default=d.tr0, type=float, help="initial target transition rate R_0")
    p.add_argument("--epochs", default=d.epochs, type=int)
    p.add_argument("--batch-size", default=d.batch_size, type=int)
    p.add_argument("--seed", default=d.seed, type=int)
    p.add_argument("--quantize-first-last", default=True, action=argparse.BooleanOptionalAction,
                   help="quantize the first and last layer too")
    p.add_argument("--device", default=d.device, help="cpu, cuda or cuda:N")
    p.add_argument("--momentum", default=d.momentum, type=float, help="SGD momentum")
    p.add_argument("--weight-decay", default=d.weight_decay, type=float)
    p.add_argument("--tr-momentum", default=d.tr_momentum, type=float, help="m of the running TR K_t")
    p.add_argument("--eta", default=None, type=float, help="TALR step eta (default: the LR)")
    p.add_argument("--pow2-scales", action="store_true", help="round quantizer scales to powers of two")
    p.add_argument("--max-steps", default=None, type=int, help="stop after this many steps")
    p.add_argument("--json", default=None, metavar="PATH", help="also write the result (with traces) as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def main(argv=None) -> int:
    """Command-line entry point: exit 0 on success, 2 on bad usage, 1 on failure."""
    import json
    import sys

    p = build_parser()
    a = p.parse_args(argv)
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    kw = {k: v for k, v in vars(a).items() if k in fields}
    try:
        cfg = TrainConfig(**kw)
    except (ValueError, KeyError) as err:
        msg = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
        print(f"error: {msg}", file=sys.stderr)
        return 2
    try:
        res = train(cfg, progress=not a.quiet)
    except Exception as err:  # noqa: BLE001 - one clear sentence, exit status 1
        print(f"error: training failed: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    if a.json:
        out = {k: v for k, v in dataclasses.asdict(res).items()}
        with open(a.json, "w") as fh:
            json.dump(out, fh)
    print(res.summary() + (f"; result written to {a.json}" if a.json else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
