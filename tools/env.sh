# Sourced by the tools: environment for running the engine offline.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export YOLO_OFFLINE=1
export YOLO_CONFIG_DIR="$root/.cache/ultralytics"
export PYTHONDONTWRITEBYTECODE=1
mkdir -p "$YOLO_CONFIG_DIR"
