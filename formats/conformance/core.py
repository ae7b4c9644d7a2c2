"""The comparison machinery: adversarial inputs, one result row per (format, tool) pair, checked rules.

A difference between our format and an outside tool is either explained by a *rule*
(a named design difference whose predicate is evaluated on every differing input:
only the inputs for which it holds are counted under its name) or counted as
``UNEXPLAINED``.  A rule is never assumed: an input that differs and satisfies no
rule's predicate stays ``UNEXPLAINED``.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

UNEXPLAINED = "UNEXPLAINED"


@dataclass
class Row:
    """One (format, tool) comparison: what was checked, how many differed and why."""

    fmt: str
    tool: str
    codes: int = 0          # codes decoded by both sides
    inputs: int = 0         # inputs encoded by both sides (blocks: elements)
    mismatches: int = 0
    classes: Counter = field(default_factory=Counter)
    note: str = ""

    def add(self, n_diff: int, classes: Counter) -> None:
        self.mismatches += n_diff
        self.classes.update(classes)

    @property
    def unexplained(self) -> int:
        return self.classes.get(UNEXPLAINED, 0)

    def classification(self) -> str:
        if self.note and not (self.codes or self.inputs):
            return self.note
        if not self.mismatches:
            text = "agree"
        else:
            text = "; ".join(f"{k}: {v}" for k, v in sorted(self.classes.items(), key=lambda kv: -kv[1]))
        return text + (f" ({self.note})" if self.note else "")


def same(a, b) -> np.ndarray:
    """Elementwise equality of values: NaN == NaN, -0 != +0."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return ((a == b) & (np.signbit(a) == np.signbit(b))) | (np.isnan(a) & np.isnan(b))


def classify(diff_idx: np.ndarray, rules) -> Counter:
    """Count the differing inputs ``diff_idx`` under the first rule whose predicate holds for each.

    ``rules`` is a list of ``(name, predicate)``; ``predicate(idx)`` returns a bool mask over
    ``idx`` (it re-checks the rule on exactly those inputs).
    """
    out = Counter()
    left = np.asarray(diff_idx)
    for name, pred in rules:
        if not left.size:
            break
        ok = np.asarray(pred(left), dtype=bool)
        if ok.any():
            out[name] += int(ok.sum())
        left = left[~ok]
    if left.size:
        out[UNEXPLAINED] += int(left.size)
    return out


def scalar_inputs(f, n_random: int, seed: int = 0):
    """Adversarial inputs for a scalar format, as (float32 array, float64 array).

    Every finite value, every midpoint between neighbours (the ties) with its float32 and
    float64 neighbours either side, values beyond max, the subnormal boundaries (half the
    smallest positive value and its neighbours), ±0, ±Inf, NaN, and ``n_random`` random
    float32 bit patterns (plus as many float64 values spread over the format's range).
    """
    v = f.decode(np.arange(1 << f.bits, dtype=np.uint64)) if f.bits <= 16 else _sample_values(f, seed)
    v = np.unique(v[np.isfinite(v)])
    mids = (v[:-1] + v[1:]) / 2
    tiny = v[v > 0].min()
    edges = np.array([tiny / 2, tiny / 4, tiny * 0.75, f.max * 1.5, f.max * 2, f.max * 16, 1e300,
                      np.finfo(np.float32).max, np.finfo(np.float32).tiny, 1e-45])
    core = np.concatenate([v, mids, edges, -edges])
    rng = np.random.default_rng(seed)
    out = []
    for dt in (np.float32, np.float64):
        with np.errstate(over="ignore"):
            pts = core.astype(dt)
        pts = pts[np.isfinite(pts)]
        with np.errstate(over="ignore"):
            up, dn = np.nextafter(pts, dt(np.inf)), np.nextafter(pts, dt(-np.inf))
        special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan], dt)
        if dt is np.float32:
            rand = rng.integers(0, 2**32, n_random, dtype=np.uint64).astype(np.uint32).view(np.float32)
        else:
            lo, hi = np.log2(tiny) - 2, np.log2(f.max) + 2
            rand = np.exp2(rng.uniform(lo, hi, n_random)) * rng.choice([-1.0, 1.0], n_random)
        out.append(np.concatenate([pts, up, dn, special, rand.astype(dt)]))
    return out[0], out[1]


