"""Target-TR schedules ``R_t`` (Lee et al., arXiv 2404.19248), used like torch LR schedulers:
:class:`CosineTR`, :class:`StepTR`, :class:`LinearTR`, :class:`ConstantTR` write the target into a
:class:`sim.qat.tr.TransitionAdaptive` optimizer at each ``step()``.  Re-exported by
:mod:`sim.qat.tr`.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:                    # annotations only: tr.py re-exports this module
    from .tr import TransitionAdaptive

__all__ = ["TRScheduler", "CosineTR", "StepTR", "LinearTR", "ConstantTR", "make_tr_scheduler", "TR_SCHEDULES"]


class TRScheduler:
    """Base of the target-TR schedules, used like ``torch.optim.lr_scheduler``.

    Holds ``R_0 = optimizer.initial_target``; ``step()`` advances the step count
    and writes ``R_t`` into ``optimizer.target``.  Subclasses define
    :meth:`target_at`.
    """

    def __init__(self, optimizer: TransitionAdaptive, last_epoch: int = -1):
        self.optimizer = optimizer
        self.base_target = float(optimizer.initial_target)
        self.last_epoch = last_epoch
        self._last = self.base_target
        self.step()

    def target_at(self, t: int) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    def step(self) -> None:
        self.last_epoch += 1
        self._last = float(self.target_at(self.last_epoch))
        self.optimizer.target = self._last

    def get_last_target(self) -> float:
        """The target most recently written into the optimizer."""
        return self._last

    def state_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, sd: dict) -> None:
        self.__dict__.update(sd)
        self.optimizer.target = self._last


class CosineTR(TRScheduler):
    """``R_t = R_min + (R_0 - R_min)(1 + cos(pi t / T)) / 2`` for t <= T, then ``R_min``."""

    def __init__(self, optimizer, total_steps: int, min_target: float = 0.0, last_epoch: int = -1):
        if total_steps < 1:
            raise ValueError(f"total_steps must be >= 1, got {total_steps!r}")
        self.total_steps, self.min_target = int(total_steps), float(min_target)
        super().__init__(optimizer, last_epoch)

    def target_at(self, t):
        t = min(t, self.total_steps)
        return self.min_target + (self.base_target - self.min_target) * (1 + math.cos(math.pi * t / self.total_steps)) / 2


class StepTR(TRScheduler):
    """``R_t = R_0 * gamma ** (t // step_size)``."""

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        if step_size < 1:
            raise ValueError(f"step_size must be >= 1, got {step_size!r}")
        self.step_size, self.gamma = int(step_size), float(gamma)
        super().__init__(optimizer, last_epoch)

    def target_at(self, t):
        return self.base_target * self.gamma ** (t // self.step_size)


class LinearTR(TRScheduler):
    """``R_t`` from ``R_0`` linearly to ``end_target`` over ``total_steps``, then constant."""

    def __init__(self, optimizer, total_steps: int, end_target: float = 0.0, last_epoch: int = -1):
        if total_steps < 1:
            raise ValueError(f"total_steps must be >= 1, got {total_steps!r}")
        self.total_steps, self.end_target = int(total_steps), float(end_target)
        super().__init__(optimizer, last_epoch)

    def target_at(self, t):
        f = min(t, self.total_steps) / self.total_steps
        return self.base_target + (self.end_target - self.base_target) * f


class ConstantTR(TRScheduler):
    """``R_t = R_0``."""

    def target_at(self, t):
        return self.base_target


TR_SCHEDULES = ("cosine", "step", "linear", "constant")


def make_tr_scheduler(kind: str, optimizer: TransitionAdaptive, total_steps: int) -> TRScheduler:
    """The schedule called ``kind`` over ``total_steps`` (``step``: R_0 x 0.1 after each third of the run)."""
    if kind == "cosine":
        return CosineTR(optimizer, total_steps)
    if kind == "linear":
        return LinearTR(optimizer, total_steps)
    if kind == "step":
        return StepTR(optimizer, step_size=max(1, math.ceil(total_steps / 3)), gamma=0.1)
    if kind == "constant":
        return ConstantTR(optimizer)
    raise ValueError(f"unknown TR schedule {kind!r}; allowed: {', '.join(TR_SCHEDULES)}")
