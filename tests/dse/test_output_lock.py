"""Two sweeps on one output folder (issue 20, item 5), and config values a run would refuse
(item 4): repeated seeds, and --dry-run listing points the QAT path refuses."""
from __future__ import annotations

import json

import cloudpickle
import pytest

import dse_fakes
import fault_fakes
from dse import config as C
from dse import sweep
from dse.executors import Inline
from dse.lock import OutputBusy

cloudpickle.register_pickle_by_value(dse_fakes)
CV = "test-code-version"
BASE = ["workload=digits/mlp", "method=qat", "qat_weights=all", "rounding=rne", "schedule=lr-cosine", "seeds=0",
        "workers=1"]

DRIVER = """
import sys
import cloudpickle, fault_fakes
from dse import config as C, sweep
from dse.executors import Inline
cloudpickle.register_pickle_by_value(fault_fakes)
out, calls = sys.argv[1:3]
cfg = C.load(overrides=[*BASE, "weights=int4,int8", f"output={out}"])
sweep.run(cfg, executor=Inline(), evaluate_fn=fault_fakes.Slow(calls, 3), code_version=CV, progress=False)
"""


@pytest.fixture
def holder(tmp_path):
    """A sweep in another process, inside its first run (each run takes 3 s)."""
    calls = tmp_path / "calls"
    calls.mkdir()
    proc = fault_fakes.start(f"BASE = {BASE!r}; CV = {CV!r}\n" + DRIVER, tmp_path / "out", calls)
    fault_fakes.wait_until((calls / "started").exists, proc, 120, "its first run")
    yield proc
    fault_fakes.stop(proc)


def test_a_second_sweep_with_another_config_stops(tmp_path, holder, capsys):
    out = tmp_path / "out"
    other = C.load(overrides=[*BASE, "weights=posit8_0", f"output={out}"])
    with pytest.raises(OutputBusy, match=f"process {holder.pid}.*different config"):
        sweep.run(other, executor=Inline(), evaluate_fn=dse_fakes.FakeEvaluate(tmp_path / "c2"),
                  code_version=CV, progress=False)
    assert holder.poll() is None   # refused at once, while the first still runs
    # the command line says so in one sentence and exits 2 (its config check imports the QAT path)
    assert sweep.main(["--weights", "posit8_0", *[f"--set={o}" for o in BASE], "--output", str(out),
                       "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "different config" in err[0] and str(out) in err[0]
    assert holder.wait(60) == 0
    assert set(json.loads((out / "config.json").read_text())["space"]["weights"]) == {"int4", "int8"}


def test_a_second_sweep_with_the_same_config_waits_and_reuses(tmp_path, holder, capsys):
    same = C.load(overrides=[*BASE, "weights=int4,int8", f"output={tmp_path / 'out'}"])
    fake = dse_fakes.FakeEvaluate(tmp_path / "c2")
    res = sweep.run(same, executor=Inline(), evaluate_fn=fake, code_version=CV, progress=False)
    assert "with the same config" in capsys.readouterr().err
    # it waited for the first to end: every run came from the first sweep's cache
    assert res.computed == 0 and fake.calls() == 0 and len(res.table) == 3  # the FP32 row, int4, int8
    assert holder.wait(60) == 0


def test_a_finished_sweep_leaves_the_folder_free(tmp_path):
    out = tmp_path / "out"
    for weights in ("int4", "int8"):
        cfg = C.load(overrides=[*BASE, f"weights={weights}", f"output={out}"])
        sweep.run(cfg, executor=Inline(), evaluate_fn=dse_fakes.FakeEvaluate(tmp_path / "c"),
                  code_version=CV, progress=False)


def test_repeated_seeds_are_refused():
    with pytest.raises(C.ConfigError, match=r"repeats 0; give distinct seeds"):
        C.load(overrides=["seeds=[0, 0]"])
    with pytest.raises(C.ConfigError, match=r"repeats 1, 2"):
        C.load(overrides=["seeds=1,2,1,2,3"])


def test_dry_run_refuses_what_a_run_refuses(capsys, monkeypatch):
    from dse import evaluate

    def refuse(runs):  # the evaluation's own check of every run (dse.evaluate.check_runs)
        bad = [r for r in runs if r["weights"] == "int8" and r["method"] == "qat"]
        if bad:
            raise C.ConfigError(f"design point (method=qat, weights=int8) is not valid: refused by {len(bad)} run")

    monkeypatch.setattr(evaluate, "check_runs", refuse)
    assert sweep.main(["--workload", "digits/mlp", "--weights", "int4,int8", "--set", "qat_weights=all",
                       "--dry-run"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "weights=int8" in captured.err and "not valid" in captured.err
    assert sweep.main(["--workload", "digits/mlp", "--weights", "int4,int8", "--dry-run"]) == 0  # int8: ptq only
