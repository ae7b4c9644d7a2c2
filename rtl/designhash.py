"""A hash of the elaborated engine design, to show that an RTL change leaves a build unchanged.

::

    python -m rtl.designhash --modes int8 --lanes 4 --accumulator exact      # one build's hash
    python -m rtl.designhash --compare-ref main                             # every costgen build:
        # this tree's rtl/src against the git ref's (e.g. main), identical or not

Yosys elaborates the build exactly as the cost flows read it (``read_verilog -DSYNTHESIS``,
``chparam LANES MODES ACC FIX_I FIX_F``), then ``hierarchy -top; proc; flatten; opt_clean
-purge`` — no optimisation beyond removing what drives nothing, so a logic difference that
synthesis would later simplify away still counts as a difference.  The design is written with
``write_rtlil``; the hash is taken over a canonical form of it (:func:`canonical`): attributes
(source locations) and Yosys' counter are dropped, statements are sorted, and every name Yosys
generated (``$``-names embed source line numbers and a global counter) is replaced by a label
of its place in the netlist, found by colour refinement from the public names.
Public names (ports, declared wires, instance paths) are kept: a renamed signal counts as a
change.  The top module's parameter declarations are dropped (their values, set by ``chparam``,
are already in the logic), so adding a parameter whose default elaborates the old design, such
as ``PIPE = 0``, leaves every hash as it was.  Checked: inserting lines and an uncompiled generate block into a source file leaves
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
from .params import acc_params, pipe_params
from .sources import SRC_DIR, TOP

__all__ = ["canonical", "design_text", "design_hash", "costgen_builds", "compare", "main"]


def _units(rtlil: str) -> list[tuple[str, list[str]]]:
    """(module header, statements) per module; a cell is one statement with its lines sorted;
    attributes, comments and Yosys' counter are dropped."""
    modules, cur, cell = [], None, None
    for line in rtlil.splitlines():
        s = line.strip()
        if not s or s.startswith("#") or s.startswith("attribute ") or s.startswith("autoidx "):
            continue
        if cell is not None:
            if s == "end":
                # a cell's lines in the order of their keywords and port/parameter names
                # (unique within a cell; never generated names)
                body = sorted(cell[1:], key=lambda ln: ln.split(" ", 2)[:2])
                cur[1].append(cell[0] + "\n" + "\n".join(body) + "\nend")
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
        elif s.startswith("parameter "):
            # a module's parameter declaration (the top's, after chparam): its value is a build
            # setting already folded into the logic; a new parameter at its default is no change
            continue
        else:
            cur[1].append(s)
    return modules


def _generated(tok: str) -> bool:
    """A name Yosys made up: ``$...``, a flattened one (``\\\\u_x.$auto$...``) or a memory id string
    that holds one (``"$flatten\\\\...$proc_rom..."``)."""
    return tok.startswith("$") or (tok[:1] in ("\\", '"') and "$" in tok)   # "...$...": a memory id


def _digest(*parts) -> str:
    return hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).hexdigest()


def canonical(rtlil: str) -> str:
    """``write_rtlil`` text in a canonical form (see the module doc): statements sorted, every
    generated name replaced by a label of its place in the netlist's structure.

    The labels come from colour refinement (Weisfeiler-Lehman): each generated name starts
    with one colour; each round a statement's signature is its text with the names' colours,
    and a name's next colour digests the signatures of the statements it appears in (and where);
    rounds stop when the number of colours stops growing.  Public names anchor the refinement.
    Two netlists that differ only in how Yosys numbered its names get the same text."""
    out = []
    for head, units in _units(rtlil):
        toks = [re.split(r"(\s+)", u) for u in units]
        occ: dict[str, list] = {}
        for i, t in enumerate(toks):
            for j, tok in enumerate(t):
                if _generated(tok) and not (j >= 2 and t[j - 2] == "cell"):   # not a cell type
                    occ.setdefault(tok, []).append((i, j))
        color = {n: "0" for n in occ}
        ncol = 1
        while True:
            masked = [list(t) for t in toks]
            for n, places in occ.items():
                for i, j in places:
                    masked[i][j] = "%" + color[n]
            usig = [_digest(*m) for m in masked]
            new = {n: _digest(color[n], *sorted(f"{usig[i]}@{j}" for i, j in places)) for n, places in occ.items()}
            k = len(set(new.values()))
            color = new
            if k <= ncol:
                break
            ncol = k
        for n, places in occ.items():
            for i, j in places:
                toks[i][j] = "%" + color[n]
        out.append(head)
        out.extend(sorted("".join(t) for t in toks))
        out.append("end")
    return "\n".join(out) + "\n"


