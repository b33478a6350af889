"""The open body model: structure, size, skinning locality, keypoints, and the SMPL .pkl path."""

import pickle
import sys
import types

import numpy as np
import pytest
import torch

from core.body import (COCO_NAMES, JOINT_NAMES, SMPL_PARENTS, BodyModel, BodyModelError, load_model_data,
                       load_smpl_pkl)

L_ELBOW, L_WRIST, L_HAND = 18, 20, 22


def _random_params(n, seed=0, scale=0.4):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, 24, 3, generator=g) * scale, torch.randn(n, 10, generator=g),
            torch.randn(n, 3, generator=g))


def test_structure(body):
    rest = body.rest()
    assert rest.joint_names == JOINT_NAMES and len(JOINT_NAMES) == 24
    assert tuple(rest.parents.tolist()) == SMPL_PARENTS
    assert tuple(body.layer.parents.tolist()) == SMPL_PARENTS
    assert rest.weights.shape == (rest.vertices.shape[0], 24)
    np.testing.assert_allclose(rest.weights.sum(1), 1.0, atol=1e-5)
    assert body.num_betas == 10


def test_standing_adult_in_t_pose(body):
    rest = body.rest()
    v, j = rest.vertices, rest.rest_joints
    height = np.ptp(v[:, 1])
    assert 1.5 <= height <= 2.0
    # Y up: head above pelvis above ankles; the body's left at +X
    assert j[15, 1] > j[0, 1] + 0.4 > j[7, 1] + 0.4
    assert j[16, 0] > 0.1 and j[17, 0] < -0.1
    # T-pose: arms horizontal, straight, out to the sides; legs straight down
    for s, e, w in ((16, 18, 20), (17, 19, 21)):
        arm = j[w] - j[s]
        assert abs(arm[1]) < 0.02 * np.linalg.norm(arm)
        assert np.linalg.norm(np.cross(j[e] - j[s], j[w] - j[e])) < 1e-3
    for h, k, a in ((1, 4, 7), (2, 5, 8)):
        leg = j[a] - j[h]
        assert abs(leg[0]) < 0.02 and abs(leg[2]) < 0.02 and leg[1] < -0.7


def test_bending_left_elbow_moves_only_left_forearm_and_hand(body):
    pose = torch.zeros(1, 24, 3)
    pose[0, L_ELBOW, 1] = 1.2  # about the vertical: the forearm swings forward
    zero = torch.zeros(1, 10)
    with torch.no_grad():
        v0 = body(torch.zeros(1, 24, 3), zero, vertices=True).vertices[0].numpy()
        v1 = body(pose, zero, vertices=True).vertices[0].numpy()
    moved = np.linalg.norm(v1 - v0, axis=1) > 1e-5
    w = body.rest().weights
    forearm_hand = w[:, [L_ELBOW, L_WRIST, L_HAND]].sum(1)
    assert moved.sum() > 500
    assert np.all(forearm_hand[moved] > 0)  # nothing outside the left forearm/hand moves
    shoulder_x = body.rest().rest_joints[16, 0]
    assert np.all(v0[moved, 0] > shoulder_x)  # all of it on the left arm, beyond the shoulder joint
    dominant = w.argmax(1)
    assert np.all(moved[np.isin(dominant, [L_WRIST, L_HAND])])  # the whole hand moves


def test_coco_keypoints_lie_on_the_body(body):
    from scipy.spatial import cKDTree

    rest = body.rest()
    kp = body.coco_regressor.numpy() @ rest.vertices
    dist, _ = cKDTree(rest.vertices).query(kp)
    face = [COCO_NAMES.index(n) for n in ("nose", "left_eye", "right_eye", "left_ear", "right_ear")]
    assert dist[face].max() < 0.01
    assert dist.max() < 0.10  # limb keypoints sit inside limbs, not off the body
    for k, jn in ((15, 7), (16, 8)):  # ankles
        assert np.linalg.norm(kp[k] - rest.rest_joints[jn]) < 0.06
    for k, jn in ((5, 16), (6, 17), (7, 18), (8, 19), (9, 20), (10, 21), (13, 4), (14, 5)):
        assert np.linalg.norm(kp[k] - rest.rest_joints[jn]) < 0.08, COCO_NAMES[k]


def test_fast_path_equals_full_skinning(body):
    pose, betas, transl = _random_params(6)
    with torch.no_grad():
        fast = body(pose, betas, transl)
        full = body(pose, betas, transl, vertices=True)
    assert fast.vertices is None
    torch.testing.assert_close(fast.joints, full.joints, atol=2e-5, rtol=0)
    torch.testing.assert_close(fast.keypoints, full.keypoints, atol=2e-5, rtol=0)
    # the mesh follows: keypoints regressed from the skinned vertices
    torch.testing.assert_close(full.keypoints, torch.einsum("kv,bvi->bki", body.coco_regressor, full.vertices))


def test_translation_and_shape_act(body):
    pose, betas, transl = _random_params(2)
    with torch.no_grad():
        a = body(pose, betas, None)
        b = body(pose, betas, transl)
        c = body(pose, betas + 1.0, None)
    torch.testing.assert_close(b.joints - a.joints, transl[:, None].expand(-1, 24, -1))
    assert (c.joints - a.joints).abs().max() > 0.01
    heights = [np.ptp(body.rest(np.eye(10)[0] * s).vertices[:, 1]) for s in (-1.0, 0.0, 1.0)]
    assert heights[0] < heights[1] < heights[2]


def test_gradients_flow(body):
    pose, betas, transl = _random_params(3)
    for t in (pose, betas, transl):
        t.requires_grad_(True)
    body(pose, betas, transl).keypoints.square().sum().backward()
    assert all(torch.isfinite(t.grad).all() and t.grad.abs().sum() > 0 for t in (pose, betas, transl))


