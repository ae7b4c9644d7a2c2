"""The energy runs of ``python -m dse.costgen``: the operand streams (uniformly random codes
and a trained layer's quantized weights and activations), zero-delay and SDF-timed
simulations of a synthesized netlist, and the version stamps of that energy flow.

:func:`energy_version` hashes the source of the stimulus functions below, so a change to
how operands are drawn marks every energy number in ``dse/data/costs.csv`` as made by
another flow.
"""
from __future__ import annotations

import hashlib
import inspect
from pathlib import Path

import numpy as np


def random_operands(mode: str, rows: int, K: int, rng):
    """Uniformly random codes (every bit pattern; MX: E8M0 scales 2^-7..2^7; nvfp4: UE4M3
    scales 2^-1..2^1), rows x K."""
    from sim import mac

    e = mac.Engine(mode)
    bits = e.element_bits if hasattr(e, "element_bits") else e.element_format.bits
    A = rng.integers(0, 1 << bits, (rows, K))
    B = rng.integers(0, 1 << bits, (rows, K))
    if e.tensor_scale:                # UE4M3 codes 0x30..0x40 (0.5 .. 2)
        nb = -(-K // e.block)
        return A, B, rng.integers(0x30, 0x41, (rows, nb)), rng.integers(0x30, 0x41, (rows, nb))
    if e.block:                       # E8M0 scales near 2^0 so block sums stay finite
        nb = -(-K // e.block)
        return A, B, rng.integers(120, 135, (rows, nb)), rng.integers(120, 135, (rows, nb))
    return A, B, None, None


def tensor_scales(mode: str, real: bool = False, rows: int = 0):
    """nvfp4's per-tensor scales of the energy runs: NVFP4's recipe for an amax of 1
    (``float32(1 / 2688)``, random codes) or the encoded layer's own (``real``); (None, None)
    for the other modes (a dict of keyword arguments, empty for them)."""
    from sim import mac

    if not mac.Engine(mode).tensor_scale:
        return {}
    if not real:
        s = np.float32(1.0 / 2688)
        return {"TA": s, "TB": s}
    import formats

    W, X = _trained_layer()
    f = formats.get(mode)
    return {"TA": f.encode(W[:rows]).tensor_scale, "TB": f.encode(X[:rows]).tensor_scale}


def real_operands(mode: str, rows: int):
    """Layer-2 weights and its ReLU inputs of an FP32 MLP trained on digits, quantized to mode.

    Scalar formats: per-row scale max|row| / format max, then ``formats.get(mode).encode``;
    MX formats: ``encode`` gives the element codes and the E8M0 block scales itself.
    Returns (A, B, SA, SB) codes (SA, SB None for scalar modes)."""
    import formats

    W, X = _trained_layer()
    f = formats.get(mode)
    if getattr(f, "block", None):
        ca, cb = f.encode(W[:rows]), f.encode(X[:rows])
        return (np.asarray(ca.elements, np.int64), np.asarray(cb.elements, np.int64),
                np.asarray(ca.scales, np.int64), np.asarray(cb.scales, np.int64))

    def q(M):
        s = np.abs(M).max(axis=1, keepdims=True) / float(f.max)
        s[s == 0] = 1.0
        return f.encode(M / s).astype(np.int64)
    return q(W[:rows]), q(X[:rows]), None, None


_LAYER = None


def _trained_layer():
    global _LAYER
    if _LAYER is None:
        import torch
        from sim.qat import data as qdata
        from sim.qat.train import TrainConfig, train

        res = train(TrainConfig(dataset="digits", model="mlp", epochs=5, seed=0))
        lin = [m for m in res.model.modules() if isinstance(m, torch.nn.Linear)]
        ds = qdata.load("digits")
        x = torch.as_tensor(np.asarray(ds.x_test if hasattr(ds, "x_test") else ds.test[0]), dtype=torch.float32)
        with torch.no_grad():
            h = torch.relu(lin[0](x.reshape(len(x), -1)))
        _LAYER = (lin[1].weight.detach().numpy().astype(np.float64), h.numpy().astype(np.float64))
    return _LAYER


def energy_one(res: dict, lanes: int, mode: str, lib: Path, rng) -> dict:
    """Random-code and real-data zero-delay energy runs of one mode of a synthesized build."""
    from rtl import power

    out = {}
    acc = res.get("accumulator", "exact")
    # the fp32 accumulator's chained adders make Icarus' zero-delay event cascades crawl
    # (~50x); Verilator gives the same settled values per time step, hence the same toggles
    sim = "verilator" if acc == "fp32" else "icarus"
    top = res.get("top", "mac_engine")
    # same shape as the real set (8 dot products per lane of K = 128) so overheads match
    A, B, SA, SB = random_operands(mode, 8 * lanes, 128, rng)
    kw = dict(lanes=lanes, period_ns=res["critical_path_ns"], accumulator=acc, top=top, sim=sim,
              pipe=res.get("pipe", 0))
    out["random"] = power.energy_per_mac(Path(res["net_dir"]), lib, mode, A, B, SA, SB, **kw,
                                         **tensor_scales(mode))
    out["real"] = power.energy_per_mac(Path(res["net_dir"]), lib, mode, *real_operands(mode, 8 * lanes), **kw,
                                       **tensor_scales(mode, real=True, rows=8 * lanes))
    return out


def timed_one(res: dict, lanes: int, mode: str, lib: Path, rng) -> dict:
    """The random-code run again, SDF-timed (glitches counted): :func:`rtl.timedsim.energy_per_mac`."""
    from rtl import timedsim

    A, B, SA, SB = random_operands(mode, 8 * lanes, 128, rng)
    return timedsim.energy_per_mac(Path(res["net_dir"]), lib, mode, A, B, SA, SB, lanes=lanes,
                                   period_ns=res["critical_path_ns"], accumulator=res.get("accumulator", "exact"),
                                   top=res.get("top", "mac_engine"), pipe=res.get("pipe", 0), **tensor_scales(mode))


def pj_at(run: dict, mhz: float) -> float:
    """Energy per MAC of an energy run quoted at clock ``mhz``: its dynamic energy plus its
    leakage power over the run's cycles at that clock, per MAC."""
    return (run["dynamic_pj"] + run["leakage_nw"] * 1e-9 * run["cycles"] / (mhz * 1e6) * 1e12) / run["macs"]


def energy_version() -> str:
    """Hash of the energy flow (rtl/power.py and its modules, this file's stimulus functions)."""
    from rtl import power

    h = hashlib.sha256()
    for f in sorted(Path(power.__file__).parent.glob("*.py")):
        if f.stem in ("power", "liberty", "gatesim", "slews", "nldm"):
            h.update(f.read_bytes())
    for fn in (random_operands, real_operands, _trained_layer, energy_one, tensor_scales):
        h.update(inspect.getsource(fn).encode())
    return f"icarus-11+e{h.hexdigest()[:8]}"


def timed_version() -> str:
    """Hash of the timed (SDF) simulation: rtl/timedsim.py and the energy model it feeds."""
    from rtl import timedsim

    h = hashlib.sha256(energy_version().encode())
    h.update(Path(timedsim.__file__).read_bytes())
    h.update(inspect.getsource(timed_one).encode())
    return f"icarus-11-sdf+t{h.hexdigest()[:8]}"


