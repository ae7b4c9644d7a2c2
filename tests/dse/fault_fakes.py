"""Stand-ins for the fault tests (tests/dse/test_faults.py): a training run that hangs, and a
small script that runs a sweep in a child process so that a test can kill it."""
from __future__ import annotations

import os
import time
from pathlib import Path


class Sleeper:
    """An evaluate function that notes its process id in ``folder`` and then sleeps ``seconds``
    (a long training run, as far as the sweep can tell)."""

    def __init__(self, folder, seconds: float):
        self.folder, self.seconds = str(folder), float(seconds)

    def __call__(self, run: dict) -> dict:
        Path(self.folder, f"pid-{os.getpid()}").write_text("")
        time.sleep(self.seconds)
        return {"accuracy": 0.5}


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (children, grandchildren, ...), read from /proc."""
    parent = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parent[int(d.name)] = int(fields[1])
    out, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parent.items() if pp in frontier} - out
        out |= frontier
    return out


def alive(pid: int) -> bool:
    """Whether ``pid`` is a running process (a zombie, dead but not yet reaped, is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


class HangAfter:
    """dse_fakes.FakeEvaluate's metrics for the first ``n`` calls; call ``n + 1`` leaves a file
    ``hung`` in ``folder`` and sleeps (a sweep to be killed in the middle of a run)."""

    def __init__(self, folder, n: int):
        import dse_fakes

        self.fake, self.n = dse_fakes.FakeEvaluate(folder), n

    def __call__(self, run: dict) -> dict:
        if self.fake.calls() >= self.n:
            Path(self.fake.folder, "hung").write_text("")
            time.sleep(300)
        return self.fake(run)


class Slow:
    """dse_fakes.FakeEvaluate's metrics after ``seconds`` of sleep; notes ``started`` in ``folder``."""

    def __init__(self, folder, seconds: float):
        import dse_fakes

        self.fake, self.seconds = dse_fakes.FakeEvaluate(folder), float(seconds)

    def __call__(self, run: dict) -> dict:
        Path(self.fake.folder, "started").write_text("")
        time.sleep(self.seconds)
        return self.fake(run)


def start(code: str, *args) -> "subprocess.Popen":
    """Run Python ``code`` with ``args`` in a child process that imports this worktree's packages
    and these test helpers; stdout is dropped, stderr kept (for the failure message)."""
    import subprocess
    import sys

    here = Path(__file__).resolve().parent
    path = os.pathsep.join([str(here.parents[1]), str(here), os.environ.get("PYTHONPATH", "")])
    return subprocess.Popen([sys.executable, "-c", code, *map(str, args)], env={**os.environ, "PYTHONPATH": path},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_until(cond, proc, seconds: float, what: str) -> None:
    """Poll ``cond()`` until true; fail if ``proc`` ends first or ``seconds`` pass."""
    t0 = time.monotonic()
    while not cond():
        if proc.poll() is not None:
            raise AssertionError(f"the child ended before {what}: {proc.stderr.read().decode()[-2000:]}")
        if time.monotonic() - t0 > seconds:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.05)


def stop(proc) -> None:
    """Kill ``proc`` if it still runs, and reap it."""
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    proc.stderr.close()
