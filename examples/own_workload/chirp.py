"""A workload of your own, in one file: a small 1-D CNN that tells five kinds of noisy
chirps apart (the signals are generated here, seeded, so nothing is downloaded).

The sweep finds it by import path: ``workload = "chirp.py:make"`` in
``examples/own_workload/sweep.toml`` (a path relative to the config file), then treats it
like a built-in workload: an FP32 reference per seed trained with :attr:`Chirps.recipe`,
PTQ and QAT with any format, paired differences, costs.  See docs/sweep.md, "Your own
workload".
"""
from __future__ import annotations

import math

import torch
from torch import nn

from sim.qat.workloads import Recipe, Workload

N_CLASSES, LENGTH = 5, 64


def signals(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` chirps of ``LENGTH`` samples, class = the frequency sweep's shape, plus noise."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, N_CLASSES, (n,), generator=g)
    t = torch.linspace(0, 1, LENGTH)
    f0 = 2 + 3 * torch.rand(n, 1, generator=g)
    rate = (y.float()[:, None] - 2) * 4                       # -8 .. +8 Hz per unit time
    phase = 2 * math.pi * (f0 * t + 0.5 * rate * t * t) + 2 * math.pi * torch.rand(n, 1, generator=g)
    x = torch.sin(phase) + 0.4 * torch.randn(n, LENGTH, generator=g)
    return x[:, None, :], y


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, (1, 5), padding=(0, 2))
        self.conv2 = nn.Conv2d(8, 16, (1, 5), padding=(0, 2))
        self.fc = nn.Linear(16 * (LENGTH // 4), N_CLASSES)

    def forward(self, x):
        x = x[:, :, None, :]                                     # (B, 1, 1, L): Conv2d over time
        x = torch.max_pool2d(torch.relu(self.conv1(x)), (1, 2))
        x = torch.max_pool2d(torch.relu(self.conv2(x)), (1, 2))
        return self.fc(x.flatten(1))


class Chirps(Workload):
    """Five chirp classes; metric: test accuracy (higher is better)."""

    dataset, model = "chirps", "cnn1d"
    metric_name, higher_is_better, eval_split = "accuracy", True, "test"
    recipe = Recipe("adamw", 3e-3, 600, 64, weight_decay=1e-2, warmup=30, finetune_fraction=0.2, finetune_lr=3e-4)

    def __init__(self):
        self.x_train, self.y_train = signals(3000, seed=1)
        self.x_calib, self.y_calib = signals(300, seed=2)
        self.x_test, self.y_test = signals(1000, seed=3)

    def build(self):
        return Net()

    def arch(self):
        return {"model": "cnn1d", "length": LENGTH, "classes": N_CLASSES}

    def example(self):
        return torch.zeros(1, 1, LENGTH)

    def train_batches(self, gen, batch_size):
        while True:
            perm = torch.randperm(len(self.x_train), generator=gen)
            for i in range(0, len(perm), batch_size):
                idx = perm[i:i + batch_size]
                yield self.x_train[idx], self.y_train[idx]

    def calibration_batches(self):
        return [(self.x_calib, self.y_calib)]

    @torch.no_grad()
    def evaluate(self, model, split=None):
        x, y = {"train": (self.x_train, self.y_train), "calib": (self.x_calib, self.y_calib),
                "test": (self.x_test, self.y_test)}[split or self.eval_split]
        was = model.training
        model.eval()
        acc = float((model(x).argmax(1) == y).float().mean())
        model.train(was)
        return acc

    def identity(self):
        return {"data": "chirps (generated in chirp.py)", "n_train": len(self.x_train),
                "n_calib": len(self.x_calib), "n_test": len(self.x_test)}


def make() -> Chirps:
    """What the sweep calls (``chirp.py:make``)."""
    return Chirps()
