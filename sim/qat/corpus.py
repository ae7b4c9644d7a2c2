"""``pytext``: the running interpreter's own standard library source, as a byte-level corpus.

Every machine that runs the project has this text, so nothing is downloaded.  The rule:

* **files**: every ``*.py`` file under ``sysconfig.get_paths()["stdlib"]``, except those
  inside a ``site-packages`` / ``dist-packages`` folder (installed packages, not the
  stdlib) and inside a folder named ``test``, ``tests`` or ``idle_test`` (the test
  suites, which some distributions ship separately), sorted by their path relative to
  the stdlib folder (POSIX spelling);
* **split**: by the first 4 bytes of ``sha256(relative path)`` modulo 100: buckets
  0-84 ``train``, 85-89 ``calib`` (held out from training: PTQ calibration), 90-99
  ``val`` (the evaluation split); a file's split never depends on which other files
  exist;
* **identity**: ``sha256`` over every (relative path, NUL, file bytes, NUL) in list order,
  with the file count and the Python version: a run on another interpreter says so in
  its results instead of silently differing.

Each split is the concatenation of its files' bytes in list order, every file followed
by one NUL byte (a document separator), as a ``uint8`` tensor.

>>> from sim.qat.corpus import load
>>> c = load()
>>> c.checksum[:12], c.n_files, {k: len(v) for k, v in c.splits.items()}
"""
from __future__ import annotations

import dataclasses
import hashlib
import pathlib
import sys
import sysconfig

import numpy as np
import torch

__all__ = ["Corpus", "SPLITS", "stdlib_root", "file_list", "split_of", "load"]

SPLITS = ("train", "calib", "val")
_EXCLUDED_DIRS = frozenset({"site-packages", "dist-packages", "test", "tests", "idle_test"})


@dataclasses.dataclass(frozen=True)
class Corpus:
    """The corpus: its files, their split, the split byte streams and the identity."""

    root: str
    files: tuple            # relative POSIX paths, sorted
    split: dict             # relative path -> split name
    splits: dict            # split name -> uint8 tensor
    checksum: str           # sha256 hex of the whole corpus (paths and bytes)
    python: str

    @property
    def n_files(self) -> int:
        return len(self.files)

    def identity(self) -> dict:
        """What a result records so that a different corpus is never mistaken for this one."""
        return {"corpus": "python-stdlib", "corpus_sha256": self.checksum, "corpus_files": self.n_files,
                "corpus_bytes": int(sum(len(v) for v in self.splits.values())), "python": self.python}


def stdlib_root() -> pathlib.Path:
    """The running interpreter's standard library folder."""
    return pathlib.Path(sysconfig.get_paths()["stdlib"])


def file_list(root: pathlib.Path | None = None) -> list[str]:
    """The corpus's files: relative POSIX paths, sorted (see the module's rule)."""
    root = pathlib.Path(root) if root is not None else stdlib_root()
    if not root.is_dir():
        raise FileNotFoundError(f"the stdlib folder {str(root)!r} does not exist")
    out = []
    for f in root.rglob("*.py"):
        rel = f.relative_to(root)
        if _EXCLUDED_DIRS.isdisjoint(rel.parts[:-1]) and f.is_file():
            out.append(rel.as_posix())
    return sorted(out)


def split_of(rel_path: str) -> str:
    """The split of one file, from a hash of its relative path alone."""
    bucket = int.from_bytes(hashlib.sha256(rel_path.encode("utf-8")).digest()[:4], "big") % 100
    return "train" if bucket < 85 else "calib" if bucket < 90 else "val"


_CACHE: dict = {}


def load(root: pathlib.Path | None = None) -> Corpus:
    """Read (once per process) the corpus under ``root`` (the stdlib folder by default)."""
    root = pathlib.Path(root) if root is not None else stdlib_root()
    key = str(root.resolve())
    if key in _CACHE:
        return _CACHE[key]
    files = file_list(root)
    if not files:
        raise FileNotFoundError(f"no .py files under {str(root)!r}: the pytext corpus is empty")
    h = hashlib.sha256()
    parts = {s: [] for s in SPLITS}
    split = {}
    for rel in files:
        data = (root / rel).read_bytes()
        h.update(rel.encode("utf-8") + b"\0" + data + b"\0")
        s = split[rel] = split_of(rel)
        parts[s].append(data + b"\0")
    streams = {s: torch.from_numpy(np.frombuffer(b"".join(p), dtype=np.uint8).copy()) for s, p in parts.items()}
    for s, t in streams.items():
        if len(t) < 4096:
            raise ValueError(f"the pytext split {s!r} has only {len(t)} bytes (files under {str(root)!r})")
    corpus = Corpus(str(root), tuple(files), split, streams, h.hexdigest(),
                    ".".join(map(str, sys.version_info[:3])))
    _CACHE[key] = corpus
    return corpus
