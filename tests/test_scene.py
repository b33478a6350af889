"""Importing a CaptureResult into Blender (bpy module): bones, rest joints, keyframes, cameras and
plates reproduce the result, per clip and after save/reload."""

import dataclasses
import json

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from bench.photo_clips import write_clip
from conftest import ROOT, run_python
from core.demo import demo_capture
from imocap_blender.rotations import C_UP, bone_keys_to_pose, rotvec_to_matrix

pytestmark = pytest.mark.bpy
FRAMES = [0, 17, 41]


@pytest.fixture(scope="module")
def imported(tmp_path_factory, body):
    tmp = tmp_path_factory.mktemp("scene")
    result = demo_capture(body, frames=60, clips=3)
    clips = []
    for j, c in enumerate(result.clips):  # tiny plates of the right size
        w, h = c.size
        path = write_clip(tmp / f"plate {j}.mp4", [np.full((h, w, 3), 60 * j, np.uint8)] * 3, fps=c.fps)
        rotations = None
        if j == 2:  # this camera pans: turns up to 0.15 rad about the vertical, about its centre
            turn = Rotation.from_euler("z", 0.15 * np.sin(np.arange(c.motion.frames) / 9.0)[:, None]).as_matrix()
            rotations = c.R @ turn
        # clip 1's video is a mirror image (captured unflipped): its plate is shown flipped back
        clips.append(dataclasses.replace(c, path=str(path), rotations=rotations, mirrored=j == 1))
    # the feet's contacts, each changing right after a sampled frame (17 for the left, 41 for the
    # right): the left planted over frames 0-17 and 20-29, the right over 0-4 and from 42 on
    i = np.arange(result.motion.frames)
    contacts = np.stack([(i % 20 < 18) & (i < 30), (i < 5) | (i >= 42)], 1)
    result = dataclasses.replace(result, clips=tuple(clips), contacts=contacts)
    result_path = result.save(tmp / "capture.npz")
    built = run_python(["build.py", "--out-dir", str(tmp / "dist")])
    assert built.returncode == 0, built.stderr
    zip_path = built.stdout.strip().splitlines()[-1]
    r = run_python([str(ROOT / "tests" / "bpy_import_script.py"), zip_path, str(result_path), json.dumps(FRAMES),
                    str(tmp / "saved.blend")], BLENDER_USER_RESOURCES=str(tmp / "user"), timeout=600)
    line = [x for x in r.stdout.splitlines() if x.startswith("RESULT ")]
    assert r.returncode == 0 and line, r.stdout[-3000:] + r.stderr[-3000:]
    return result, json.loads(line[0][7:])


def _ordered(by_name, names):
    return np.array([by_name[n] for n in names])


def _joints(body, motion):
    with torch.no_grad():
        return body(torch.as_tensor(motion.pose), torch.as_tensor(motion.betas),
                    torch.as_tensor(motion.transl)).joints.numpy()


def test_armature(imported):
    result, out = imported
    assert out["import"] == ["FINISHED"]
    names = list(result.body.joint_names)
    assert sorted(out["bones"]) == sorted(names) and len(out["bones"]) == 24
    np.testing.assert_allclose(_ordered(out["rest_heads"], names), result.body.rest_joints @ C_UP.T, atol=1e-5)
    assert out["parents"] == {n: None if p < 0 else names[p] for n, p in zip(names, result.body.parents)}
    assert len(out["mesh"]) == 1


def test_consensus_motion_matches_the_result(imported, body):
    result, out = imported
    m = result.motion
    names = list(result.body.joint_names)
    joints = _joints(body, m)
    for f in FRAMES:
        np.testing.assert_allclose(_ordered(out["consensus"]["joints"][str(f)], names), joints[f], atol=2e-4)
    # keyframe values are the result's rotations
    names = result.body.joint_names
    quat = np.stack([np.stack([out["keys"][f'pose.bones["{n}"].rotation_quaternion[{i}]'] for i in range(4)], -1)
                     for n in names], 1)
    loc = np.stack([out["keys"][f'pose.bones["pelvis"].location[{i}]'] for i in range(3)], -1)
    rot, transl = bone_keys_to_pose(quat, loc, result.body.rest_joints.astype(float),
                                    _ordered(out["bone_rest"], names))
    np.testing.assert_allclose(rot, rotvec_to_matrix(m.pose[FRAMES].astype(float)), atol=1e-5)
    np.testing.assert_allclose(transl, m.transl[FRAMES], atol=1e-5)
    assert out["consensus"]["fps"] == pytest.approx(m.fps) and out["consensus"]["range"] == [1, m.frames]


def test_the_feet_contacts_are_keyed_on_the_armature(imported):
    """The result's contacts are the armature's imocap_left/right_foot_contact custom properties,
    keyed on the consensus action: 1 where the foot stands, 0 where not, held between keys."""
    result, out = imported
    for k, name in enumerate(("imocap_left_foot_contact", "imocap_right_foot_contact")):
        got = out["keys"][f'["{name}"][0]']
        assert got == [float(result.contacts[f, k]) for f in FRAMES], (name, got)
        assert out["contact_steps"][name] == [float(result.contacts[f, k]) for f in FRAMES]


def test_each_clip_lines_up_through_its_camera(imported, body):
    result, out = imported
    for j, (c, info) in enumerate(zip(result.clips, out["clips"])):
        assert info["plate"] == c.path and info["flip_x"] == (j == 1) == c.mirrored
        # on the clip's own action its plate starts at scene frame 1; on the consensus motion (as
        # imported) at its first frame's place on the timeline (the demo's clips start 6 j frames in)
        assert info["plate_start"] == 1 and out["plate_starts"][j] == 1 + round(c.ref_time[0]) == 1 + 6 * j
        assert info["resolution"] == list(c.size) and info["fps"] == pytest.approx(c.fps)
        assert info["range"] == [1, c.motion.frames] and info["action"].endswith(f"clip {j}")
        joints = _joints(body, c.motion)
        for f in FRAMES:
            if f >= c.motion.frames:
                continue
            want = c.project(joints[f], frame=f)
            got = _ordered(info["pixels"][str(f)], list(result.body.joint_names))
            assert np.abs(got - want).max() < 1.0, (j, f, np.abs(got - want).max())


def test_second_import_bad_file_and_reload(imported):
    result, out = imported
    assert len(out["collections"]) == 2 and out["collections"][0] != out["collections"][1]
    assert "missing" in out["bad_import"] and out["objects_unchanged"]
    # after save + reload the scene still looks through clip 1 with its action and plate
    assert out["reloaded_action"].endswith("clip 1")
    for f in FRAMES:
        if f < result.clips[1].motion.frames:
            a, b = out["reloaded"]["pixels"][str(f)], out["clips"][1]["pixels"][str(f)]
            np.testing.assert_allclose(_ordered(a, list(b)), _ordered(b, list(b)), atol=1e-4)
