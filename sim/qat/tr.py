"""Transition-rate (TR) scheduling (Lee, Kim, Jeon, Ham, arXiv 2404.19248).

Quantities, per quantized layer, at optimizer step ``t``:

=========== =====================================================================
``k_t``     transition rate: the fraction of the layer's quantized weights whose
            code changed since the previous step (:func:`transition_rate`)
``K_t``     running TR: ``K_t = m K_{t-1} + (1 - m) k_t``, ``m = 0.99``, ``K_0 = 0``
``R_t``     target TR, from a schedule object (:class:`CosineTR`, :class:`StepTR`,
            :class:`LinearTR`, :class:`ConstantTR`) used like a torch LR scheduler
``U_t``     transition-adaptive LR: ``U_t = max(0, U_{t-1} + eta (R_t - K_t))``;
            ``U_0`` = the base optimizer's LR, ``eta = U_0`` by default
update      ``w <- w - U_t d_t``, ``d_t`` the base optimizer's update direction
=========== =====================================================================

At each :meth:`TransitionAdaptive.step` the layer's codes are read first
(``k_t`` compares them with those of the previous step), then ``K_t`` and
``U_t`` are updated, then the weights move by ``U_t d_t``.

``d_t`` comes from the base optimizer itself (SGD: the momentum buffer; Adam:
``m_hat / (sqrt(v_hat) + eps)``; AdamW: that plus the decoupled decay ``wd * w``).
These three are linear in the LR, so each TR-managed group simply steps at
``lr = U_t``: exactly ``w - U_t d_t``.  Any other torch optimizer runs unchanged
with ``lr = 1`` on the TR-managed groups and the move is rescaled:
``d_t = w_before - w_after`` (exact up to one rounding of ``w``).  So every torch
optimizer becomes its T version without its code being copied.  Other parameter
groups (biases, activation scales, FP32 layers) step with their own LR::

    opt = SGDT(model, lr=0.05, target=0.02, momentum=0.9)   # or AdamT, AdamWT
    sched = CosineTR(opt, total_steps=1000)
    for x, y in batches:
        opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step(); sched.step()
        opt.last_stats          # {layer: {"tr": k_t, "K": K_t, "U": U_t}}

The target schedules live in :mod:`sim.qat.tr_schedules` (re-exported here).
Under TR scheduling the weight quantizers' scales are fixed (``weight_scale="fixed"``
in :func:`sim.qat.quant.quantize_model`); only activation scales learn.
"""
from __future__ import annotations

import torch
from numba import njit
from torch import nn

from .tracking import TRACKING_GATE, TRACKING_WINDOW, smoothed_target, tracking_error
from .tr_schedules import TR_SCHEDULES, ConstantTR, CosineTR, LinearTR, StepTR, TRScheduler, make_tr_scheduler

__all__ = ["RELATIVE_GAIN", "transition_rate", "count_changed", "changed_mask", "TransitionCounter", "talr_update", "TransitionAdaptive",
           "tracking_error", "smoothed_target", "TRACKING_GATE", "TRACKING_WINDOW", "SGDT", "AdamT",
           "AdamWT", "TRScheduler", "CosineTR", "StepTR", "LinearTR", "ConstantTR", "make_tr_scheduler",
           "TR_SCHEDULES"]


#: the controller gain relative to the scales of the run: ``eta = RELATIVE_GAIN * U_0 / R_0``
#: moves U by a third of U_0 per step when K misses R by R_0.  The TR study measured that an
#: absolute ``eta = U_0`` leaves K at 0.07-0.82 of R at mid-run (U grows too slowly), while
#: this gain tracks within the first tenth of a run on digits/mlp (SGD) and mnist1d/cnn (Adam).
RELATIVE_GAIN = 1 / 3


