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


def unwrap_rotvec(rv: np.ndarray) -> np.ndarray:
    """A sequence of axis-angle vectors (N,...,3) made continuous along axis 0.

    ``as_rotvec`` keeps angles in [0, pi], so a body turning through half a turn jumps from
    ~pi a to ~pi (-a) between frames: the same rotation, but interpolating or smoothing the vectors
    there gives nonsense. Each vector is replaced by the representative a (theta + 2 pi k) closest to
    its predecessor's: axes are signed consistently along the sequence (a running product of the
    signs of consecutive axes' dot products), then the signed angle is unwrapped like a phase."""
    rv = np.asarray(rv, np.float64)
    theta = np.linalg.norm(rv, axis=-1)
    axis = rv / np.maximum(theta, 1e-12)[..., None]
    # no rotation has no axis: it takes the one before it (after it at the start), or unwrapping
    # would lose the whole turns gathered so far (a body back where it started after one turn)
    defined = theta > 1e-9
    if not defined.all():
        n = len(rv)
        order = np.arange(n).reshape((n,) + (1,) * (theta.ndim - 1))
        last = np.maximum.accumulate(np.where(defined, order, -1), axis=0)
        first = np.flip(np.minimum.accumulate(np.flip(np.where(defined, order, n), 0), axis=0), 0)
        src = np.where(last >= 0, last, np.minimum(first, n - 1))
        axis = np.take_along_axis(axis, src[..., None], axis=0)
        axis = np.where(np.linalg.norm(axis, axis=-1, keepdims=True) > 0.5, axis, [0.0, 0.0, 1.0])
    dots = (axis[1:] * axis[:-1]).sum(-1)
    sign = np.concatenate([np.ones_like(theta[:1]), np.cumprod(np.where(dots < 0, -1.0, 1.0), axis=0)])
    s = np.unwrap(sign * theta, axis=0)
    return axis * (sign * s)[..., None]


def principal_rotvec(rv: np.ndarray) -> np.ndarray:
    """Axis-angle vectors (...,3) of the same rotations with angles in [0, pi]: one longer than pi
    becomes 2 pi - theta about the opposite axis (whole turns dropped)."""
    rv = np.asarray(rv, np.float64)
    theta = np.linalg.norm(rv, axis=-1, keepdims=True)
    wrapped = np.mod(theta + np.pi, 2 * np.pi) - np.pi  # in [-pi, pi)
    return np.where(theta > np.pi, rv * wrapped / np.maximum(theta, 1e-12), rv)
