"""Whether a transition-rate run tracked its target: the diagnostic the TR study gates on.

:class:`sim.qat.tr.TransitionAdaptive` records per layer the running TR ``K_t`` and the target
``R_t`` at every step; :func:`tracking_error` compares them (re-exported by :mod:`sim.qat.tr`).
"""
from __future__ import annotations

__all__ = ["TRACKING_GATE", "TRACKING_WINDOW", "smoothed_target", "tracking_error"]

#: a TR run *tracks* its target when every layer's :func:`tracking_error` is at most this:
#: the running TR stayed within 25 % of the smoothed target, on average, over the window.
TRACKING_GATE = 0.25
#: the part of a run the gate looks at, as fractions of its steps: from 10 % (after the
#: start-up) to 75 % (a cosine target is then 15 % of R_0; later it is too small to measure
#: a relative error on, and every schedule has done its work)
TRACKING_WINDOW = (0.10, 0.75)


def smoothed_target(R, momentum: float = 0.99, k0: float = 0.0) -> list:
    """The running average of the target with the controller's own momentum: what ``K_t``
    would read if the layer's transition rate equalled ``R_t`` at every step
    (``~R_t = m ~R_(t-1) + (1 - m) R_t``, ``~R_(-1) = K_0``)."""
    out, v = [], float(k0)
    for r in R:
        v = momentum * v + (1.0 - momentum) * float(r)
        out.append(v)
    return out


def tracking_error(K, R, momentum: float = 0.99, k0: float = 0.0, window=TRACKING_WINDOW) -> float:
    """Mean relative error ``|K_t - ~R_t| / ~R_t`` of one layer's running TR ``K`` against the
    smoothed target (:func:`smoothed_target` of the per-step targets ``R``), over the steps
    in ``window`` (fractions of the run; :data:`TRACKING_WINDOW`).  Comparing with the
    smoothed target leaves out the running average's own lag (with m = 0.99 about 100
    steps), so the error measures the controller, not the estimator.  NaN for fewer than
    10 steps or when the smoothed target is 0 somewhere in the window."""
    n = min(len(K), len(R))
    if n < 10:
        return float("nan")
    rt = smoothed_target(list(R)[:n], momentum, k0)
    lo, hi = int(window[0] * n), max(int(window[0] * n) + 1, int(round(window[1] * n)))
    if any(not rt[t] > 0 for t in range(lo, hi)):
        return float("nan")
    return sum(abs(float(K[t]) - rt[t]) / rt[t] for t in range(lo, hi)) / (hi - lo)
