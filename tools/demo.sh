#!/usr/bin/env bash
# The main job on the demo clips in examples/: capture -> out/demo/{demo_result.npz, demo.blend,
# demo_result.png, demo_report.txt}. Sets up .venv first when needed.
#   bash tools/demo.sh [--out DIR] [--clips DIR]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/tools/setup_env.sh"
source "$root/tools/env.sh"
cd "$root"
exec "$root/.venv/bin/python" -m core example "$@"
