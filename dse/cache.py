"""The result cache: one JSON file per training run, keyed by a hash of its config.

A key is the SHA-256 of the run's canonical JSON (sorted keys) together with the
code version (:func:`dse.evaluate.code_version`).  Writes are atomic: a record is
written to a temporary file in the same folder and moved into place with
``os.replace``, so a sweep killed at any moment leaves only whole records.  A run
that raised is recorded too (``status = "error"`` with the error), so a rerun does
not repeat it unless asked to (``--retry-failed``).
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

__all__ = ["Cache", "run_key"]


def run_key(run: dict, code_version: str) -> str:
    """The cache key of ``run`` under ``code_version``."""
    blob = json.dumps({"run": run, "code": code_version}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


class Cache:
    """A folder of records, ``<key>.json``; counts its reads and writes (``hits``, ``writes``)."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.hits = 0
        self.writes = 0

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def get(self, key: str) -> dict | None:
        """The record under ``key``, or None (a damaged file counts as missing)."""
        try:
            with open(self.path(key)) as fh:
                rec = json.load(fh)
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        self.hits += 1
        return rec

    def put(self, key: str, record: dict) -> None:
        """Write ``record`` under ``key`` atomically (temp file + os.replace)."""
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{key}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(record, fh, sort_keys=True, allow_nan=True)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path(key))
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        self.writes += 1

    def keys(self) -> list[str]:
        return sorted(p.stem for p in self.folder.glob("*.json"))
