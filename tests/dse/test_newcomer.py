"""What a newcomer sees (issue 20, item 8): ``--help`` names each option's kind and default,
and the summary says which front its table is and which fronts the plots draw."""
from __future__ import annotations

import cloudpickle
import pytest

import dse_fakes
from dse import config as C
from dse import sweep
from dse.executors import Inline

cloudpickle.register_pickle_by_value(dse_fakes)


def test_help_names_kinds_and_defaults(capsys):
    with pytest.raises(SystemExit) as ex:
        sweep.main(["--help"])
    assert ex.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "VALUE" not in text.replace("KEY=VALUE", "")
    assert "--workers N local worker processes" in text and "(default: 2)" in text
    assert "--seeds N[,N...]" in text and "(default: 0,1,2)" in text
    assert "--weights NAME[,NAME...]" in text and "--output DIR" in text


def test_summary_says_which_front_is_which(tmp_path):
    cfg = C.load(overrides=["workload=digits/mlp", "weights=int4,int8", "rounding=rne", "schedule=lr-cosine",
                            f"output={tmp_path / 'out'}", "seeds=0", "workers=1"])
    res = sweep.run(cfg, executor=Inline(), evaluate_fn=dse_fakes.FakeEvaluate(tmp_path / "c"),
                    code_version="t", progress=False)
    text = " ".join(res.summary.read_text().split())
    assert "Pareto table above is the front over all the objectives at once (gain_mean," in text
    assert "Each plot draws its own two-objective front" in text
