"""Result rows: paired differences to FP32, the metric's direction, zero spread explained, sanity checks."""
import math

import pandas as pd
import pytest

from dse import sanity
from dse.config import load
from dse.report import ranked
from dse.results import point_row
from dse.space import expand

SPACE = load(overrides=["workload=digits/mlp", "method=ptq", "weights=int4,int8,mxfp4", "seeds=0,1,2"])["space"]
REF, INT4, INT8, MXFP4 = expand(SPACE)


def rec(metric, ref, name="accuracy", loss=1.0):
    m = {"metric": metric, "metric_name": name, "higher_is_better": name == "accuracy", "reference_metric": ref,
         "loss": loss, "n_params": 10, "macs_per_inference": 10, "model_bits": 320, "act_elements": [4, 4],
         "train_seconds": 0.5}
    if name == "accuracy":
        m["accuracy"] = metric
    return {"status": "ok", "metrics": m, "seconds": 1.0}


REFS = [0.95, 0.97, 0.96]


def test_accuracy_row_is_paired_seed_by_seed():
    row = point_row(INT4, [rec(0.90, 0.95), rec(0.93, 0.97), rec(0.91, 0.96)])
    # differences -0.05, -0.04, -0.05: mean -0.046667, std 0.0057735, half width 4.3026527 * 0.0057735 / sqrt(3)
    assert row["delta_mean"] == pytest.approx(-0.0466667, abs=1e-7)
    assert row["delta_std"] == pytest.approx(0.0057735, abs=1e-7)
    half = 4.3026527 * 0.0057735 / math.sqrt(3)
    assert row["delta_ci_high"] == pytest.approx(-0.0466667 + half, abs=1e-6) and row["delta_ci_high"] < 0
    assert row["verdict"] == "worse" and row["gain_mean"] == row["delta_mean"]
    assert row["reference_mean"] == pytest.approx(0.96) and row["metric_per_seed"] == "0.9;0.93;0.91"
    # unpaired, the same numbers would not resolve: the metric's own spread is larger than the difference's
    assert row["metric_std"] > row["delta_std"]


def test_bits_per_byte_lower_is_better():
    row = point_row(INT4, [rec(2.10, 2.00, "bits_per_byte"), rec(2.13, 2.02, "bits_per_byte"),
                           rec(2.11, 2.01, "bits_per_byte")])
    assert row["higher_is_better"] is False and row["delta_mean"] == pytest.approx(0.1033333, abs=1e-7)
    assert row["gain_mean"] == pytest.approx(-0.1033333, abs=1e-7) and row["verdict"] == "worse"
    assert math.isnan(row["accuracy_mean"])
    better = point_row(INT8, [rec(1.99, 2.00, "bits_per_byte"), rec(2.0, 2.02, "bits_per_byte"),
                              rec(1.995, 2.01, "bits_per_byte")])
    assert better["verdict"] == "better" and better["gain_mean"] > 0


def test_reference_row_and_not_resolved():
    ref = point_row(REF, [rec(r, r) for r in REFS])
    assert ref["verdict"] == "reference" and ref["gain_mean"] == 0 and math.isnan(ref["delta_mean"])
    assert ref["metric_mean"] == pytest.approx(0.96) and ref["engine_mode"] == ""
    row = point_row(INT8, [rec(0.951, 0.95), rec(0.968, 0.97), rec(0.961, 0.96)])
    assert row["delta_ci_low"] < 0 < row["delta_ci_high"] and row["verdict"] == "not resolved"


