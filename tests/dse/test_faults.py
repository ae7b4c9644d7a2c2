"""The sweep under faults: killed sweeps leave no workers behind (issue 20, item 1)."""
from __future__ import annotations

import os
import signal
import sys
import time

import pytest

import fault_fakes

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


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find the workers")
@pytest.mark.parametrize("kind", ["pool", "dask"])
def test_sigkill_of_the_sweep_leaves_no_worker(tmp_path, kind):
    """``--workers 2`` (a process pool) and ``--cluster local`` (Dask): SIGKILL the sweep while
    both workers are inside a run; every process below it must be gone within 20 s."""
    calls = tmp_path / "calls"
    calls.mkdir()
    proc = fault_fakes.start(DRIVER, tmp_path / "out", calls, kind)
    below = set()
    try:
        fault_fakes.wait_until(lambda: len(list(calls.glob("pid-*"))) == 2, proc, 120, "two workers to start a run")
        workers = {int(p.name[4:]) for p in calls.glob("pid-*")}
        below = fault_fakes.descendants(proc.pid)
        assert workers <= below           # the workers, and the resource tracker
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        t0 = time.monotonic()
        while (left := sorted(p for p in below if fault_fakes.alive(p))) and time.monotonic() - t0 < 20:
            time.sleep(0.1)
        assert not left, f"{len(left)} processes of the killed sweep still run 20 s after it: {left}"
    finally:
        for pid in below:
            if fault_fakes.alive(pid):
                os.kill(pid, signal.SIGKILL)
        fault_fakes.stop(proc)
