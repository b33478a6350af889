"""Metrics on hand-made cases with known answers."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from bench.metrics import (accel_error_mm, foot_pitch_deg, foot_slide_mm, mpjpe_mm, mpjpe_raw_mm, orientation_deg,
                           pa_mpjpe_mm, similarity_align, sync_error_pct)
from core.body import SMPL_PARENTS


def test_sync_error_by_hand():
    truth = [np.array([0.0, 1.0, 2.0, 3.0]), np.array([5.0, 6.0])]
    matched = [np.array([0.0, 2.0, 2.0, 3.0]), np.array([5.0, 10.0])]
    # errors 0,1,0,0 and 0,4 over 6 frames, reference of 11 frames (last index 10)
    assert sync_error_pct(matched, truth, 11) == pytest.approx(100 * 5 / 6 / 10)
    # unmatched frames take the nearest match; a view with no match at all is 100% wrong
    assert sync_error_pct([np.array([np.nan, 1.0, 2.0])], [np.array([0.0, 1.0, 2.0])], 11) == pytest.approx(100 / 3 / 10)
    assert sync_error_pct([np.full(3, np.nan)], [np.zeros(3)], 11) == 100.0


def _skeleton(n=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(0, 0.3, (n, 24, 3))


def test_mpjpe_is_zero_for_truth_and_scale_invariant():
    gt = _skeleton()
    assert mpjpe_mm(gt, gt) == pytest.approx(0, abs=1e-9)
    assert mpjpe_mm(1.7 * gt + 3.0, gt) == pytest.approx(0, abs=1e-6)  # scaled + moved: paper MPJPE ignores both
    assert mpjpe_raw_mm(gt + 3.0, gt) == pytest.approx(0, abs=1e-6)
    assert mpjpe_raw_mm(1.1 * gt, gt) > 1.0


def test_mpjpe_known_value():
    gt = np.zeros((1, 24, 3))
    gt[0, 1], gt[0, 2] = [0.1, 0, 0], [-0.1, 0, 0]  # hips: the root is the origin
    pred = gt.copy()
    from bench.mocap import LIMB_SMPL

    gt[0, list(LIMB_SMPL)] += np.array([0, 0, 0.5])
    pred[0, list(LIMB_SMPL)] += np.array([0, 0, 0.5])
    pred[0, 18] += [0, 0.012, 0]  # one elbow 12 mm off; norm change is tiny
    assert mpjpe_raw_mm(pred, gt) == pytest.approx(1.0, abs=1e-6)  # 12 mm / 12 joints


def test_pa_mpjpe_removes_similarity_and_keeps_shape_errors():
    gt = _skeleton(4, 1)
    rot = Rotation.random(4, random_state=2).as_matrix()
    pred = 0.8 * np.einsum("nij,nkj->nki", rot, gt) + np.array([1.0, 2.0, 3.0])
    assert pa_mpjpe_mm(pred, gt) == pytest.approx(0, abs=1e-6)
    np.testing.assert_allclose(similarity_align(pred, gt), gt, atol=1e-9)
    bent = gt.copy()
    bent[:, 20] += [0.05, 0, 0]
    assert pa_mpjpe_mm(bent, gt) > 1.0
    # a reflection is not a similarity: it stays an error
    assert pa_mpjpe_mm(gt * np.array([-1, 1, 1]), gt) > 10


def test_camera_errors_ignore_the_world_and_measure_each_camera():
    """True cameras expressed in another world (any rotation) score 0 degrees; one camera turned
    10 degrees about its centre scores 10, and a focal length 20% long scores 1.2."""
    from types import SimpleNamespace

    from bench.evaluate import camera_errors
    from core.cameras import Camera

    rng = np.random.default_rng(0)
    truth = [Rotation.from_rotvec(rng.normal(size=3)).as_matrix() for _ in range(3)]
    views = [SimpleNamespace(R=r, K=np.diag([f, f, 1.0])) for r, f in zip(truth, (1000.0, 1500.0, 800.0))]
    world = Rotation.from_rotvec([0.3, -1.2, 2.0]).as_matrix()
    cams = [Camera(r @ world.T, np.zeros(3), float(v.K[0, 0]), np.zeros(2)) for r, v in zip(truth, views)]
    got = camera_errors(cams, SimpleNamespace(views=views))
    assert got["camera_deg"] == pytest.approx([0, 0, 0], abs=1e-6)
    assert got["focal_ratio"] == [1.0, 1.0, 1.0]
    turn = Rotation.from_rotvec(np.radians(10) * np.array([0.6, 0.0, 0.8])).as_matrix()
    cams[2] = Camera(turn @ cams[2].R, np.zeros(3), 960.0, np.zeros(2))
    got = camera_errors(cams, SimpleNamespace(views=views))
    assert got["camera_deg"] == pytest.approx([0, 0, 10], abs=0.01)
    assert got["focal_ratio"] == [1.0, 1.0, 1.2]


def test_orientations_are_measured_against_their_base_joints():
    """A head turned 30 degrees at the neck and a left foot 20 at the ankle: those two read 30 and
    20; a turned hip moves the whole leg and no foot's orientation against its shin."""
    rng = np.random.default_rng(0)
    truth = rng.normal(0, 0.3, (5, 24, 3))
    pose = truth.copy()
    pose[:, 12] = (Rotation.from_rotvec(truth[:, 12]) * Rotation.from_euler("y", 30, degrees=True)).as_rotvec()
    pose[:, 7] = (Rotation.from_rotvec(truth[:, 7]) * Rotation.from_euler("x", 20, degrees=True)).as_rotvec()
    pose[:, 1] += 0.5
    got = orientation_deg(pose, truth, SMPL_PARENTS)
    assert set(got) == {"head", "left_foot", "right_foot", "left_hand", "right_hand"}
    assert abs(got["left_foot"] - 20) < 1e-6 and got["right_foot"] < 1e-6
    assert got["left_hand"] < 1e-6 and got["right_hand"] < 1e-6
    # the neck's turn, then the head's own rotation: the head's orientation against the chest moves
    # by 30 degrees seen in the head's frame (a conjugate: the same angle)
    assert abs(got["head"] - 30) < 1e-6


