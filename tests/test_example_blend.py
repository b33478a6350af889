"""The main command's products on the demo clips: the committed ``examples/demo_result.npz`` is
what the engine makes of the clips today, and its .blend shows the capture over the plates:
through every camera, at sampled frames, the armature's joints land within 10 px of the detector's
keypoints (median over the limb joints)."""

import json

import numpy as np
import pytest

from conftest import ROOT, run_python

EXAMPLES = ROOT / "examples"
# SMPL joint -> COCO keypoint: shoulders, elbows, wrists, hips, knees, ankles
PAIRS = {"left_shoulder": 5, "right_shoulder": 6, "left_elbow": 7, "right_elbow": 8, "left_wrist": 9,
         "right_wrist": 10, "left_hip": 11, "right_hip": 12, "left_knee": 13, "right_knee": 14, "left_ankle": 15,
         "right_ankle": 16}


@pytest.mark.bpy
def test_the_blend_lines_up_with_the_detections(tmp_path, example_detections):
    from core.result import CaptureResult

    result = CaptureResult.load(EXAMPLES / "demo_result.npz")
    blend = tmp_path / "demo.blend"
    r = run_python([str(ROOT / "tools" / "result_to_blend.py"), str(EXAMPLES / "demo_result.npz"), str(blend)])
    assert r.returncode == 0 and blend.is_file(), r.stderr[-2000:]
    frames = [[int(f) for f in np.linspace(0, c.motion.frames - 1, 5)] for c in result.clips]
    r = run_python([str(ROOT / "tests" / "bpy_example_blend_script.py"), str(blend), json.dumps(frames)],
                   BLENDER_USER_RESOURCES=str(tmp_path / "user"))
    line = [x for x in r.stdout.splitlines() if x.startswith("RESULT ")]
    assert r.returncode == 0 and line, r.stderr[-3000:]
    out = json.loads(line[0][7:])
    assert out["consensus"] and len(out["mesh"]) == 1
    for j, (info, tracks) in enumerate(zip(out["clips"], example_detections)):
        assert info["plate"] == str(EXAMPLES / f"{result.clips[j].path.rsplit('/', 1)[-1]}")
        assert info["action"].endswith(f"clip {j}")
        for f in frames[j]:
            got = np.array([info["pixels"][str(f)][n] for n in PAIRS])
            want = tracks.keypoints[f, list(PAIRS.values())]
            err = np.median(np.linalg.norm(got - want, axis=1))
            assert err < 10.0, (j, f, err)


@pytest.mark.slow
def test_the_committed_result_is_what_the_engine_makes(tmp_path):
    """``examples/demo_result.npz`` against a fresh capture of the clips: same clips and frames,
    time maps a fifth of a frame apart on average (runs are not bit-identical: threaded sums; a
    frame near a tie of the alignment may move a little more), consensus bodies within 10 mm
    after alignment."""
    import torch

    from bench.metrics import similarity_align
    from core.body import BodyModel
    from core.result import CaptureResult

    committed = CaptureResult.load(EXAMPLES / "demo_result.npz")
    clips = [str(EXAMPLES / c.path.rsplit("/", 1)[-1]) for c in committed.clips]
    r = run_python(["-m", "core", "capture", *clips, "--out", str(tmp_path / "fresh.npz")], timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    fresh = CaptureResult.load(tmp_path / "fresh.npz")
    assert [c.motion.frames for c in fresh.clips] == [c.motion.frames for c in committed.clips]
    for a, b in zip(fresh.clips, committed.clips):
        both = np.isfinite(a.ref_time) & np.isfinite(b.ref_time)
        diff = np.abs(a.ref_time[both] - b.ref_time[both])
        assert both.mean() > 0.9 and diff.mean() < 0.2 and diff.max() < 3.0, (diff.mean(), diff.max())
    body = BodyModel(device="cpu")
    with torch.no_grad():
        ja, jb = (body(torch.as_tensor(m.pose), torch.as_tensor(m.betas), torch.as_tensor(m.transl)).joints.numpy()
                  for m in (fresh.motion, committed.motion))
    err = np.linalg.norm(similarity_align(ja, jb) - jb, axis=-1)
    assert np.median(err) < 0.010, np.median(err)