def test_bad_model_files(tmp_path):
    with pytest.raises(BodyModelError, match="not found"):
        load_model_data(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(BodyModelError, match="bad.npz"):
        load_model_data(bad)
    bad_pkl = tmp_path / "bad.pkl"
    bad_pkl.write_bytes(b"garbage")
    with pytest.raises(BodyModelError, match="bad.pkl"):
        load_smpl_pkl(bad_pkl)


def test_smpl_pkl_with_chumpy_objects_loads_without_chumpy(tmp_path, body):
    """An SMPL-style .pkl whose arrays are chumpy objects loads with chumpy absent."""
    data = load_model_data(None)
    # a stand-in 'chumpy' module only while pickling, as SMPL's files were made
    fake = types.ModuleType("chumpy")
    fake_ch = types.ModuleType("chumpy.ch")

    class Ch:
        def __init__(self, x):
            self.x = x

    Ch.__module__ = "chumpy.ch"
    Ch.__qualname__ = "Ch"
    fake_ch.Ch = Ch
    sys.modules["chumpy"], sys.modules["chumpy.ch"] = fake, fake_ch
    try:
        from scipy.sparse import csc_matrix

        content = {"v_template": Ch(data["v_template"].astype(np.float64)), "f": data["f"].astype(np.uint32),
                   "weights": Ch(data["weights"].astype(np.float64)),
                   "J_regressor": csc_matrix(data["J_regressor"].astype(np.float64)),
                   "shapedirs": Ch(data["shapedirs"].astype(np.float64)),
                   "posedirs": data["posedirs"].astype(np.float64),
                   "kintree_table": np.array([[4294967295] + list(SMPL_PARENTS[1:]), list(range(24))], np.int64),
                   "bs_type": "lrotmin", "bs_style": "lbs"}
        path = tmp_path / "SMPL_TEST.pkl"
        path.write_bytes(pickle.dumps(content, protocol=2))
    finally:
        del sys.modules["chumpy"], sys.modules["chumpy.ch"]
    assert "chumpy" not in sys.modules
    loaded = load_smpl_pkl(path)
    np.testing.assert_array_equal(loaded["v_template"], data["v_template"].astype(np.float64))
    model = BodyModel(path)
    pose, betas, transl = _random_params(2, seed=3)
    with torch.no_grad():
        a, b = model(pose, betas, transl), body(pose, betas, transl)
    torch.testing.assert_close(a.joints, b.joints, atol=1e-5, rtol=0)
    # SMPL files carry no COCO regressor: limb keypoints are the joint regressor applied to the posed
    # mesh, which is the joint at rest and within millimetres of it when posed
    with torch.no_grad():
        rest = model(torch.zeros(1, 24, 3), torch.zeros(10))
    torch.testing.assert_close(rest.keypoints[:, 15], rest.joints[:, 7], atol=1e-5, rtol=0)
    assert (a.keypoints[:, 15] - a.joints[:, 7]).norm(dim=-1).max() < 0.01


def test_keypoint_offsets_turn_with_the_bone_that_ends_at_the_keypoint(body):
    """An offset moves its keypoint alone, by the offset turned as the bone ending there is turned:
    at rest exactly the offset; with the left elbow bent a quarter turn, the left wrist's offset
    (the forearm's frame) turns with the forearm and the left elbow's (the upper arm's) does not."""
    from scipy.spatial.transform import Rotation

    k_elbow, k_wrist = COCO_NAMES.index("left_elbow"), COCO_NAMES.index("left_wrist")
    off = torch.zeros(17, 3)
    off[k_elbow] = torch.tensor([0.0, 0.02, 0.0])
    off[k_wrist] = torch.tensor([0.03, 0.0, 0.01])
    betas = torch.zeros(10)
    for turn in (0.0, np.pi / 2):
        pose = torch.zeros(1, 24, 3)
        pose[0, L_ELBOW, 1] = turn
        with torch.no_grad():
            plain = body(pose, betas).keypoints[0].numpy()
            moved = body(pose, betas, offsets=off).keypoints[0].numpy()
        shift = moved - plain
        wrist_turn = Rotation.from_rotvec([0.0, turn, 0.0]).as_matrix()
        np.testing.assert_allclose(shift[k_wrist], wrist_turn @ off[k_wrist].numpy(), atol=1e-6)
        np.testing.assert_allclose(shift[k_elbow], off[k_elbow].numpy(), atol=1e-6)
        others = [k for k in range(17) if k not in (k_elbow, k_wrist)]
        assert np.abs(shift[others]).max() < 1e-6
    with pytest.raises(ValueError, match="fast path"):
        body(torch.zeros(1, 24, 3), betas, vertices=True, offsets=off)


def test_keypoint_offsets_per_body_move_each_body_by_its_own(body):
    """Offsets (B,17,3), one set per body, give each body the keypoints it gets alone with its set."""
    pose, betas, transl = _random_params(3, seed=4)
    offs = torch.randn(3, 17, 3, generator=torch.Generator().manual_seed(5)) * 0.03
    with torch.no_grad():
        together = body(pose, betas, transl, offsets=offs).keypoints
        alone = torch.cat([body(pose[i:i + 1], betas[i:i + 1], transl[i:i + 1], offsets=offs[i]).keypoints
                           for i in range(3)])
        plain = body(pose, betas, transl).keypoints
    np.testing.assert_allclose(together.numpy(), alone.numpy(), atol=1e-6)
    assert (together - plain).abs().max() > 0.01  # the offsets did move them
