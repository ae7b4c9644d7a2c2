"""The sweep's cost target axis: ``target = "ecp5"`` reads the placed-and-routed FPGA table."""
import csv
import math

import pandas as pd
import pytest

from dse import costs_ecp5
from dse.config import ConfigError, load
from dse.pareto import ECP5, objectives
from dse.report import ranked, write
from dse.results import point_row
from dse.space import expand, point_id, run_for

SPACE = load(overrides=["workload=digits/mlp", "method=ptq", "weights=int4,posit4_1,mxfp4,nvfp4",
                        "target=sky130,ecp5", "lanes=1", "pipe=0", "seeds=0,1"])["space"]


def _csv_row(modes, lanes, acc="exact", build="single"):
    with open(costs_ecp5.COSTS_ECP5_CSV, newline="") as fh:
        for r in csv.DictReader(row for row in fh if not row.startswith("#")):
            if (r["build"], r["compiled_modes"], int(r["lanes"]), r["accumulator"]) == (build, modes, lanes, acc):
                return r
    raise LookupError((modes, lanes, acc))


def test_measured_row_and_lut_equivalents():
    r = _csv_row("int4", 1)
    got = costs_ecp5.lookup("int4", 1, "exact")
    assert got["source"] == "costs_ecp5.csv"
    assert got["comb"] == float(r["comb_sites"]) and got["mult18x18d"] == float(r["mult18x18d"])
    assert got["fmax_mhz"] == float(r["fmax_mhz"]) and got["lut4"] == float(r["lut4"])
    # the device's ratios: 83,640 logic sites, 156 DSPs, 208 EBRs
    assert got["lut_equiv"] == pytest.approx(float(r["comb_sites"]) + 83640 / 156 * float(r["mult18x18d"])
                                             + 83640 / 208 * float(r["dp16kd"]))


def test_mx_modes_answer_with_their_one_scheme_and_none_has_no_mode():
    assert costs_ecp5.lookup("mxfp4", 1, "fp32")["fmax_mhz"] == float(_csv_row("mxfp4", 1)["fmax_mhz"])
    nomode = costs_ecp5.lookup(None, 1, "exact")
    assert nomode["source"] == "no engine mode" and math.isnan(nomode["lut_equiv"])
    with pytest.raises(ValueError, match="allowed"):
        costs_ecp5.lookup("int5", 1, "exact")


def test_lane_counts_without_a_row_scale_by_the_fitting_modes_measured_ratio():
    fit1, fit4 = _csv_row(costs_ecp5.FIT_MODE, 1), _csv_row(costs_ecp5.FIT_MODE, 4)
    one = costs_ecp5.lookup("posit4_1", 1, "exact")
    four = costs_ecp5.lookup("posit4_1", 4, "exact")
    assert four["source"].startswith("model:") and costs_ecp5.FIT_MODE in four["source"]
    assert four["comb"] == pytest.approx(one["comb"] * float(fit4["comb_sites"]) / float(fit1["comb_sites"]))
    assert four["fmax_mhz"] == pytest.approx(one["fmax_mhz"] * float(fit4["fmax_mhz"]) / float(fit1["fmax_mhz"]))
    assert four["mult18x18d"] == 4 * one["mult18x18d"]
    eight = costs_ecp5.lookup("posit4_1", 8, "exact")   # 8 lanes do not fit the package's I/O
    assert eight["source"] == "unmeasured" and math.isnan(eight["fmax_mhz"])


def test_config_takes_the_target_and_names_the_choices():
    assert SPACE["target"] == ["sky130", "ecp5"]
    with pytest.raises(ConfigError, match="sky130, ecp5"):
        load(overrides=["target=xilinx"])
    with pytest.raises(ConfigError, match="one cost target"):
        load(overrides=["search=nsga2", "workload=digits/mlp", "qat_weights=all", "target=sky130,ecp5"])


