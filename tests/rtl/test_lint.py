"""`verilator --lint-only -Wall` is clean on every accumulator kind and several mode subsets
(the waivers in the sources carry their reasons)."""
import subprocess

import pytest

from rtl import toolchain
from rtl.sources import SRC_DIR, sources

CONFIGS = [(acc, fi, ff, modes) for acc, fi, ff in ((0, 24, 24), (1, 24, 24), (2, 16, 8), (2, 2, 0), (2, 30, 30))
           for modes in (2047, 1023, 255, 32, 1, 772, 1024, 1280)]   # 1024: nvfp4 alone, 1280: + mxfp4


@pytest.mark.rtl
@pytest.mark.parametrize("acc,fi,ff,modes", CONFIGS, ids=[f"acc{a}-{i}.{f}-m{m}" for a, i, f, m in CONFIGS])
def test_lint_clean(acc, fi, ff, modes):
    toolchain.setup()
    cmd = [toolchain.require("verilator"), "--lint-only", "-Wall", f"-I{SRC_DIR}", "--top-module", "mac_engine",
           f"-GMODES={modes}", f"-GACC={acc}", f"-GFIX_I={fi}", f"-GFIX_F={ff}"] + [str(p) for p in sources()]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0 and "%Warning" not in proc.stderr, proc.stderr[-3000:]


#: PIPE = 1 (the deep pipeline): every accumulator kind over the same mode subsets
CONFIGS_PIPE1 = [(acc, fi, ff, modes) for acc, fi, ff in ((0, 24, 24), (1, 24, 24), (2, 16, 8), (2, 2, 0), (2, 30, 30))
                 for modes in (2047, 1023, 255, 32, 1, 772, 768, 1024, 1280)]


@pytest.mark.rtl
@pytest.mark.parametrize("acc,fi,ff,modes", CONFIGS_PIPE1, ids=[f"pipe1-acc{a}-{i}.{f}-m{m}" for a, i, f, m in CONFIGS_PIPE1])
def test_lint_clean_pipe1(acc, fi, ff, modes):
    toolchain.setup()
    cmd = [toolchain.require("verilator"), "--lint-only", "-Wall", f"-I{SRC_DIR}", "--top-module", "mac_engine",
           f"-GMODES={modes}", f"-GACC={acc}", f"-GFIX_I={fi}", f"-GFIX_F={ff}", "-GPIPE=1"] + [str(p) for p in sources()]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0 and "%Warning" not in proc.stderr, proc.stderr[-3000:]
