#!/usr/bin/env bash
# Create or refresh the project's virtual environment at .venv/ from the pinned requirements.
# A no-op taking well under a second when .venv already matches them.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/.venv"
stamp="$venv/.imocap-requirements.sha256"
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null 2>&1 || python=python3

want=$( { "$python" -c 'import sys; print(sys.version_info[:2])'; cat "$root/requirements.txt" "$root/requirements-dev.txt"; } | sha256sum | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    exit 0
fi

echo "[setup] creating/refreshing $venv (first time: a few minutes, ~7 GB)" >&2
"$python" -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required (bpy 5.0.1)"'
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
rm -f "$stamp"
"$venv/bin/python" -m pip install --disable-pip-version-check -q \
    -r "$root/requirements.txt" -r "$root/requirements-dev.txt" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)

# opencv-python (the build ultralytics declares) needs the system's libGL.
if ! "$venv/bin/python" -c "import cv2" 2>/dev/null; then
    echo "[setup] installing libGL for OpenCV" >&2
    if [ "$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q libgl1 libglib2.0-0; \
    else sudo apt-get update -q && sudo apt-get install -y -q libgl1 libglib2.0-0; fi
    "$venv/bin/python" -c "import cv2"
fi
echo "$want" > "$stamp"
echo "[setup] $venv is ready" >&2