def rec(metric, ref):
    return {"status": "ok", "seconds": 1.0, "metrics": {
        "metric": metric, "accuracy": metric, "metric_name": "accuracy", "higher_is_better": True,
        "reference_metric": ref, "loss": 1.0, "n_params": 10, "macs_per_inference": 4000, "model_bits": 320,
        "act_elements": [4, 4]}}


def test_target_is_a_cost_key_and_an_ecp5_row_claims_no_energy():
    pts = {(p["weights"], p["target"]): p for p in expand(SPACE)}
    sky, fpga = pts[("int4", "sky130")], pts[("int4", "ecp5")]
    assert point_id(sky) != point_id(fpga) and run_for(sky, 0) == run_for(fpga, 0)   # one run, two costs
    row = point_row(fpga, [rec(0.9, 0.95), rec(0.92, 0.96)])
    assert math.isnan(row["area_um2"]) and math.isnan(row["pj_per_mac"]) and math.isnan(row["energy_per_inference_pj"])
    assert row["lut_equiv"] == costs_ecp5.lookup("int4", 1, "exact")["lut_equiv"]
    assert row["macs_per_cycle"] == 4   # 4 x 4-bit operands per 16-bit word, 1 lane
    # the ECP5 table has PIPE = 0 builds only: a PIPE = 1 point says so instead of borrowing them
    deep = point_row({**fpga, "pipe": 1}, [rec(0.9, 0.95), rec(0.92, 0.96)])
    assert math.isnan(deep["lut_equiv"]) and "no ECP5 row with PIPE = 1" in deep["cost_source"]
    assert row["inference_us"] == pytest.approx(4000 / (4 * row["fmax_mhz"]))
    srow = point_row(sky, [rec(0.9, 0.95), rec(0.92, 0.96)])
    assert srow["area_um2"] > 0 and math.isnan(srow["lut_equiv"])
    assert srow["inference_us"] == pytest.approx(4000 / (4 * srow["fmax_mhz"]))


def test_each_target_has_its_own_front_and_section(tmp_path):
    rows = []
    for p in expand(SPACE):
        acc = {"fp32": 0.95, "int4": 0.90, "posit4_1": 0.93, "mxfp4": 0.91, "nvfp4": 0.92}[p["weights"]]
        rows.append(point_row(p, [rec(acc, 0.95), rec(acc + 0.004 * (p["weights"] != "fp32"), 0.95)]))
    table = pd.DataFrame(rows)
    objs = {"sky130": objectives(True, "sky130")[0], "ecp5": objectives(True, "ecp5")[0]}
    assert objs["ecp5"] == ECP5
    rk = ranked(table, objs)
    f = rk[(rk["target"] == "ecp5") & (rk["pareto_rank"] == 1)]
    assert set(f["weights"]) <= {"int4", "posit4_1", "mxfp4"} and len(f)
    nv = rk[(rk["target"] == "ecp5") & (rk["weights"] == "nvfp4")]["pareto_rank"]
    assert len(nv) and nv.notna().all()          # nvfp4 is an engine mode with measured ECP5 costs
    summary = write(table, tmp_path, objs).read_text()
    assert "digits/mlp on ecp5 (FPGA, placed and routed)" in summary and "digits/mlp on sky130" in summary
    assert "LUT-equiv" in summary and "536.2 x MULT18X18D" in summary and "No energy is claimed" in summary
    assert (tmp_path / "pareto_ecp5_lut_equiv.png").exists()


def test_fpga_config_costs_the_default_points_on_both_targets_with_the_same_runs():
    from pathlib import Path

    from dse.space import runs_for

    root = Path(__file__).resolve().parents[2]
    both, default = load(root / "dse" / "configs" / "fpga.toml"), load()
    assert both["space"]["target"] == ["sky130", "ecp5"] and default["space"]["target"] == ["sky130"]
    seeds = default["sweep"]["seeds"]

    def runs(cfg):
        return {tuple(sorted(r.items())) for p in expand(cfg["space"]) for r in runs_for(p, seeds)}

    assert runs(both) == runs(default)   # target is a cost key: no run twice
    assert len(expand(both["space"])) == 2 * len(expand(default["space"])) - len(default["space"]["workload"])
