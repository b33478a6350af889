"""Pieces of the fitting objectives shared by the monocular initialisation and SMPL-BA (torch).

Shapes: B bodies (clips x frames flattened), 17 COCO keypoints, 24 joints.
"""

from __future__ import annotations

import numpy as np
import torch

# COCO keypoints used for fitting: all 17. The nose alone leaves the head free to turn about it;
# the eyes and ears fix its turn where the detector sees them (motion capture has none: the
# benchmark protocol gives them confidence 0). On the demo's real detections (bench e2e: its
# rendered mannequin has no face to see) the head against the chest 70 -> 63 degrees from the truth
# (median), PA-MPJPE 43.4 -> 42.2 mm, sync error 0.255 -> 0.239%; from the demo's true 2D, 35 -> 15
FIT_KEYPOINTS = tuple(range(17))
# the keypoints the timing stages (core.epipolar, core.retime) match: the nose and the 12 limb
# keypoints. On a face the detector cannot see (the demo's mannequin) the eyes and ears are 7-15 px
# off, and steered the timing: bench e2e --cut 90:240 (a clip that overlaps the cut reference in
# part) sync error 0.18 -> 7.7%, PA-MPJPE 35.6 -> 40.3 mm once they were matched too; left out
# again, 0.18% and 34.6 mm, and uncut 0.239 -> 0.252%, 41.72 -> 40.95 mm (the protocol has no face)
TIME_KEYPOINTS = (0, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)
L_KNEE, R_KNEE, L_ELBOW, R_ELBOW = 4, 5, 18, 19


def fit_confidence(confidence: np.ndarray, min_conf: float, keypoints: tuple = FIT_KEYPOINTS) -> np.ndarray:
    """Keypoint confidences (...,17) as the fits weigh them (float64): 0 below ``min_conf`` and
    outside ``keypoints`` (:data:`FIT_KEYPOINTS`; the timing stages: :data:`TIME_KEYPOINTS`)."""
    keep = np.zeros(17, bool)
    keep[list(keypoints)] = True
    return np.where((confidence >= min_conf) & keep, confidence, 0.0).astype(np.float64)


def geman_mcclure(residual: torch.Tensor, sigma: float) -> torch.Tensor:
    """rho(r) = sigma^2 r^2 / (sigma^2 + r^2), on squared norms of the last axis: (...,2) -> (...)."""
    r2 = residual.square().sum(-1)
    return sigma * sigma * r2 / (sigma * sigma + r2)


def project(points: torch.Tensor, focal: torch.Tensor, centre: torch.Tensor) -> torch.Tensor:
    """Camera-frame points (B,K,3) -> pixels (B,K,2); focal (B,) and centre (B,2) per body."""
    z = points[..., 2:3].clamp_min(1e-3)
    return focal[:, None, None] * points[..., :2] / z + centre[:, None, :]


def joint_limit_penalty(pose: torch.Tensor) -> torch.Tensor:
    """Anatomical limits of the hinge joints, per body: pose (B,24,3) axis-angle -> (B,).

    Knees bend about +X (0..2.6 rad), elbows about the vertical (left negative, right positive,
    0..2.6 rad); twisting or side-bending a hinge costs as much as bending it the wrong way."""
    knee = pose[:, [L_KNEE, R_KNEE]]
    pen = torch.relu(-knee[..., 0]).square().sum(-1) + torch.relu(knee[..., 0] - 2.6).square().sum(-1)
    pen = pen + knee[..., 1:].square().sum((-1, -2))
    le, re = pose[:, L_ELBOW], pose[:, R_ELBOW]
    pen = pen + torch.relu(le[:, 1]).square() + torch.relu(-re[:, 1]).square()
    pen = pen + torch.relu(-le[:, 1] - 2.6).square() + torch.relu(re[:, 1] - 2.6).square()
    pen = pen + le[:, [0, 2]].square().sum(-1) + re[:, [0, 2]].square().sum(-1)
    return pen


def smoothness(x: torch.Tensor, segments: torch.Tensor | None = None) -> torch.Tensor:
    """Sum of squared first differences along axis 0 of x (N,...), not across segment boundaries
    (``segments`` (N,) ids: consecutive bodies of different clips are not neighbours)."""
    d = (x[1:] - x[:-1]).square().flatten(1).sum(1)
    if segments is not None:
        d = d * (segments[1:] == segments[:-1])
    return d.sum()


def acceleration(x: torch.Tensor) -> torch.Tensor:
    """Sum of squared second differences along axis 0 of x (N,...): zero for any motion at a
    constant rate, unlike :func:`smoothness`, which pulls every change towards none. Under three
    frames the slices are empty and the sum is zero."""
    return (x[2:] - 2 * x[1:-1] + x[:-2]).square().sum()