def test_zero_spread_is_checked_and_explained():
    same = point_row(INT8, [rec(0.9, 0.95), rec(0.9, 0.95), rec(0.9, 0.95)])
    assert same["metric_std"] == 0 and "identical over 3 seeds" in same["seeds_note"]
    coincidence = point_row(INT8, [rec(0.9, 0.95, loss=1.0), rec(0.9, 0.97, loss=1.1), rec(0.9, 0.96, loss=0.9)])
    assert "distinct runs (they differ in loss, reference_metric)" in coincidence["seeds_note"]
    equal_ref = point_row(INT8, [rec(r, r) for r in REFS])
    assert equal_ref["delta_std"] == 0 and "paired difference exactly 0" in equal_ref["seeds_note"]
    same_ref = point_row(INT8, [rec(0.9, 0.9), rec(0.9, 0.9), rec(0.9, 0.9)])  # checked before "identical"
    assert "exactly 0" in same_ref["seeds_note"] and "same value on every seed" in same_ref["seeds_note"]
    assert equal_ref["verdict"] == "not resolved"  # a zero-width interval at 0
    assert point_row(INT8, [rec(0.951, 0.95), rec(0.968, 0.97), rec(0.961, 0.96)])["seeds_note"] == ""
    steady = point_row(INT8, [rec(0.75, 0.875), rec(0.5, 0.625), rec(0.25, 0.375)])  # -0.125 on every seed
    assert steady["delta_std"] == 0 and steady["verdict"] == "same difference on every seed"
    assert "same on all 3 seeds (-0.125)" in steady["seeds_note"] and "zero-width" in steady["seeds_note"]


def _table(int4, int8, mx):
    rows = [point_row(REF, [rec(r, r) for r in REFS]),
            point_row(INT4, [rec(v, r) for v, r in zip(int4, REFS)]),
            point_row(INT8, [rec(v, r) for v, r in zip(int8, REFS)]),
            point_row(MXFP4, [rec(v, r) for v, r in zip(mx, REFS)])]
    return pd.DataFrame(rows)


def test_sanity_checks_pass_and_fail():
    good = _table([0.90, 0.93, 0.91], [0.949, 0.969, 0.958], [0.92, 0.95, 0.93])
    eight = sanity.eight_bit(good)
    assert len(eight) == 1 and eight[0].ok and "within 1 point" in eight[0].text
    more = sanity.more_bits(good)
    assert [f.ok for f in more] == [True] and "int8 vs int4" in more[0].text  # mxfp4 is another family
    bad = _table([0.90, 0.93, 0.91], [0.88, 0.91, 0.895], [0.92, 0.95, 0.93])
    assert not sanity.eight_bit(bad)[0].ok
    (f,) = sanity.more_bits(bad)
    assert not f.ok and "WORSE beyond the CI" in f.text
    noisy = _table([0.90, 0.93, 0.91], [0.95, 0.90, 0.96], [0.92, 0.95, 0.93])  # worse on average, CI spans 0
    assert sanity.more_bits(noisy)[0].ok


def test_ranks_are_per_workload_and_fp32_is_on_no_front():
    t = _table([0.90, 0.93, 0.91], [0.949, 0.969, 0.958], [0.92, 0.95, 0.93])
    rk = ranked(t, [("gain_mean", "max"), ("model_bits", "min")]).set_index("weights")
    assert rk.loc["fp32", "pareto_rank"] == 1  # FP32 has model bits and the best gain (0): it competes
    rk2 = ranked(t, [("gain_mean", "max"), ("area_um2", "min")]).set_index("weights")
    assert math.isnan(rk2.loc["fp32", "pareto_rank"])  # no engine mode, no area: on no front


def test_report_names_every_missing_cost():
    """A point without area or energy is listed with the reason, never left as a silent blank."""
    import pandas as pd

    from dse import report

    nan = float("nan")
    base = dict(method="ptq", rounding="rne", schedule="", granularity="per-channel")
    sub = pd.DataFrame([
        dict(base, weights="fp32", acts="fp32", verdict="reference", cost_source="no engine mode", area_um2=nan, pj_per_mac=nan),
        dict(base, weights="nvfp4", acts="nvfp4", verdict="worse", cost_source="no engine mode", area_um2=nan, pj_per_mac=nan),
        dict(base, weights="int8", acts="int8", verdict="worse", cost_source="costs.csv", area_um2=9.0, pj_per_mac=nan),
        dict(base, weights="int4", acts="int4", verdict="worse", cost_source="costs.csv", area_um2=5.0, pj_per_mac=1.0),
    ])
    text = "".join(report._missing_costs(sub))
    assert "nvfp4: no area and energy (no engine mode" in text
    assert "int8: no energy (costs.csv: its dse/data/costs.csv row has no energy run)" in text
    assert "int4" not in text and "fp32" not in text
    full = "".join(report._missing_costs(sub[sub["weights"].isin(["fp32", "int4"])]))
    assert full.startswith("Costs: every quantized point has")
