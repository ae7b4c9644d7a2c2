"""NSGA-II resume and extension continue the study from its journal (issue 20, item 2):
``--trials 3`` then ``--trials 6`` gives the six distinct points of one run of 6, also when the
first run was killed with SIGKILL in the middle of a point."""
from __future__ import annotations

import os
import signal

import cloudpickle

import dse_fakes
import fault_fakes
from dse import config as C
from dse import sweep
from dse.executors import Inline

cloudpickle.register_pickle_by_value(dse_fakes)
CV = "test-code-version"
SPACE = ["workload=digits/mlp", "method=qat", "qat_weights=all", "weights=int4,posit8_0,fp8_e4m3,int8",
         "rounding=rne,stochastic", "budget=[0.1,0.2]", "schedule=lr-cosine", "seeds=0,1", "workers=1", "search=nsga2"]


def cfg(out, trials):
    return C.load(overrides=[*SPACE, f"output={out}", f"trials={trials}"])


def nsga(out, trials, fake):
    return sweep.run(cfg(out, trials), executor=Inline(), evaluate_fn=fake, code_version=CV, progress=False)


def points(res):
    return list(res.table["point_id"])


def test_extension_continues_the_study(tmp_path):
    fake = dse_fakes.FakeEvaluate(tmp_path / "calls")
    first = nsga(tmp_path / "ext", 3, fake)
    assert len(set(points(first))) == 3
    more = nsga(tmp_path / "ext", 6, fake)
    assert len(set(points(more))) == 6 and len(more.table) == 6
    assert fake.calls() == 6 * 2  # each distinct point once per seed, none repeated
    one = nsga(tmp_path / "one", 6, dse_fakes.FakeEvaluate(tmp_path / "calls-one"))
    assert sorted(points(one)) == sorted(points(more))
    again = nsga(tmp_path / "ext", 6, fake)   # rerun: nothing new
    assert again.computed == 0 and fake.calls() == 12 and sorted(points(again)) == sorted(points(one))


DRIVER = """
import sys
import cloudpickle, dse_fakes, fault_fakes
from dse import config as C, sweep
from dse.executors import Inline
cloudpickle.register_pickle_by_value(fault_fakes)
out, calls = sys.argv[1:3]
cfg = C.load(overrides=[*SPACE, f"output={out}", "trials=6"])
sweep.run(cfg, executor=Inline(), evaluate_fn=fault_fakes.HangAfter(calls, 7), code_version=CV, progress=False)
"""


def test_resume_after_sigkill_is_the_same_study(tmp_path):
    """Killed in the 4th point (after 7 runs of 2 seeds each), then rerun: the 6 points of one run."""
    calls = tmp_path / "calls"
    calls.mkdir()
    proc = fault_fakes.start(f"SPACE = {SPACE!r}; CV = {CV!r}\n" + DRIVER, tmp_path / "out", calls)
    try:
        fault_fakes.wait_until((calls / "hung").exists, proc, 120, "its 8th run")
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        fault_fakes.stop(proc)
    fake = dse_fakes.FakeEvaluate(tmp_path / "calls-rerun")
    resumed = nsga(tmp_path / "out", 6, fake)
    assert fake.calls() == 6 * 2 - 7   # the 7 finished runs come from the cache
    one = nsga(tmp_path / "one", 6, dse_fakes.FakeEvaluate(tmp_path / "calls-one"))
    assert len(resumed.table) == 6 and sorted(points(resumed)) == sorted(points(one))
