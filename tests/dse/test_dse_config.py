"""The sweep's config: the embedded default, overrides, and errors before any work."""
import pytest

from dse import config as C
from dse import sweep
from dse.space import QAT_ONLY, expand, run_for

DEFAULT_WEIGHTS = {"int4", "fp4_e2m1", "mxfp4", "nvfp4", "int8", "fp8_e4m3"}  # 4-bit per channel, 4-bit blocks, 8-bit


def test_default_config_covers_the_issue_grid():
    cfg = C.load()
    space = cfg["space"]
    assert DEFAULT_WEIGHTS <= set(space["weights"])
    assert set(space["method"]) == {"ptq", "qat"}
    assert len(cfg["sweep"]["seeds"]) >= 3  # paired differences with a t interval over >= 3 seeds
    points = expand(space)
    for wl in space["workload"]:
        d, m = wl.split("/")
        mine = [p for p in points if (p["dataset"], p["model"]) == (d, m)]
        assert mine[0]["weights"] == "fp32" and sum(p["weights"] == "fp32" for p in mine) == 1
        ptq = {p["weights"] for p in mine if p["method"] == "ptq"} - {"fp32"}
        qat = {p["weights"] for p in mine if p["method"] == "qat"}
        assert ptq == set(space["weights"]) and qat == set(space["qat_weights"]) < ptq
        assert all(p["acts"] == p["weights"] for p in mine)  # acts = "same"


def test_ptq_points_ignore_fine_tuning_keys_and_fp32_is_one_reference_row():
    space = C.load(overrides=["workload=digits/mlp,mnist1d/cnn", "method=ptq,qat", "weights=fp32,int4,mxfp4",
                              "schedule=lr-cosine,tr-cosine", "budget=[0.1,0.2]", "qat_weights=all",
                              "granularity=per-channel,per-block"])["space"]
    points = expand(space)
    # per workload: the FP32 reference (once, although weights lists fp32 and many combinations name it),
    # one PTQ point per format (schedule and budget do not apply; int4 per-block does not exist, mxfp4 is
    # per-block whatever the axis says), 4 QAT points per format
    assert len(points) == 2 * (1 + 2 + 2 * 4)
    assert {p["granularity"] for p in points if p["weights"] == "mxfp4"} == {"per-block"}
    assert {p["granularity"] for p in points if p["weights"] == "int4"} == {"per-channel"}
    assert {p["tr0"] is None for p in points if p["schedule"] == "lr-cosine"} == {True}
    run = run_for([p for p in points if p["method"] == "qat"][0], 0)
    assert "budget" in run and "tr0" not in run  # keys that do not apply stay out of the run
    ptq = [p for p in points if p["method"] == "ptq" and p["weights"] == "int4"]
    assert len(ptq) == 2 and all(p[k] is None for p in ptq for k in QAT_ONLY)
    ref = [p for p in points if p["weights"] == "fp32"]
    assert [(p["dataset"], p["acts"], p["rounding"], p["schedule"]) for p in ref] == [
        ("digits", "fp32", None, None), ("mnist1d", "fp32", None, None)]
    assert run_for(ref[0], 3)["seed"] == 3 and "workload" not in run_for(ref[0], 3)


def test_qat_weights_filters_the_qat_points():
    space = C.load(overrides=["workload=digits/mlp", "method=ptq,qat", "weights=int4,int8",
                              "qat_weights=int4"])["space"]
    got = sorted((p["method"], p["weights"]) for p in expand(space))
    assert got == [("ptq", "fp32"), ("ptq", "int4"), ("ptq", "int8"), ("qat", "int4")]
    with pytest.raises(C.ConfigError, match="nsga2.*one workload"):
        C.load(overrides=["workload=digits/mlp,mnist1d/cnn", "search=nsga2", "qat_weights=all"])
    with pytest.raises(C.ConfigError, match="qat_weights"):
        C.load(overrides=["workload=digits/mlp", "search=nsga2", "qat_weights=int4"])


