"""Evaluation metrics, as the paper's evaluation defines them (see shared/ALGORITHMS.md).

Joint arrays are (N, J, 3) in SMPL joint order (24 joints); only the 12 limb joints count.
"""

from __future__ import annotations

import numpy as np

from .mocap import LIMB_SMPL

L_HIP, R_HIP = 1, 2


def sync_error_pct(matched: list[np.ndarray], truth: list[np.ndarray], reference_frames: int) -> float:
    """Mean |matched - true reference frame| / (reference length - 1) over every frame of every
    non-reference view, in percent. ``matched``/``truth``: per non-reference view (N_j,) reference
    times. Unmatched frames (NaN) take the match of the nearest matched frame; a view with no match
    at all counts as 100% error."""
    errs = []
    for m, t in zip(matched, truth):
        m = np.asarray(m, float)
        ok = np.isfinite(m)
        if not ok.any():
            errs.append(np.ones(len(t)))
            continue
        idx = np.arange(len(m))
        filled = np.interp(idx, idx[ok], m[ok])  # nearest matched value at the ends, linear inside
        errs.append(np.abs(filled - t) / max(1, reference_frames - 1))
    return float(100 * np.mean(np.concatenate(errs))) if errs else 0.0


def _limbs(joints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Limb joints (N,12,3) centred on the mid-hip root."""
    root = 0.5 * (joints[:, L_HIP] + joints[:, R_HIP])
    return joints[:, LIMB_SMPL] - root[:, None], root


def mpjpe_mm(pred: np.ndarray, gt: np.ndarray) -> float:
    """The paper's MPJPE: root (mid-hips) aligned, prediction scaled per frame to the ground truth's
    norm, on the 12 limb joints; millimetres."""
    p, _ = _limbs(pred)
    g, _ = _limbs(gt)
    s = np.linalg.norm(g, axis=(1, 2)) / np.maximum(np.linalg.norm(p, axis=(1, 2)), 1e-12)
    return float(1000 * np.linalg.norm(s[:, None, None] * p - g, axis=2).mean())


def mpjpe_raw_mm(pred: np.ndarray, gt: np.ndarray) -> float:
    """Root-aligned MPJPE without scaling (protocol 1), 12 limb joints, millimetres."""
    p, _ = _limbs(pred)
    g, _ = _limbs(gt)
    return float(1000 * np.linalg.norm(p - g, axis=2).mean())


def similarity_align(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Per-frame similarity Procrustes (rotation, translation, scale) of pred (N,J,3) onto gt."""
    mp, mg = pred.mean(1, keepdims=True), gt.mean(1, keepdims=True)
    p, g = pred - mp, gt - mg
    u, s, vt = np.linalg.svd(np.einsum("nji,njk->nik", p, g))
    d = np.sign(np.linalg.det(u @ vt))
    s[:, 2] *= d
    u[:, :, 2] *= d[:, None]
    rot = u @ vt  # p @ rot ~ g
    scale = s.sum(1) / np.maximum((p ** 2).sum((1, 2)), 1e-12)
    return scale[:, None, None] * (p @ rot) + mg


def pa_mpjpe_mm(pred: np.ndarray, gt: np.ndarray) -> float:
    """MPJPE after per-frame similarity Procrustes alignment, 12 limb joints, millimetres."""
    p = pred[:, LIMB_SMPL]
    g = gt[:, LIMB_SMPL]
    return float(1000 * np.linalg.norm(similarity_align(p, g) - g, axis=2).mean())


# bones whose orientation the e2e score reports: (name, joint, the joint it is measured against).
# The head against the chest (spine3), through the neck; each foot against its shin, each hand
# against its forearm: the turns no limb joint's position shows
ORIENTED = (("head", 15, 9), ("left_foot", 7, 4), ("right_foot", 8, 5), ("left_hand", 20, 18), ("right_hand", 21, 19))


def orientation_deg(pose: np.ndarray, true_pose: np.ndarray, parents) -> dict:
    """Median angle (degrees) between each :data:`ORIENTED` joint's orientation relative to its
    base joint in ``pose`` and in ``true_pose`` (N,24,3) axis-angle; ``parents`` the kinematic tree."""
    from scipy.spatial.transform import Rotation

    def relative(p, joint, base):
        r = Rotation.identity(len(p))
        chain = []
        while joint != base:
            chain.append(joint)
            joint = parents[joint]
        for k in reversed(chain):
            r = r * Rotation.from_rotvec(np.asarray(p[:, k], np.float64))
        return r

    return {name: float(np.degrees(np.median((relative(pose, j, b).inv() * relative(true_pose, j, b)).magnitude())))
            for name, j, b in ORIENTED}


def accel_error_mm(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean distance between the joints' accelerations (second differences over consecutive
    frames) of ``pred`` and ``gt`` (N,J,3), millimetres per frame squared: the shake a motion has
    that the truth has not (Kanazawa et al., "Learning 3D human dynamics from video", CVPR 2019)."""
    acc = lambda x: x[2:] - 2 * x[1:-1] + x[:-2]  # noqa: E731
    if len(pred) < 3:
        return float("nan")
    return float(1000 * np.linalg.norm(acc(pred) - acc(gt), axis=-1).mean())


PLANTED_SPEED = 0.2  # m/s: a true ankle slower than this (horizontally) stands still
PLANTED_RISE = 0.05  # m: and no higher than this above its lowest


def still_and_low(ankles: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """For true ankles (N,K,3, Z up, metres): (N-1,K) which steps between consecutive frames are
    slower than :data:`PLANTED_SPEED` horizontally, and (N,K) which frames stand within
    :data:`PLANTED_RISE` of each ankle's lowest: what the measures of planted feet build on."""
    step = np.linalg.norm(np.diff(ankles[..., :2], axis=0), axis=-1)
    low = ankles[..., 2] <= np.nanmin(ankles[..., 2], axis=0) + PLANTED_RISE
    return step * fps < PLANTED_SPEED, low


def foot_slide_mm(pred: np.ndarray, gt: np.ndarray, fps: float) -> tuple[float, float]:
    """How far the answer's ankles ``pred`` (N,2,3, Z up, metres) slide along the ground between
    consecutive frames in which the truth's ``gt`` (N,2,3, Z up) stand planted (slower than
    :data:`PLANTED_SPEED`, within :data:`PLANTED_RISE` of their lowest): the mean horizontal step,
    millimetres per frame; and the truth's own over the same frames (its feet roll a little).
    NaN where the truth never stands still."""
    step = lambda x: np.linalg.norm(np.diff(x[..., :2], axis=0), axis=-1)  # noqa: E731
    still, low = still_and_low(gt, fps)
    planted = still & low[1:] & low[:-1]
    if not planted.any():
        return float("nan"), float("nan")
    return float(1000 * step(pred)[planted].mean()), float(1000 * step(gt)[planted].mean())


def foot_pitch_deg(pred: np.ndarray, gt: np.ndarray, fps: float) -> float:
    """How far the answer's feet tilt from the truth's where the truth's stand (as
    :func:`foot_slide_mm` finds them from its ankles): the median absolute difference of the ankle
    -> foot bones' elevations above the ground, degrees, over both feet; ``pred``, ``gt`` (N,24,3)
    in Z-up worlds (the heading is left out: the worlds need not agree about it). NaN where the
    truth has no foot joints or never stands still. A planted foot lies flat: on the CMU capture
    its bone points 15-17 degrees down, as the body's at rest (15)."""
    def elevation(j, a, f):
        v = j[:, f] - j[:, a]
        return np.degrees(np.arctan2(v[:, 2], np.linalg.norm(v[:, :2], axis=1)))

    still, low = still_and_low(gt[:, [7, 8]], fps)
    diffs = []
    for k, (ankle, foot) in enumerate(((7, 10), (8, 11))):
        planted = np.r_[False, still[:, k]] & low[:, k] & np.isfinite(gt[:, foot]).all(1)
        diffs.append(np.abs(elevation(pred, ankle, foot) - elevation(gt, ankle, foot))[planted])
    d = np.concatenate(diffs)
    return float(np.median(d)) if len(d) else float("nan")
