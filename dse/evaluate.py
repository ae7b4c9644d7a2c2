"""``evaluate(run) -> metrics``: the accuracy side of one design point, a pure function of its run.

The contract with the sweep (``dse.sweep`` calls :func:`evaluate` through :func:`safe_call`):

Run keys
    ``method``      ``"ptq"`` | ``"qat"`` (absent: the legacy path, a QAT training from
                    scratch with ``sim.qat.train``; kept for old configs)
    ``dataset``, ``model``  together name the workload (:mod:`sim.qat.workloads`:
                    ``digits/mlp``, ``mnist1d/cnn``, ``pytext/tinylm``, ...)
    ``weights``     a format name, or ``"fp32"``
    ``acts``        a format name, or ``"fp32"`` (``"same"`` is resolved by the sweep)
    ``seed``        the seed of the workload's FP32 reference (and of the method)
    ``rounding``, ``granularity``, ``quantize_first_last``  as in ``sim.qat``
    ``schedule``, ``tr0``   QAT only (``lr-*`` or ``tr-*`` from the reference)
    optional: ``budget`` (QAT steps as a fraction of the reference's, default the
    workload recipe's), ``finetune_lr`` (default the recipe's), ``unsigned_acts``
    (``"auto"`` default | ``"off"``), ``rotation`` (``"none"`` default | ``"hadamard"`` |
    ``"hadamard:B"``: :mod:`sim.qat.rotation`), ``scale_rule`` (``"format"`` default, or
    a scale rule applied to the block formats: :func:`dse.space.with_rule`).  A key that is absent, None (does not apply to
    the point) or ``"recipe"`` takes its default.  ``epochs``, ``batch_size``, ``optimizer`` and
    ``lr`` set only the legacy path (the reference and QAT use the workload's tuned
    recipe).  ``schedule``/``tr0``/``budget`` do not change a ``ptq`` result.
    ``weights = acts = "fp32"`` is the reference row: it returns the FP32 reference
    itself (same numbers for both methods).

Metrics (plain JSON values)
    ``metric``, ``metric_name`` (``"accuracy"`` | ``"bits_per_byte"``), ``higher_is_better``;
    ``accuracy`` for classification workloads (``bits_per_byte`` for language models);
    ``reference_metric`` (the FP32 reference of the same seed: the paired difference is
    ``metric - reference_metric``), ``n_params``, ``macs_per_inference``, ``model_bits``
    (codes, scales, FP32 biases and layers), ``act_elements`` (input elements of every
    quantizable layer per inference, forward order), ``act_formats`` (the format of each
    quantized layer input: unsigned variants after ReLUs), ``acts_unsigned``,
    ``fp32_layers``, ``fp32_tensors``, ``workload`` and the workload's identity
    (``corpus_sha256``, ``corpus_files``, ``python`` for ``pytext``), ``loss`` (QAT's
    final training loss; NaN otherwise), ``train_seconds``, and for QAT the learning
    ``curve``, ``steps`` and ``last_quarter_change``.

Torch runs single-threaded inside it, so that a run gives the same numbers wherever
an executor places it.  The FP32 reference comes from ``sim.qat.reference`` (shipped
checkpoint, cache, or trained once per workload and seed).

:func:`safe_call` is what executors run: it never raises, and turns an exception
into an error record.  :func:`code_version` is the hash of the source that a
run's result depends on (formats/, sim/qat/ with its shipped references, this
file); it is part of every cache key, so editing that code invalidates old results.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import time
import traceback
from pathlib import Path

__all__ = ["evaluate", "safe_call", "code_version", "check_runs", "train_kwargs", "layer_inputs", "METHODS",
           "OPTIONAL_KEYS"]


def train_kwargs(run: dict) -> dict:
    """The keyword arguments of ``sim.qat.train.TrainConfig`` for ``run``."""
    kw = dict(run)
    for key in ("weights", "acts"):
        if kw.get(key) == "fp32":
            kw[key] = None
    for key, plain in (("rotation", "none"), ("scale_rule", "format")):
        if kw.pop(key, None) not in (None, plain):
            raise ValueError(f"{key} = {run[key]!r} needs method = \"ptq\" or \"qat\" (the legacy path has no {key})")
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


METHODS = ("ptq", "qat")
#: run keys of the ptq/qat methods that are optional (with their defaults)
OPTIONAL_KEYS = {"budget": None, "finetune_lr": None, "unsigned_acts": "auto", "rotation": "none",
                 "scale_rule": "format"}


def _fmt(v):
    return None if v in (None, "fp32") else v


def _opt(run: dict, key: str, default):
    """``run[key]``, or ``default`` where it is absent, None (a key that does not apply to the
    point, as dse.space writes it) or ``"recipe"`` (the workload's tuned value)."""
    v = run.get(key)
    return default if v is None or (isinstance(v, str) and v == "recipe") else v


def check_runs(runs) -> None:
    """Check every run before any work starts, so that a bad combination of keys is
    reported at once: for the legacy path (no ``method``) by building sim.qat's
    TrainConfig (``tr-cosine`` with FP32 weights, ``per-block`` scales on a scalar
    format); for ``ptq``/``qat`` the workload, formats, granularity, schedule and the
    optional keys.  Raises dse.config.ConfigError."""
    from .config import ConfigError

    for run in runs:
        try:
            if run.get("method") is None:
                from sim.qat.train import TrainConfig

                TrainConfig(**train_kwargs(run))
            else:
                _check_method_run(run)
        except (ValueError, KeyError, TypeError) as err:
            what = ", ".join(f"{k}={run[k]}" for k in ("method", "dataset", "model", "weights", "acts", "rounding",
                                                       "schedule", "granularity") if k in run)
            raise ConfigError(f"design point ({what}) is not valid: {err.args[0] if err.args else err}") from None


def _formats_of(run: dict):
    """(weights, acts) format names the run quantizes with (None: FP32), its scale rule applied."""
    from .space import with_rule

    rule = _opt(run, "scale_rule", "format")
    return tuple(with_rule(_fmt(run.get(k)), rule) for k in ("weights", "acts"))


def _check_method_run(run: dict) -> None:
    import formats
    from sim.qat import finetune, workloads
    from sim.qat.ptq import UNSIGNED_ACTS
    from sim.qat.quant import is_block_format
    from sim.qat.quantizer import check_act_format, is_fitted_format
    from sim.qat.rotation import parse_rotation
    from sim.qat.scaling import GRANULARITIES

    if run["method"] not in METHODS:
        raise ValueError(f"method = {run['method']!r} is not allowed; allowed: {', '.join(METHODS)}")
    workloads.get(run["dataset"], run["model"])
    parse_rotation(_opt(run, "rotation", "none"))
    w, a = _formats_of(run)
    check_act_format(a)
    if w is not None and is_fitted_format(w):
        if formats.parse_rounding(_opt(run, "rounding", "rne")) != formats.Rounding.RNE:
            raise ValueError(f"weights {w!r} are fitted to each tensor and round to nearest only: use rounding rne")
        if run["method"] == "qat" and str(_opt(run, "schedule", "lr-cosine")).startswith("tr-"):
            raise ValueError(f"weights {w!r} refit their tables at every step: TR (tr-* schedules) has no fixed "
                             "grid to count transitions on; use an lr-* schedule")
    for v in (w, a):
        if v is not None:
            formats.get(v)
    formats.parse_rounding(_opt(run, "rounding", "rne"))
    gran = _opt(run, "granularity", "per-channel")
    if gran not in GRANULARITIES:
        raise ValueError(f"granularity = {gran!r} is not allowed; allowed: {', '.join(GRANULARITIES)}")
    if w is not None and (gran == "per-block") != is_block_format(formats.get(w)):
        raise ValueError(f"granularity = {gran!r} does not fit weights {w!r}: use per-block for block formats "
                         f"(MX, NVFP4) and per-tensor or per-channel for scalar ones")
    if _opt(run, "unsigned_acts", "auto") not in UNSIGNED_ACTS:
        raise ValueError(f"unsigned_acts = {run['unsigned_acts']!r} is not allowed; allowed: {', '.join(UNSIGNED_ACTS)}")
    if run["method"] == "qat":
        sched = _opt(run, "schedule", "lr-cosine")
        if sched not in finetune.SCHEDULES:
            raise ValueError(f"schedule = {sched!r} is not allowed; allowed: {', '.join(finetune.SCHEDULES)}")
        if sched.startswith("tr-") and w is None and a is not None:
            raise ValueError(f"schedule {sched!r} needs quantized weights (TR scheduling counts weight codes)")
        b = _opt(run, "budget", None)
        if b is not None and (isinstance(b, bool) or not isinstance(b, (int, float)) or not 0 < b <= 1):
            raise ValueError(f"budget = {b!r} must be a fraction of the reference's steps in (0, 1]")


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
    """The metrics of ``run`` (a dict of plain values); see the module doc for the contract."""
    if run.get("method") is None:
        return _legacy(run)
    _check_method_run(run)
    with _single_thread():
        return _method(run)


def _legacy(run: dict) -> dict:
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


def _method(run: dict) -> dict:
    import time

    from sim.qat import finetune, ptq, reference, workloads
    from sim.qat.train import weight_bits

    t0 = time.perf_counter()
    wl = workloads.get(run["dataset"], run["model"])
    seed = int(run["seed"])
    ref = reference.get(wl, seed)
    weights, acts = _formats_of(run)
    opt = {k: _opt(run, k, d) for k, d in OPTIONAL_KEYS.items()}
    common = dict(rounding=_opt(run, "rounding", "rne"), granularity=_opt(run, "granularity", "per-channel"),
                  quantize_first_last=bool(_opt(run, "quantize_first_last", True)),
                  unsigned_acts=opt["unsigned_acts"], seed=seed, rotation=opt["rotation"])
    extra = {"loss": float("nan")}
    if weights is None and acts is None:
        net, metric, record = ref.model(wl), ref.metric, {"weight_layers": [], "fp32_layers": [],
                                                          "act_formats": {}, "acts_unsigned": [],
                                                          "fp32_tensors": "everything (FP32 reference)"}
        net.eval()
    elif run["method"] == "ptq":
        res = ptq.ptq(wl, ref, weights=weights, acts=acts, **common)
        net, metric, record = res["model"], res["metric"], res["record"]
    else:
        res = finetune.qat(wl, ref, weights, acts, schedule=_opt(run, "schedule", "lr-cosine"),
                           tr0=float(_opt(run, "tr0", 0.01)), budget=opt["budget"], lr=opt["finetune_lr"], **common)
        net, metric, record = res["model"], res["metric"], res["record"]
        extra = {"loss": res["curve"]["train_loss"][-1], "curve": res["curve"], "steps": res["steps"],
                 "budget": res["budget"], "finetune_lr": res["finetune_lr"],
                 "finetune_optimizer": res["finetune_optimizer"], "last_quarter_change": res["last_quarter_change"]}
        if "tr_tracking" in res:  # TR runs: did the controller track its target? (sim.qat.tr.tracking_error)
            extra.update(tr_tracking=res["tr_tracking"], tr_tracked=res["tr_tracked"])
    macs, act_elements = ptq.layer_costs(wl)
    out = {
        "metric": float(metric),
        "metric_name": wl.metric_name,
        "higher_is_better": bool(wl.higher_is_better),
        wl.metric_name: float(metric),
        "reference_metric": float(ref.metric),
        "reference_key": ref.info["key"],
        "reference_source": ref.source,
        "workload": wl.name,
        **workloads.identity(wl),
        "n_params": int(sum(p.numel() for p in ref.model(wl).parameters())),
        "macs_per_inference": int(macs),
        "model_bits": int(weight_bits(net)),
        "act_elements": act_elements,
        "train_seconds": time.perf_counter() - t0,
        "quantized_with": {"weights": weights or "fp32", "acts": acts or "fp32"},
        **record,
        **extra,
    }
    return out


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
    """Hash of the source a run's result depends on: formats/, sim/qat/ (with its shipped
    reference checkpoints) and this file."""
    import importlib.util

    roots = []
    for name in ("formats", "sim.qat"):
        spec = importlib.util.find_spec(name)
        roots += [Path(p) for p in (spec.submodule_search_locations or [])] if spec else []
    files = sorted(f for r in roots for f in [*r.rglob("*.py"), *r.rglob("references/*.pt")]) + [Path(__file__)]
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]
