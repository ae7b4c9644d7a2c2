"""A stand-in for ``dse.evaluate.evaluate`` in the sweep's tests: fast, deterministic, countable.

``FakeEvaluate(folder)`` returns metrics of the evaluate contract that depend only
on the run (so every executor must give the same table): a per-(workload, seed)
FP32 reference metric, and for a quantized run that reference plus a run-dependent
offset.  ``pytext`` runs report bits per byte (lower is better).  It leaves one
file per call in ``folder``, so tests count evaluations across processes.  It
raises for runs whose weights are in ``fail`` (a failed point) and raises
KeyboardInterrupt on call ``interrupt_at``.
"""
from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path

ACT_ELEMENTS = [64, 32, 32]
WIDTH = {"int4": 4, "posit8_0": 8, "fp8_e4m3": 8, "int8": 8}


class FakeEvaluate:
    def __init__(self, folder, fail=(), interrupt_at=None):
        self.folder = str(folder)
        self.fail = tuple(fail)
        self.interrupt_at = interrupt_at
        os.makedirs(self.folder, exist_ok=True)

    def calls(self) -> int:
        return len(list(Path(self.folder).glob("call-*")))

    def __call__(self, run: dict) -> dict:
        if self.interrupt_at is not None and self.calls() >= self.interrupt_at:
            raise KeyboardInterrupt
        Path(self.folder, f"call-{uuid.uuid4().hex}").write_text(json.dumps(run, sort_keys=True))
        if run["weights"] in self.fail:
            raise RuntimeError(f"fake training of {run['weights']} diverged")
        h = _hash(run)
        lm = run["dataset"] == "pytext"
        ref = reference(run)
        metric = ref if run["weights"] == "fp32" else ref + (1 if lm else -1) * (h % 1000) / 20000.0
        return {
            "metric": metric,
            "metric_name": "bits_per_byte" if lm else "accuracy",
            "higher_is_better": not lm,
            "bits_per_byte" if lm else "accuracy": metric,
            "reference_metric": ref,
            "workload_id": f"{run['dataset']}-fake",
            "loss": 1.0 - (h % 997) / 1000.0,
            "n_params": 32 * 64 + 32 * 32 + 10 * 32,
            "macs_per_inference": 32 * 64 + 32 * 32 + 10 * 32,
            "model_bits": WIDTH.get(run["weights"], 32) * 3392,
            "train_seconds": 0.0,
            "act_elements": ACT_ELEMENTS,
        }


def _hash(obj) -> int:
    return int(hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:8], 16)


def reference(run: dict) -> float:
    """The fake FP32 reference metric of the run's workload and seed."""
    h = _hash([run["dataset"], run["model"], run["seed"]])
    return (1.8 if run["dataset"] == "pytext" else 0.9) + (h % 100) / 2000.0
