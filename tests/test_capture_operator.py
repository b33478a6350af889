"""The add-on's capture operator (blocking path, bpy module) against the real worker."""

import json
import sys

import cv2
import pytest

from bench.photo_clips import asset, pan_zoom_frames, write_clip
from conftest import ROOT, run_python

pytestmark = pytest.mark.bpy
OPEN_BLEND = r'''
import json, sys, bpy
bpy.ops.wm.open_mainfile(filepath=sys.argv[-1])
scene = [s for s in bpy.data.scenes if s.name == "iMoCap good"][0]
arm = [o for o in bpy.data.objects if o.type == "ARMATURE"][0]
print("RESULT " + json.dumps({"action": arm.animation_data.action.name, "frames": scene.frame_end,
                              "camera": scene.camera.name,
                              "plates": [bpy.path.abspath(o.data.background_images[0].clip.filepath)
                                         for o in bpy.data.objects if o.type == "CAMERA"]}))
'''


def test_capture_operator_runs_the_worker_and_imports(tmp_path):
    img = cv2.imread(str(asset("bus.jpg")))
    clips = []
    for j, (zoom, pan) in enumerate((((1.0, 1.2), (-0.1, 0.1)), ((1.3, 1.1), (0.05, -0.05)))):
        frames, _ = pan_zoom_frames(img, 24, (480, 360), zoom=zoom, pan=pan)
        clips.append(str(write_clip(tmp_path / "good" / f"clip {j}.mp4", frames)))
    bad = tmp_path / "bad" / "not a video.mp4"
    bad.parent.mkdir()
    bad.write_bytes(b"nope")
    built = run_python(["build.py", "--out-dir", str(tmp_path / "dist")])
    assert built.returncode == 0, built.stderr
    zip_path = built.stdout.strip().splitlines()[-1]
    out = tmp_path / "result.npz"
    r = run_python([str(ROOT / "tests" / "bpy_capture_script.py"), zip_path, sys.executable, json.dumps(clips),
                    str(out), str(bad)], BLENDER_USER_RESOURCES=str(tmp_path / "user"), timeout=900)
    line = [x for x in r.stdout.splitlines() if x.startswith("RESULT ")]
    assert r.returncode == 0 and line, r.stdout[-3000:] + r.stderr[-3000:]
    res = json.loads(line[0][7:])
    assert "not a video.mp4" in res["bad"] and res["bad_unchanged"]
    assert [row[0] for row in res["clip_rows"]] == clips  # added through the operator, described
    assert all(row[1:] == [24, 30.0, 480, 360, "ready"] for row in res["clip_rows"]), res["clip_rows"]
    assert res["capture"] == ["FINISHED"] and out.is_file() and res["result_path"] == str(out)
    assert res["collections"] == 1 and res["cameras"] == 2
    assert res["plates"] == sorted(clips)
    assert res["setup"] == ["FINISHED"] and res["worker_after_setup"].endswith(("bin/python", "python.exe"))
    assert "imocap" in res["worker_after_setup"]
    # batch: the broken folder fails with its message, the good one still runs
    assert res["batch"] == ["FINISHED"]
    rows = {name: (status, msg) for name, status, msg in res["batch_rows"]}
    assert rows["bad"][0] == "failed" and "not a video.mp4" in rows["bad"][1]
    assert rows["good"][0] == "done" and (tmp_path / "good" / "imocap_result.npz").is_file()
    assert res["batch_left_scene_alone"]
    # the capture's own .blend: its armature with the consensus action, its cameras with their plates
    blend = tmp_path / "good" / "imocap_result.blend"
    assert blend.is_file() and not (tmp_path / "bad" / "imocap_result.blend").exists()
    r = run_python(["-c", OPEN_BLEND, str(blend)], BLENDER_USER_RESOURCES=str(tmp_path / "user2"))
    line = [x for x in r.stdout.splitlines() if x.startswith("RESULT ")]
    assert r.returncode == 0 and line, r.stderr[-3000:]
    opened = json.loads(line[0][7:])
    assert opened["action"] == "iMoCap good consensus" and opened["frames"] == 24
    assert sorted(opened["plates"]) == sorted(str(tmp_path / "good" / f"clip {j}.mp4") for j in range(2))
    assert opened["camera"] == "iMoCap good cam 0"
    ops = set(res["panel_operators"])
    assert {"imocap.add_clips", "imocap.remove_clip", "imocap.capture", "imocap.cancel", "imocap.import_result",
            "imocap.view_clip", "imocap.batch", "imocap.retarget", "imocap.retarget_detect",
            "imocap.retarget_save_preset", "imocap.export_animation"} <= ops
