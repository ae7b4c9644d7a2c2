"""A hash of the elaborated engine design, to show that an RTL change leaves a build unchanged.

::

    python -m rtl.designhash --modes int8 --lanes 4 --accumulator exact      # one build's hash
    python -m rtl.designhash --compare-ref main                             # every costgen build:
        # this tree's rtl/src against the git ref's (e.g. main), identical or not

Yosys elaborates the build exactly as the cost flows read it (``read_verilog -DSYNTHESIS``,
``chparam LANES MODES ACC FIX_I FIX_F``), then ``hierarchy -top; proc; flatten; opt_clean
-purge; autoname`` — no optimisation beyond removing what drives nothing, so a logic difference that
synthesis would later simplify away still counts as a difference.  The design is written with
``write_rtlil`` after ``autoname`` (which names most private objects after the public signals
they connect, independently of creation order); the hash is taken over a canonical form of it:
attributes (source locations) and Yosys' counter are dropped, statements are sorted, and the
remaining private names (``$``-names embed source line numbers and a global counter) are
numbered by their first appearance in the statements sorted with private names masked.
Public names (ports, declared wires, instance paths) are kept: a renamed signal counts as a
change.  Checked: inserting lines and an uncompiled generate block into a source file leaves
every hash as it was, except where it shifts the numbers of later unnamed generate blocks
(``genblkN``, a public name).
"""
from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from sim.mac import Accumulator

from . import modes as M
from .params import acc_params
from .sources import SRC_DIR, TOP

__all__ = ["canonical", "design_text", "design_hash", "costgen_builds", "compare", "main"]

_PRIVATE = re.compile(r"\$[^\s\\,;{}\[\]]+")


def canonical(rtlil: str) -> str:
    """``write_rtlil`` text without attributes, comments and private names, its statements
    (wire declarations, cells with their parameters and connections, module-level connects)
    sorted: their order carries no meaning (see the module doc).

    Private names are numbered by first appearance in the statements sorted with every private
    name masked, so the numbering follows the structure, not Yosys' creation order."""
    def is_name(tok):  # a cell type such as $add or $dff is not a name
        return not (tok[1:2].isalpha() and "$" not in tok[1:] and ":" not in tok)

    modules, cur, cell = [], None, None
    for line in rtlil.splitlines():
        s = line.strip()
        if not s or s.startswith("#") or s.startswith("attribute ") or s.startswith("autoidx "):
            continue
        if cell is not None:
            if s == "end":
                cur[1].append(cell[0] + "\n" + "\n".join(sorted(cell[1:])) + "\nend")
                cell = None
            else:
                cell.append(s)
        elif s.startswith("cell "):
            cell = [s]
        elif s.startswith("module "):
            cur = (s, [])
            modules.append(cur)
        elif s == "end":
            cur = None
        else:
            cur[1].append(s)
    names: dict[str, str] = {}

    def mask(u):
        return _PRIVATE.sub(lambda m: "$?" if is_name(m.group(0)) else m.group(0), u)

    def rename(m):
        tok = m.group(0)
        return names.setdefault(tok, f"$n{len(names)}") if is_name(tok) else tok

    out = []
    for head, units in modules:
        ordered = sorted(units, key=lambda u: (mask(u), u))
        out.append(head)
        out.extend(sorted(_PRIVATE.sub(rename, u) for u in ordered))
        out.append("end")
    return "\n".join(out) + "\n"


def design_text(src_dir: Path, mask: int, lanes: int = 1, accumulator="exact", top: str = TOP,
                yosys: str = "yosys") -> str:
    """The canonical elaborated design of one build from the Verilog in ``src_dir``."""
    exe = shutil.which(yosys)
    if exe is None:
        raise RuntimeError(f"{yosys} not found; install it with: apt-get install yosys")
    src_dir = Path(src_dir)
    files = sorted(p for p in src_dir.glob("*.v") if p.name != f"{TOP}.v") + [src_dir / f"{TOP}.v"]
    if top != TOP:
        files.append(src_dir / "baseline" / f"{top}.v")
    chp = " ".join(f"-set {k} {v}" for k, v in {"LANES": lanes, "MODES": mask,
                                                 **acc_params(accumulator)}.items())
    with tempfile.TemporaryDirectory(prefix="rtl-dhash-") as td:
        out = Path(td) / "design.il"
        script = (f"read_verilog -DSYNTHESIS -I{src_dir} {' '.join(map(str, files))}; chparam {chp} {top}; "
                  f"hierarchy -top {top}; proc; flatten; opt_clean -purge; autoname; "
                  f"write_rtlil {out}")
        p = subprocess.run([exe, "-q", "-p", script], capture_output=True, text=True)
        if p.returncode != 0 or not out.exists():
            raise RuntimeError(f"yosys failed for MODES={mask} LANES={lanes} {accumulator}:\n{p.stdout[-3000:]}{p.stderr[-3000:]}")
        return canonical(out.read_text())


