"""``python -m bench import``: seconds to import a long capture into Blender (bpy module).

A CaptureResult with ``--frames`` frames (24 bones) and ``--clips`` clips is imported through the
add-on's operator (installed from ``build.py``'s zip into a sandboxed user folder); the timing
covers the operator only (armature, all actions, cameras; the mesh optional)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from .blender import long_capture, run_in_blender

SCRIPT = r'''
import json, sys, time, bpy
zip_path, result_path, mesh = sys.argv[-3:]
bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default", enable_on_install=True)
t = time.perf_counter()
bpy.ops.imocap.import_result(filepath=result_path, with_mesh=mesh == "1")
print("RESULT " + json.dumps({"seconds": time.perf_counter() - t}))
'''


def add_arguments(p) -> None:
    p.add_argument("--frames", type=int, default=10000)
    p.add_argument("--clips", type=int, default=1)
    p.add_argument("--mesh", action="store_true", help="include the skinned body mesh")


def run(args) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = long_capture(Path(tmp), args.frames, args.clips)
        seconds = run_in_blender(Path(tmp), SCRIPT, str(path), "1" if args.mesh else "0")["seconds"]
    return {"benchmark": "import", "frames": args.frames, "bones": 24, "clips": args.clips,
            "actions": 1 + args.clips, "mesh": args.mesh, "seconds": round(seconds, 3)}
