"""``evaluate(run) -> metrics``: one QAT training run, a pure function of its config.

A *run* (see :mod:`dse.space`) is a design point's training keys plus a seed.
:func:`evaluate` trains it with the QAT path (``sim.qat.train``) and returns plain
JSON-able metrics: test accuracy, final loss, parameter and MAC counts, the
model's size in bits (the QAT path's ``weight_bits``: codes, scales, biases and
FP32 layers) and each layer's input size (which :mod:`dse.results` turns into
activation traffic).  Torch runs single-threaded inside it, so that a run gives
the same numbers wherever an executor places it.

:func:`safe_call` is what executors run: it never raises, and turns an exception
into an error record.  :func:`code_version` is the hash of the source that a
run's result depends on (formats/, sim/qat/, this file); it is part of every cache
key, so editing that code invalidates old results.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import time
import traceback
from pathlib import Path

__all__ = ["evaluate", "safe_call", "code_version", "check_runs", "train_kwargs", "layer_inputs"]


def train_kwargs(run: dict) -> dict:
    """The keyword arguments of ``sim.qat.train.TrainConfig`` for ``run``."""
    kw = dict(run)
    for key in ("weights", "acts"):
        if kw.get(key) == "fp32":
            kw[key] = None
    kw["device"] = "cpu"
    return kw


@contextlib.contextmanager
def _single_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def check_runs(runs) -> None:
    """Build the QAT path's TrainConfig of every run, so that a bad combination of
    keys (``tr-cosine`` with FP32 weights, ``per-block`` scales on a scalar format)
    is reported before any work starts.  Raises dse.config.ConfigError."""
    from sim.qat.train import TrainConfig

    from .config import ConfigError

    for run in runs:
        try:
            TrainConfig(**train_kwargs(run))
        except (ValueError, KeyError, TypeError) as err:
            what = ", ".join(f"{k}={run[k]}" for k in ("weights", "acts", "rounding", "schedule", "granularity"))
            raise ConfigError(f"design point ({what}) is not valid: {err.args[0] if err.args else err}") from None


def layer_inputs(model: str, dataset: str) -> list[int]:
    """Input elements of every Linear/Conv2d layer for one inference, in forward order.

    Built from ``sim.qat.models`` on the data set's input shape (batch of 1).
    """
    import torch
    from torch import nn

    from sim.qat import data, models

    ds = data.load(dataset)
    net = models.build(model, ds.input_shape, ds.n_classes)
    sizes = []
    handles = [m.register_forward_hook(lambda mod, inp, out: sizes.append(int(inp[0].numel())))
               for m in net.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    try:
        net.eval()
        with torch.no_grad():
            net(torch.zeros((1, *ds.input_shape)))
    finally:
        for h in handles:
            h.remove()
    return sizes


def _field(res, name, default=None):
    if isinstance(res, dict):
        return res.get(name, default)
    return getattr(res, name, default)


def _final(value):
    """The last value of a loss curve (or the value itself)."""
    try:
        seq = list(value)
    except TypeError:
        return float(value) if value is not None else float("nan")
    return float(seq[-1]) if seq else float("nan")


def evaluate(run: dict) -> dict:
    """Train ``run`` with the QAT path and return its metrics (a dict of plain values)."""
    from sim.qat.train import TrainConfig, train

    cfg = TrainConfig(**train_kwargs(run))
    with _single_thread():
        res = train(cfg)
        act_elements = layer_inputs(run["model"], run["dataset"])
    return {
        "accuracy": float(_field(res, "test_accuracy")),
        "loss": _final(_field(res, "loss")),
        "n_params": int(_field(res, "n_params")),
        "macs_per_inference": int(_field(res, "macs_per_inference")),
        "model_bits": int(_field(res, "weight_bits")),
        "train_seconds": float(_field(res, "seconds", float("nan"))),
        "act_elements": act_elements,
    }


def safe_call(fn, run: dict) -> dict:
    """Run ``fn(run)`` and return a record: ``status`` ok with ``metrics``, or error with ``error``."""
    t0 = time.perf_counter()
    try:
        metrics = fn(run)
    except Exception as err:  # a failed point is recorded, and the sweep goes on
        return {
            "status": "error",
            "error": f"{type(err).__name__}: {err}",
            "traceback": traceback.format_exc(limit=8),
            "seconds": time.perf_counter() - t0,
        }
    return {"status": "ok", "metrics": metrics, "seconds": time.perf_counter() - t0}


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """Hash of the source a run's result depends on: formats/, sim/qat/ and this file."""
    import importlib.util

    roots = []
    for name in ("formats", "sim.qat"):
        spec = importlib.util.find_spec(name)
        roots += [Path(p) for p in (spec.submodule_search_locations or [])] if spec else []
    files = sorted(f for r in roots for f in r.rglob("*.py")) + [Path(__file__)]
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]
