"""The answer's motion steadied along time (core.steady), against known motions."""

import numpy as np
from scipy.spatial.transform import Rotation

from core.ba import BAState
from core.cameras import Camera
from core.demo import jumping_jacks
from core.geometry import intrinsics, look_at_camera, project
from core.remeasure import bodies
from core.steady import smooth_rotations, steadied
from core.tracks import Tracks2D


def _angle(a, b):
    return (Rotation.from_rotvec(a.reshape(-1, 3)).inv() * Rotation.from_rotvec(b.reshape(-1, 3))).magnitude()


def test_a_steady_turn_stays_as_it_is_through_the_half_turn():
    """A joint turning at a steady 0.2 rad per frame about a fixed axis, through angle pi where its
    axis-angle vector flips: smoothed, every frame but the two at each end stays within 0.005 rad;
    a still joint stays exactly still."""
    n = 40
    axis = np.array([0.3, 0.9, 0.3]) / np.linalg.norm([0.3, 0.9, 0.3])
    turning = Rotation.from_rotvec(np.outer(0.2 * np.arange(n), axis)).as_rotvec()
    pose = np.zeros((n, 2, 3))
    pose[:, 0] = turning
    pose[:, 1] = [0.1, -0.4, 0.2]
    out = smooth_rotations(pose, 1.0)
    err = _angle(out[:, 0], pose[:, 0])
    assert err[2:-2].max() < 0.005, err
    np.testing.assert_allclose(out[:, 1], pose[:, 1], atol=1e-9)


def test_the_steadied_answer_is_nearer_the_truth_and_measured_again(body):
    """Jumping jacks (30 fps) whose every joint and root position shake about the truth (0.05 rad,
    1 cm, frame by frame): steadied (half a frame), the joints are nearer the truth's (their error
    under 0.85x the shaken one's; measured 0.80), their accelerations nearer still (under 0.75x;
    0.66), and the state's keypoints and reprojection errors are those of its new bodies; the
    times are untouched."""
    rng = np.random.default_rng(0)
    n = 60
    m = jumping_jacks(n, 30.0)
    true_kp, true_joints = bodies(body, m.pose, m.betas, m.transl)
    shaken = (Rotation.from_rotvec(m.pose.reshape(-1, 3))
              * Rotation.from_rotvec(rng.normal(0, 0.05 / np.sqrt(3), (n * 24, 3)))).as_rotvec().reshape(n, 24, 3)
    transl = m.transl + rng.normal(0, 0.01 / np.sqrt(3), (n, 3))
    kp, joints = bodies(body, shaken, m.betas, transl)
    R, t = look_at_camera(np.array([5.0, 0.0, 1.5]), np.array([0, 0.3, 0.9]))
    cam = Camera(R, t, 1200.0, np.array([640.0, 360.0]))
    uv, _ = project(true_kp, intrinsics(1200, 1280, 720), R, t)
    track = Tracks2D(uv.astype(np.float32), np.full((n, 17), 0.9, np.float32), np.zeros((n, 4), np.float32), 30.0,
                     (1280, 720))
    times = (np.arange(n, dtype=float),)
    state = BAState((shaken,), (transl,), (m.betas,), (cam,), (kp,), (joints,), (np.zeros(n),), ref_time=times)
    out = steadied(state, [track], body, 0, 0.1)
    err = lambda j: np.linalg.norm(j - true_joints, axis=-1).mean()  # noqa: E731
    acc = lambda j: np.linalg.norm(np.diff(j - true_joints, 2, axis=0), axis=-1).mean()  # noqa: E731
    assert err(out.joints[0]) < 0.85 * err(joints), (err(out.joints[0]), err(joints))
    assert acc(out.joints[0]) < 0.75 * acc(joints), (acc(out.joints[0]), acc(joints))
    again, _ = bodies(body, out.pose[0], m.betas, out.transl[0])
    np.testing.assert_allclose(out.keypoints[0], again, atol=1e-5)
    expected = np.linalg.norm(cam.pixels(again)[0] - track.keypoints, axis=-1).mean(1)
    np.testing.assert_allclose(out.reproj_px[0], expected, rtol=1e-4, atol=1e-4)
    assert out.ref_time is times
