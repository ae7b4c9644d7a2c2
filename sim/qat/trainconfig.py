"""What defines one QAT run (:class:`TrainConfig`, validated on creation) and what it measured
(:class:`TrainResult`); re-exported by :mod:`sim.qat.train`, whose :func:`~sim.qat.train.train` runs it."""
from __future__ import annotations

import dataclasses
import math

import torch

import formats
from formats.rounding import Rounding

from . import data as qdata
from . import models as qmodels
from .scaling import GRANULARITIES
from .quantizer import is_block_format

__all__ = ["TrainConfig", "TrainResult", "SCHEDULES", "OPTIMIZERS", "ROUNDINGS"]


SCHEDULES = ("lr-cosine", "lr-constant", "tr-cosine", "tr-step", "tr-linear", "tr-constant")
OPTIMIZERS = ("sgd", "adam", "adamw")
ROUNDINGS = tuple(r.label for r in Rounding)


def _bad(field, value, allowed):
    raise ValueError(f"TrainConfig.{field} = {value!r} is not allowed; allowed: {allowed}")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything that defines one QAT run (validated on creation; ValueError/KeyError)."""

    dataset: str = "digits"            # digits | mnist1d
    model: str = "mlp"                 # mlp | cnn
    weights: str | None = None         # a formats name (None = FP32)
    acts: str | None = None            # a formats name (None = FP32)
    rounding: str = "rne"              # rne | rna | rtz | rup | rdn | stochastic
    granularity: str = "per-channel"   # weight scales: per-tensor | per-channel | per-block (block formats)
    schedule: str = "lr-cosine"        # see SCHEDULES
    optimizer: str = "sgd"             # sgd | adam | adamw
    lr: float = 0.05                   # base LR (U_0 of TR scheduling)
    tr0: float = 0.01                  # initial target TR R_0 (tr-* schedules)
    epochs: int = 20
    batch_size: int = 64
    seed: int = 0
    quantize_first_last: bool = True
    device: str = "cpu"
    momentum: float = 0.9              # SGD momentum
    weight_decay: float = 0.0
    tr_momentum: float = 0.99          # m of the running TR
    eta: float | None = None           # TALR step (None = lr)
    pow2_scales: bool = False          # round scales to powers of two
    max_steps: int | None = None       # stop early (tests, benchmarks)

    def __post_init__(self):
        if self.dataset not in qdata.DATASETS:
            _bad("dataset", self.dataset, ", ".join(qdata.DATASETS))
        if self.model not in qmodels.MODELS:
            _bad("model", self.model, ", ".join(qmodels.MODELS))
        for field in ("weights", "acts"):
            v = getattr(self, field)
            if v is not None:
                if not isinstance(v, str):
                    _bad(field, v, "a format name (str) or None")
                formats.get(v)  # KeyError naming close matches
        if self.rounding not in ROUNDINGS:
            _bad("rounding", self.rounding, ", ".join(ROUNDINGS))
        if self.granularity not in GRANULARITIES:
            _bad("granularity", self.granularity, ", ".join(GRANULARITIES))
        if self.granularity == "per-block" and self.weights is not None \
                and not is_block_format(formats.get(self.weights)):
            _bad("granularity", self.granularity,
                 f"per-tensor or per-channel for the scalar format {self.weights!r}")
        if self.schedule not in SCHEDULES:
            _bad("schedule", self.schedule, ", ".join(SCHEDULES))
        if self.schedule.startswith("tr-") and self.weights is None:
            _bad("schedule", self.schedule, "lr-cosine or lr-constant when weights is None "
                 "(TR scheduling needs quantized weights)")
        if self.optimizer not in OPTIMIZERS:
            _bad("optimizer", self.optimizer, ", ".join(OPTIMIZERS))
        for field, lo, hi in (("lr", 0.0, math.inf), ("tr0", 0.0, 1.0), ("tr_momentum", 0.0, 1.0),
                              ("momentum", 0.0, 1.0)):
            v = getattr(self, field)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                    or not lo <= v <= hi or (field in ("lr",) and v == 0) or (field == "tr_momentum" and v == 1):
                _bad(field, v, f"a number in {'(' if field == 'lr' else '['}{lo}, {hi}"
                     f"{')' if field in ('lr', 'tr_momentum') else ']'}")
        if isinstance(self.weight_decay, bool) or not isinstance(self.weight_decay, (int, float)) \
                or not 0 <= self.weight_decay < math.inf:
            _bad("weight_decay", self.weight_decay, "a number >= 0")
        if self.eta is not None and (isinstance(self.eta, bool) or not isinstance(self.eta, (int, float))
                                     or not 0 < self.eta < math.inf):
            _bad("eta", self.eta, "None or a number > 0")
        for field, lo in (("epochs", 1), ("batch_size", 1), ("seed", 0)):
            v = getattr(self, field)
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                _bad(field, v, f"an integer >= {lo}")
        if self.seed >= 2**32:
            _bad("seed", self.seed, "an integer in [0, 2**32)")
        if self.max_steps is not None and (isinstance(self.max_steps, bool)
                                           or not isinstance(self.max_steps, int) or self.max_steps < 1):
            _bad("max_steps", self.max_steps, "None or an integer >= 1")
        for field in ("quantize_first_last", "pow2_scales"):
            if not isinstance(getattr(self, field), bool):
                _bad(field, getattr(self, field), "True or False")
        dev = self.device
        if not isinstance(dev, str) or not (dev == "cpu" or dev == "cuda" or dev.startswith("cuda:")):
            _bad("device", dev, "cpu, cuda or cuda:N")
        if dev != "cpu" and not torch.cuda.is_available():
            _bad("device", dev, "cpu (no CUDA device is available here)")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class TrainResult:
    """What one run measured."""

    config: TrainConfig
    test_accuracy: float               # in [0, 1]
    loss: list                         # training loss per step
    traces: dict                       # lr, target: per step; tr, K, U: {layer: per step}
    n_params: int                      # weights and biases of the network (not quantizer scales)
    macs_per_inference: int
    weight_bits: int                   # model size: codes + scales + FP32 biases and FP32 layers
    seconds: float
    steps: int = 0

    @property
    def tracking(self) -> dict:
        """TR runs: per layer, the mean relative error of K against the smoothed target
        (sim.qat.tr.tracking_error); else {}."""
        from .tr import tracking_error

        if not self.config.schedule.startswith("tr-") or not self.traces.get("target"):
            return {}
        return {n: tracking_error(k, self.traces["target"], self.config.tr_momentum) for n, k in self.traces["K"].items()}

    @property
    def tracked(self) -> bool | None:
        """TR runs: whether every layer tracked its target (error <= sim.qat.tr.TRACKING_GATE); else None."""
        from .tr import TRACKING_GATE

        t = self.tracking
        return None if not t else all(e <= TRACKING_GATE for e in t.values())

    def summary(self) -> str:
        c = self.config
        out = (f"{c.dataset}/{c.model} W={c.weights or 'fp32'} A={c.acts or 'fp32'} {c.schedule} "
               f"seed {c.seed}: test accuracy {self.test_accuracy:.4f} after {self.steps} steps "
               f"({self.seconds:.1f} s)")
        t = self.tracking
        if t:
            from .tr import TRACKING_GATE

            errs = ", ".join(f"{n} {e:.3f}" for n, e in t.items())
            verdict = ("tracked" if self.tracked else
                       f"NOT TRACKED (a layer above {TRACKING_GATE}): this run does not test TR scheduling")
            out += (f"\nTR tracking error, mean |K - R~| / R~ over steps 10-75 % (R~: the target through K's "
                    f"running average): {errs}; {verdict}")
        return out