# --- measuring ------------------------------------------------------------------------
def changed_mask(prev, cur) -> torch.Tensor:
    """Bool tensor: which quantized weights changed code between ``prev`` and ``cur``.

    Scalar formats: int code tensors.  Block formats: tuples ``(element_codes,
    block_scales[, tensor_scale])``; an element counts as changed when its code
    or its block's scale changed (the FP32 per-tensor scale of NVFP4 is left out:
    it moves with the weights' maximum at nearly every step).
    """
    if isinstance(cur, torch.Tensor):
        return torch.ne(prev, cur)
    ec_prev, sc_prev, ec, sc = prev[0], prev[1], cur[0], cur[1]
    changed = ec_prev != ec
    sch = sc_prev != sc
    k = changed.shape[-1]
    per = -(-k // max(1, sch.shape[-1]))
    sch = sch.repeat_interleave(per, dim=-1)[..., :k]
    return changed | sch


_COUNTABLE = (torch.int8, torch.uint8, torch.int16, torch.int32, torch.int64)


@njit(cache=True, nogil=True)
def _count_ne(a, b):
    """How many elements of two same-shape C-contiguous int arrays differ: one read of each,
    nothing written (compiled once per dtype, cached like formats' kernels)."""
    a, b = a.reshape(a.size), b.reshape(b.size)
    n = 0
    for i in range(a.size):
        n += a[i] != b[i]
    return n


def _host_view(t):
    """The NumPy view of ``t`` when the Numba count can read it (a C-contiguous CPU int tensor), else None."""
    if isinstance(t, torch.Tensor) and t.is_cpu and t.dtype in _COUNTABLE and t.is_contiguous():
        return t.numpy()
    return None


def count_changed(prev, cur, out: torch.Tensor | None = None) -> int:
    """How many elements of the code tensor ``cur`` differ from ``prev`` (same shape).

    CPU integer tensors (codes, code keys) are counted by one Numba pass that reads both and
    writes nothing; other tensors (CUDA, floats, strided views) by ``torch.ne`` into a float
    0.0/1.0 mask (``out``: an optional scratch buffer of ``cur``'s shape on its device, reused
    from call to call) and its sum (float32 is exact below 2**24 elements, float64 beyond).
    """
    if prev.shape != cur.shape:
        raise ValueError(f"codes changed shape: {tuple(prev.shape)} -> {tuple(cur.shape)}")
    n = cur.numel()
    if not n:
        return 0
    pv = _host_view(prev) if prev.dtype == cur.dtype else None
    cv = _host_view(cur) if pv is not None else None
    if cv is not None:
        return int(_count_ne(pv, cv))
    if out is None or out.shape != cur.shape or out.device != cur.device or not out.is_floating_point():
        out = torch.empty(cur.shape, device=cur.device)
    # the comparison written straight as 0.0/1.0 floats (a bool tensor is slower to make and count)
    torch.ne(prev, cur, out=out)
    total = out.sum() if n < (1 << 24) else out.sum(dtype=torch.float64)
    return int(total)


def transition_rate(prev, cur, out: torch.Tensor | None = None) -> float:
    """``k_t``: the fraction of quantized weights whose code differs between ``prev`` and ``cur``.

    Scalar formats: code tensors (counted by :func:`count_changed`; ``out`` is its optional
    scratch buffer for the device path).  Block formats: the tuples of :func:`changed_mask`.
    """
    if isinstance(cur, torch.Tensor):
        n = cur.numel()
        return count_changed(prev, cur, out) / n if n else 0.0
    m = changed_mask(prev, cur)
    return float(m.float().mean()) if m.numel() else 0.0


def code_reader(layer):
    """The function TR calls for ``layer``'s codes: ``layer.weight_code_key`` where the layer has
    it (cheap: the forward pass's values), else ``layer.weight_codes``."""
    f = getattr(layer, "weight_code_key", None)
    return f if f is not None else layer.weight_codes


def read_codes(layer):
    """What TR compares: the codes from :func:`code_reader`."""
    return code_reader(layer)()


class TransitionCounter:
    """``k_t`` of each layer, step after step: keeps every layer's last codes (with their NumPy
    view for the CPU count, or a scratch buffer per layer for the device one, so that counting
    allocates nothing).  ``layers``: ``(name, layer)`` pairs.  ``rates()`` reads the codes now,
    compares them with those of the previous call and returns ``{name: k_t}``; ``reset()``
    forgets the previous codes (e.g. after loading weights).
    """

    def __init__(self, layers):
        self.layers = list(layers)
        self._read = [(n, code_reader(m)) for n, m in self.layers]   # looked up once
        self._buf: dict = {}
        self.reset()

    def reset(self) -> None:
        self.codes = {n: read() for n, read in self._read}
        self._np = {n: _host_view(c) for n, c in self.codes.items()}

    def rates(self) -> dict:
        """``{name: k_t}``: each layer's codes now against those of the previous call."""
        out, codes, views = {}, self.codes, self._np
        for n, read in self._read:
            c, p = read(), codes[n]
            if c is p:                       # the same code tensor as last time: nothing moved
                out[n] = 0.0
                continue
            cv, pv = _host_view(c), views[n]
            if cv is not None and pv is not None and cv.dtype == pv.dtype and cv.shape == pv.shape:
                out[n] = _count_ne(pv, cv) / cv.size if cv.size else 0.0
            elif isinstance(c, torch.Tensor):            # device tensors, floats: torch's count
                buf = self._buf.get(n)
                if buf is None or buf.shape != c.shape or buf.device != c.device:
                    buf = self._buf[n] = torch.empty(c.shape, device=c.device)
                out[n] = transition_rate(p, c, buf)
            else:                                        # block formats: (codes, scales, ...)
                out[n] = transition_rate(p, c)
            codes[n], views[n] = c, cv
        return out


# optimizers whose step is ``w <- w - lr * d`` with ``d`` independent of ``lr`` (AdamW: its decoupled
# decay ``w * (1 - lr * wd)`` is ``- lr * wd * w`` of the same form): stepping them at ``lr = U`` is
# exactly ``w - U d`` with no copy of the weights
_LINEAR_IN_LR = (torch.optim.SGD, torch.optim.Adam, torch.optim.AdamW)


def talr_update(u: float, K: float, k: float, target: float, momentum: float = 0.99,
                eta: float = 1.0) -> tuple[float, float]:
    """One step of the rule: returns ``(K_t, U_t)`` from ``U_{t-1}``, ``K_{t-1}``, ``k_t``, ``R_t``."""
    K = momentum * K + (1.0 - momentum) * k
    u = max(0.0, u + eta * (target - K))
    return K, u


# --- the optimizer wrapper ----------------------------------------------------------------
class TransitionAdaptive:
    """Turn a torch optimizer into its transition-adaptive version.

    ``base``: any ``torch.optim.Optimizer``.  ``layers``: ``(name, layer)`` pairs;
    each layer has a ``weight`` parameter and a ``weight_codes()`` method (the
    quantized layers of :mod:`sim.qat.quant`).  Their weights must sit in
    parameter groups of their own (groups holding other parameters keep their
    ordinary LR); :func:`tr_param_groups` builds such groups.  ``target``: ``R_0``,
    the initial target TR (a :class:`TRScheduler` then sets ``self.target``).
    ``u0``: ``U_0`` (default: the LR of the weight's group); ``eta``: default ``U_0``.
    """

    def __init__(self, base: torch.optim.Optimizer, layers, target: float, momentum: float = 0.99,
                 eta: float | None = None, u0: float | None = None, k0: float = 0.0):
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"TR momentum m must be in [0, 1), got {momentum!r}")
        if not 0.0 <= target <= 1.0:
            raise ValueError(f"target TR must be in [0, 1], got {target!r}")
        self.base = base
        self.layers = list(layers)
        if not self.layers:
            raise ValueError("TR scheduling needs at least one layer with quantized weights")
        self.target = float(target)
        self.initial_target = float(target)
        self.momentum = float(momentum)
        self.k0 = float(k0)
        group_of = {}
        for gi, g in enumerate(base.param_groups):
            for p in g["params"]:
                group_of[id(p)] = gi
        managed = {id(m.weight) for _, m in self.layers}
        self._tr_groups = sorted({group_of[i] for i in managed if i in group_of})
        for name, m in self.layers:
            if id(m.weight) not in group_of:
                raise ValueError(f"layer {name!r}: its weight is not in the base optimizer")
        for gi in self._tr_groups:
            other = [p for p in base.param_groups[gi]["params"] if id(p) not in managed]
            if other:
                raise ValueError(f"parameter group {gi} mixes TR-managed weights with {len(other)} other "
                                 f"parameter(s); put the quantized weights in groups of their own")
        self.state = {}
        for name, m in self.layers:
            lr = float(base.param_groups[group_of[id(m.weight)]]["lr"])
            u = float(u0) if u0 is not None else lr
            self.state[name] = {"U": u, "K": float(k0), "eta": float(eta) if eta is not None else u, "tr": 0.0}
        self.counter = TransitionCounter(self.layers)
        self.last_stats: dict = {}
        self.steps = 0
        self.history = {"R": [], "K": {name: [] for name, _ in self.layers}}  # per measured step
        # the fast step: each TR group holds one layer's weight and the base optimizer is linear in lr
        self._group_layer = None
        if type(base) in _LINEAR_IN_LR:
            layer_of = {id(m.weight): name for name, m in self.layers}
            gl = {}
            for gi in self._tr_groups:
                ps = base.param_groups[gi]["params"]
                if len(ps) != 1 or isinstance(base.param_groups[gi]["lr"], torch.Tensor):
                    break
                gl[gi] = layer_of[id(ps[0])]
            else:
                self._group_layer = gl

    # the optimizer interface the training loop and LR schedulers use
    @property
    def param_groups(self):
        return self.base.param_groups

    def zero_grad(self, set_to_none: bool = True):
        self.base.zero_grad(set_to_none=set_to_none)

    def measure(self) -> dict:
        """Read every layer's codes; update ``k_t``, ``K_t``, ``U_t``; return the stats."""
        stats = {}
        target, momentum = self.target, self.momentum
        for name, k in self.counter.rates().items():
            st = self.state[name]
            st["K"], st["U"] = talr_update(st["U"], st["K"], k, target, momentum, st["eta"])
            st["tr"] = k
            stats[name] = {"tr": k, "K": st["K"], "U": st["U"]}
            self.history["K"][name].append(st["K"])
        self.history["R"].append(target)
        return stats

    def tracking(self) -> dict:
        """Per layer, :func:`tracking_error` of the steps so far."""
        return {n: tracking_error(k, self.history["R"], self.momentum, self.k0) for n, k in self.history["K"].items()}

    def tracked(self, gate: float = TRACKING_GATE) -> bool:
        """Whether every layer's tracking error is at most ``gate`` (:data:`TRACKING_GATE`)."""
        errs = self.tracking().values()
        return bool(errs) and all(e <= gate for e in errs)

    def step(self, closure=None):
        """One update: measure TR, adapt U, then ``w <- w - U d``.

        SGD, Adam, AdamW: the base optimizer steps at ``lr = U`` on each layer's group
        (``w - U d`` exactly).  Other optimizers: it steps at ``lr = 1`` and the move is
        rescaled, ``w <- w0 - U (w0 - w)``.
        """
        self.last_stats = self.measure()
        groups = self.base.param_groups
        if self._group_layer is not None:
            saved_lr = {gi: groups[gi]["lr"] for gi in self._tr_groups}
            for gi, name in self._group_layer.items():
                groups[gi]["lr"] = self.state[name]["U"]
            try:
                loss = self.base.step(closure)
            finally:
                for gi, lr in saved_lr.items():
                    groups[gi]["lr"] = lr
            self.steps += 1
            return loss
        saved_lr = {gi: groups[gi]["lr"] for gi in self._tr_groups}
        before = {name: m.weight.detach().clone() for name, m in self.layers}
        for gi in self._tr_groups:
            groups[gi]["lr"] = 1.0 if not isinstance(groups[gi]["lr"], torch.Tensor) \
                else torch.ones_like(groups[gi]["lr"])
        try:
            loss = self.base.step(closure)
        finally:
            for gi, lr in saved_lr.items():
                groups[gi]["lr"] = lr
        with torch.no_grad():
            for name, m in self.layers:
                w0 = before[name]
                d = w0 - m.weight  # the base optimizer's direction at lr = 1
                m.weight.copy_(w0 - self.state[name]["U"] * d)
        self.steps += 1
        return loss

    def state_dict(self) -> dict:
        return {"base": self.base.state_dict(), "target": self.target, "steps": self.steps,
                "tr": {n: dict(s) for n, s in self.state.items()}}

    def load_state_dict(self, sd: dict) -> None:
        self.base.load_state_dict(sd["base"])
        self.target, self.steps = sd["target"], sd["steps"]
        for n, s in sd["tr"].items():
            self.state[n].update({k: v for k, v in s.items() if k != "codes"})  # (older checkpoints kept codes)
        self.counter.reset()

    def __repr__(self) -> str:
        return (f"TransitionAdaptive({type(self.base).__name__}, layers={len(self.layers)}, "
                f"target={self.target:g}, m={self.momentum})")


