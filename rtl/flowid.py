"""One identifier for the synthesis and timing flow, to key cached results.

:func:`flow_version` hashes what shapes area and timing: the engine's Verilog sources
(:func:`rtl.run._source_hash`), the code of the flow (the functions of :mod:`rtl.synth`
that build the Yosys scripts and read their output, and :mod:`rtl.sta`), a baseline
design's file when one is built, and the Yosys version.  The CLI front ends of those
modules are not part of it, so a new command-line option does not invalidate results.
"""
from __future__ import annotations

import hashlib
import inspect
import subprocess
from pathlib import Path

__all__ = ["flow_version", "tools_version"]


def flow_version(top: str | None = None) -> str:
    """``yosys-<v>+opensta-2.0.17+<hash>``; ``top``: a baseline module of rtl/src/baseline/."""
    return _version(top, sources=True)


def tools_version(top: str | None = None) -> str:
    """:func:`flow_version` without the engine's sources: the flow's code, the baseline's file and
    the Yosys version.  Two results with the same ``tools_version`` and the same elaborated design
    (:func:`rtl.designhash.design_hash`) come from the same synthesis input and flow."""
    return _version(top, sources=False)


def _version(top, sources: bool) -> str:
    from . import sta, synth
    from .run import _source_hash
    from .sources import BASELINE_DIR, TOP

    h = hashlib.sha256(_source_hash().encode() if sources else b"tools")
    for fn in (synth.synthesize, synth._yosys, synth._parse_stat, synth._blocks, synth._block_of):
        h.update(inspect.getsource(fn).encode())
    h.update(repr(synth.BLOCKS).encode())
    h.update(Path(sta.__file__).read_bytes())
    if top not in (None, TOP):
        h.update((BASELINE_DIR / f"{top}.v").read_bytes())
    yv = subprocess.run(["yosys", "-V"], capture_output=True, text=True).stdout.split("(")[0].strip()
    return f"{yv.replace('Yosys ', 'yosys-')}+opensta-2.0.17+{h.hexdigest()[:10]}"
