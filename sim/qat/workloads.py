"""Workloads: what a design point's accuracy is measured on.

A :class:`Workload` is a dataset, a model builder, the train / calibration /
evaluation data, a metric and its direction ("higher is better" or not), the
layers that may be quantized, the tuned FP32 training recipe (:class:`Recipe`)
and an identity for cache keys.  Everything downstream (the FP32 reference of
:mod:`sim.qat.reference`, :mod:`sim.qat.ptq`, :mod:`sim.qat.finetune`, the
sweep's ``dse.evaluate``) talks to a workload only through this protocol, so a
user's own workload is one more object of the same shape.

================== ========= ============================================== =============== =========
dataset x model    split     data                                           metric          eval split
================== ========= ============================================== =============== =========
digits x mlp       10 s      sklearn digits 8x8 (1347 train, of which 135   accuracy (up)   test
                   smoke     held out for calibration; 450 test)
mnist1d x cnn      ~1 min    MNIST-1D (4000 train, of which 400 held out    accuracy (up)   test
                             for calibration; 1000 test)
pytext x tinylm    minutes   the stdlib's .py source, bytes (see            bits per byte   val
                             :mod:`sim.qat.corpus`), context 128            (down)
================== ========= ============================================== =============== =========

(``digits x cnn`` and ``mnist1d x mlp`` exist too, with the same recipes.)
The calibration split is carved out of the training data and never trained on.

>>> from sim.qat import workloads
>>> w = workloads.get("digits", "mlp")
>>> w.metric_name, w.higher_is_better, w.recipe.steps
('accuracy', True, 1200)
"""
from __future__ import annotations

import dataclasses
import math

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["Recipe", "Workload", "Classification", "LanguageModel", "WORKLOADS", "DATASETS", "MODELS",
           "get", "names", "split_name", "identity"]


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How the FP32 reference is trained and how QAT fine-tunes from it.

    Reference: ``optimizer`` at ``lr`` with ``warmup`` linear steps then a cosine
    decay to 0 over ``steps`` steps of ``batch_size``.  QAT: ``finetune_fraction``
    of ``steps`` at ``finetune_lr`` (same optimizer, cosine or TR schedule).
    """

    optimizer: str
    lr: float
    steps: int
    batch_size: int
    weight_decay: float = 0.0
    warmup: int = 0
    momentum: float = 0.9
    grad_clip: float | None = None
    finetune_fraction: float = 0.1
    finetune_lr: float = 0.01

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


class Workload:
    """The protocol every workload follows (subclass it, or duck-type it).

    Attributes: ``dataset``, ``model`` (the two names that select it),
    ``metric_name``, ``higher_is_better``, ``recipe``, ``eval_split``.
    Methods: :meth:`build`, :meth:`example`, :meth:`train_batches`, :meth:`loss`,
    :meth:`calibration_batches`, :meth:`evaluate`, :meth:`quantizable`,
    :meth:`edge_layers`, :meth:`identity`, :meth:`arch`.  Optional: ``pretrained``, the
    path of an FP32 ``state_dict`` that replaces training the reference.  A workload of your
    own follows the same protocol and is named by import path (:mod:`sim.qat.userload`,
    docs/sweep.md "Your own workload").
    """

    dataset: str
    model: str
    metric_name: str
    higher_is_better: bool
    recipe: Recipe
    eval_split: str

    @property
    def name(self) -> str:
        return f"{self.dataset}/{self.model}"

    def build(self) -> nn.Module:
        """A freshly initialised FP32 model (from torch's global RNG: seed it first)."""
        raise NotImplementedError

    def arch(self) -> dict:
        """The model's hyper-parameters (part of the reference's cache key)."""
        raise NotImplementedError

    def example(self) -> torch.Tensor:
        """The input of one inference (batch of 1): for MAC counts and layer input sizes."""
        raise NotImplementedError

    def train_batches(self, gen: torch.Generator, batch_size: int):
        """An endless iterator of ``(x, y)`` training batches drawn with ``gen``."""
        raise NotImplementedError

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The training loss of the model's output ``out`` against ``y`` (mean cross-entropy, nats)."""
        return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))

    def calibration_batches(self) -> list:
        """Batches ``(x, y)`` of the calibration split (held out from training)."""
        raise NotImplementedError

    def evaluate(self, model: nn.Module, split: str | None = None) -> float:
        """The metric of ``model`` (eval mode, no grad) on ``split`` (default :attr:`eval_split`)."""
        raise NotImplementedError

    def quantizable(self, model: nn.Module) -> list[str]:
        """Names of the layers the point's formats quantize, in forward order (default: every
        nn.Linear and nn.Conv2d)."""
        return [n for n, m in model.named_modules() if type(m) in (nn.Linear, nn.Conv2d)]

    def edge_layers(self, model: nn.Module) -> list[str]:
        """The layers ``quantize_first_last = false`` keeps in FP32 (default: first and last quantizable)."""
        q = self.quantizable(model)
        return [q[0], q[-1]] if len(q) > 1 else list(q)

    def identity(self) -> dict:
        """What identifies the data (recorded in results, part of cache keys)."""
        raise NotImplementedError

    def fp32_tensors(self) -> str:
        """Which tensors always stay FP32 (recorded in results)."""
        return "biases, non-Linear/Conv2d layers"


