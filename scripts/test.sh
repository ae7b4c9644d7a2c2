#!/usr/bin/env bash
# Installs everything (idempotent) and runs the whole test suite; extra arguments go to pytest
# (e.g. bash scripts/test.sh -m "not slow and not rtl" for the quick subset).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py=$(bash "$root/scripts/install.sh" | tail -n 1)
cd "$root"
exec "$py" -m pytest -n 2 --dist loadgroup "$@"
