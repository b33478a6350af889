"""Camera geometry in numpy: OpenCV pinhole convention (x_cam = R X + t, looking along +z, y down).
World frames here are Z up."""

from __future__ import annotations

import numpy as np


def look_at_camera(position: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """OpenCV extrinsics (R (3,3), t (3,)) of a camera at ``position`` looking at ``target``; Z-up world,
    no roll (image x stays horizontal)."""
    z = np.asarray(target, float) - np.asarray(position, float)
    z /= np.linalg.norm(z)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    rot = np.stack([x, y, z])
    return rot, -rot @ np.asarray(position, float)


def intrinsics(focal: float, width: int, height: int) -> np.ndarray:
    """K (3,3) with square pixels and the principal point at the image centre."""
    return np.array([[focal, 0.0, width / 2.0], [0.0, focal, height / 2.0], [0.0, 0.0, 1.0]])


def project(points: np.ndarray, K: np.ndarray, R: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World points (...,3) -> pixels (...,2) and depths (...,)."""
    cam = points @ R.T + t
    uv = cam @ K.T
    depth = cam[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        return uv[..., :2] / uv[..., 2:3], depth