def design_hash(src_dir: Path = SRC_DIR, mask: int = M.ALL_MASK, lanes: int = 1, accumulator="exact",
                top: str = TOP, yosys: str = "yosys") -> str:
    """sha256 (16 hex digits) of :func:`design_text`."""
    return hashlib.sha256(design_text(src_dir, mask, lanes, accumulator, top, yosys).encode()).hexdigest()[:16]


def costgen_builds() -> list[tuple]:
    """Distinct (build, top, modes, lanes, accumulator) of ``dse.costgen.CONFIGS`` (the
    ECP5 table's builds are a subset: ``dse.costgen_ecp5.configs``)."""
    from dse.costgen import CONFIGS, TOPS

    out = []
    for build, modes, lanes, acc, *_ in CONFIGS:
        c = (build.replace("-eq", ""), TOPS.get(build, TOP), tuple(modes), lanes, str(Accumulator.parse(acc)))
        if c not in out:
            out.append(c)
    return out


def _ref_src(ref: str, dest: Path) -> Path:
    """rtl/src of the git ``ref`` extracted into ``dest``."""
    root = Path(__file__).resolve().parent.parent
    tar = subprocess.run(["git", "-C", str(root), "archive", ref, "rtl/src"], capture_output=True)
    if tar.returncode != 0:
        raise RuntimeError(f"git archive {ref} rtl/src failed: {tar.stderr.decode()[-500:]}")
    subprocess.run(["tar", "-x", "-C", str(dest)], input=tar.stdout, check=True)
    return dest / "rtl" / "src"


def compare(ref: str = "main", builds=None, log=print) -> list[dict]:
    """Each build's design hash from ``ref``'s rtl/src and from this tree's, one dict per build.

    The ``all`` build is compared at the reference's every-mode mask (the modes it knows),
    which this tree's ``all`` build extends by design."""
    from .modes import mask_of

    builds = costgen_builds() if builds is None else builds
    rows = []
    with tempfile.TemporaryDirectory(prefix="rtl-dhash-ref-") as td:
        ref_src = _ref_src(ref, Path(td))
        ref_modes = _ref_mode_count(ref_src)
        for build, top, modes, lanes, acc in builds:
            mask = mask_of(modes)
            if build == "all":
                mask = (1 << ref_modes) - 1
            h_ref = design_hash(ref_src, mask, lanes, acc, top)
            h_new = design_hash(SRC_DIR, mask, lanes, acc, top)
            row = dict(build=build, top=top, modes="+".join(modes) if build == "single" else build,
                       mask=mask, lanes=lanes, accumulator=acc, ref=h_ref, new=h_new, same=h_ref == h_new)
            rows.append(row)
            if log:
                log(f"{'same' if row['same'] else 'DIFF'} {build:9s} {row['modes']:12s} MODES={mask:<5d} "
                    f"lanes={lanes} {acc:12s} {h_ref} {h_new}")
    return rows


def _ref_mode_count(src: Path) -> int:
    m = re.search(r"N_MODES\s*=\s*(\d+)", (src / "mac_defs.vh").read_text())
    return int(m.group(1)) if m else len(M.MODE_IDS)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m rtl.designhash", description=__doc__.split("\n\n")[0])
    p.add_argument("--modes", nargs="*", default=None, help="compiled modes (default: all)")
    p.add_argument("--lanes", type=int, default=1)
    p.add_argument("--accumulator", default="exact", help="exact, fp32 or fixed:I:F")
    p.add_argument("--top", default=TOP, help="top module (a baseline of rtl/src/baseline also works)")
    p.add_argument("--src", default=str(SRC_DIR), help="folder of the Verilog sources (default rtl/src)")
    p.add_argument("--compare-ref", default=None, metavar="REF",
                   help="compare every costgen build against the git REF's rtl/src instead")
    args = p.parse_args(argv)
    try:
        if args.compare_ref:
            rows = compare(args.compare_ref)
            same = sum(r["same"] for r in rows)
            print(f"{same} of {len(rows)} builds identical to {args.compare_ref}'s design")
            return 0 if same == len(rows) else 1
        mask = M.mask_of(args.modes or None)
        print(design_hash(Path(args.src), mask, args.lanes, Accumulator.parse(args.accumulator).engine_value, args.top))
    except (ValueError, KeyError) as err:
        print(f"rtl.designhash: error: {err}", file=sys.stderr)
        return 2
    except RuntimeError as err:
        print(f"rtl.designhash: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
