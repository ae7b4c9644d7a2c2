"""Sanity checks a results table must pass before its front means anything.

* :func:`eight_bit`: every 8-bit weight format lies close to its workload's FP32
  reference: within 1 point of accuracy (``delta_mean >= -0.01``) for
  classification, within :data:`BPB_TOLERANCE` bits per byte for a language model.
* :func:`more_bits`: within one format family (integer, minifloat, posit, MX with
  minifloat elements, ...) and one setting of every other key (method, rounding,
  granularity, schedule, activations policy ...), a format with more bits never
  scores worse than one with fewer *beyond the confidence interval*: the per-seed
  paired difference between the two (same seeds, same references) must not have a
  95 % interval entirely on the worse side.

Both return one :class:`Finding` per comparison, so the report can list what
passed as well as what failed.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import pandas as pd

from .space import POINT_KEYS
from .stats import paired

__all__ = ["BPB_TOLERANCE", "Finding", "eight_bit", "family", "more_bits"]

#: how close an 8-bit format must stay to FP32 on a bits-per-byte metric ("a few hundredths")
BPB_TOLERANCE = 0.05
_GROUP = [k for k in POINT_KEYS if k not in ("weights", "acts")]


@dataclass(frozen=True)
class Finding:
    ok: bool
    text: str


def family(name: str) -> str:
    """The family a weight format belongs to for the more-bits check (block formats by kind and element)."""
    import formats
    from formats.block import BlockFormat

    d = formats.get(name)
    if isinstance(d, BlockFormat):
        return f"{type(d).__name__} of {d.element.family}"
    return d.family


def _bits(name: str) -> int:
    import formats

    return int(formats.get(name).bits)


def _acts_policy(row) -> str:
    if row["acts"] == row["weights"]:
        return "same"
    return str(row["acts"])


def _done(table: pd.DataFrame) -> pd.DataFrame:
    return table[(table["status"] == "ok") & (table["verdict"] != "reference")]


def eight_bit(table: pd.DataFrame) -> list[Finding]:
    out = []
    for _, r in _done(table).iterrows():
        if _bits(r["weights"]) != 8:
            continue
        ci = f"[{r['delta_ci_low']:+.4f}, {r['delta_ci_high']:+.4f}]"
        what = f"{r['dataset']}/{r['model']} {r['method']} {r['weights']} (acts {r['acts']})"
        if r["metric_name"] == "accuracy":
            ok = r["delta_mean"] >= -0.01
            out.append(Finding(ok, f"{what}: {100 * r['delta_mean']:+.2f} points vs FP32, 95% CI "
                                   f"[{100 * r['delta_ci_low']:+.2f}, {100 * r['delta_ci_high']:+.2f}]"
                                   f" ({'within' if ok else 'NOT within'} 1 point)"))
        else:
            ok = abs(r["delta_mean"]) <= BPB_TOLERANCE
            out.append(Finding(ok, f"{what}: {r['delta_mean']:+.4f} {r['metric_name']} vs FP32, 95% CI {ci} "
                                   f"({'within' if ok else 'NOT within'} {BPB_TOLERANCE})"))
    return out


def more_bits(table: pd.DataFrame) -> list[Finding]:
    done = _done(table).copy()
    if done.empty:
        return []
    done["_family"] = done["weights"].map(family)
    done["_bits"] = done["weights"].map(_bits)
    done["_acts"] = done.apply(_acts_policy, axis=1)
    out = []
    keys = ["_family", "_acts", *_GROUP]
    for _, grp in done.groupby(keys, dropna=False, sort=False):
        for (_, lo), (_, hi) in itertools.combinations(grp.sort_values("_bits").iterrows(), 2):
            if lo["_bits"] >= hi["_bits"]:
                continue
            a = [float(v) for v in lo["metric_per_seed"].split(";")]
            b = [float(v) for v in hi["metric_per_seed"].split(";")]
            if len(a) != len(b) or len(a) < 2:
                continue
            sign = 1.0 if hi["higher_is_better"] else -1.0
            p = paired([sign * (y - x) for x, y in zip(a, b)])
            worse = p.resolved and p.mean < 0
            text = (f"{hi['dataset']}/{hi['model']} {hi['method']} {hi['granularity'] or ''} {hi['_family']}: "
                    f"{hi['weights']} vs {lo['weights']}: gain {p.mean:+.4f} {hi['metric_name']}, 95% CI "
                    f"[{p.ci_low:+.4f}, {p.ci_high:+.4f}]")
            if math.isnan(p.mean):
                continue
            out.append(Finding(not worse, text + (" (more bits WORSE beyond the CI)" if worse else "")))
    return out
