"""Where ``evaluate`` runs: in this process, a local process pool, or a Dask cluster.

An executor only places work; it does not touch the cache.  Every executor has
one method, ``imap(fn, items)``, which yields ``(index, record)`` pairs as runs
finish, in any order, where ``record`` is what :func:`dse.evaluate.safe_call`
returns (a failed run is a record, never an exception).  Use it as a context
manager; leaving the block (also by Ctrl-C) cancels what has not started.

* :class:`Inline`: one run at a time in this process (``--workers 1``).
* :class:`LocalPool`: ``--workers N`` processes (spawned, one torch thread each).
  Its workers die with the sweep however the sweep ends, also by SIGKILL: on Linux
  the kernel sends each worker SIGKILL when its parent dies (``PR_SET_PDEATHSIG``);
  elsewhere a thread in each worker checks once a second that its parent is alive.
  (Dask's workers do the same on their own: each watches a pipe from its parent.)
* :class:`DaskExecutor`: an existing scheduler (``--scheduler tcp://HOST:PORT``)
  or a LocalCluster it starts (``--cluster local``, ``--workers`` processes).

Functions are shipped with cloudpickle, so any function (also a test's) can be
placed in any executor.
"""
from __future__ import annotations

import concurrent.futures as cf
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time

import cloudpickle

from .evaluate import safe_call

__all__ = ["Inline", "LocalPool", "DaskExecutor", "die_with_parent", "make"]


def _call_pickled(blob: bytes, item):
    return safe_call(cloudpickle.loads(blob), item)


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(parent_pid: int) -> None:
    """Make this process end when process ``parent_pid`` (its parent) ends, however it ends.

    Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``, so the kernel kills this process the
    moment its parent dies.  Elsewhere: a daemon thread that checks once a second.
    Either way, a parent that died before this call is caught by comparing
    ``os.getppid()`` with ``parent_pid`` (this process was adopted by then).
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    else:
        def watch():
            while os.getppid() == parent_pid:
                time.sleep(1.0)
            os._exit(1)

        threading.Thread(target=watch, name="die-with-parent", daemon=True).start()
    if os.getppid() != parent_pid:
        os._exit(1)


class Inline:
    """Runs each item in this process, in order."""

    description = "in this process"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def imap(self, fn, items):
        for i, item in enumerate(items):
            yield i, safe_call(fn, item)


class LocalPool:
    """A pool of ``workers`` spawned processes."""

    def __init__(self, workers: int):
        self.workers = workers
        self.description = f"{workers} local worker processes"
        self._pool = None

    def __enter__(self):
        self._pool = cf.ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=die_with_parent, initargs=(os.getpid(),))
        return self

    def __exit__(self, *exc):
        self._pool.shutdown(wait=exc[0] is None, cancel_futures=True)
        return False

    def imap(self, fn, items):
        blob = cloudpickle.dumps(fn)
        futures = {self._pool.submit(_call_pickled, blob, item): i for i, item in enumerate(items)}
        for fut in cf.as_completed(futures):
            yield futures[fut], fut.result()


class DaskExecutor:
    """Runs items on Dask distributed: at ``scheduler``'s address, or on a LocalCluster it starts."""

    def __init__(self, scheduler: str | None = None, workers: int = 2):
        self.scheduler = scheduler
        self.workers = workers
        self.description = (f"Dask scheduler {scheduler}" if scheduler
                            else f"a Dask LocalCluster of {workers} workers")
        self._cluster = self._client = None

    def __enter__(self):
        from distributed import Client, LocalCluster

        if self.scheduler:
            self._client = Client(self.scheduler, timeout="20s")
        else:
            self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                         dashboard_address=None)
            self._client = Client(self._cluster)
        return self

    def __exit__(self, *exc):
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        return False

    def imap(self, fn, items):
        from distributed import as_completed

        futures = [self._client.submit(safe_call, fn, item, pure=False) for item in items]
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for fut in as_completed(futures):
                try:
                    record = fut.result()
                except Exception as err:  # a worker lost while running it
                    record = {"status": "error", "error": f"{type(err).__name__}: {err}", "seconds": 0.0}
                yield index[fut.key], record
        finally:
            self._client.cancel([f for f in futures if not f.done()])


def make(workers: int = 1, scheduler: str | None = None, cluster: str | None = None):
    """The executor for the command-line flags ``--workers``, ``--scheduler``, ``--cluster``."""
    if scheduler and cluster:
        raise ValueError("give either --scheduler or --cluster, not both")
    if cluster is not None and cluster != "local":
        raise ValueError(f"--cluster {cluster!r} is not valid; the only choice is 'local'")
    if scheduler or cluster:
        return DaskExecutor(scheduler, workers)
    return Inline() if workers == 1 else LocalPool(workers)
