"""The design space: a validated config -> design points -> runs.

A *point* is one value for every key of ``[space]``, with ``workload`` split into
``dataset`` and ``model`` and ``acts = "same"`` resolved to the weights' format.
Keys that do not apply to a point are ``None``, so that points differing only in
them are one point:

* ``method = "ptq"`` quantizes the seed's converged FP32 reference without
  training, so the fine-tuning keys (:data:`QAT_ONLY`: schedule, tr0, budget, finetune_lr) do
  not apply to it.
* The FP32 reference of every workload is a point of its own (``weights = acts =
  "fp32"``, ``method = "ptq"``: the reference itself, unquantized, nothing
  trained after it), whether or not ``weights`` lists ``"fp32"``; rounding,
  granularity, ``quantize_first_last``, ``unsigned_acts`` and the fine-tuning keys
  do not apply.
  Its cost keys take their axes' first values.  It comes first in its workload.
* ``qat_weights`` (a filter, not an axis): the weight formats that get
  ``method = "qat"`` points (``["all"]``: every one), so that a sweep can run the
  cheap PTQ over many formats and the costly fine-tuning over a few.
* ``granularity`` is the weight-scale granularity of scalar formats
  (per-tensor, per-channel); a block format (MX, NVFP4) has its own block
  scales, so its points have ``granularity = "per-block"`` whatever the axis
  says, and the axis value ``per-block`` makes no scalar-format point.
* ``scale_rule`` (``"format"``: each format's own rule; or floor, ceil, even, rceil,
  nearest, four_over_six) applies to block formats: the point quantizes with the format
  named with the rule as a suffix (:func:`with_rule`; ``weights`` keeps the base name, so
  costs are the base format's: the engine reads the same scale codes whatever rule chose
  them).  A point without a block format has ``scale_rule = None``; a rule that a block
  format cannot take (``four_over_six`` for an element whose max is not 6) makes no point.
* ``rotation`` (``none``, ``hadamard``, ``hadamard:B``): Hadamard rotations before the
  quantizers (:mod:`sim.qat.rotation`); not for the FP32 reference.

In a run, a key that does not apply is left out, and so is ``"recipe"`` (the
workload's tuned default: ``budget``, ``finetune_lr``).

A *run* is what one evaluation needs: a point's run keys plus a seed.  Points
that differ only in cost keys (lanes, accumulator, memories) share their runs, so
a lanes axis never recomputes anything.
"""
from __future__ import annotations

import hashlib
import itertools
import json

from .config import COST_KEYS, SPACE_KEYS, TRAIN_KEYS

__all__ = ["POINT_KEYS", "QAT_ONLY", "REFERENCE", "expand", "is_reference", "point_id", "reference_point",
           "resolve", "rule_applies", "run_for", "runs_for", "with_rule"]

#: keys that only fine-tuning (method "qat") uses
QAT_ONLY = ("schedule", "tr0", "budget", "finetune_lr")
#: keys that do not apply to the FP32 reference (besides QAT_ONLY)
_NOT_FOR_FP32 = ("rounding", "granularity", "quantize_first_last", "unsigned_acts", "rotation", "scale_rule")
#: the only granularity of a block format (MX, NVFP4: the format carries its scales)
BLOCK = "per-block"
#: the FP32 reference's weights (and acts)
REFERENCE = "fp32"
#: a point's keys, in table order: the workload's two parts, then [space]'s other keys
POINT_KEYS = ("dataset", "model", *[k for k in SPACE_KEYS if k != "workload"])
RUN_KEYS = ("dataset", "model", *[k for k in TRAIN_KEYS if k != "workload"])


def is_reference(point: dict) -> bool:
    return point["weights"] == REFERENCE


def is_block(fmt: str) -> bool:
    """True for a block format (MX, NVFP4): a :class:`formats.block.BlockFormat`."""
    import formats
    from formats.block import BlockFormat

    return fmt != REFERENCE and isinstance(formats.get(fmt), BlockFormat)


def resolve(point: dict) -> dict:
    """A point in canonical form: workload split, ``acts = "same"`` resolved, keys that do not apply None."""
    p = dict(point)
    if "workload" in p:
        from sim.qat.workloads import split_name

        p["dataset"], p["model"] = split_name(p.pop("workload"))
    if p.get("acts") == "same":
        p["acts"] = p["weights"]
    if p["weights"] == REFERENCE:
        p.update(acts=REFERENCE, method="ptq", **{k: None for k in _NOT_FOR_FP32})
    elif is_block(p["weights"]):
        p["granularity"] = BLOCK
    if p["weights"] != REFERENCE and not (is_block(p["weights"]) or is_block(p["acts"])):
        p["scale_rule"] = None  # no block scale to round
    if p["method"] == "ptq":
        p.update({k: None for k in QAT_ONLY})
    elif str(p["schedule"]).startswith("lr-"):
        p["tr0"] = None  # the target transition rate of tr-* schedules
    return {k: p[k] for k in POINT_KEYS}


def reference_point(space: dict, workload: str) -> dict:
    """The FP32 reference point of ``workload`` ("DATASET/MODEL") in ``space``."""
    first = {k: space[k][0] for k in SPACE_KEYS}
    return resolve({**first, "workload": workload, "weights": REFERENCE})


def expand(space: dict) -> list[dict]:
    """Every combination of the space's values (first key slowest), per workload its FP32 reference first."""
    keys = [k for k in SPACE_KEYS if k != "workload"]
    qat = space.get("qat_weights", ["all"])
    points = []
    for workload in space["workload"]:
        points.append(reference_point(space, workload))
        for values in itertools.product(*(space[k] for k in keys)):
            p = dict(zip(keys, values))
            if p["method"] == "qat" and qat != ["all"] and p["weights"] not in qat:
                continue
            if p["granularity"] == BLOCK and not is_block(p["weights"]) and p["weights"] != REFERENCE:
                continue
            if not rule_applies(p):
                continue
            points.append(resolve({"workload": workload, **p}))
    return list({point_id(p): p for p in points}.values())


def with_rule(fmt: str | None, rule: str | None) -> str | None:
    """The format a point quantizes with: ``fmt`` with the point's scale rule (a block format
    named with the rule as a suffix, ``mxfp4`` + ``rceil`` -> ``mxfp4_rceil``), or ``fmt``
    itself (rule None or ``"format"``, a scalar format, ``fp32``)."""
    if fmt is None or fmt == REFERENCE or rule in (None, "format") or not is_block(fmt):
        return fmt
    import formats

    return formats.get(f"{fmt}_{rule}").name


def rule_applies(point: dict) -> bool:
    """False where the point's scale rule cannot apply to its block formats (e.g.
    ``four_over_six`` needs an element whose max is 6): such a combination is no point."""
    try:
        for key in ("weights", "acts"):
            with_rule(point.get(key) if point.get(key) != "same" else point.get("weights"), point.get("scale_rule"))
    except (ValueError, KeyError):
        return False
    return True


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def point_id(point: dict) -> str:
    """A short stable name for a point (hash of its canonical JSON)."""
    return _digest({k: point[k] for k in sorted(point)})[:12]


def run_for(point: dict, seed: int) -> dict:
    """The run of ``point`` with ``seed``: its run keys that apply (not None, not "recipe") plus the seed."""
    run = {k: point[k] for k in RUN_KEYS if point[k] is not None and point[k] != "recipe"}
    run["seed"] = int(seed)
    return run


def runs_for(point: dict, seeds) -> list[dict]:
    return [run_for(point, s) for s in seeds]


def cost_part(point: dict) -> dict:
    return {k: point[k] for k in COST_KEYS}
