"""The mirror ambiguity of the camera adjustment, told apart by anatomy.

Seen nearly orthographically (a performer small against the cameras' distance), a structure and
its mirror image in depth project almost alike, each with its own cameras: the adjustment over free
points (``core.camera_ba``) can settle in either. But the keypoints are labelled left and right,
and a mirror image swaps the body's handedness: its knees bend backwards. On the real captures
(``../shared/mocap``: the six DeepMimic motions and the CMU jumps) at most 4% of bent knees lie
behind the line from hip to ankle; triangulated through mirrored cameras, most do (DeepMimic kick,
two views, seed 2: 82%, against 27% through the true cameras, two-view triangulation being noisy).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np


LEGS = ((11, 13, 15), (12, 14, 16))  # COCO hip, knee, ankle: left, right


def _spine(points: np.ndarray) -> np.ndarray:
    """(N,3) mid-hips to mid-shoulders of ``points`` (N,17,3)."""
    return 0.5 * (points[:, 5] + points[:, 6]) - 0.5 * (points[:, 11] + points[:, 12])


def _turned_about(cam, rot: np.ndarray, centre: np.ndarray):
    """``cam`` with rotation ``rot``, moved so that ``centre`` keeps its place in the camera."""
    return replace(cam, R=rot, t=cam.R @ centre + cam.t - rot @ centre)


def mirrored_fraction(points: np.ndarray, seen: np.ndarray, min_bend: float = 0.05) -> tuple[float, int]:
    """Of the bent knees (off the hip-ankle line by over ``min_bend`` of the leg's length) in
    ``points`` (N,17,3) where ``seen`` (N,17), the fraction bending backwards, and how many there
    were (NaN, 0 without any). Forwards is (left hip - right hip) x (mid-shoulders - mid-hips): it
    needs no up direction of the world, and a mirror image flips it."""
    forward = np.cross(points[:, 11] - points[:, 12], _spine(points))
    torso = seen[:, [5, 6, 11, 12]].all(1)
    votes = []
    for hip, knee, ankle in LEGS:
        a, b, c = points[:, hip], points[:, knee], points[:, ankle]
        leg = np.linalg.norm(b - a, axis=1) + np.linalg.norm(c - b, axis=1)
        axis = (c - a) / np.maximum(np.linalg.norm(c - a, axis=1, keepdims=True), 1e-9)
        off = (b - a) - ((b - a) * axis).sum(1, keepdims=True) * axis  # the knee off the hip-ankle line
        bent = torso & seen[:, [hip, knee, ankle]].all(1) & (np.linalg.norm(off, axis=1) > min_bend * leg)
        votes.append(((off * forward).sum(1) < 0)[bent])
    v = np.concatenate(votes)
    return (float(v.mean()) if len(v) else float("nan")), int(len(v))


def mirror_cameras(corr, cameras, points: np.ndarray, seen: np.ndarray) -> list:
    """Cameras that see the mirror image of ``points`` (N_ref,17,3, triangulated through
    ``cameras``) as ``cameras`` see the points, as far as perspective allows: the structure
    reflected in depth, as the reference camera sees it, about its centre, and every other camera
    turned to match (its rotation R becomes F R D, D the world's reflection and F the flip of the
    camera's own depth, a proper rotation) and moved so that the centre keeps its pixel and depth.
    Image offsets from the centre stay; depth offsets change sign. The reference camera stays."""
    ref = corr.reference
    flip = np.diag([1.0, 1.0, -1.0])
    r_ref = cameras[ref].R
    world = r_ref.T @ flip @ r_ref  # the reflection in depth along the reference's view
    centre = points[seen].mean(0)
    out = list(cameras)
    for j, cam in enumerate(cameras):
        if j == ref:
            continue
        out[j] = _turned_about(cam, flip @ cam.R @ world, centre)
    return out


def turned_cameras(cameras, points: np.ndarray, seen: np.ndarray, clip: int) -> list:
    """``cameras`` with clip ``clip``'s camera carried half a turn about the performer's vertical
    (mid-hips to mid-shoulders, averaged) through the structure's centre: the same view from the
    other side, where a front/back confusion of the body put it."""
    from scipy.spatial.transform import Rotation

    both = seen[:, [5, 6, 11, 12]].all(1)
    up = _spine(points[both]).mean(0)
    turn = Rotation.from_rotvec(np.pi * up / max(np.linalg.norm(up), 1e-9)).as_matrix()
    out = list(cameras)
    # the world turned by ``turn`` about the structure's centre, as this camera sees it
    out[clip] = _turned_about(cameras[clip], cameras[clip].R @ turn.T, points[seen].mean(0))
    return out