def test_user_file_and_overrides_lay_over_the_default(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[space]\nweights = ["int8"]\nlanes = [1, 4]\n[sweep]\nseeds = [3]\n')
    cfg = C.load(f, ["rounding=rne", ("space", "budget", 0.5), "space.acts=fp32"])
    assert cfg["space"]["weights"] == ["int8"] and cfg["space"]["lanes"] == [1, 4]
    assert cfg["space"]["rounding"] == ["rne"] and cfg["space"]["budget"] == [0.5]
    assert cfg["space"]["acts"] == ["fp32"] and cfg["sweep"]["seeds"] == [3]
    assert cfg["space"]["granularity"] == ["per-channel"]  # untouched default


def test_override_values_parse_as_toml_or_comma_lists():
    assert C.parse_override("weights=int4,posit4_1") == ("space", "weights", ["int4", "posit4_1"])
    assert C.parse_override("lanes=[1,8]") == ("space", "lanes", [1, 8])
    assert C.parse_override("seeds=0,1") == ("sweep", "seeds", [0, 1])
    assert C.parse_override("sweep.output=out/x") == ("sweep", "output", "out/x")


def test_cost_keys_do_not_change_the_training_run():
    p = expand(C.load(overrides=["weights=int4", "rounding=rne", "schedule=lr-cosine", "lanes=[1,8]",
                                 "workload=digits/mlp", "method=qat", "qat_weights=all"])["space"])
    assert len(p) == 3 and p[0]["weights"] == "fp32"  # the reference takes the first lanes value only
    assert p[1]["lanes"] != p[2]["lanes"] and run_for(p[1], 0) == run_for(p[2], 0)
    q = expand(C.load(overrides=["weights=int4", "method=ptq", "workload=digits/mlp", "pipe=[0,1]"])["space"])
    assert [x["pipe"] for x in q[1:]] == [0, 1] and run_for(q[1], 0) == run_for(q[2], 0)


@pytest.mark.parametrize("override, words", [
    ("space.wieghts=int4", ["wieghts", "weights"]),
    ("weights=int44", ["int44", "int4"]),
    ("acts=posit4_9x", ["posit4_9x", "same"]),
    ("rounding=nearest", ["nearest", "stochastic"]),
    ("schedule=tr-cosin", ["tr-cosin", "tr-cosine"]),
    ("workload=cifar10/cnn", ["cifar10/cnn", "digits/mlp"]),
    ("workload=digits", ["digits", "DATASET/MODEL"]),
    ("method=awq", ["awq", "ptq", "qat"]),
    ("qat_weights=int44", ["int44", "int4"]),
    ("accumulator=kulisch", ["kulisch", "fixed:INT_BITS:FRAC_BITS"]),
    ("weight_memory=hbm", ["hbm", "sram_1mb"]),
    ("sweep.search=random", ["random", "nsga2"]),
    ("budget=1.5", ["budget", "1.5", "recipe"]),
    ("unsigned_acts=maybe", ["maybe", "auto", "off"]),
    ("pipe=2", ["pipe", "2", "0, 1"]),
    ("pipe=true", ["pipe", "True", "0, 1"]),
    ("bogus.key=1", ["bogus", "space"]),
])
def test_bad_config_names_the_key_or_value_and_the_choices(override, words):
    with pytest.raises(C.ConfigError) as err:
        C.load(overrides=[override])
    msg = str(err.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg


def test_unknown_table_in_a_file(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text("[sapce]\nweights = 'int4'\n")
    with pytest.raises(C.ConfigError, match="sapce.*did you mean 'space'"):
        C.load(f)


def test_cli_bad_format_exits_2_with_one_sentence_before_any_work(tmp_path, capsys):
    out = tmp_path / "o"
    rc = sweep.main(["--weights", "int4,fp5_e9", "--output", str(out)])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("dse.sweep: error:") and "fp5_e9" in err and err.count("\n") == 1
    assert not out.exists()  # nothing started


def test_cli_unwritable_output_is_reported_at_once(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    rc = sweep.main(["--output", str(blocker / "sub"), "--seeds", "0"])
    err = capsys.readouterr().err
    assert rc == 2 and "cannot be written" in err and str(blocker / "sub") in err


def test_cli_help_and_default_config(capsys):
    with pytest.raises(SystemExit) as exc:
        sweep.main(["--help"])
    assert exc.value.code == 0
    assert "--scheduler" in capsys.readouterr().out
    assert sweep.main(["--print-default-config"]) == 0
    assert "[space]" in capsys.readouterr().out
