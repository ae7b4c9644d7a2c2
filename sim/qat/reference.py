"""Converged FP32 references: trained once per (workload, seed), cached, reused by every point.

:func:`get` returns the FP32 reference of a workload and seed, looking in order at

1. this process's memory (a second point of the same seed in one worker loads nothing);
2. the checkpoints shipped with the project, ``sim/qat/references/`` (made by this
   module's command, see below), when their recorded key matches;
3. the cache, ``<cache dir>/references/`` (``$NUMFMT_CACHE_DIR``, see
   :func:`sim.qat.data.cache_dir`), written atomically (temp file, then rename);
4. training it with the workload's :class:`~sim.qat.workloads.Recipe` (then caching it).

The key is a hash of the workload's name, architecture, data identity (for
``pytext`` the corpus checksum), recipe and seed.  Weights are stored as float16
(small files) and the reference *is* the stored model: its metric is measured
after the float16 rounding, whichever of the four places it came from, so a
freshly trained reference and a loaded one are the same model.

Every checkpoint records its key, metric, learning curve, training time, the code
version (a hash of the sim/qat files it depends on), the torch and Python versions
and the data identity.

Command line (``--help``)::

    python -m sim.qat.reference --workload digits/mlp --seeds 0,1,2           # into the cache
    python -m sim.qat.reference --workload pytext/tinylm --seeds 0,1,2 --ship --rebuild
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
import os
import pathlib
import pickle
import platform
import tempfile
import time

import torch

from . import workloads as W

__all__ = ["Reference", "get", "key", "train_reference", "make_optimizer", "SHIPPED_DIR", "DEFAULTS", "code_version",
           "ship", "cache_path"]

SHIPPED_DIR = pathlib.Path(__file__).with_name("references")
_DEPENDS = ("workloads.py", "reference.py", "models.py", "tinylm.py", "data.py", "corpus.py")
_MEMO: dict = {}
#: the shipped checkpoints: (dataset, model) -> seeds (a test checks that each matches its workload)
DEFAULTS = {("digits", "mlp"): (0, 1, 2), ("mnist1d", "cnn"): (0, 1, 2), ("pytext", "tinylm"): (0, 1, 2)}


@dataclasses.dataclass
class Reference:
    """An FP32 reference: its weights, metric and record; ``source`` says where it came from."""

    workload: str
    seed: int
    state: dict          # float32 tensors (float16-rounded values)
    info: dict           # key, metric, curve, seconds, versions, identity, recipe
    source: str          # memory | shipped | cache | trained

    @property
    def metric(self) -> float:
        return float(self.info["metric"])

    def model(self, w: W.Workload) -> torch.nn.Module:
        """A fresh FP32 model holding the reference's weights (train mode)."""
        net = w.build()
        net.load_state_dict(self.state)
        return net


def code_version() -> str:
    """Hash of the sim/qat source files a reference depends on."""
    h = hashlib.sha256()
    for name in _DEPENDS:
        h.update(name.encode() + (pathlib.Path(__file__).with_name(name)).read_bytes())
    return h.hexdigest()[:16]


def key(w: W.Workload, seed: int) -> str:
    """The reference's cache key: workload, architecture, data identity, recipe, seed."""
    spec = {"workload": w.name, "arch": w.arch(), "data": W.identity(w), "recipe": w.recipe.to_dict(),
            "seed": int(seed), "stored": "float16"}
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:16]


def make_optimizer(name, params, lr, weight_decay=0.0, momentum=0.9):
    """``sgd`` (momentum), ``adam`` or ``adamw`` over ``params`` (a list or param groups)."""
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; allowed: sgd, adam, adamw")


def warmup_cosine(warmup: int, total: int):
    """LR multiplier: linear warm-up over ``warmup`` steps, then cosine to 0 at ``total``."""
    def f(t):
        if t < warmup:
            return (t + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * min(t - warmup, total - warmup) / max(1, total - warmup)))

    return f


def _fp16_round(state: dict) -> dict:
    return {k: (v.to(torch.float16).to(torch.float32) if v.is_floating_point() else v.clone())
            for k, v in state.items()}


