"""Bone maps without Blender: names split into side/part/number, presets detected (UE5 over UE4),
the structural map of an unnamed rig (also turned to face +Y), overrides and bad maps."""

import numpy as np
import pytest

from imocap_blender.retarget.mapping import (REQUIRED, MappingError, Skeleton, detect_preset, load_presets,
                                             map_by_structure, name_parts, resolve_map)
from imocap_blender.retarget.solve import forward_kinematics, shortest_rotation, topological


def skeleton(bones, names=None, turn=0.0):
    """bones: (key, parent key, head, tail); names: key -> bone name (default the key)."""
    keys = [k for k, *_ in bones]
    c, s = np.cos(turn), np.sin(turn)
    rz = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])
    return Skeleton(tuple((names or {}).get(k, k) for k in keys),
                    np.array([keys.index(p) if p else -1 for _, p, _, _ in bones]),
                    np.array([h for *_, h, _ in bones], float) @ rz.T, np.array([t for *_, t in bones], float) @ rz.T)


def body(spine=("spine_01", "spine_02", "spine_03"), extra=()):
    """A T-posed humanoid facing -Y; keys are UE4 names."""
    out = [("pelvis", None, (0, 0, 0.95), (0, 0, 1.02))]
    z = np.linspace(1.02, 1.45, len(spine) + 1)
    prev = "pelvis"
    for i, n in enumerate(spine):
        out.append((n, prev, (0, 0, z[i]), (0, 0, z[i + 1])))
        prev = n
    out += [("neck_01", prev, (0, 0, 1.45), (0, 0, 1.57)), ("head", "neck_01", (0, 0, 1.57), (0, 0, 1.77))]
    for s, x in (("l", 1), ("r", -1)):
        out += [(f"clavicle_{s}", prev, (0.02 * x, 0, 1.42), (0.17 * x, 0, 1.43)),
                (f"upperarm_{s}", f"clavicle_{s}", (0.17 * x, 0, 1.43), (0.45 * x, 0, 1.43)),
                (f"lowerarm_{s}", f"upperarm_{s}", (0.45 * x, 0, 1.43), (0.71 * x, 0, 1.43)),
                (f"hand_{s}", f"lowerarm_{s}", (0.71 * x, 0, 1.43), (0.8 * x, 0, 1.43)),
                (f"thigh_{s}", "pelvis", (0.09 * x, 0, 0.93), (0.09 * x, 0, 0.51)),
                (f"calf_{s}", f"thigh_{s}", (0.09 * x, 0, 0.51), (0.09 * x, 0, 0.09)),
                (f"foot_{s}", f"calf_{s}", (0.09 * x, 0, 0.09), (0.09 * x, -0.13, 0.03)),
                (f"ball_{s}", f"foot_{s}", (0.09 * x, -0.13, 0.03), (0.09 * x, -0.19, 0.03))]
    return out + list(extra)


def test_name_parts():
    assert name_parts("DEF-upper_arm.L.001") == ("left", "upperarm", 1)
    assert name_parts("mixamorig:LeftUpLeg") == ("left", "upleg", None)
    assert name_parts("spine_03") == (None, "spine", 3)
    assert name_parts("CC_Base_R_Forearm") == ("right", "forearm", None)


def test_presets_detected():
    presets = load_presets()
    assert {"mixamo", "rigify", "ue4", "ue5", "smpl"} <= set(presets)
    ue4 = skeleton(body())
    assert detect_preset(presets, ue4) == "ue4"
    ue5 = skeleton(body(spine=tuple(f"spine_0{i}" for i in range(1, 6)), extra=[("neck_02", "neck_01", (0, 0, 1.5),
                                                                                  (0, 0, 1.55))]))
    assert detect_preset(presets, ue5) == "ue5"  # UE4's bones are all there too: priority decides
    unnamed = skeleton(body(), {k: f"bone.{i:03d}" for i, (k, *_) in enumerate(body())})
    assert detect_preset(presets, unnamed) is None


@pytest.mark.parametrize("turn", [0.0, np.pi])
def test_structure_finds_an_unnamed_humanoid(turn):
    bones = body()
    names = {k: f"bone.{i:03d}" for i, (k, *_) in enumerate(bones)}
    m = map_by_structure(skeleton(bones, names, turn))
    truth = {"pelvis": "pelvis", "left_hip": "thigh_l", "left_knee": "calf_l", "left_ankle": "foot_l",
             "left_foot": "ball_l", "right_hip": "thigh_r", "right_knee": "calf_r", "left_collar": "clavicle_l",
             "left_shoulder": "upperarm_l", "left_elbow": "lowerarm_l", "left_wrist": "hand_l",
             "right_shoulder": "upperarm_r", "right_elbow": "lowerarm_r", "spine1": "spine_01",
             "spine2": "spine_02", "spine3": "spine_03", "neck": "neck_01", "head": "head"}
    # turned half a turn, the body's left is still found from where the feet point
    assert {k: m.get(k) for k in truth} == {k: names[v] for k, v in truth.items()}


def test_overrides_and_bad_maps():
    skel = skeleton(body())
    m, used = resolve_map(skel, "auto", overrides={"left_foot": "", "head": "neck_01", "neck": ""})
    assert used == "ue4" and "left_foot" not in m and m["head"] == "neck_01" and "neck" not in m
    with pytest.raises(MappingError, match="no bone 'nope'"):
        resolve_map(skel, "auto", overrides={"head": "nope"})
    with pytest.raises(MappingError, match="more than one"):
        resolve_map(skel, "auto", overrides={"neck": "head"})
    with pytest.raises(MappingError, match="unknown bone-map preset"):
        resolve_map(skel, "maya")
    tail = skeleton([("a", None, (0, 0, 0.5), (0, 0.2, 0.5)), ("b", "a", (0, 0.2, 0.5), (0, 0.4, 0.5))])
    with pytest.raises(MappingError, match="no recognisable humanoid") as e:
        resolve_map(tail)
    assert all(r in str(e.value) for r in REQUIRED)


def test_kinematics_helpers():
    assert topological(np.array([2, -1, 1])) == [1, 2, 0]
    with pytest.raises(ValueError):
        topological(np.array([1, 0]))
    for a, b in (([0, 1, 0], [1, 0, 0]), ([0, 0, 1], [0, 0, -1]), ([1, 2, 3], [1, 2, 3.0])):
        r = shortest_rotation(np.array(a, float), np.array(b, float))
        np.testing.assert_allclose(r @ (np.array(a) / np.linalg.norm(a)), np.array(b) / np.linalg.norm(b), atol=1e-12)
        np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
    # a two-bone chain bent 90 degrees at the first joint: the second bone's head follows
    rest = np.repeat(np.eye(4)[None], 2, 0)
    rest[1, :3, 3] = [0, 1, 0]
    basis = np.repeat(np.eye(4)[None, None], 1, 0).repeat(2, 1)
    basis[0, 0, :3, :3] = [[0, -1, 0], [1, 0, 0], [0, 0, 1]]
    pose = forward_kinematics(rest, np.array([-1, 0]), basis)
    np.testing.assert_allclose(pose[0, 1, :3, 3], [-1, 0, 0], atol=1e-12)