def design_text(src_dir: Path, mask: int, lanes: int = 1, accumulator="exact", top: str = TOP,
                yosys: str = "yosys", pipe: int = 0) -> str:
    """The canonical elaborated design of one build from the Verilog in ``src_dir``."""
    exe = shutil.which(yosys)
    if exe is None:
        raise RuntimeError(f"{yosys} not found; install it with: apt-get install yosys")
    src_dir = Path(src_dir)
    files = sorted(p for p in src_dir.glob("*.v") if p.name != f"{TOP}.v") + [src_dir / f"{TOP}.v"]
    if top != TOP:
        files.append(src_dir / "baseline" / f"{top}.v")
    chp = " ".join(f"-set {k} {v}" for k, v in {"LANES": lanes, "MODES": mask,
                                                 **acc_params(accumulator), **pipe_params(pipe)}.items())
    with tempfile.TemporaryDirectory(prefix="rtl-dhash-") as td:
        out = Path(td) / "design.il"
        script = (f"read_verilog -DSYNTHESIS -I{src_dir} {' '.join(map(str, files))}; chparam {chp} {top}; "
                  f"hierarchy -top {top}; proc; flatten; opt_clean -purge; "
                  f"write_rtlil {out}")
        p = subprocess.run([exe, "-q", "-p", script], capture_output=True, text=True)
        if p.returncode != 0 or not out.exists():
            raise RuntimeError(f"yosys failed for MODES={mask} LANES={lanes} {accumulator}:\n{p.stdout[-3000:]}{p.stderr[-3000:]}")
        return canonical(out.read_text())


def design_hash(src_dir: Path = SRC_DIR, mask: int = M.ALL_MASK, lanes: int = 1, accumulator="exact",
                top: str = TOP, yosys: str = "yosys", pipe: int = 0) -> str:
    """sha256 (16 hex digits) of :func:`design_text`."""
    return hashlib.sha256(design_text(src_dir, mask, lanes, accumulator, top, yosys, pipe).encode()).hexdigest()[:16]


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
    """Each build's design hash from ``ref``'s rtl/src and from this tree's, one dict per build
    (``same``: True, False, or None for a build of a mode the reference does not have).

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
            new_mode = mask >> ref_modes != 0
            h_ref = None if new_mode else design_hash(ref_src, mask, lanes, acc, top)
            h_new = design_hash(SRC_DIR, mask, lanes, acc, top)
            row = dict(build=build, top=top, modes="+".join(modes) if build == "single" else build,
                       mask=mask, lanes=lanes, accumulator=acc, ref=h_ref, new=h_new,
                       same=None if new_mode else h_ref == h_new)
            rows.append(row)
            if log:
                tag = {True: "same", False: "DIFF", None: "new "}[row["same"]]
                log(f"{tag} {build:9s} {row['modes']:12s} MODES={mask:<5d} lanes={lanes} {acc:12s} "
                    f"{h_ref or '-':16s} {h_new}")
    return rows


def _ref_mode_count(src: Path) -> int:
    """How many modes the reference's RTL has: one more than the largest mode id ``M_<NAME> = <id>``
    its mac_defs.vh declares (``N_MODES`` there counts only the modes of its decode tables, not
    nvfp4, whose id it declares apart)."""
    ids = [int(v) for v in re.findall(r"\bM_[A-Z0-9_]+\s*=\s*(\d+)", (src / "mac_defs.vh").read_text())]
    return max(ids) + 1 if ids else len(M.MODE_IDS)


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
            old = [r for r in rows if r["same"] is not None]
            same = sum(r["same"] for r in old)
            print(f"{same} of {len(old)} builds identical to {args.compare_ref}'s design "
                  f"({len(rows) - len(old)} builds of modes {args.compare_ref} does not have)")
            return 0 if same == len(old) else 1
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
