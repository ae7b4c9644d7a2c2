"""The design space: a validated config -> design points -> training runs.

A *point* is one value for every key of ``[space]`` (``acts = "same"`` resolved to
the weights' format).  A *run* is what one QAT training needs: the point's training
keys plus a seed.  Points that differ only in cost keys (lanes, accumulator,
memories) share their runs, so a lanes axis never retrains anything.
"""
from __future__ import annotations

import hashlib
import itertools
import json

from .config import COST_KEYS, SPACE_KEYS, TRAIN_KEYS

__all__ = ["expand", "point_id", "resolve", "run_for", "runs_for"]


def resolve(point: dict) -> dict:
    """A point with ``acts = "same"`` replaced by the weights' format."""
    p = dict(point)
    if p.get("acts") == "same":
        p["acts"] = p["weights"]
    return p


def expand(space: dict) -> list[dict]:
    """Every combination of the space's values, in config order (first key slowest)."""
    keys = list(SPACE_KEYS)
    combos = itertools.product(*(space[k] for k in keys))
    points = [resolve(dict(zip(keys, values))) for values in combos]
    return list({point_id(p): p for p in points}.values())


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def point_id(point: dict) -> str:
    """A short stable name for a point (hash of its canonical JSON)."""
    return _digest({k: point[k] for k in sorted(point)})[:12]


def run_for(point: dict, seed: int) -> dict:
    """The training run of ``point`` with ``seed``: its training keys plus the seed."""
    run = {k: point[k] for k in TRAIN_KEYS}
    run["seed"] = int(seed)
    return run


def runs_for(point: dict, seeds) -> list[dict]:
    return [run_for(point, s) for s in seeds]


def cost_part(point: dict) -> dict:
    return {k: point[k] for k in COST_KEYS}
