"""Pareto fronts and non-dominated ranks of the results table."""
import math

import pandas as pd
import pytest

from dse.pareto import objectives, pareto_mask, pareto_ranks

OBJ = [("acc", "max"), ("energy", "min")]


def frame(rows):
    return pd.DataFrame(rows, columns=["acc", "energy"])


def test_front_and_ranks():
    df = frame([(0.9, 10), (0.8, 5), (0.85, 12), (0.7, 5), (0.95, 20), (0.9, 10)])
    assert list(pareto_mask(df, OBJ)) == [True, True, False, False, True, True]  # ties both stay
    assert list(pareto_ranks(df, OBJ)) == [1, 1, 2, 2, 1, 1]


def test_nan_rows_are_on_no_front():
    df = frame([(0.9, float("nan")), (0.5, 1), (float("nan"), 0.1)])
    ranks = pareto_ranks(df, OBJ)
    assert math.isnan(ranks[0]) and ranks[1] == 1 and math.isnan(ranks[2])


def test_three_objectives_and_bad_direction():
    df = pd.DataFrame({"a": [1, 1, 2], "b": [1, 2, 2], "c": [3, 1, 1]})
    assert list(pareto_mask(df, [("a", "min"), ("b", "min"), ("c", "min")])) == [True, True, False]
    with pytest.raises(ValueError, match="'up'"):
        pareto_mask(df, [("a", "up")])


def test_objectives_fall_back_until_costs_are_measured():
    measured, note = objectives(True)
    assert [c for c, _ in measured] == ["gain_mean", "energy_per_inference_pj", "area_um2"] and not note
    fallback, note = objectives(False)
    assert [c for c, _ in fallback] == ["gain_mean", "memory_energy_pj", "model_bits"]
    assert "issue 7" in note
