"""The sweep under faults: killed sweeps leave no workers behind (issue 20, item 1)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import fault_fakes

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

DRIVER = """
import sys
import cloudpickle, fault_fakes
from dse import config as C, sweep
from dse.executors import DaskExecutor, LocalPool
cloudpickle.register_pickle_by_value(fault_fakes)
out, calls, kind = sys.argv[1:4]
cfg = C.load(overrides=["weights=int4,int8,posit8_0", "schedule=lr-cosine", "rounding=rne",
                        f"output={out}", "seeds=0", "workers=2"])
executor = LocalPool(2) if kind == "pool" else DaskExecutor(None, 2)
sweep.run(cfg, executor=executor, evaluate_fn=fault_fakes.Sleeper(calls, 300),
          code_version="t", progress=False)
"""


def _wait(cond, seconds, what):
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > seconds:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.1)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find the workers")
@pytest.mark.parametrize("kind", ["pool", "dask"])
def test_sigkill_of_the_sweep_leaves_no_worker(tmp_path, kind):
    """``--workers 2`` (a process pool) and ``--cluster local`` (Dask): SIGKILL the sweep while
    both workers are inside a run; every process below it must be gone within 20 s."""
    calls = tmp_path / "calls"
    calls.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(tmp_path / "out"), str(calls), kind], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    below = set()
    try:
        _wait(lambda: len(list(calls.glob("pid-*"))) == 2 or proc.poll() is not None, 120,
              "two workers to start a run")
        assert proc.poll() is None, "the sweep ended before its workers were busy"
        workers = {int(p.name[4:]) for p in calls.glob("pid-*")}
        below = fault_fakes.descendants(proc.pid)
        assert workers <= below           # the workers, and the resource tracker
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        survivors = set(below)
        try:
            _wait(lambda: not {p for p in survivors if fault_fakes.alive(p)}, 20, "the workers to end")
        except AssertionError:
            left = sorted(p for p in survivors if fault_fakes.alive(p))
            raise AssertionError(f"{len(left)} processes of the killed sweep still run: {left}") from None
    finally:
        for pid in below | {proc.pid}:
            if fault_fakes.alive(pid):
                os.kill(pid, signal.SIGKILL)
