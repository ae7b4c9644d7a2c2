"""Workloads of your own, named by import path: ``"mypkg.workloads:resnet_tiny"`` or
``"path/to/file.py:make"``.

The name after the colon is a :class:`~sim.qat.workloads.Workload` object of the module, or
a function (called without arguments) that returns one.  Subclassing ``Workload`` gives the
defaults of ``loss``, ``quantizable``, ``edge_layers`` and ``fp32_tensors``; a duck-typed
object must have every attribute and method of the protocol (:data:`REQUIRED`).  An optional
``pretrained`` attribute (a path to an FP32 ``state_dict`` saved with ``torch.save``)
replaces the training of the FP32 reference (:func:`sim.qat.reference.get`).

Identity: a file path is made absolute (:func:`canonical`), and the sweep names the
workload ``<spec>@<hash>``, the hash covering the source file of the workload's module and
the pretrained weights (:func:`spec_id`), so editing the file or the weights makes new
results and a new FP32 reference instead of reusing old ones; a worker that imports a
different file than the one the sweep checked says so (:func:`load`).  With Dask, the module
or file must be importable at the same path on every worker.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
from pathlib import Path

__all__ = ["WorkloadError", "REQUIRED", "is_spec", "canonical", "load", "spec_id", "split_id"]

#: attributes and methods every workload must have (methods: callables)
REQUIRED = {"dataset": str, "model": str, "metric_name": str, "higher_is_better": bool, "eval_split": str,
            "recipe": None, "build": callable, "arch": callable, "example": callable, "train_batches": callable,
            "calibration_batches": callable, "evaluate": callable, "identity": callable, "loss": callable,
            "quantizable": callable, "edge_layers": callable, "fp32_tensors": callable}

_LOADED: dict = {}


class WorkloadError(ValueError):
    """A workload named by import path cannot be used (what is wrong, and what is allowed)."""


def is_spec(name: str) -> bool:
    """Whether ``name`` is an import path (``module:attr`` or ``file.py:attr``), not ``dataset/model``."""
    return isinstance(name, str) and ":" in name


def split_id(name: str) -> tuple[str, str | None]:
    """``spec@hash`` -> (spec, hash); a spec without a hash -> (spec, None)."""
    spec, _, h = name.rpartition("@") if "@" in name.rsplit(":", 1)[-1] else (name, "", "")
    return spec, (h or None)


def canonical(spec: str, base: Path | None = None) -> str:
    """``spec`` with a file path made absolute (relative to ``base``, default the working folder)."""
    target, sep, attr = spec.rpartition(":")
    if not sep or not target or not attr.isidentifier():
        raise WorkloadError(f"workload {spec!r} must look like package.module:name or path/to/file.py:name "
                            "(or DATASET/MODEL for a built-in one)")
    if target.endswith(".py"):
        p = Path(target).expanduser()
        if not p.is_absolute():
            p = (base or Path.cwd()) / p
        if not p.is_file():
            raise WorkloadError(f"workload {spec!r}: no file {p}")
        target = str(p.resolve())
    return f"{target}:{attr}"


def _module(target: str):
    if target.endswith(".py"):
        name = "numfmt_user_" + hashlib.sha256(target.encode()).hexdigest()[:12]
        if name in sys.modules:
            return sys.modules[name]
        spec = importlib.util.spec_from_file_location(name, target)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        try:
            spec.loader.exec_module(mod)
        except BaseException:
            del sys.modules[name]
            raise
        return mod
    return importlib.import_module(target)


def _sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _check(w, spec: str) -> None:
    from .workloads import Recipe

    missing, wrong = [], []
    for name, kind in REQUIRED.items():
        if not hasattr(w, name):
            missing.append(name)
        elif kind is callable and not callable(getattr(w, name)):
            wrong.append(f"{name} (must be a method)")
        elif kind is not None and kind is not callable and not isinstance(getattr(w, name), kind):
            wrong.append(f"{name} (must be a {kind.__name__}, got {type(getattr(w, name)).__name__})")
    if hasattr(w, "recipe") and not isinstance(w.recipe, Recipe):
        wrong.append("recipe (must be a sim.qat.workloads.Recipe)")
    if missing or wrong:
        raise WorkloadError(f"workload {spec!r} does not follow the Workload protocol (sim.qat.workloads.Workload): "
                            + "; ".join(([f"missing {', '.join(missing)}"] if missing else []) + wrong))
    for name in ("dataset", "model"):
        v = getattr(w, name)
        if not v or "/" in v or ":" in v or "@" in v:
            raise WorkloadError(f"workload {spec!r}: {name} = {v!r} must be a plain name (no '/', ':' or '@')")
    pre = getattr(w, "pretrained", None)
    if pre is not None and not Path(pre).is_file():
        raise WorkloadError(f"workload {spec!r}: pretrained = {str(pre)!r} is not a file")


def load(name: str):
    """The workload of ``name`` (``spec`` or ``spec@hash``), imported once per process and checked.

    Sets ``w.spec`` and ``w.source_identity`` (spec, source and weights hashes).  With a hash,
    the loaded workload's hash must match it (the file changed since the sweep checked it:
    WorkloadError)."""
    spec, want = split_id(name)
    spec = canonical(spec)
    if spec not in _LOADED:
        target, _, attr = spec.rpartition(":")
        try:
            mod = _module(target)
        except WorkloadError:
            raise
        except Exception as err:
            raise WorkloadError(f"workload {spec!r}: cannot import {target!r}: {type(err).__name__}: {err}") from None
        if not hasattr(mod, attr):
            raise WorkloadError(f"workload {spec!r}: {target!r} has no attribute {attr!r}")
        obj = getattr(mod, attr)
        from .workloads import Workload

        if callable(obj) and not isinstance(obj, Workload) and not inspect.isclass(obj):
            try:
                obj = obj()
            except Exception as err:
                raise WorkloadError(f"workload {spec!r}: calling {attr}() failed: {type(err).__name__}: {err}") from None
        _check(obj, spec)
        src = inspect.getsourcefile(mod) if not target.endswith(".py") else target
        ident = {"workload_spec": spec, "source_sha256": _sha(src)[:16] if src else None}
        pre = getattr(obj, "pretrained", None)
        if pre is not None:
            ident["pretrained_sha256"] = _sha(pre)[:16]
        obj.spec, obj.source_identity = spec, ident
        _LOADED[spec] = obj
    w = _LOADED[spec]
    if want is not None and spec_id(w).rpartition("@")[2] != want:
        raise WorkloadError(f"workload {spec!r} changed since the sweep checked it (hash {want}, now "
                            f"{spec_id(w).rpartition('@')[2]}): rerun the sweep")
    return w


def spec_id(w) -> str:
    """``<spec>@<hash>``: the name a sweep gives a workload of its own (see the module doc)."""
    ident = w.source_identity
    h = hashlib.sha256(f"{ident.get('source_sha256')}|{ident.get('pretrained_sha256')}".encode()).hexdigest()[:10]
    return f"{w.spec}@{h}"
