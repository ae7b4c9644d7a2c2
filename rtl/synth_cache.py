"""The result cache of :mod:`rtl.synth_report`: one JSON file per build, keyed by the sources and
the flow (``flow_version``), that also records the build's elaborated design
(:func:`rtl.designhash.design_hash`) and the flow without the sources (``tools_version``).

After a source change, :func:`lookup` finds a result measured on the same elaborated design by
the same flow code and Yosys: such a row needs no new synthesis; it keeps the ``flow_version``
it was measured under and gets ``same_design_as`` (the version it now stands for).
"""
from __future__ import annotations

import json
from pathlib import Path

from . import modes as M
from .designhash import design_hash

__all__ = ["design_hash_of", "lookup", "store", "Serial"]


def design_hash_of(modes, acc, pipe: int) -> str:
    """The elaborated design of the one-lane build of ``modes`` with ``acc`` and ``PIPE = pipe``."""
    return design_hash(mask=M.mask_of(modes), lanes=1, accumulator=acc, pipe=pipe)


def _same_design(work: Path, modes, acc, pipe: int, dh: str, tv: str):
    """The newest result in ``work`` of this build with design ``dh`` and tools ``tv``, or None."""
    best = None
    for jf in work.glob("*.json"):
        try:
            res = json.loads(jf.read_text())
        except (OSError, ValueError):
            continue
        if (res.get("design_hash") == dh and res.get("tools_version") == tv and res.get("modes") == list(modes)
                and res.get("accumulator") == acc and int(res.get("pipe", 0)) == pipe):
            if best is None or jf.stat().st_mtime > best[0]:
                best = (jf.stat().st_mtime, res)
    return None if best is None else best[1]


def lookup(jf: Path, work: Path, modes, acc, pipe: int, fh: str, tv: str, res=None, log=None):
    """(result or None, design hash or None) of one build whose own cache file is ``jf``.

    ``res``: a result of these sources found elsewhere (copied into ``jf``).  A result of these
    sources that predates the design hashes gets one (it was measured with them); without one,
    a result of an earlier source version with the same design and tools is taken."""
    if res is None and jf.exists():
        res = json.loads(jf.read_text())
    if res is not None:
        if res.get("tools_version") != tv:
            res.update(design_hash=design_hash_of(modes, acc, pipe), tools_version=tv, pipe=pipe,
                       flow_version=res.get("flow_version", fh))
            jf.write_text(json.dumps(res, indent=1))
        return res, res["design_hash"]
    dh = design_hash_of(modes, acc, pipe)
    res = _same_design(work, modes, acc, pipe, dh, tv)
    if res is not None:
        res = dict(res, same_design_as=fh)
        if log:
            log(f"[pipe {pipe}] {'+'.join(modes)}: design unchanged since {res['flow_version']} (rtl.designhash {dh})")
        jf.write_text(json.dumps(res, indent=1))
    return res, dh


def store(jf: Path, res: dict, fh: str, tv: str, dh: str, pipe: int) -> dict:
    """A new synthesis result written to ``jf`` with its versions and design."""
    res.update(flow_version=fh, tools_version=tv, design_hash=dh, pipe=pipe)
    jf.write_text(json.dumps(res, indent=1))
    return res


class Serial:
    """In-process stand-in for a one-worker pool."""
    map = staticmethod(map)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
