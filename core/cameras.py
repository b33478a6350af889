"""Camera initialisation: every clip's camera registered to the reference clip's through the bodies.

The reference camera is the world frame. For clip j, its monocular keypoints (camera j frame) at
the frames the synchroniser matched are aligned to the reference's monocular keypoints by a
similarity transform (robust: iteratively reweighted, torso keypoints first), giving camera j's
rotation and position in the world (the similarity's scale absorbs the monocular depth's scale,
known only up to the focal length guess).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Camera:
    """OpenCV pinhole: x_cam = R X + t; focal in pixels, centre (2,) principal point."""

    R: np.ndarray
    t: np.ndarray
    focal: float
    centre: np.ndarray

    @property
    def K(self) -> np.ndarray:
        return np.array([[self.focal, 0, self.centre[0]], [0, self.focal, self.centre[1]], [0, 0, 1.0]])

    def pixels(self, points: np.ndarray, min_depth: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
        """World points (...,3) -> pixels (...,2), depths clamped at ``min_depth`` (a point behind
        the camera lands somewhere, not at infinity), and (...) their depths in the camera frame."""
        pc = points @ self.R.T + self.t
        return self.focal * pc[..., :2] / np.maximum(pc[..., 2:3], min_depth) + self.centre, pc[..., 2]


def similarity(src: np.ndarray, dst: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Weighted similarity (s, R, T) with dst ~ s R src + T. src, dst (P,3), w (P,)."""
    w = w / w.sum()
    ms, md = w @ src, w @ dst
    a, b = src - ms, dst - md
    cov = (b * w[:, None]).T @ a
    u, sv, vt = np.linalg.svd(cov)
    d = np.sign(np.linalg.det(u @ vt))
    D = np.diag([1.0, 1.0, d])
    rot = u @ D @ vt
    var = (w * (a * a).sum(1)).sum()
    s = float((sv * np.diag(D)).sum() / max(var, 1e-12))
    return s, rot, md - s * rot @ ms


def time_span(times: np.ndarray) -> tuple[float, float]:
    """The middle and half-span (at least 1) of a clip's reference ``times``: a clip's times are
    moved as offset + tilt x (time - middle) / half-span (:mod:`core.camera_ba`), or by knots
    spread over the span (:mod:`core.ba`); (0, 1) when there are none."""
    if not len(times):
        return 0.0, 1.0
    return 0.5 * (times.min() + times.max()), max(1.0, 0.5 * (times.max() - times.min()))


def sample(x: np.ndarray, times: np.ndarray) -> np.ndarray:
    """x (N,...) at fractional frame indices ``times`` (M,), linearly interpolated."""
    t = np.clip(times, 0, len(x) - 1)
    i0 = np.floor(t).astype(int)
    i1 = np.minimum(i0 + 1, len(x) - 1)
    w = (t - i0).reshape((-1,) + (1,) * (x.ndim - 1))
    return (1 - w) * x[i0] + w * x[i1]


def register_cameras(mono, corr, reference: int, iterations: int = 10) -> tuple[list[Camera], list[tuple]]:
    """Cameras for every clip from the monocular fits ``mono`` (list of MonoFit) and the
    correspondence ``corr`` (core.sync.Correspondence), and per clip the similarity (s, R, T)
    taking its monocular camera-frame bodies into the world."""
    ref = mono[reference]
    cams, sims = [], []
    for j, m in enumerate(mono):
        if j == reference:
            cams.append(Camera(np.eye(3), np.zeros(3), m.focal, m.centre))
            sims.append((1.0, np.eye(3), np.zeros(3)))
            continue
        ct = corr.clip_time[j]
        ok = np.isfinite(ct) & ref.valid
        r_idx = np.where(ok)[0]
        if len(r_idx) < 3:
            cams.append(Camera(np.eye(3), np.zeros(3), m.focal, m.centre))  # nothing to align on
            sims.append((1.0, np.eye(3), np.zeros(3)))
            continue
        src = sample(m.keypoints[:, 5:17].astype(np.float64), ct[r_idx]).reshape(-1, 3)
        dst = ref.keypoints[r_idx, 5:17].astype(np.float64).reshape(-1, 3)
        torso = np.zeros(12, bool)
        torso[[0, 1, 6, 7]] = True  # shoulders and hips among keypoints 5..16
        w = np.tile(np.where(torso, 3.0, 1.0), len(r_idx))
        for _ in range(iterations):
            s, rot, tr = similarity(src, dst, w)
            res = np.linalg.norm(s * src @ rot.T + tr - dst, axis=1)
            scale = 1.5 * np.median(res) + 1e-6
            w = np.tile(np.where(torso, 3.0, 1.0), len(r_idx)) / (1 + (res / scale) ** 2)
        # X_ref = s R X_j + T: camera j sits at T looking along R; the scale s only says that clip
        # j's monocular depths were 1/s of the world's, which projection does not see (x/z)
        R = rot.T
        cams.append(Camera(R, -R @ tr, m.focal, m.centre))
        sims.append((s, rot, tr))
    return cams, sims

