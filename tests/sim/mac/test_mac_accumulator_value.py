"""sim.mac.Accumulator (the one parser of accumulator specs) and sim.mac.mode_for (format ->
engine mode by description), and that dse's config, dse's cost model and rtl's parameters
all go through them."""
from __future__ import annotations

import pytest

import formats
from sim import mac
from sim.mac import Accumulator


@pytest.mark.parametrize("spec, canon", [
    ("exact", "exact"), (" FP32 ", "fp32"), ("fixed:16:16", "fixed:16:16"), ("FIXED:016:8", "fixed:16:8"),
    (("fixed", 2, 0), "fixed:2:0"), (["fixed", 30, 30], "fixed:30:30"),
    (Accumulator("fixed", 8, 8), "fixed:8:8"),
])
def test_parse_canonical_round_trip(spec, canon):
    acc = Accumulator.parse(spec)
    assert str(acc) == canon
    assert Accumulator.parse(str(acc)) == acc


@pytest.mark.parametrize("spec", ["fixed:1:0", "fixed:50:50", "fixed:2:59", ("fixed", 1, 8), ("fixed", 4, -1)])
def test_limits(spec):
    with pytest.raises(ValueError, match=r"int_bits >= 2, frac_bits >= 0 and int_bits \+ frac_bits <= 60"):
        Accumulator.parse(spec)


@pytest.mark.parametrize("spec", ["kulisch", "fixed:16", "fixed:a:b", 3, None, ("exact",)])
def test_bad_spellings(spec):
    with pytest.raises(ValueError, match="exact"):
        Accumulator.parse(spec)


def test_types_and_widths():
    with pytest.raises(TypeError, match="int_bits must be an integer"):
        Accumulator("fixed", 16.0, 8)
    with pytest.raises(ValueError, match="takes no widths"):
        Accumulator("fp32", 16, 8)
    assert Accumulator.parse("fixed:16:8").width == 24 and Accumulator.parse("exact").width is None
    assert Accumulator.parse("fixed:16:8").engine_value == ("fixed", 16, 8)
    assert Accumulator.parse("fp32").engine_value == "fp32"
    e = mac.Engine("int8", accumulator="fixed:16:8")
    assert e.acc == Accumulator("fixed", 16, 8) and e.accumulator == ("fixed", 16, 8)


def test_the_limits_are_the_engines():
    """The largest accepted fixed accumulator builds an engine; one more bit is refused by both."""
    mac.Engine("int8", accumulator=("fixed", 2, mac.FIXED_MAX_WIDTH - 2))
    with pytest.raises(ValueError):
        mac.Engine("int8", accumulator=("fixed", 2, mac.FIXED_MAX_WIDTH - 1))


def test_mode_for_by_description():
    assert mac.mode_for("fp4_e2m1fin") == "fp4_e2m1"
    assert mac.mode_for("FP4_E2M1") == "fp4_e2m1"
    assert mac.mode_for("mxfp4_e2m1") == "mxfp4"
    assert mac.mode_for(formats.get("posit8_0")) == "posit8_0"
    assert mac.mode_for("fp8_e4m3") == "fp8_e4m3"
    # same bits, other description: no mode
    assert mac.mode_for("fp8_e4m3fnuz") is None
    assert mac.mode_for("fp4_e2m1_b2") is None
    assert mac.mode_for("bf16") is None and mac.mode_for("uint8") is None
    for m in mac.MODES:
        assert mac.mode_for(m) == m
    with pytest.raises(KeyError):
        mac.mode_for("fp9_bad")


def test_dse_and_rtl_use_the_one_parser():
    from dse import config as C
    from dse import costs
    from rtl.params import acc_params

    for bad in ("fixed:1:0", "fixed:50:50"):
        with pytest.raises(C.ConfigError, match="int_bits >= 2"):
            C.load(None, [f"space.accumulator={bad!r}".replace("'", '"')])
    cfg = C.load(None, ['space.accumulator="FIXED:16:8"'])
    assert cfg["space"]["accumulator"] == ["fixed:16:8"]
    assert costs.engine_mode("fp4_e2m1fin") == "fp4_e2m1"
    assert costs.engine_mode("nvfp4") == "nvfp4" and costs.engine_mode("bf16") is None
    assert acc_params("fixed:16:8") == {"ACC": 2, "FIX_I": 16, "FIX_F": 8}
    with pytest.raises(ValueError, match="int_bits >= 2"):
        acc_params("fixed:1:8")
