"""A stand-in for the QAT path in the sweep's tests: fast, deterministic, countable.

``FakeEvaluate(folder)`` returns metrics that depend only on the run (so every
executor must give the same table) and leaves one file per call in ``folder``, so
tests count evaluations across processes.  It raises for runs whose weights are in
``fail`` (a failed point) and raises KeyboardInterrupt on call ``interrupt_at``.
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
        h = int(hashlib.sha256(json.dumps(run, sort_keys=True).encode()).hexdigest()[:8], 16)
        return {
            "accuracy": 0.5 + (h % 1000) / 2000.0,
            "loss": 1.0 - (h % 997) / 1000.0,
            "n_params": 32 * 64 + 32 * 32 + 10 * 32,
            "macs_per_inference": 32 * 64 + 32 * 32 + 10 * 32,
            "model_bits": WIDTH.get(run["weights"], 32) * 3392,
            "train_seconds": 0.0,
            "act_elements": ACT_ELEMENTS,
        }
