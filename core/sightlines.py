"""Frames whose clips all see the performer along nearly one line.

Two clips that look at the performer from nearly the same side, or from nearly opposite sides, fix
depth along that line only through the small differences between their 2D. With a detector's
errors those differences are mostly error: on the demo clips (`bench e2e`), reference frames 18-35
are seen by clips 0 and 3 alone, about 155 degrees apart (25 from opposite), and where the detector
misplaces the side view's hidden arm by 13-16 px (frames 19-23) the captured body is 150-200 mm off
(PA-MPJPE, every joint), against 40-70 mm on the frames either side. With the protocol's clean 2D
(4 px noise) two clips 22-26 degrees from one line still triangulate well (DeepMimic walk and
spinkick seed 2, view 0 cut to 70%: 10.9 and 14.7 mm), so the capture does not treat such frames
as one clip's (pulling them towards matched poses, as core.exemplars does for those, cost those
runs 5-22 mm); it says where they are, so that a user can add a clip from the side.
"""

from __future__ import annotations

import numpy as np

# lines of sight within this many degrees of parallel or of opposite count as one line: the demo's
# clips 0 and 3 are 25-30 degrees from opposite in the capture's cameras
ONE_LINE_DEG = 30.0


def off_line_degrees(state, shows: np.ndarray, reference: int) -> np.ndarray:
    """(N_ref,) for each timeline frame, the largest angle between a pair of the clips that show
    it and one line (0: parallel or opposite lines of sight, 90: at right angles), the sight lines
    running from each camera's centre to the performer's mid-hip in ``state`` (a core.ba.BAState,
    the reference clip's keypoints spanning the timeline); NaN where fewer than two clips show it.
    ``shows`` (M, N_ref): which clips show which frames."""
    kp = np.asarray(state.keypoints[reference], np.float64)
    root = 0.5 * (kp[:, 11] + kp[:, 12])  # (N,3) COCO hips
    rays = np.stack([root + cam.R.T @ cam.t for cam in state.cameras])  # centre = -R^T t
    rays /= np.maximum(np.linalg.norm(rays, axis=2, keepdims=True), 1e-12)
    cos = np.clip(np.abs(np.einsum("anx,bnx->abn", rays, rays)), 0.0, 1.0)  # (M,M,N)
    pair = shows[:, None] & shows[None]
    off = np.where(pair, np.degrees(np.arccos(cos)), -np.inf).max((0, 1))
    return np.where(shows.sum(0) >= 2, off, np.nan)


def one_line_frames(off: np.ndarray, degrees: float = ONE_LINE_DEG) -> np.ndarray:
    """(N_ref,) from :func:`off_line_degrees`' angles ``off``: whether two or more clips show a
    frame and all see it within ``degrees`` of one line."""
    return np.isfinite(off) & (off <= degrees)
