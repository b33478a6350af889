"""Running a benchmark script inside the bpy module with the add-on installed from ``build.py``'s
zip (a sandboxed user folder), on a long capture made from the built-in demonstration motion."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def long_capture(tmp: Path, frames: int, clips: int = 1) -> Path:
    """A CaptureResult file of ``frames`` frames (jumping jacks) with ``clips`` clips."""
    from core.body import BodyModel
    from core.demo import demo_capture, jumping_jacks

    result = demo_capture(BodyModel(device="cpu"), frames=30, clips=clips)
    long = jumping_jacks(frames, 30.0)
    clips_ = tuple(dataclasses.replace(c, motion=long, ref_time=long.transl[:, 0] * 0 + range(frames),
                                       clip_time=long.transl[:, 0] * 0 + range(frames)) for c in result.clips)
    return dataclasses.replace(result, motion=long, clips=clips_).save(Path(tmp) / "long.npz")


def run_in_blender(tmp: Path, script: str, *args: str) -> dict:
    """Build and install the add-on, run ``script`` (its argv ends with the zip path, then ``args``)
    and return the JSON it printed after 'RESULT '."""
    built = subprocess.run([sys.executable, str(ROOT / "build.py"), "--out-dir", str(tmp)], capture_output=True,
                           text=True, check=True)
    zip_path = built.stdout.strip().splitlines()[-1]
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(Path(tmp) / "user"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    r = subprocess.run([sys.executable, "-c", script, zip_path, *args], capture_output=True, text=True, env=env,
                       cwd=ROOT)
    line = [x for x in r.stdout.splitlines() if x.startswith("RESULT ")]
    if not line:
        raise RuntimeError(r.stderr[-2000:])
    return json.loads(line[0][7:])
