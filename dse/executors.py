"""Where ``evaluate`` runs: in this process, a local process pool, or a Dask cluster.

An executor only places work; it does not touch the cache.  Every executor has
one method, ``imap(fn, items)``, which yields ``(index, record)`` pairs as runs
finish, in any order, where ``record`` is what :func:`dse.evaluate.safe_call`
returns (a failed run is a record, never an exception).  Use it as a context
manager; leaving the block (also by Ctrl-C) cancels what has not started.

* :class:`Inline`: one run at a time in this process (``--workers 1``).
* :class:`LocalPool`: ``--workers N`` processes (spawned, one torch thread each).
* :class:`DaskExecutor`: an existing scheduler (``--scheduler tcp://HOST:PORT``)
  or a LocalCluster it starts (``--cluster local``, ``--workers`` processes).

Functions are shipped with cloudpickle, so any function (also a test's) can be
placed in any executor.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing

import cloudpickle

from .evaluate import safe_call

__all__ = ["Inline", "LocalPool", "DaskExecutor", "make"]


def _call_pickled(blob: bytes, item):
    return safe_call(cloudpickle.loads(blob), item)


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
        self._pool = cf.ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
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
