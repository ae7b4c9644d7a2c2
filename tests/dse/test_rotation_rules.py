"""The sweep's rotation and scale_rule axes: config values, the points they make, and what a run
quantizes with."""
import pytest

from dse import config as C
from dse.evaluate import check_runs, evaluate
from dse.space import expand, rule_applies, run_for, with_rule

RUN = dict(method="ptq", dataset="digits", model="mlp", weights="mxfp4", acts="mxfp4", rounding="rne",
           granularity="per-block", quantize_first_last=True, seed=0)


def test_config_values_are_canonical_and_bad_ones_say_what_is_allowed():
    space = C.load(overrides=["rotation=none,hadamard,hadamard:64,hadamard:16", "scale_rule=format,RCEIL,4o6,ocp"])["space"]
    assert space["rotation"] == ["none", "hadamard", "hadamard:16"]  # hadamard:64 is hadamard (deduplicated)
    assert space["scale_rule"] == ["format", "rceil", "four_over_six", "floor"]
    with pytest.raises(C.ConfigError, match=r"rotation = 'hadamard:12'.*power of two"):
        C.load(overrides=["rotation=hadamard:12"])
    with pytest.raises(C.ConfigError, match="allowed: none, hadamard"):
        C.load(overrides=["rotation=givens"])
    with pytest.raises(C.ConfigError, match="scale_rule = 'roundup' is not valid.*format, floor, ceil"):
        C.load(overrides=["scale_rule=roundup"])


def test_points_rule_only_for_block_formats_and_never_for_the_reference():
    space = C.load(overrides=["workload=digits/mlp", "method=ptq", "weights=int4,mxfp4,mxint8,nf4_dq",
                              "scale_rule=format,rceil,four_over_six", "rotation=none,hadamard"])["space"]
    points = expand(space)
    ref = [p for p in points if p["weights"] == "fp32"]
    assert len(ref) == 1 and ref[0]["rotation"] is None and ref[0]["scale_rule"] is None
    rules = lambda w: sorted({p["scale_rule"] for p in points if p["weights"] == w}, key=str)  # noqa: E731
    assert rules("int4") == [None]                                    # no block scale: one point per rotation
    assert rules("mxfp4") == ["format", "four_over_six", "rceil"]
    assert rules("mxint8") == ["format", "rceil"]                      # four_over_six needs an element max of 6
    assert rules("nf4_dq") == ["format"]                               # its scales have their own rule
    assert len(points) == 1 + 2 * (1 + 3 + 2 + 1)
    assert not rule_applies({"weights": "mxint8", "acts": "same", "scale_rule": "four_over_six"})


def test_with_rule():
    assert with_rule("mxfp4", "rceil") == "mxfp4_rceil"
    assert with_rule("mxfp4_rceil", "format") == "mxfp4_rceil"
    assert with_rule("nvfp4", "four_over_six") == "block_fp4_e2m1_ue4m3_g16_four_over_six_t"
    assert with_rule("int4", "rceil") == "int4" and with_rule(None, "rceil") is None
    assert with_rule("fp32", "floor") == "fp32"


def test_run_quantizes_with_the_rule_and_the_rotation():
    base = evaluate(RUN)
    got = evaluate(dict(RUN, scale_rule="rceil", rotation="hadamard:32"))
    assert base["quantized_with"] == {"weights": "mxfp4", "acts": "mxfp4"}
    assert got["quantized_with"] == {"weights": "mxfp4_rceil", "acts": "mxfp4_rceil"}
    assert base["rotated_layers"] == {}
    assert got["rotated_layers"] == {"net.1": 32, "net.3": 32, "net.5": 32}
    assert got["metric"] != base["metric"] or got["model_bits"] == base["model_bits"]


def test_check_runs_refuses_a_rule_the_format_cannot_take():
    with pytest.raises(C.ConfigError, match="four_over_six needs an element whose max is 6"):
        check_runs([dict(RUN, weights="mxint8", acts="mxint8", scale_rule="four_over_six")])
    with pytest.raises(C.ConfigError, match="rotation"):
        check_runs([dict(RUN, rotation="hadamard:3")])


def test_takum_and_double_quant_by_name():
    space = C.load(overrides=["workload=digits/mlp", "method=ptq", "weights=takum8,nf4_dq", "acts=fp32"])["space"]
    for p in expand(space)[1:]:
        m = evaluate(run_for(p, 0))
        assert m["metric"] > 0.5 * m["reference_metric"], (p["weights"], m["metric"])
