"""Retargeting a capture onto rigs built in the test (bpy module): every mapped limb bone points
where the source's bone points on every frame, the hips' height follows the source scaled by the
legs' ratio, the maps are the right ones, bad targets change nothing, FBX/BVH export."""

import dataclasses
import json

import numpy as np
import pytest

from conftest import ROOT, run_python
from core.demo import demo_capture
from core.result import Motion

pytestmark = pytest.mark.bpy
MAX_ANGLE_DEG = 3.0
MAX_HIP_ERR_M = 0.02


def lively(motion: Motion, seed: int = 0) -> Motion:
    """The demo motion with smooth random turns (up to ~0.6 rad) added on every joint, twists
    included, so that no bone keeps its rest orientation."""
    rng = np.random.default_rng(seed)
    t = np.arange(motion.frames)[:, None, None] / motion.fps
    amp = rng.uniform(0.1, 0.6, (1, 24, 3))
    freq = rng.uniform(0.3, 1.5, (1, 24, 3))
    phase = rng.uniform(0, 2 * np.pi, (1, 24, 3))
    pose = motion.pose.copy()
    pose[:, 1:] += (amp * np.sin(2 * np.pi * freq * t + phase))[:, 1:].astype(np.float32)
    return dataclasses.replace(motion, pose=pose)


@pytest.fixture(scope="module")
def retargeted(tmp_path_factory, body):
    tmp = tmp_path_factory.mktemp("retarget")
    result = demo_capture(body, frames=90, clips=2)
    result = dataclasses.replace(result, motion=lively(result.motion))
    path = result.save(tmp / "capture.npz")
    built = run_python(["build.py", "--out-dir", str(tmp / "dist")])
    assert built.returncode == 0, built.stderr
    zip_path = built.stdout.strip().splitlines()[-1]
    r = run_python([str(ROOT / "tests" / "bpy_retarget_script.py"), zip_path, str(path)],
                   BLENDER_USER_RESOURCES=str(tmp / "user"), timeout=600)
    line = [x for x in r.stdout.splitlines() if x.startswith("RESULT ")]
    assert r.returncode == 0 and line, r.stdout[-3000:] + r.stderr[-3000:]
    out = json.loads(line[0][7:])
    for name, rep in out["rigs"].items():  # shown with -s, and in a failure's captured output
        print(name, rep["preset_used"], f"max angle {rep['max_angle_deg']:.2e} deg", f"hip {rep['hip_err_m']:.2e} m",
              f"leg ratio {rep['leg_ratio']:.3f}")
    return out


RIGS = ("Mixamo", "RigifyLike", "UE5Like", "Unnamed")


@pytest.mark.parametrize("rig", RIGS)
def test_limbs_follow_the_source(retargeted, rig):
    rep = retargeted["rigs"][rig]
    assert rep["op"] == ["FINISHED"]
    assert rep["preset_used"] == rep["expected_preset"]
    assert rep["action"]
    assert rep["max_angle_deg"] <= MAX_ANGLE_DEG, rep["worst_at"]
    assert rep["hip_err_m"] <= MAX_HIP_ERR_M


@pytest.mark.parametrize("rig", RIGS)
def test_the_map_is_right(retargeted, rig):
    rep = retargeted["rigs"][rig]
    for smpl, bone in rep["truth"].items():
        assert rep["map"][smpl] == bone, smpl


def test_leg_ratio_differs_between_rigs(retargeted):
    """The hip test means something: the rigs' legs are not the source's length."""
    ratios = [retargeted["rigs"][r]["leg_ratio"] for r in RIGS]
    assert max(ratios) > 1.1 and min(ratios) < 0.95


def test_in_place_keeps_the_hips_over_their_rest(retargeted):
    xy = np.array(retargeted["in_place_xy"])
    np.testing.assert_allclose(xy, np.repeat([retargeted["rest_hips_xy"]], len(xy), 0), atol=1e-4)


def test_bad_targets_change_nothing(retargeted):
    bad = retargeted["bad"]
    assert "not an armature" in bad["NotARig"]["error"]
    assert "no recognisable humanoid" in bad["Tail"]["error"]
    assert not bad["NotARig"]["animated"] and not bad["Tail"]["animated"]
    assert retargeted["actions_after_bad"] == 0
    assert retargeted["source_untouched"]


def test_python_api_and_step(retargeted):
    name, frames = retargeted["api_action"]
    assert name and frames == list(range(1, 30, 2))


def test_export_fbx_and_bvh(retargeted):
    for fmt in ("FBX", "BVH"):
        result, size, files = retargeted["export"][fmt]
        assert result == ["FINISHED"] and size > 1000
    assert not any(f.startswith(".imocap-export-") for f in retargeted["export"]["BVH"][2])  # no temp left
