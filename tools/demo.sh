#!/usr/bin/env bash
# The main job on its embedded default. Sets up .venv first when needed.
#   bash tools/demo.sh [--out DIR]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/tools/setup_env.sh"
source "$root/tools/env.sh"
cd "$root"
exec "$root/.venv/bin/python" -m core demo "$@"
