"""Scoring a capture against the protocol's ground truth."""

from __future__ import annotations

import numpy as np

from .metrics import mpjpe_mm, mpjpe_raw_mm, pa_mpjpe_mm, sync_error_pct
from .mocap import LIMB_COCO, LIMB_SMPL
from .protocol import interp_paced


def as_joints(keypoints: np.ndarray) -> np.ndarray:
    """COCO keypoints (N,17,3) into the SMPL-24 slots the metrics read (limbs and hips)."""
    out = np.full(keypoints.shape[:1] + (24, 3), np.nan)
    out[:, list(LIMB_SMPL)] = keypoints[:, list(LIMB_COCO)]
    return out


def score_views(state, problem, views=None) -> dict:
    """MPJPE figures averaged over views: each clip's keypoints seen through its estimated camera
    against the truth seen through the true camera."""
    views = range(len(state.keypoints)) if views is None else views
    out = {"mpjpe_mm": [], "pa_mpjpe_mm": [], "mpjpe_raw_mm": []}
    for j in views:
        cam = state.cameras[j]
        pred = as_joints(state.keypoints[j] @ cam.R.T + cam.t)
        gt = problem.views[j].joints_in_camera()
        out["mpjpe_mm"].append(mpjpe_mm(pred, gt))
        out["pa_mpjpe_mm"].append(pa_mpjpe_mm(pred, gt))
        out["mpjpe_raw_mm"].append(mpjpe_raw_mm(pred, gt))
    return {k: round(float(np.mean(v)), 2) for k, v in out.items()}


def sync_error(corr, problem) -> float:
    """:func:`bench.metrics.sync_error_pct` of ``corr`` on the problem's timeline (view 0's), over
    every view but the capture's reference. A capture built on another view's timeline has its
    times carried onto view 0's through that view's true times (straight on past its ends); one
    whose timeline was extended before its reference clip (core.timeline) has them moved back."""
    k = corr.reference
    offset = float(corr.ref_time[k][0])
    own = problem.views[k].ref_time
    idx = np.arange(len(own), dtype=float)
    matched = [interp_paced(np.asarray(corr.ref_time[j], float) - offset, idx, own) if k else corr.ref_time[j] - offset
               for j in range(len(problem.views)) if j != k]
    truth = [v.ref_time for j, v in enumerate(problem.views) if j != k]
    return sync_error_pct(matched, truth, problem.reference_frames)


def camera_errors(cameras, problem) -> dict:
    """Each estimated camera against the truth, relative to the reference view (the world's own
    rotation is arbitrary): rotation error in degrees and focal length estimated / true."""
    from scipy.spatial.transform import Rotation

    ref_est, ref_true = cameras[0].R, problem.views[0].R
    deg, ratio = [], []
    for c, v in zip(cameras, problem.views):
        rel = (c.R @ ref_est.T).T @ (v.R @ ref_true.T)
        deg.append(round(float(np.degrees(Rotation.from_matrix(rel).magnitude())), 2))
        ratio.append(round(float(c.focal / v.K[0, 0]), 3))
    return {"camera_deg": deg, "focal_ratio": ratio}
