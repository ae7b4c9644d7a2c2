"""Paired differences to FP32: mean, std and the 95 % t interval, against a hand computation."""
import math

import pytest

from dse.stats import paired, t_quantile, t_two_sided_probability

# Student's t 0.975 quantiles as printed in statistics tables (df -> t)
T975 = {1: 12.7062047, 2: 4.3026527, 3: 3.1824463, 4: 2.7764451, 5: 2.5705818, 9: 2.2621572, 29: 2.0452296}


@pytest.mark.parametrize("df, want", sorted(T975.items()))
def test_t_quantile_matches_the_printed_table(df, want):
    assert t_quantile(0.975, df) == pytest.approx(want, abs=5e-7)


def test_t_probability_closed_forms():
    # df = 1 is the Cauchy distribution: P(|T| < t) = 2 atan(t) / pi; df = 2: t / sqrt(2 + t^2)
    for t in (0.3, 1.0, 4.0):
        assert t_two_sided_probability(t, 1) == pytest.approx(2 * math.atan(t) / math.pi, rel=1e-14)
        assert t_two_sided_probability(t, 2) == pytest.approx(t / math.sqrt(2 + t * t), rel=1e-14)
    with pytest.raises(ValueError, match="df = 0"):
        t_two_sided_probability(1.0, 0)
    with pytest.raises(ValueError, match="1.2"):
        t_quantile(1.2, 3)


def test_paired_interval_by_hand():
    # differences 0.01, 0.03, 0.02: mean 0.02, std 0.01, half width 4.3026527 * 0.01 / sqrt(3) = 0.0248414
    p = paired([0.01, 0.03, 0.02])
    assert (p.n, p.mean, p.std) == (3, pytest.approx(0.02), pytest.approx(0.01))
    assert p.ci_low == pytest.approx(0.02 - 0.0248414, abs=1e-7)
    assert p.ci_high == pytest.approx(0.02 + 0.0248414, abs=1e-7)
    assert not p.resolved  # the interval includes 0
    q = paired([-0.05, -0.04, -0.06, -0.05, -0.045])  # clearly negative over 5 seeds
    assert q.ci_high < 0 and q.resolved
    one = paired([0.3])
    assert one.mean == 0.3 and math.isnan(one.std) and math.isnan(one.ci_low) and not one.resolved
    same = paired([0.1, 0.1, 0.1])  # identical seeds: a zero-width interval, resolved (the caller flags std = 0)
    assert same.std == 0 and same.ci_low == same.ci_high == pytest.approx(0.1) and same.resolved
    with pytest.raises(ValueError, match="NaN"):
        paired([0.1, float("nan")])
    with pytest.raises(ValueError, match="at least one"):
        paired([])


def test_against_scipy_where_installed():
    stats = pytest.importorskip("scipy.stats")  # an extra oracle; the table tests above always run
    for df in range(1, 60):
        assert t_quantile(0.975, df) == pytest.approx(stats.t.ppf(0.975, df), rel=1e-10)
        assert t_quantile(0.9, df) == pytest.approx(stats.t.ppf(0.9, df), rel=1e-10)
    d = [0.012, -0.004, 0.031, 0.008]
    lo, hi = stats.t.interval(0.95, len(d) - 1, loc=stats.tmean(d), scale=stats.sem(d))
    p = paired(d)
    assert (p.ci_low, p.ci_high) == (pytest.approx(lo, rel=1e-10), pytest.approx(hi, rel=1e-10))
