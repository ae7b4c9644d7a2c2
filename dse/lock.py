"""One sweep at a time per output folder: :class:`OutputLock`.

A sweep holds an exclusive ``flock`` on ``OUTPUT/.sweep.lock`` while it writes the
folder; the file names the holder (process id and the SHA-256 of its config).  The
kernel drops the lock when the holder ends, however it ends (also SIGKILL), so a
killed sweep never leaves a stale lock.  A second sweep on the same folder:

* with a different config stops at once with :class:`OutputBusy` (``dse.sweep``
  exits 2): otherwise whichever finished last would silently replace the other's
  ``results.csv``, ``config.json`` and report;
* with the identical config waits for the first to finish and then goes on: every
  run the first finished is in the cache, so it computes only what is left (after a
  complete first sweep: nothing) and writes the same outputs again.

A sweep that starts after another has finished may use the folder with any config.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sys
import time
from pathlib import Path

__all__ = ["OutputBusy", "OutputLock", "config_hash"]

LOCK_NAME = ".sweep.lock"


class OutputBusy(ValueError):
    """The output folder is being written by another sweep with a different config."""


def config_hash(cfg: dict) -> str:
    """SHA-256 of the config's canonical JSON."""
    return hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()


class OutputLock:
    """Context manager: hold ``folder``'s sweep lock for a sweep of ``cfg`` (see the module doc).

    ``say``: where the one-line note about waiting goes (default: stderr).
    """

    def __init__(self, folder, cfg: dict, say=None):
        self.path = Path(folder) / LOCK_NAME
        self.sha = config_hash(cfg)
        self.say = say or (lambda msg: print(msg, file=sys.stderr))
        self._fh = None

    def _holder(self) -> dict:
        """What the holder wrote (it writes right after locking, so retry an empty file briefly)."""
        for _ in range(20):
            try:
                info = json.loads(self.path.read_text() or "null")
            except (OSError, ValueError):
                info = None
            if isinstance(info, dict):
                return info
            time.sleep(0.05)
        return {}

    def __enter__(self):
        fh = open(self.path, "a+")
        try:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                info = self._holder()
                who = f"another sweep (process {info.get('pid', '?')})"
                if info.get("config_sha256") != self.sha:
                    raise OutputBusy(
                        f"output folder {str(self.path.parent)!r} is being written by {who} with a different "
                        f"config; give another --output, or wait until it ends") from None
                self.say(f"dse.sweep: {who} with the same config is writing {self.path.parent}; "
                         "waiting for it to end, then carrying on from its cache")
                fcntl.flock(fh, fcntl.LOCK_EX)
            fh.seek(0)
            fh.truncate()
            fh.write(json.dumps({"pid": os.getpid(), "config_sha256": self.sha, "since": time.time()}))
            fh.flush()
        except BaseException:
            fh.close()
            raise
        self._fh = fh
        return self

    def __exit__(self, *exc):
        fh, self._fh = self._fh, None
        if fh is not None:
            fh.seek(0)
            fh.truncate()
            fh.close()  # closing drops the flock
        return False
