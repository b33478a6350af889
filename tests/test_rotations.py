"""The Blender side's rotation maths (numpy only, no Blender needed)."""

import numpy as np
from scipy.spatial.transform import Rotation

from imocap_blender.rotations import (C_UP, bone_keys_to_pose, continuous, matrix_to_quaternion, pose_to_bone_keys,
                                      quaternion_to_matrix, rotvec_to_matrix)


def test_conversions_match_scipy():
    rv = Rotation.random(500, random_state=0).as_rotvec()
    rv[:3] = [[0, 0, 0], [np.pi, 0, 0], [0, 1e-9, 0]]
    m = rotvec_to_matrix(rv)
    np.testing.assert_allclose(m, Rotation.from_rotvec(rv).as_matrix(), atol=1e-12)
    q = matrix_to_quaternion(m)
    ref = Rotation.from_matrix(m).as_quat()[:, [3, 0, 1, 2]]
    ref *= np.where(ref[:, :1] < 0, -1, 1)
    np.testing.assert_allclose(np.abs(np.sum(q * ref, 1)), 1.0, atol=1e-12)
    np.testing.assert_allclose(quaternion_to_matrix(q), m, atol=1e-12)
    assert np.allclose(C_UP @ [0, 1, 0], [0, 0, 1])  # model up -> world up


def test_continuous_quaternions():
    q = matrix_to_quaternion(Rotation.from_euler("z", np.linspace(0, 6, 50)[:, None]).as_matrix())
    c = continuous(q)
    assert np.all(np.sum(c[1:] * c[:-1], 1) > 0)
    np.testing.assert_allclose(quaternion_to_matrix(c), quaternion_to_matrix(q), atol=1e-12)


def test_bone_keys_round_trip():
    rng = np.random.default_rng(0)
    pose = rng.normal(0, 0.5, (7, 24, 3))
    transl = rng.normal(0, 1, (7, 3))
    rest = rng.normal(0, 0.3, (24, 3))
    bone_rest = Rotation.random(24, random_state=1).as_matrix()
    q, loc = pose_to_bone_keys(pose, transl, rest, bone_rest)
    r, t = bone_keys_to_pose(q, loc, rest, bone_rest)
    np.testing.assert_allclose(r, rotvec_to_matrix(pose), atol=1e-10)
    np.testing.assert_allclose(t, transl, atol=1e-10)