def _sample_values(f, seed):
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 1 << f.bits, 200_000, dtype=np.uint64)
    return f.decode(codes)


def compare_scalar(row: Row, f, tool_decode, tool_encode, rules, n_random: int, seed: int = 0,
                   decode_rules=()) -> Row:
    """Decode every code (formats of at most 16 bits; wider ones a random sample) and encode adversarial inputs.

    ``tool_decode(codes) -> float64 values`` or None (the tool cannot decode bit patterns);
    ``tool_encode(x) -> codes`` (round to nearest, ties to even, the tool's overflow).  Encode
    rules get ``(x, ours, theirs, idx)``.
    """
    if tool_decode is not None:
        if f.bits <= 16:
            codes = np.arange(1 << f.bits, dtype=np.uint64)
        else:
            codes = np.unique(np.random.default_rng(seed).integers(0, 1 << f.bits, 100_000, dtype=np.uint64))
        ours, theirs = f.decode(codes), np.asarray(tool_decode(codes), dtype=np.float64)
        diff = np.flatnonzero(~same(ours, theirs))
        row.codes += codes.size
        row.add(diff.size, classify(diff, [(n, (lambda p: lambda i: p(codes, ours, theirs, i))(p))
                                           for n, p in decode_rules]))
    for x in scalar_inputs(f, n_random, seed):
        if not f.has_nan:
            x = x[~np.isnan(x)]  # NaN raises by rule for a format with no NaN code (docs: overflow policies)
        ours = f.encode(x).astype(np.int64)
        theirs = np.asarray(tool_encode(x)).astype(np.int64)
        diff = np.flatnonzero(ours != theirs)
        row.inputs += x.size
        row.add(diff.size, classify(diff, [(n, (lambda p, x=x, o=ours, t=theirs: lambda i: p(f, x, o, t, i))(p))
                                           for n, p in rules]))
    return row


# --- rules shared by the scalar tools -------------------------------------------------------
def values(f, codes):
    """(our decode of ``codes``, mask of valid codes): a code outside 0 .. 2**bits - 1 (a tool's
    error marker) decodes to NaN with mask False, so rules can refuse it."""
    codes = np.asarray(codes, dtype=np.int64)
    ok = (codes >= 0) & (codes < (1 << f.bits))
    out = np.full(codes.shape, np.nan)
    out[ok] = f.decode(codes[ok].astype(np.uint64))
    return out, ok


def nan_code_rule(f, x, ours, theirs, i):
    """Both sides give NaN, with different NaN codes (the sign/payload of a NaN carries no value)."""
    (a, oka), (b, okb) = values(f, ours[i]), values(f, theirs[i])
    return oka & okb & np.isnan(a) & np.isnan(b)


def overflow_rule(policy: str):
    """The tool overflows by ``policy`` where the format's default differs: beyond max, and our
    encoder under ``overflow=policy`` gives the tool's value (NaN: either sign)."""
    def pred(f, x, ours, theirs, i):
        xi = x[i]
        beyond = np.abs(xi.astype(np.float64)) > f.max
        with_policy = f.encode(xi, overflow=policy)
        theirs_v, ok = values(f, theirs[i])
        return beyond & ok & same(f.decode(with_policy), theirs_v)
    return pred


def via_float32_rule(f, x, ours, theirs, i):
    """The tool rounds a float64 input to float32 first (double rounding): our code of float32(x) is the tool's."""
    if x.dtype != np.float64:
        return np.zeros(i.size, bool)
    with np.errstate(over="ignore"):
        x32 = x[i].astype(np.float32)
    return f.encode(x32).astype(np.int64) == theirs[i]


def unsigned_negative_rule(f, x, ours, theirs, i):
    """A negative input to an unsigned format: ours is code 0 (docs: family rules, "unsigned
    formats encode negatives as code 0"), the tool's is NaN."""
    theirs_v, ok = values(f, theirs[i])
    return (x[i] < 0) & (ours[i] == 0) & ok & np.isnan(theirs_v)
