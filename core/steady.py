"""The answer's motion steadied: each clip's bodies and the shared motion smoothed along time.

The bundle adjustment's priors (core.ba: the rotations' first and, in the later rounds, second
differences, the translations' first differences) still leave the detector's frame-to-frame
noise in the motion. On the demo's real detections (``bench e2e``) the consensus motion's joints
accelerated by 44.7 mm per frame squared on average against the truth's 7.6, the ankles 42 and the
wrists 77: a shake that shows at once in Blender. A Gaussian of :data:`SIGMA_S` (half a frame at
30 fps) along each clip's frames takes part of that noise out without slowing fast motion. On the
protocol (4 views, seeds 0-2, the engine as bench run's) the 18 DeepMimic runs' PA-MPJPE 13.64 ->
12.96 mm (17 of 18 better or within 0.2 mm; spinkick seed 0 14.27 -> 14.68), cmu_01_jumps seed 0
14.38 -> 13.30 (its oracle 13.15 -> 12.10); bench e2e 42.23 -> 41.79 mm, the joints' acceleration
error 43.4 -> 31.9 mm per frame squared. Seven tenths of a frame did more on the walks and jumps
and on e2e (41.39 mm, 21.5 mm/frame^2) but cost the spinkicks 1-2 mm each (16.29 / 14.72 / 15.48
against 14.27 / 13.55 / 13.81): the spins lose their peaks.

Rotations are smoothed as unit quaternions (signs made continuous along time, then averaged and
normalised), translations as they are; the times are left alone (done once the rounds are over).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.spatial.transform import Rotation

from .ba import BAState
from .remeasure import bodies, reprojection_px

SIGMA_S = 0.5 / 30.0  # seconds: the Gaussian's standard deviation along time


def smooth_rotations(pose: np.ndarray, sigma: float) -> np.ndarray:
    """Axis-angle rotations (N,J,3) smoothed along axis 0 by a Gaussian of ``sigma`` frames."""
    pose = np.asarray(pose, np.float64)
    if sigma <= 0 or len(pose) < 2:
        return pose.copy()
    q = Rotation.from_rotvec(pose.reshape(-1, 3)).as_quat().reshape(pose.shape[:-1] + (4,))
    flips = np.sign(np.sum(q[1:] * q[:-1], axis=-1))
    flips[flips == 0] = 1.0
    q[1:] *= np.cumprod(flips, axis=0)[..., None]  # each quaternion on its predecessor's side
    q = gaussian_filter1d(q, sigma, axis=0, mode="nearest")
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    return Rotation.from_quat(q.reshape(-1, 4)).as_rotvec().reshape(pose.shape)


def steadied(state: BAState, tracks, body, reference: int, min_conf: float, sigma_s: float = SIGMA_S) -> BAState:
    """``state`` with each clip's poses and translations, and the shared motion (on the reference
    clip's timeline), smoothed along time by a Gaussian of ``sigma_s`` seconds at each clip's frame
    rate; keypoints (the state's offsets applied), joints and reprojection errors against
    ``tracks`` measured again."""
    poses, transls, kps, joints, errs = [], [], [], [], []
    for p, tr, b, cam, t in zip(state.pose, state.transl, state.betas, state.cameras, tracks):
        sigma = sigma_s * t.fps
        p2 = smooth_rotations(p, sigma).astype(np.asarray(p).dtype)
        tr2 = gaussian_filter1d(np.asarray(tr, np.float64), sigma, axis=0, mode="nearest").astype(np.asarray(tr).dtype)
        kp, jt = bodies(body, p2, b, tr2, state.kp_offsets)
        poses.append(p2)
        transls.append(tr2)
        kps.append(kp.astype(np.float32))
        joints.append(jt)
        errs.append(reprojection_px(kp, cam, t, min_conf))
    shared, shared_tr = state.shared_pose, state.shared_transl
    if shared is not None:
        sigma = sigma_s * tracks[reference].fps
        shared = smooth_rotations(shared, sigma).astype(shared.dtype)
        shared_tr = gaussian_filter1d(np.asarray(shared_tr, np.float64), sigma, axis=0, mode="nearest")
    return replace(state, pose=tuple(poses), transl=tuple(transls), keypoints=tuple(kps), joints=tuple(joints),
                   reproj_px=tuple(errs), shared_pose=shared, shared_transl=shared_tr)
