"""``python -m bench retarget``: seconds to retarget a long capture onto a Mixamo-like character
(A-pose, 0.01-scaled object, 26 bones with fingers) in the bpy module, through the
add-on's Python API; the whole call (reading both rigs, sampling the source, solving, writing the
action) is timed, and the operator's time is given too."""

from __future__ import annotations

import tempfile
from pathlib import Path

from .blender import long_capture, run_in_blender

SCRIPT = r'''
import json, sys, time, bpy
zip_path, result_path, mesh = sys.argv[-3:]
bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default", enable_on_install=True)
from bench.rigs import mixamo_rig
from bl_ext.user_default.imocap.imocap_blender.retarget import retarget
bpy.ops.imocap.import_result(filepath=result_path, with_mesh=mesh == "1")
coll = [c for c in bpy.data.collections if "imocap_armature" in c][0]
source = bpy.data.objects[coll["imocap_armature"]]
target, _ = mixamo_rig()
t = time.perf_counter()
action = retarget(source, target)
api = time.perf_counter() - t
t = time.perf_counter()
bpy.ops.imocap.retarget(source=source.name, target=target.name)
op = time.perf_counter() - t
print("RESULT " + json.dumps({"seconds": api, "operator_seconds": op, "target_bones": len(target.data.bones),
                              "keyed_frames": int(action.frame_range[1] - action.frame_range[0] + 1)}))
'''


def add_arguments(p) -> None:
    p.add_argument("--frames", type=int, default=1000)
    p.add_argument("--mesh", action="store_true", help="give the source its skinned body mesh")


def run(args) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = long_capture(Path(tmp), args.frames)
        out = run_in_blender(Path(tmp), SCRIPT, str(path), "1" if args.mesh else "0")
    return {"benchmark": "retarget", "frames": args.frames, "mesh": args.mesh, "target": "Mixamo-like",
            "target_bones": out["target_bones"], "keyed_frames": out["keyed_frames"],
            "seconds": round(out["seconds"], 3), "operator_seconds": round(out["operator_seconds"], 3)}