def train_reference(w: W.Workload, seed: int, progress: bool = False, curve_points: int = 8) -> Reference:
    """Train ``w``'s FP32 model with its recipe from ``seed`` (deterministic on one machine)."""
    r = w.recipe
    t0 = time.perf_counter()
    torch.manual_seed(seed)
    net = w.build()
    decay = [p for n, p in net.named_parameters() if p.dim() >= 2 and "emb" not in n]
    rest = [p for n, p in net.named_parameters() if not (p.dim() >= 2 and "emb" not in n)]
    opt = make_optimizer(r.optimizer, [{"params": decay, "weight_decay": r.weight_decay},
                                       {"params": rest, "weight_decay": 0.0}], r.lr, r.weight_decay, r.momentum)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_cosine(r.warmup, r.steps))
    gen = torch.Generator().manual_seed(seed)
    batches = w.train_batches(gen, r.batch_size)
    every = max(1, r.steps // curve_points)
    curve, window = [], []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=r.steps, desc=f"{w.name} seed {seed} FP32", unit="step", leave=False)
    net.train()
    for step in range(r.steps):
        x, y = next(batches)
        loss = w.loss(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if r.grad_clip:
            torch.nn.utils.clip_grad_norm_(net.parameters(), r.grad_clip)
        opt.step()
        sched.step()
        window.append(float(loss.detach()))
        if (step + 1) % every == 0 or step + 1 == r.steps:
            curve.append({"step": step + 1, "train_loss": sum(window) / len(window),
                          "metric": w.evaluate(net, "calib")})
            window = []
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    state = _fp16_round(net.state_dict())
    net.load_state_dict(state)
    metric = w.evaluate(net)
    info = {"key": key(w, seed), "workload": w.name, "seed": int(seed), "metric": metric,
            "metric_name": w.metric_name, "higher_is_better": w.higher_is_better, "eval_split": w.eval_split,
            "curve": curve, "curve_metric_split": "calib", "train_seconds": time.perf_counter() - t0,
            "torch_threads": torch.get_num_threads(), "recipe": w.recipe.to_dict(), "arch": w.arch(),
            "identity": W.identity(w), "code_version": code_version(), "torch": str(torch.__version__),
            "python": platform.python_version(), "stored": "float16"}
    return Reference(w.name, int(seed), state, info, "trained")


def pretrained_reference(w: W.Workload, seed: int) -> Reference:
    """The reference of a workload that brings its own FP32 weights (``w.pretrained``: a
    ``state_dict`` saved with ``torch.save``, or a dict holding one under ``state_dict``),
    stored as every reference is (float16-rounded); the same weights for every seed."""
    t0 = time.perf_counter()
    try:
        state = torch.load(w.pretrained, map_location="cpu", weights_only=True)
    except Exception as err:
        raise ValueError(f"workload {w.name}: cannot read pretrained weights {w.pretrained}: {err}") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    net = w.build()
    try:
        net.load_state_dict(state)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"workload {w.name}: pretrained weights {w.pretrained} do not fit build(): {err}") from None
    state = _fp16_round(net.state_dict())
    net.load_state_dict(state)
    metric = w.evaluate(net)
    info = {"key": key(w, seed), "workload": w.name, "seed": int(seed), "metric": metric,
            "metric_name": w.metric_name, "higher_is_better": w.higher_is_better, "eval_split": w.eval_split,
            "curve": [], "train_seconds": time.perf_counter() - t0, "pretrained": str(w.pretrained),
            "recipe": w.recipe.to_dict(), "arch": w.arch(), "identity": W.identity(w), "code_version": code_version(),
            "torch": str(torch.__version__), "python": platform.python_version(), "stored": "float16"}
    return Reference(w.name, int(seed), state, info, "pretrained")


def _file_name(w, seed):
    return f"{w.dataset}-{w.model}-seed{int(seed)}.pt"


