"""The sweep's config: the embedded default, overrides, and errors before any work."""
import pytest

from dse import config as C
from dse import sweep
from dse.space import expand, run_for

DEFAULT_WEIGHTS = {"int4", "fp4_e2m1", "posit4_1", "mxfp4", "nvfp4", "posit8_0", "int8", "fp8_e4m3"}


def test_default_config_covers_the_issue_grid():
    cfg = C.load()
    space = cfg["space"]
    assert DEFAULT_WEIGHTS <= set(space["weights"])
    assert set(space["rounding"]) == {"rne", "stochastic"}
    assert set(space["schedule"]) == {"lr-cosine", "tr-cosine"}
    assert len(cfg["sweep"]["seeds"]) >= 2  # mean ± std
    points = expand(space)
    assert len(points) == len(space["weights"]) * 2 * 2
    assert all(p["acts"] == p["weights"] for p in points)  # acts = "same"


def test_user_file_and_overrides_lay_over_the_default(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[space]\nweights = ["int8"]\nlanes = [1, 4]\n[sweep]\nseeds = [3]\n')
    cfg = C.load(f, ["rounding=rne", ("space", "epochs", 2), "space.acts=fp32"])
    assert cfg["space"]["weights"] == ["int8"] and cfg["space"]["lanes"] == [1, 4]
    assert cfg["space"]["rounding"] == ["rne"] and cfg["space"]["epochs"] == [2]
    assert cfg["space"]["acts"] == ["fp32"] and cfg["sweep"]["seeds"] == [3]
    assert cfg["space"]["schedule"] == ["lr-cosine", "tr-cosine"]  # untouched default


def test_override_values_parse_as_toml_or_comma_lists():
    assert C.parse_override("weights=int4,posit4_1") == ("space", "weights", ["int4", "posit4_1"])
    assert C.parse_override("lanes=[1,8]") == ("space", "lanes", [1, 8])
    assert C.parse_override("seeds=0,1") == ("sweep", "seeds", [0, 1])
    assert C.parse_override("sweep.output=out/x") == ("sweep", "output", "out/x")


def test_cost_keys_do_not_change_the_training_run():
    p = expand(C.load(overrides=["weights=int4", "rounding=rne", "schedule=lr-cosine", "lanes=[1,8]"])["space"])
    assert len(p) == 2 and run_for(p[0], 0) == run_for(p[1], 0)


@pytest.mark.parametrize("override, words", [
    ("space.wieghts=int4", ["wieghts", "weights"]),
    ("weights=int44", ["int44", "int4"]),
    ("acts=posit4_9x", ["posit4_9x", "same"]),
    ("rounding=nearest", ["nearest", "stochastic"]),
    ("schedule=tr-cosin", ["tr-cosin", "tr-cosine"]),
    ("dataset=cifar10", ["cifar10", "digits"]),
    ("accumulator=kulisch", ["kulisch", "fixed:INT_BITS:FRAC_BITS"]),
    ("weight_memory=hbm", ["hbm", "sram_1mb"]),
    ("sweep.search=random", ["random", "nsga2"]),
    ("epochs=0", ["epochs", "0"]),
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
