"""Paired statistics over seeds: a quantized point against its FP32 reference.

Every seed trains (or loads) one FP32 reference per workload, and every quantized
point of that seed starts from it, so the natural measurement is the *paired*
difference ``d_s = metric(point, s) - metric(fp32, s)`` per seed ``s``.  Over the
``n`` seeds:

* ``mean = (1/n) sum d_s`` and ``std`` the sample standard deviation (``n - 1`` in
  the denominator; NaN for one seed);
* the 95 % confidence interval ``mean +- t(0.975, n - 1) * std / sqrt(n)``, with
  Student's t quantile for ``n - 1`` degrees of freedom (the seeds are the sample;
  the interval assumes the per-seed differences are roughly normal);
* ``resolved``: the interval excludes 0.  A difference whose interval includes 0 is
  *not resolved*: the seeds do not tell its sign.

The t quantile is computed here (no SciPy needed): the two-sided probability
``P(|T| < t)`` of Student's t with an integer number of degrees of freedom has a
closed form in ``theta = atan(t / sqrt(df))`` (Abramowitz & Stegun 26.7.3-4), and
the quantile is found by bisection on it, to within 1e-12.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

__all__ = ["Paired", "paired", "t_quantile", "t_two_sided_probability"]


def t_two_sided_probability(t: float, df: int) -> float:
    """``P(|T| < t)`` for Student's t with ``df`` (an integer >= 1) degrees of freedom."""
    if isinstance(df, bool) or not isinstance(df, int) or df < 1:
        raise ValueError(f"degrees of freedom df = {df!r} must be an integer >= 1")
    if t <= 0:
        return 0.0
    theta = math.atan(t / math.sqrt(df))
    s, c2 = math.sin(theta), math.cos(theta) ** 2
    if df % 2:  # odd: (2/pi) (theta + sin cos (1 + 2/3 c^2 + 2*4/(3*5) c^4 + ... up to c^(df-3)))
        term, acc = 1.0, 1.0
        for k in range(1, (df - 1) // 2):
            term *= c2 * (2 * k) / (2 * k + 1)
            acc += term
        series = s * math.sqrt(c2) * acc if df > 1 else 0.0
        return 2.0 / math.pi * (theta + series)
    term, acc = 1.0, 1.0  # even: sin (1 + 1/2 c^2 + 1*3/(2*4) c^4 + ... up to c^(df-2))
    for k in range(1, df // 2):
        term *= c2 * (2 * k - 1) / (2 * k)
        acc += term
    return s * acc


def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile (0.5 < p < 1) of Student's t with ``df`` degrees of freedom.

    ``t_quantile(0.975, 2) = 4.3027`` is the factor of a two-sided 95 % interval over 3 seeds.
    """
    if not 0.5 < p < 1:
        raise ValueError(f"quantile p = {p!r} must lie in (0.5, 1)")
    want = 2 * p - 1  # P(|T| < t)
    lo, hi = 0.0, 1.0
    while t_two_sided_probability(hi, df) < want:
        hi *= 2
    while hi - lo > 1e-12 * max(1.0, hi):
        mid = 0.5 * (lo + hi)
        if t_two_sided_probability(mid, df) < want:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


@dataclass(frozen=True)
class Paired:
    """Summary of per-seed paired differences (metric units)."""

    n: int
    mean: float
    std: float        # sample std (ddof = 1); NaN for n < 2
    ci_low: float     # 95 % t interval; NaN for n < 2
    ci_high: float

    @property
    def resolved(self) -> bool:
        """True when the 95 % interval excludes 0 (the sign of the difference is known)."""
        return self.n >= 2 and not (self.ci_low <= 0.0 <= self.ci_high)


def paired(diffs, level: float = 0.95) -> Paired:
    """Mean, sample std and the two-sided ``level`` t interval of the per-seed differences ``diffs``."""
    d = [float(x) for x in diffs]
    if not d:
        raise ValueError("paired() needs at least one per-seed difference")
    if any(math.isnan(x) for x in d):
        raise ValueError(f"paired() got a NaN difference: {d}")
    n, mean = len(d), statistics.fmean(d)
    if n < 2:
        return Paired(n, mean, math.nan, math.nan, math.nan)
    std = statistics.stdev(d)
    half = t_quantile(0.5 + level / 2, n - 1) * std / math.sqrt(n)
    return Paired(n, mean, std, mean - half, mean + half)