def _save(ref: Reference, path: pathlib.Path) -> None:
    buf = io.BytesIO()
    half = {k: (v.to(torch.float16) if v.is_floating_point() else v) for k, v in ref.state.items()}
    torch.save({"state": half, "info": json.dumps(ref.info, sort_keys=True)}, buf)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".pt.tmp")
    os.chmod(tmp, 0o644)
    with os.fdopen(fd, "wb") as fh:  # write then rename: concurrent workers never see half a file
        fh.write(buf.getvalue())
    os.replace(tmp, path)


def _load(path: pathlib.Path, want_key: str):
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        info = json.loads(blob["info"])
    except (OSError, RuntimeError, EOFError, ValueError, KeyError, TypeError, pickle.UnpicklingError):
        return None  # unreadable: trained again and rewritten
    if info.get("key") != want_key:
        return None
    state = {k: (v.to(torch.float32) if v.is_floating_point() else v) for k, v in blob["state"].items()}
    return state, info


def cache_path(w: W.Workload, seed: int) -> pathlib.Path:
    from .data import cache_dir

    return cache_dir() / "references" / f"{w.dataset}-{w.model}-seed{int(seed)}-{key(w, seed)}.pt"


def get(w: W.Workload, seed: int, rebuild: bool = False, progress: bool = False,
        shipped_dir: pathlib.Path | None = None) -> Reference:
    """The FP32 reference of ``w`` for ``seed`` (memory, shipped, cache, or trained and cached)."""
    k = key(w, seed)
    if not rebuild and (k, w.name) in _MEMO:
        ref = _MEMO[(k, w.name)]
        return Reference(ref.workload, ref.seed, ref.state, ref.info, "memory")
    found = None
    if not rebuild:
        for source, path in (("shipped", (shipped_dir or SHIPPED_DIR) / _file_name(w, seed)),
                             ("cache", cache_path(w, seed))):
            if path.exists() and (got := _load(path, k)) is not None:
                found = Reference(w.name, int(seed), got[0], got[1], source)
                break
    if found is None and getattr(w, "pretrained", None):
        found = pretrained_reference(w, seed)
    elif found is None:
        found = train_reference(w, seed, progress=progress)
        _save(found, cache_path(w, seed))
    _MEMO[(k, w.name)] = found
    return found


def ship(ref: Reference, w: W.Workload, shipped_dir: pathlib.Path | None = None) -> pathlib.Path:
    """Write ``ref`` into the shipped folder (what ``--ship`` does)."""
    path = (shipped_dir or SHIPPED_DIR) / _file_name(w, ref.seed)
    _save(ref, path)
    return path


def main(argv=None) -> int:
    """Command line: exit 0 on success, 2 on bad usage, 1 on failure."""
    import argparse
    import sys

    p = argparse.ArgumentParser(prog="python -m sim.qat.reference",
                                description="Train (or load) the converged FP32 reference of a workload per seed.")
    p.add_argument("--workload", required=True, help=f"dataset/model, one of: {', '.join(W.names())}")
    p.add_argument("--seeds", default="0", help="comma-separated seeds (default 0)")
    p.add_argument("--rebuild", action="store_true", help="train even if a shipped or cached checkpoint matches")
    p.add_argument("--ship", action="store_true", help=f"also write the checkpoints into {SHIPPED_DIR}")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    a = p.parse_args(argv)
    try:
        dataset, model = a.workload.split("/")
        w = W.get(dataset, model)
        seeds = [int(s) for s in a.seeds.split(",")]
        if any(s < 0 for s in seeds):
            raise ValueError(f"seeds must be integers >= 0, got {a.seeds!r}")
    except ValueError as err:
        print(f"error: {err if 'workload' in str(err) or 'seed' in str(err) else f'bad --workload or --seeds: {err}'}",
              file=sys.stderr)
        return 2
    if a.threads:
        torch.set_num_threads(a.threads)
    try:
        for s in seeds:
            ref = get(w, s, rebuild=a.rebuild, progress=True)
            where = ship(ref, w) if a.ship else cache_path(w, s)
            print(f"{w.name} seed {s}: {w.metric_name} {ref.metric:.4f} ({ref.source}, "
                  f"{ref.info['train_seconds']:.1f} s to train); {where}")
    except Exception as err:  # noqa: BLE001 - one clear sentence, exit status 1
        print(f"error: reference training failed: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
