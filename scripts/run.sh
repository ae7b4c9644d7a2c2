#!/usr/bin/env bash
# Installs everything (idempotent) and runs the project's main job: the default design-space
# sweep when dse/ is present, else the formats self-check and benchmark. Extra arguments go to it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py=$(bash "$root/scripts/install.sh" | tail -n 1)
cd "$root"
if [ -f dse/sweep.py ]; then
  exec "$py" -m dse.sweep "$@"
fi
exec "$py" -m formats.bench "$@"