def test_acceleration_error_sees_a_shake_and_not_a_steady_offset():
    """A copy of a motion moved by a constant and at a constant speed has no acceleration error;
    adding alternating +-1 mm along x gives 4 mm per frame squared in the middle frames."""
    rng = np.random.default_rng(0)
    gt = np.cumsum(rng.normal(0, 0.01, (50, 24, 3)), axis=0)
    moved = gt + 0.3 + np.arange(50)[:, None, None] * 0.02
    assert accel_error_mm(moved, gt) < 1e-9
    shake = moved.copy()
    shake[:, :, 0] += 0.001 * (-1.0) ** np.arange(50)[:, None]
    assert abs(accel_error_mm(shake, gt) - 4.0) < 1e-6


def test_foot_slide_counts_only_the_truths_planted_frames():
    """A truth whose left ankle stands for 20 frames then swings 20 (0.6 m forward, 15 cm up) and
    whose right ankle stands throughout: an answer drifting 4 mm a frame along x everywhere slides
    4 mm a frame, the truth 0; its left ankle drifting only while the truth's swings, 0 (the
    swing's frames do not count). A truth that never stands gives NaN."""
    n = 80
    phase = np.arange(n) % 40
    swing = np.clip((phase - 20) / 19, 0, 1)
    gt = np.zeros((n, 2, 3))
    gt[:, 0, 0] = 0.6 * (np.arange(n) // 40 + swing)
    gt[:, 0, 2] = 0.08 + 0.15 * np.sin(np.pi * swing)
    gt[:, 1] = [0.3, 0.2, 0.08]
    drift = gt.copy()
    drift[..., 0] += 0.004 * np.arange(n)[:, None]
    slide, true_slide = foot_slide_mm(drift, gt, 30.0)
    assert abs(slide - 4.0) < 1e-9 and true_slide == 0.0
    only_swing = gt.copy()
    only_swing[:, 0, 0] += 0.004 * np.cumsum(swing > 0)
    assert foot_slide_mm(only_swing, gt, 30.0)[0] < 1e-12
    flying = gt + np.arange(n)[:, None, None] * np.array([0.1, 0, 0])
    assert np.isnan(foot_slide_mm(gt, flying, 30.0)[0])


def test_foot_pitch_compares_the_foot_bones_elevation_where_the_truth_stands():
    """Both feet planted for 20 frames, then the left swinging 20: an answer whose feet point 20
    degrees further down scores 20, whatever its heading (the whole answer turned 70 degrees about
    the vertical: still 20, and 0 for the truth itself turned); a truth with no foot joints gives
    NaN."""
    n = 40
    gt = np.zeros((n, 24, 3))
    gt[:, 7] = [0.1, 0.0, 0.08]
    gt[:, 8] = [-0.1, 0.0, 0.08]
    gt[20:, 7] += np.linspace(0, 0.6, 20)[:, None] * np.array([0, 1.0, 0]) + np.array([0, 0, 0.1])
    down = np.deg2rad(15.0)
    bone = 0.14 * np.array([0.0, np.cos(down), -np.sin(down)])
    gt[:, 10], gt[:, 11] = gt[:, 7] + bone, gt[:, 8] + bone
    tilted = gt.copy()
    more = np.deg2rad(35.0)
    tilted[:, 10] = tilted[:, 7] + 0.14 * np.array([0.0, np.cos(more), -np.sin(more)])
    tilted[:, 11] = tilted[:, 8] + 0.14 * np.array([0.0, np.cos(more), -np.sin(more)])
    yaw = Rotation.from_euler("z", 70, degrees=True).as_matrix()
    assert abs(foot_pitch_deg(tilted, gt, 30.0) - 20.0) < 1e-6
    assert abs(foot_pitch_deg(tilted @ yaw.T, gt, 30.0) - 20.0) < 1e-6
    assert foot_pitch_deg(gt @ yaw.T + 3.0, gt, 30.0) < 1e-6
    no_feet = gt.copy()
    no_feet[:, [10, 11]] = np.nan
    assert np.isnan(foot_pitch_deg(tilted, no_feet, 30.0))