class Classification(Workload):
    """A :mod:`sim.qat.data` dataset with a :mod:`sim.qat.models` network; metric: test accuracy."""

    metric_name = "accuracy"
    higher_is_better = True
    eval_split = "test"

    def __init__(self, dataset: str, model: str, recipe: Recipe, calib_fraction: float = 0.1):
        self.dataset, self.model, self.recipe = dataset, model, recipe
        self.calib_fraction = calib_fraction
        self._data = None

    def data(self):
        """(x_train, y_train, x_calib, y_calib, x_test, y_test, n_classes); calib = a fixed slice of train."""
        if self._data is None:
            from . import data as qdata

            ds = qdata.load(self.dataset)
            n = len(ds.x_train)
            perm = torch.randperm(n, generator=torch.Generator().manual_seed(12345))
            n_cal = int(round(n * self.calib_fraction))
            cal, tr = perm[:n_cal].sort().values, perm[n_cal:].sort().values
            self._data = (ds.x_train[tr], ds.y_train[tr], ds.x_train[cal], ds.y_train[cal],
                          ds.x_test, ds.y_test, ds.n_classes)
        return self._data

    def arch(self) -> dict:
        d = self.data()
        return {"model": self.model, "input_shape": list(d[0].shape[1:]), "n_classes": d[6]}

    def build(self) -> nn.Module:
        from . import models as qmodels

        d = self.data()
        return qmodels.build(self.model, tuple(d[0].shape[1:]), d[6])

    def example(self) -> torch.Tensor:
        return torch.zeros((1, *self.data()[0].shape[1:]))

    def train_batches(self, gen, batch_size):
        x, y = self.data()[:2]
        while True:  # epochs of a fresh permutation, the last short batch included
            perm = torch.randperm(len(x), generator=gen)
            for i in range(0, len(x), batch_size):
                idx = perm[i:i + batch_size]
                yield x[idx], y[idx]

    def calibration_batches(self):
        d = self.data()
        return [(d[2], d[3])]

    @torch.no_grad()
    def evaluate(self, model, split=None):
        d = self.data()
        split = split or self.eval_split
        x, y = {"train": d[:2], "calib": d[2:4], "test": d[4:6]}[split]
        was = model.training
        model.eval()
        correct = sum(int((model(x[i:i + 1024]).argmax(1) == y[i:i + 1024]).sum()) for i in range(0, len(x), 1024))
        model.train(was)
        return correct / len(x)

    def identity(self) -> dict:
        d = self.data()
        return {"data": self.dataset, "n_train": len(d[0]), "n_calib": len(d[2]), "n_test": len(d[4])}


class LanguageModel(Workload):
    """``pytext`` x ``tinylm``: next-byte prediction; metric: bits per byte on the val split."""

    metric_name = "bits_per_byte"
    higher_is_better = False
    eval_split = "val"

    def __init__(self, recipe: Recipe, d: int = 160, n_layer: int = 3, n_head: int = 5, ctx: int = 128,
                 eval_windows: int = 256, calib_windows: int = 16):
        self.dataset, self.model, self.recipe = "pytext", "tinylm", recipe
        self.d, self.n_layer, self.n_head, self.ctx = d, n_layer, n_head, ctx
        self.eval_windows, self.calib_windows = eval_windows, calib_windows

    def corpus(self):
        from . import corpus

        return corpus.load()

    def arch(self) -> dict:
        return {"model": "tinylm", "d": self.d, "n_layer": self.n_layer, "n_head": self.n_head, "ctx": self.ctx,
                "vocab": 256}

    def build(self) -> nn.Module:
        from .tinylm import TinyLM

        return TinyLM(self.d, self.n_layer, self.n_head, self.ctx)

    def example(self) -> torch.Tensor:
        return torch.zeros((1, self.ctx), dtype=torch.long)

    def _windows(self, split, n):
        """``n`` windows of ``ctx + 1`` bytes spread evenly over ``split`` (deterministic)."""
        s = self.corpus().splits[split]
        starts = torch.linspace(0, len(s) - self.ctx - 1, n).long()
        w = torch.stack([s[i:i + self.ctx + 1] for i in starts.tolist()]).long()
        return w[:, :-1], w[:, 1:]

    def train_batches(self, gen, batch_size):
        s = self.corpus().splits["train"]
        offs = torch.arange(self.ctx + 1)
        while True:
            starts = torch.randint(0, len(s) - self.ctx - 1, (batch_size,), generator=gen)
            w = s[starts[:, None] + offs].long()
            yield w[:, :-1], w[:, 1:]

    def calibration_batches(self):
        x, y = self._windows("calib", self.calib_windows)
        return [(x, y)]

    @torch.no_grad()
    def evaluate(self, model, split=None):
        split = split or self.eval_split
        x, y = self._windows(split, self.eval_windows)
        was = model.training
        model.eval()
        nats = 0.0
        for i in range(0, len(x), 16):
            out = model(x[i:i + 16])
            nats += float(F.cross_entropy(out.reshape(-1, 256), y[i:i + 16].reshape(-1), reduction="sum"))
        model.train(was)
        return nats / (y.numel() * math.log(2))

    def quantizable(self, model):
        return [n for n, m in model.named_modules() if type(m) is nn.Linear]

    def edge_layers(self, model):
        return ["head"]  # the first weight layer is the embedding table, FP32 anyway

    def identity(self) -> dict:
        c = self.corpus()
        return {**c.identity(), "eval_windows": self.eval_windows, "calib_windows": self.calib_windows}

    def fp32_tensors(self) -> str:
        return "token and position embeddings, LayerNorms, attention scores and softmax, residual stream, biases"


