"""The result cache: one JSON file per training run, keyed by a hash of its config.

A key is the SHA-256 of the run's canonical JSON (sorted keys) together with the
code version (:func:`dse.evaluate.code_version`).  Writes are atomic: a record is
written to a temporary file in the same folder and moved into place with
``os.replace``, so a sweep killed at any moment leaves only whole records.  A run
that raised is recorded too (``status = "error"`` with the error), so a rerun does
not repeat it unless asked to (``--retry-failed``).

Records are checked when read (:func:`check_record`): a file that cannot be read,
is not UTF-8 JSON, or holds a record of the wrong shape, types or ranges (say an
accuracy of 1.5) is never trusted.  It is moved aside to ``<key>.json.damaged``
with a one-line warning on stderr naming it, and the run counts as not done, so
the sweep computes it again.
"""
from __future__ import annotations

import hashlib
import json
import math
import numbers
import os
import sys
import tempfile
from pathlib import Path

__all__ = ["Cache", "check_record", "run_key"]


def run_key(run: dict, code_version: str) -> str:
    """The cache key of ``run`` under ``code_version``."""
    blob = json.dumps({"run": run, "code": code_version}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _number(m, k, lo=None, hi=None, nan=False):
    v = m[k]
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise ValueError(f"{k} = {v!r} is not a number")
    if math.isnan(v) and nan:
        return
    if not math.isfinite(v):
        raise ValueError(f"{k} = {v!r} is not finite")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ValueError(f"{k} = {v!r} is outside [{lo if lo is not None else '-inf'}, "
                         f"{hi if hi is not None else 'inf'}]")


def _count(m, k):
    v = m[k]
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ValueError(f"{k} = {v!r} is not a nonnegative integer")


#: range of each metric by name: accuracy is a fraction, bits per byte nonnegative
METRIC_RANGES = {"accuracy": (0.0, 1.0), "bits_per_byte": (0.0, None)}
#: what every successful run's metrics hold (besides its metric: ``metric`` or ``accuracy``)
REQUIRED_METRICS = ("n_params", "macs_per_inference", "model_bits", "act_elements")


def check_metrics(m) -> None:
    """Check a successful run's metrics; ValueError names the first problem.

    Required: a metric (``metric``, with ``metric_name``, or ``accuracy``) and
    :data:`REQUIRED_METRICS`.  Where present: ``accuracy`` in [0, 1] and
    ``bits_per_byte`` >= 0 (and ``metric`` and ``reference_metric`` in the range of
    their ``metric_name``), finite; ``higher_is_better`` a bool; counts nonnegative
    integers; ``act_elements`` a list of them; ``loss`` and ``train_seconds`` numbers
    (NaN allowed: a run without training has no loss).  Other keys pass unchecked.
    """
    if not isinstance(m, dict):
        raise ValueError(f"metrics is a {type(m).__name__}, not a table")
    if "metric" not in m and "accuracy" not in m:
        raise ValueError("metrics lack a metric ('metric' or 'accuracy')")
    missing = [k for k in REQUIRED_METRICS if k not in m]
    if missing:
        raise ValueError(f"metrics lack {', '.join(missing)}")
    name = m.get("metric_name")
    if name is not None and not isinstance(name, str):
        raise ValueError(f"metric_name = {name!r} is not a string")
    if name is not None and name in m and "metric" in m and m[name] != m["metric"]:
        raise ValueError(f"metric = {m['metric']!r} differs from {name} = {m[name]!r}")
    for k, (lo, hi) in METRIC_RANGES.items():
        if k in m:
            _number(m, k, lo, hi)
    for k in ("metric", "reference_metric"):
        if k in m:
            _number(m, k, *METRIC_RANGES.get(name, (None, None)))
    if "higher_is_better" in m and not isinstance(m["higher_is_better"], bool):
        raise ValueError(f"higher_is_better = {m['higher_is_better']!r} is not true or false")
    for k in ("n_params", "macs_per_inference", "model_bits"):
        _count(m, k)
    acts = m["act_elements"]
    if not isinstance(acts, list) or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0
                                             for n in acts):
        raise ValueError(f"act_elements = {acts!r} is not a list of nonnegative integers")
    for k in ("loss", "train_seconds"):
        if k in m:
            _number(m, k, nan=True)


def check_record(rec, key: str | None = None) -> None:
    """Check a cache record's shape, types and ranges; ValueError names the first problem.

    A record is a table with ``status`` ``"ok"`` (and ``metrics``, see
    :func:`check_metrics`) or ``"error"`` (and an ``error`` message); ``seconds``,
    where present, is a nonnegative number; ``key``, where present, is ``key``.
    """
    if not isinstance(rec, dict):
        raise ValueError(f"the record is a {type(rec).__name__}, not a table")
    if key is not None and "key" in rec and rec["key"] != key:
        raise ValueError(f"it holds the record of key {rec['key']!r}")
    status = rec.get("status")
    if status == "ok":
        if "metrics" not in rec:
            raise ValueError("status ok without metrics")
        check_metrics(rec["metrics"])
    elif status == "error":
        if not isinstance(rec.get("error"), str):
            raise ValueError("status error without an error message")
    else:
        raise ValueError(f"status = {status!r}; allowed: 'ok', 'error'")
    if "seconds" in rec:
        _number(rec, "seconds", 0.0, nan=True)


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
        """The record under ``key``, or None when there is none or it is damaged (then it is
        moved aside to ``<key>.json.damaged`` with a one-line warning naming the file)."""
        path = self.path(key)
        try:
            with open(path, encoding="utf-8") as fh:
                rec = json.load(fh)
            check_record(rec, key)
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValueError) as err:
            self._set_aside(path, err)
            return None
        self.hits += 1
        return rec

    def _set_aside(self, path: Path, err: Exception) -> None:
        why = err.strerror if isinstance(err, OSError) and err.strerror else str(err).splitlines()[0]
        aside = path.with_name(path.name + ".damaged")
        try:
            if aside.is_dir() and not aside.is_symlink():
                aside = Path(tempfile.mkdtemp(dir=self.folder, prefix=path.name + ".damaged."))
            os.replace(path, aside)
            what = f"moved to {aside.name}"
        except OSError as move_err:
            what = f"could not be moved aside ({move_err.strerror or move_err})"
        print(f"dse.cache: warning: damaged record {path} ({why}); {what}, the run will be computed again",
              file=sys.stderr)

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