def tr_layers(model: nn.Module) -> list:
    """(name, layer) of every layer whose weights are quantized (they get TR scheduling)."""
    from .quant import quant_layers

    return [(n, m) for n, m in quant_layers(model) if m.weight_quant is not None]


def tr_param_groups(model: nn.Module, lr: float, layers=None) -> list[dict]:
    """Parameter groups: one per TR-managed weight (``"tr": True``), then all the rest."""
    layers = tr_layers(model) if layers is None else layers
    managed = {id(m.weight) for _, m in layers}
    groups = [{"params": [m.weight], "lr": lr, "tr": True, "name": n} for n, m in layers]
    rest = [p for p in model.parameters() if id(p) not in managed and p.requires_grad]
    if rest:
        groups.append({"params": rest, "lr": lr, "tr": False, "name": "other"})
    return groups


def _wrap(optim_cls, model, lr, target, momentum_tr, eta, u0, **kw):
    layers = tr_layers(model)
    groups = tr_param_groups(model, lr, layers)
    if "foreach" not in kw and "fused" not in kw:
        # a TR group holds one tensor: nothing for a foreach kernel to batch, and saying so
        # spares torch's per-group, per-step choice of implementation
        for g in groups:
            if g["tr"]:
                g["foreach"] = False
    base = optim_cls(groups, lr=lr, **kw)
    return TransitionAdaptive(base, layers, target, momentum=momentum_tr, eta=eta, u0=u0)


def SGDT(model: nn.Module, lr: float, target: float, tr_momentum: float = 0.99, eta=None, u0=None,
         **sgd_kwargs) -> TransitionAdaptive:
    """SGD (momentum, weight decay: ``torch.optim.SGD`` keywords) with TR scheduling of ``model``'s quantized weights."""
    return _wrap(torch.optim.SGD, model, lr, target, tr_momentum, eta, u0, **sgd_kwargs)


def AdamT(model: nn.Module, lr: float, target: float, tr_momentum: float = 0.99, eta=None, u0=None,
          **adam_kwargs) -> TransitionAdaptive:
    """Adam with TR scheduling of ``model``'s quantized weights."""
    return _wrap(torch.optim.Adam, model, lr, target, tr_momentum, eta, u0, **adam_kwargs)


def AdamWT(model: nn.Module, lr: float, target: float, tr_momentum: float = 0.99, eta=None, u0=None,
           **adamw_kwargs) -> TransitionAdaptive:
    """AdamW with TR scheduling of ``model``'s quantized weights."""
    return _wrap(torch.optim.AdamW, model, lr, target, tr_momentum, eta, u0, **adamw_kwargs)