_RECIPES = {
    ("digits", "mlp"): Recipe("sgd", 0.05, 1200, 64, weight_decay=1e-4, finetune_fraction=0.25, finetune_lr=0.01),
    ("digits", "cnn"): Recipe("sgd", 0.05, 1200, 64, weight_decay=1e-4, finetune_fraction=0.25, finetune_lr=0.01),
    ("mnist1d", "mlp"): Recipe("adamw", 3e-3, 4000, 64, weight_decay=1e-2, warmup=100, finetune_fraction=0.1,
                               finetune_lr=3e-4),
    ("mnist1d", "cnn"): Recipe("adamw", 3e-3, 4000, 64, weight_decay=1e-2, warmup=100, finetune_fraction=0.1,
                               finetune_lr=3e-4),
    ("pytext", "tinylm"): Recipe("adamw", 3e-3, 3000, 16, weight_decay=0.05, warmup=100, grad_clip=1.0,
                                 finetune_fraction=0.05, finetune_lr=2e-4),
}


def _make(dataset, model):
    r = _RECIPES[(dataset, model)]
    return LanguageModel(r) if dataset == "pytext" else Classification(dataset, model, r)


#: The built-in workloads, by (dataset, model).
WORKLOADS = tuple(_RECIPES)
DATASETS = tuple(dict.fromkeys(d for d, _ in WORKLOADS))
MODELS = tuple(dict.fromkeys(m for _, m in WORKLOADS))
_CACHE: dict = {}


def split_name(name: str) -> tuple[str, str]:
    """A sweep's workload name -> (dataset, model): ``DATASET/MODEL`` for a built-in one; for one
    of your own (an import path), ``(<spec>@<hash>, its model)`` (:func:`sim.qat.userload.spec_id`)."""
    from . import userload

    if userload.is_spec(name):
        w = userload.load(name)
        return userload.spec_id(w), w.model
    dataset, model = name.split("/")
    return dataset, model


def identity(w: Workload) -> dict:
    """What identifies ``w`` in results and cache keys: its :meth:`Workload.identity`, plus, for a
    workload of your own, its import path and the hashes of its source file and pretrained weights."""
    return {**w.identity(), **getattr(w, "source_identity", {})}


def names() -> list[str]:
    """``dataset/model`` of every built-in workload."""
    return [f"{d}/{m}" for d, m in WORKLOADS]


def get(dataset: str, model: str | None = None) -> Workload:
    """The workload of ``dataset`` x ``model`` (one object per process); ValueError otherwise.

    ``dataset`` may also be a workload of your own, by import path (``module:attr`` or
    ``file.py:attr``, optionally ``@hash``: :mod:`sim.qat.userload`); ``model`` must then be
    its model name or None."""
    from . import userload

    if userload.is_spec(dataset):
        w = userload.load(dataset)
        if model is not None and model != w.model:
            raise ValueError(f"workload {dataset!r} has model {w.model!r}, not {model!r}")
        return w
    key = (dataset, model)
    if key not in _RECIPES:
        raise ValueError(f"no workload for dataset={dataset!r} x model={model!r}; allowed: {', '.join(names())}")
    if key not in _CACHE:
        _CACHE[key] = _make(dataset, model)
    return _CACHE[key]
