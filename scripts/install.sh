#!/usr/bin/env bash
# Installs everything the project needs, idempotently: Debian tools for rtl/ (when missing),
# a virtual environment in .venv with the project and all its extras.
# Usage: bash scripts/install.sh        (prints the venv's python on its last line)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=${NUMFMT_VENV:-$root/.venv}

missing=""
command -v iverilog >/dev/null 2>&1 || missing="$missing iverilog"
command -v yosys >/dev/null 2>&1 || missing="$missing yosys"
command -v sta >/dev/null 2>&1 || missing="$missing opensta"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian packages:$missing" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >&2
  else
    echo "warning: missing$missing (install them with apt-get as root); rtl tests will fail" >&2
  fi
fi

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
fi
py="$venv/bin/python"
stamp="$venv/.numfmt-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  # torch first, pinned to the release whose CPU wheel these machines carry, so that the
  # install never pulls a multi-GB CUDA build; the project's range is torch>=2.1,<2.14.
  "$py" -c "import torch" >/dev/null 2>&1 || "$py" -m pip install -q "torch==2.13.0" >&2
  "$py" -m pip install -q -e ".[all]" >&2
  touch "$stamp"
fi
echo "$py"
