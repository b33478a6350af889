#!/usr/bin/env bash
# The whole test suite (slow tests too with --slow). Sets up .venv first when needed.
#   bash tools/test.sh            default suite (everything not marked slow)
#   bash tools/test.sh --slow     everything
#   bash tools/test.sh -k body    extra arguments go to pytest
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/tools/setup_env.sh"
source "$root/tools/env.sh"
cd "$root"
marker=(-m "not slow")
args=()
for a in "$@"; do
    if [ "$a" = "--slow" ]; then marker=(); else args+=("$a"); fi
done
exec "$root/.venv/bin/python" -m pytest "${marker[@]}" "${args[@]}"
