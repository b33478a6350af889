"""``python -m bench import``: seconds to import a long capture into Blender (bpy module).

A CaptureResult with ``--frames`` frames (24 bones) and ``--clips`` clips is imported through the
add-on's operator (installed from ``build.py``'s zip into a sandboxed user folder); the timing
covers the operator only (armature, all actions, cameras; the mesh optional)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

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
    import dataclasses

    from core.body import BodyModel
    from core.demo import demo_capture, jumping_jacks

    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        body = BodyModel(device="cpu")
        result = demo_capture(body, frames=30, clips=args.clips)
        long = jumping_jacks(args.frames, 30.0)
        clips = tuple(dataclasses.replace(c, motion=long, ref_time=long.transl[:, 0] * 0 + range(args.frames),
                                          clip_time=long.transl[:, 0] * 0 + range(args.frames))
                      for c in result.clips)
        result = dataclasses.replace(result, motion=long, clips=clips)
        path = result.save(Path(tmp) / "long.npz")
        built = subprocess.run([sys.executable, str(root / "build.py"), "--out-dir", tmp], capture_output=True,
                               text=True, check=True)
        zip_path = built.stdout.strip().splitlines()[-1]
        env = dict(os.environ, BLENDER_USER_RESOURCES=str(Path(tmp) / "user"))
        r = subprocess.run([sys.executable, "-c", SCRIPT, zip_path, str(path), "1" if args.mesh else "0"],
                           capture_output=True, text=True, env=env)
        line = [x for x in r.stdout.splitlines() if x.startswith("RESULT ")]
        if not line:
            raise RuntimeError(r.stderr[-2000:])
        seconds = json.loads(line[0][7:])["seconds"]
    return {"benchmark": "import", "frames": args.frames, "bones": 24, "clips": args.clips,
            "actions": 1 + args.clips, "mesh": args.mesh, "seconds": round(seconds, 3)}
